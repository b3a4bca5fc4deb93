"""The Growth page's pathway controls through AppTest: feasibility before solving, both modes, the session untouched."""

import re
from pathlib import Path

import pytest

pytest.importorskip("streamlit")

from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(Path(__file__).parents[1] / "ui" / "app.py")
#: One clustered day of four slices keeps the pathway solves short.
FAST = {"time.hours_per_day": 4, "time.days": 1}


@pytest.fixture(autouse=True)
def _inline_jobs(monkeypatch):
    monkeypatch.setenv("EDWC_UI_INLINE", "1")  # solves on the script thread: no worker processes


def growth_page(overrides=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["overrides"] = {**FAST, **(overrides or {})}
    at.run()
    at.switch_page("app_pages/growth.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_infeasible_pathway_is_an_error_with_the_fix_before_solving():
    at = growth_page({"horizon.build_limit_growth": 0.0})
    before = dict(at.session_state["overrides"])
    at.number_input(key="growth_end_year").set_value(2040)
    at.button(key="growth_set_end").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    # The year, the shortfall and the settings that fix it, before any solve.
    assert len(errors) == 1 and "pathway year 2037" in errors[0]
    assert re.search(r"short by \d+\.\d GW", errors[0])
    for setting in ("horizon.build_limit_growth", "horizon.demand_growth", "horizon.end_year"):
        assert setting in errors[0]
    assert not [s.label for s in at.status]  # never under a "solved" (or any solve) status
    assert not [b for b in at.button if b.key == "solve_pathway"]
    assert not at.metric
    assert dict(at.session_state["overrides"]) == before


def test_a_foresight_pathway_plans_a_copy_and_labels_its_costs():
    at = growth_page()
    before = dict(at.session_state["overrides"])
    at.number_input(key="growth_end_year").set_value(2027)
    at.radio(key="growth_mode").set_value("foresight")
    at.number_input(key="growth_rate.ai_training").set_value(30.0)
    at.button(key="growth_set_end").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("copy of the scenario" in c.value for c in at.caption)
    assert any("Feasible before solving" in s.value for s in at.success)
    at.button(key="solve_pathway").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    labels = [m.label for m in at.metric]
    # Every cost figure says its years and whether it is discounted or one year's annual cost.
    assert "Discounted total cost 2025–2027" in labels and "Annual cost in 2027" in labels
    assert "Myopic, same inputs: discounted total 2025–2027" in labels
    assert "Mean growth, plan" in labels
    assert any("Foresight saves" in c.value for c in at.caption)
    # The session's scenario is what it was: the pathway settings went to a copy only.
    assert dict(at.session_state["overrides"]) == before
