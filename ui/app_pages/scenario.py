"""Scenario page of the EDWC Planner app (the body lives in ui.views.scenario)."""

from ui.views import scenario

scenario.render()
