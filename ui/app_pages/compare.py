"""Compare page of the EDWC Planner app (the body lives in ui.views.compare)."""

from ui.views import compare

compare.render()
