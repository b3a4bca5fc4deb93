"""Export page of the EDWC Planner app (the body lives in ui.views.export)."""

from ui.views import export

export.render()
