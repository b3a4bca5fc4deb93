"""Tradeoffs page of the EDWC Planner app (the body lives in ui.views.tradeoffs)."""

from ui.views import tradeoffs

tradeoffs.render()
