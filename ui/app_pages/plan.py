"""Plan page of the EDWC Planner app (the body lives in ui.views.plan)."""

from ui.views import plan

plan.render()
