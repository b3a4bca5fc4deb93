"""Growth page of the EDWC Planner app (the body lives in ui.views.growth)."""

from ui.views import growth

growth.render()
