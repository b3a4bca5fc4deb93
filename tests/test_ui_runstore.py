"""The run store in the app (AppTest): saved runs listed on the Compare page, opened, and reopened by ``?run=<id>``."""

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner.run import run_scenario
from planner.rundir import write_run
from planner.runstore import CATALOG_ENV, record_run
from planner.scenario import load_scenario
from ui.headline import HEADLINE
from ui.i18n import t

APP = str(Path(__file__).parents[1] / "ui" / "app.py")
TIMEOUT_S = 180
EDITS = ["time.hours_per_day=1", "carbon.price_cny_per_tco2=300"]


@pytest.fixture(scope="module")
def tiny_results():
    return run_scenario(load_scenario(None, EDITS))


@pytest.fixture
def stored(tmp_path, monkeypatch, tiny_results):
    """A catalog of this test holding two runs (written as `edwc run` writes them)."""
    monkeypatch.setenv("EDWC_UI_INLINE", "1")
    monkeypatch.setenv(CATALOG_ENV, str(tmp_path / "runs" / "catalog.sqlite"))
    first = record_run(write_run(tiny_results, tmp_path / "runs" / "a"), "baseline · " + ", ".join(EDITS), EDITS,
                       tiny_results)
    second = record_run(write_run(tiny_results, tmp_path / "runs" / "b"), "second", [], tiny_results)
    return first, second


def app(query_run: str | None = None) -> AppTest:
    """A fresh session (a new browser tab, or the same one after a refresh), optionally at ``?run=...``."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    if query_run is not None:
        at.query_params["run"] = query_run
    return at.run()


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def store_records(at: AppTest) -> list:
    return [r for r in at.session_state["runs"] if r.origin == "store"]


def test_a_link_opens_a_saved_run_and_a_refresh_opens_it_again(stored):
    first, _ = stored
    for _ in range(2):  # the first visit, then a refresh: a new session at the same address
        at = app(str(first.id))
        no_exception(at)
        records = store_records(at)
        assert len(records) == 1 and records[0].store_id == first.id and records[0].label == first.name
        assert at.session_state["current_run"] == records[0].run_id
        assert records[0].summary["total_cost_cny"] == pytest.approx(first.figures["total_cost_cny"], rel=1e-12)
    at.switch_page("app_pages/plan.py").run()  # the plan shown is the saved run's, read from its directory
    no_exception(at)
    cost = HEADLINE[0]
    assert cost.key == "total_cost_cny"
    shown = [m.value for m in at.metric if m.label == t(cost.label, "en")]
    assert shown == [cost.display(first.figures["total_cost_cny"], "en")]
    assert not at.error


def test_the_compare_page_lists_saved_runs_and_opens_one_into_the_address(stored):
    first, second = stored
    at = app()
    at.switch_page("app_pages/compare.py").run()
    no_exception(at)
    table = at.dataframe[0].value
    assert list(table[t("runs_col_id", "en")]) == [first.id, second.id]
    assert list(table[t("runs_col_name", "en")]) == [first.name, "second"]
    at.selectbox(key="store_pick").set_value(second.id)
    at.button(key="store_open").click().run()
    no_exception(at)
    assert [r.store_id for r in store_records(at)] == [second.id]
    assert at.query_params["run"] in (str(second.id), [str(second.id)])
    at.selectbox(key="store_pick").set_value(first.id)
    at.button(key="store_open").click().run()
    at.button(key="store_open").click().run()  # opening it again makes it current, no duplicate
    no_exception(at)
    assert [r.store_id for r in store_records(at)] == [second.id, first.id]
    # two runs now: the comparison is drawn between them
    assert any(t("compared_with", "en") in m.value for m in at.markdown)


def test_a_saved_run_whose_directory_is_gone_is_shown_missing_and_not_opened(stored):
    first, second = stored
    shutil.rmtree(first.path)
    at = app(str(first.id))
    no_exception(at)
    assert store_records(at) == []
    assert any("missing" in e.value for e in at.error)
    at.switch_page("app_pages/compare.py").run()
    table = at.dataframe[0].value
    assert list(table[t("runs_col_status", "en")]) == ["missing", "optimal"]
    assert app("no-such").warning and store_records(app("99")) == []


def solved_in_the_app() -> AppTest:
    """A fresh session that has solved the default scenario at one slice a day on the Plan page."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.session_state["overrides"] = {"time.hours_per_day": 1}
    at.run()
    at.switch_page("app_pages/plan.py").run()
    if not at.button(key="solve_plan").disabled:  # the page solves a scenario it has not solved on its own
        at.button(key="solve_plan").click().run()
    no_exception(at)
    return at


def test_a_plan_solved_in_the_app_is_in_the_store_with_its_figures_and_a_refresh_reopens_it(tmp_path, monkeypatch):
    from planner.runstore import FIGURES, list_runs
    from ui import state as ui_state

    monkeypatch.setenv("EDWC_UI_INLINE", "1")
    monkeypatch.setenv(CATALOG_ENV, str(tmp_path / "runs" / "catalog.sqlite"))
    at = solved_in_the_app()
    record = ui_state.find_run(at.session_state["current_run"], at.session_state)
    entries = list_runs()
    assert [e.kind for e in entries] == ["ui"]
    entry = entries[0]
    assert entry.id == record.store_id and at.query_params["run"] == str(entry.id)
    assert entry.edits == ["time.hours_per_day=1"] and entry.path.is_dir()
    for figure in FIGURES:
        assert entry.figures[figure] == pytest.approx(record.summary[figure], rel=1e-12)
    again = app(str(entry.id))  # a refresh: a new session at the same address
    no_exception(again)
    assert [r.store_id for r in store_records(again)] == [entry.id]


def test_a_refused_catalog_leaves_the_plan_on_screen_with_one_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("EDWC_UI_INLINE", "1")
    catalog = tmp_path / "runs" / "catalog.sqlite"
    catalog.parent.mkdir()
    catalog.write_bytes(b"not a catalog, the user's file")
    monkeypatch.setenv(CATALOG_ENV, str(catalog))
    at = solved_in_the_app()
    assert catalog.read_bytes() == b"not a catalog, the user's file"
    assert sorted(p.name for p in catalog.parent.iterdir()) == ["catalog.sqlite"]  # nothing written beside it
    assert len(at.warning) == 1 and "catalog.sqlite" in at.warning[0].value
    record = at.session_state["runs"][-1]
    assert record.summary is not None and record.store_id is None
