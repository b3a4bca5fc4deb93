"""The Streamlit app through streamlit.testing's AppTest: every page, edits, solves and their directions."""

import io
import json
import os
import re
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("streamlit")

from streamlit.testing.v1 import AppTest  # noqa: E402

from planner.rundir import RUN_FILES  # noqa: E402
from ui import state as ui_state  # noqa: E402
from ui.i18n import LABELS, t  # noqa: E402

APP = str(Path(__file__).parents[1] / "ui" / "app.py")
#: Fewer time slices keep each solve short; the directions tested hold at this resolution too.
FAST = {"time.hours_per_day": 4}
TIMEOUT_S = 180


@pytest.fixture(autouse=True)
def _inline_jobs(monkeypatch):
    # Solves and maps run on the script thread: no worker processes in unit tests.
    monkeypatch.setenv("EDWC_UI_INLINE", "1")


def new_app(overrides=None, base=None) -> AppTest:
    """The app with a fresh session, the fast time resolution and optional edits."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    if base is not None:
        at.session_state["base"] = ui_state.shipped_base(base)
    at.session_state["overrides"] = {**FAST, **(overrides or {})}
    return at.run()


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def solve_on_plan_page(at: AppTest) -> ui_state.RunRecord:
    at.switch_page("app_pages/plan.py").run()
    no_exception(at)
    button = at.button(key="solve_plan")
    if not button.disabled:
        button.click().run()
    no_exception(at)
    return ui_state.find_run(at.session_state["current_run"], at.session_state)


def edit_widget(widgets, name: str):
    """The assumption widget ``name`` of the form as drawn now (its key carries the form's identity)."""
    found = [w for w in widgets if str(w.key).startswith("edit.") and str(w.key).endswith(f".{name}")]
    assert len(found) == 1, [w.key for w in widgets]
    return found[0]


def submit_form(at: AppTest) -> AppTest:
    at.button(key="FormSubmitter:assumptions-" + t("apply", "en")).click().run()
    no_exception(at)
    return at


# -------------------------------------------------------------------------------- scenario page

def test_scenario_page_edit_goes_through_validation_into_overrides():
    at = new_app()
    no_exception(at)
    assert at.title[0].value == "Scenario"
    edit_widget(at.number_input, "carbon_price").set_value(250.0)
    submit_form(at)
    overrides = at.session_state["overrides"]
    assert overrides["carbon.price_cny_per_tco2"] == pytest.approx(250.0)
    assert overrides["time.hours_per_day"] == 4  # edits made elsewhere are kept
    assert any("carbon.price_cny_per_tco2=250.0" in c.value for c in at.code)
    assert ui_state.current_scenario(at.session_state).carbon.price_cny_per_tco2 == 250.0


def test_setting_a_value_back_to_the_base_removes_the_override():
    at = new_app({"carbon.price_cny_per_tco2": 100.0})
    edit_widget(at.number_input, "carbon_price").set_value(0.0)
    submit_form(at)
    assert "carbon.price_cny_per_tco2" not in at.session_state["overrides"]


def test_an_out_of_range_edit_shows_the_cli_message_and_changes_nothing():
    state = ui_state.init_state({})
    state["overrides"] = dict(FAST)
    error = ui_state.apply_edits({"sites.qingyang.pue": 0.5}, state)
    assert error is not None and "sites.qingyang.pue" in error and "--set" in error
    assert state["overrides"] == FAST


def test_a_bad_pasted_yaml_shows_an_error_and_changes_nothing():
    at = new_app({"carbon.price_cny_per_tco2": 80.0})
    before = (at.session_state["base"], dict(at.session_state["overrides"]))
    at.text_area(key="paste_text").input("carbon:\n  price_cny_per_tco2: [1, 2\n")
    at.button(key="paste_load").click().run()
    no_exception(at)
    assert any("not valid YAML" in e.value for e in at.error)
    assert (at.session_state["base"], dict(at.session_state["overrides"])) == before


def test_a_pasted_yaml_with_an_unknown_key_is_refused_with_the_field_named():
    at = new_app()
    at.text_area(key="paste_text").input("carbon:\n  prise_cny_per_tco2: 5\n")
    at.button(key="paste_load").click().run()
    assert any("carbon.prise_cny_per_tco2" in e.value and "unknown key" in e.value for e in at.error)
    assert at.session_state["base"].name == "baseline"


def test_a_good_pasted_yaml_becomes_the_base_and_drops_old_edits():
    at = new_app({"carbon.price_cny_per_tco2": 80.0})
    at.text_area(key="paste_text").input("name: mine\ncarbon:\n  price_cny_per_tco2: 150\n")
    at.button(key="paste_load").click().run()
    no_exception(at)
    assert at.session_state["base"].kind == "upload"
    assert at.session_state["overrides"] == {}
    assert ui_state.current_scenario(at.session_state).carbon.price_cny_per_tco2 == 150


@pytest.mark.parametrize(("data", "message"), [
    (b"\xff\xfe\x00bad", "not UTF-8"),
    (b"a: &x 1\nb: *x\n", "anchors and aliases"),
    (b"!!python/object:os.system {}\n", "not valid YAML"),
    (b"- 1\n- 2\n", "top level must be a mapping"),
    (b"demand:\n  scale: -1\n", "demand.scale"),
    (b"x" * 1_000_001, "over the 1,000,000-byte limit"),
])
def test_a_bad_upload_is_refused_with_the_cli_message_and_changes_nothing(data, message):
    state = ui_state.init_state({})
    state["overrides"] = {"carbon.price_cny_per_tco2": 10.0}
    base = state["base"]
    error = ui_state.load_upload("../../etc/evil.yaml", data, state)
    assert error is not None and message in error
    assert error.startswith("evil.yaml")  # the name only, never a path from the client
    assert state["base"] is base and state["overrides"] == {"carbon.price_cny_per_tco2": 10.0}


def test_switching_shipped_scenario_resets_the_edits_and_the_form():
    at = new_app({"carbon.price_cny_per_tco2": 80.0})
    at.selectbox(key="pick_shipped").set_value("low-carbon").run()
    no_exception(at)
    assert at.session_state["base"].name == "low-carbon"
    assert at.session_state["overrides"] == {}
    assert edit_widget(at.number_input, "carbon_cap").value == pytest.approx(72.0)


def test_downloaded_yaml_is_the_users_document_with_the_edits():
    state = ui_state.init_state({})
    state["base"] = ui_state.shipped_base("low-carbon")
    state["overrides"] = {"carbon.price_cny_per_tco2": 80.0, "sites.guian.enabled": False}
    document = ui_state.edited_document(state["base"], state["overrides"])
    assert document["carbon"] == {"cap_tco2": 72000000, "price_cny_per_tco2": 80.0}
    assert document["sites"] == {"guian": {"enabled": False}}
    assert "costs" not in document  # defaults stay implicit
    again = ui_state.parse_upload("x.yaml", ui_state.dump_yaml(document).encode())
    assert ui_state.resolve(again, {}).input_hash() == ui_state.current_scenario(state).input_hash()


# ------------------------------------------------------------------------------------ plan page

def test_plan_page_solves_and_a_higher_carbon_price_never_raises_emissions():
    at = new_app()
    first = solve_on_plan_page(at)
    assert first.solved
    assert len(at.metric) == 6 and at.get("image")  # figures and the map
    assert [m.label for m in at.metric][:2] == ["Total annual cost", "Emissions"]
    at.switch_page("app_pages/scenario.py").run()
    edit_widget(at.number_input, "carbon_price").set_value(400.0)
    submit_form(at)
    second = solve_on_plan_page(at)
    assert second.run_id != first.run_id
    assert second.summary["emissions_tco2"] <= first.summary["emissions_tco2"] * (1 + 1e-9)
    assert second.summary["total_cost_cny"] > first.summary["total_cost_cny"]
    emissions = next(m for m in at.metric if m.label == "Emissions")
    assert emissions.delta and emissions.delta.startswith("-")
    assert len(at.dataframe) == 3  # against the published figures, sites and provinces


def test_the_plan_page_sets_the_default_year_beside_the_published_figures():
    at = new_app()
    solve_on_plan_page(at)
    table = at.dataframe[0].value
    assert list(table.columns)[:3] == ["Figure", "This plan", "Published range"]
    assert len(table) >= 12 and set(table["Inside"]) == {"yes"}
    assert "Data-centre electricity" in set(table["Figure"])


def test_disabling_the_western_clusters_raises_cost():
    # no-west allows more local build, so the plan stays feasible without the west.
    at = new_app(base="no-west")
    without_west = solve_on_plan_page(at)
    at.switch_page("app_pages/scenario.py").run()
    every_cluster = edit_widget(at.multiselect, "enabled").options
    assert len(every_cluster) == 10
    edit_widget(at.multiselect, "enabled").set_value(
        ["zhangjiakou", "yangtze_delta", "wuhu", "shaoguan", "tianfu", "chongqing",
         "horinger", "guian", "qingyang", "zhongwei"])
    submit_form(at)
    with_west = solve_on_plan_page(at)
    assert without_west.solved and with_west.solved
    assert without_west.summary["total_cost_cny"] > with_west.summary["total_cost_cny"]
    assert without_west.summary["west_share"] == pytest.approx(0.0, abs=1e-9)


def test_an_infeasible_scenario_is_explained_in_words():
    # Without the west, 30 GW of IT load is more than the east and local sites can ever hold.
    west_off = {f"sites.{s}.enabled": False for s in ("horinger", "guian", "qingyang", "zhongwei")}
    at = new_app({**west_off, "demand.national_it_load_mw": 30000.0})
    record = solve_on_plan_page(at)
    assert record.status == "infeasible"
    text = " ".join(e.value for e in at.error)
    assert "No plan satisfies this scenario" in text
    assert re.search(r"\d", record.message) and record.conflicts
    assert not at.metric


# ------------------------------------------------------------------------------- trade-offs page

def test_cost_emissions_frontier_trades_cost_for_emissions_and_a_point_opens_its_plan():
    at = new_app()
    at.switch_page("app_pages/tradeoffs.py").run()
    no_exception(at)
    at.slider(key="frontier_points_emissions").set_value(4)
    at.button(key="compute_emissions").click().run()
    no_exception(at)
    frontier = at.session_state["frontiers"]["emissions"]
    table = frontier.table().sort_values("emissions_tco2")
    assert len(table) >= 3
    # Along the frontier, lower emissions never cost less.
    assert (table["total_cost_cny"].diff().dropna() <= 1e-6 * table["total_cost_cny"].max()).all()
    assert table["emissions_tco2"].iloc[0] < 0.95 * table["emissions_tco2"].iloc[-1]
    lowest = int(table["point_id"].iloc[0])
    at.selectbox(key="pick_box_emissions").set_value(lowest).run()
    no_exception(at)
    current = ui_state.find_run(at.session_state["current_run"], at.session_state)
    assert current.origin == "frontier:emissions"
    assert current.summary["emissions_tco2"] == pytest.approx(table["emissions_tco2"].iloc[0])
    assert at.get("image") and len(at.metric) == 6


def test_the_app_frontier_is_the_studies_frontier_and_gets_dearer_as_emissions_fall():
    from ui import frontier
    from ui.engine import Engine

    result = frontier.frontier(
        Engine(inline=True), "emissions", ui_state.shipped_base("baseline"), dict(FAST), points=3)
    table = result.table().sort_values("emissions_tco2")
    assert len(table) == 3 and table["total_cost_cny"].is_monotonic_decreasing


def test_cost_latency_frontier_gets_no_dearer_as_limits_loosen():
    at = new_app()
    at.switch_page("app_pages/tradeoffs.py").run()
    at.button(key="compute_latency").click().run()
    no_exception(at)
    frontier = at.session_state["frontiers"]["latency"]
    solved = sorted((p for p in frontier.points if p.solved), key=lambda p: p.setting)
    assert len(solved) >= 4
    costs = [p.summary["total_cost_cny"] for p in solved]
    assert all(b <= a * (1 + 1e-9) for a, b in zip(costs, costs[1:], strict=False))


def test_the_trade_offs_page_shows_capacity_ranges_around_the_optimum():
    at = new_app({"time.days": 2})
    at.switch_page("app_pages/tradeoffs.py").run()
    no_exception(at)
    at.slider(key="alt_slack_pct").set_value(1.0)
    at.button(key="compute_alternatives").click().run()
    no_exception(at)
    result = at.session_state["alternatives"]["result"]
    ranges = result["ranges"]
    assert set(ranges.loc[ranges["scope"] == "region", "name"]) == {"east", "west", "local"}
    assert (ranges["min_mw"] <= ranges["optimum_mw"] + 1e-6).all()
    assert (ranges["optimum_mw"] <= ranges["max_mw"] + 1e-6).all()
    cap = result["optimal_cost_cny"] * 1.01
    assert all(summary["total_cost_cny"] <= cap * (1 + 1e-9) for summary in result["plans"].values())
    charts = at.get("vega_lite_chart")
    assert charts and any("min_mw" in chart.proto.spec for chart in charts)
    # An alternative opens as a saved run: written, recorded in the store, verified on reading back.
    at.selectbox(key="alt_open_pick").set_value("max-west").run()
    at.button(key="alt_open_button").click().run()
    no_exception(at)
    opened = at.session_state["runs"][-1]
    assert opened.origin == "store" and opened.store_path
    assert opened.summary["new_capacity_west_mw"] == pytest.approx(
        result["plans"]["max-west"]["new_capacity_west_mw"], rel=1e-9)
    assert opened.summary["total_cost_cny"] <= cap * (1 + 1e-9)


def test_the_trade_offs_page_screens_which_inputs_move_the_plan():
    at = new_app({"time.days": 2})
    at.switch_page("app_pages/tradeoffs.py").run()
    no_exception(at)
    at.slider(key="screen_trajectories").set_value(2)
    at.button(key="compute_screening").click().run()
    no_exception(at)
    result = at.session_state["screening"]["result"]
    assert result["status"] == "optimal" and result["runs"] == 2 * (len(result["keys"]) + 1)
    effects = {(row["figure"], row["key"]): row["mu_star"] for row in result["indices"]}
    # More demand must be served and a carbon price is paid on every tonne: both move the cost.
    assert effects[("total_cost_cny", "demand.scale")] > 0
    assert effects[("total_cost_cny", "carbon.price_cny_per_tco2")] > 0
    charts = at.get("vega_lite_chart")
    # The chart draws μ* as bars and σ as ticks, one row per input.
    assert charts and any('"mu"' in chart.proto.spec and '"sd"' in chart.proto.spec for chart in charts)


# --------------------------------------------------------------------------------- compare page

def test_compare_page_shows_two_runs_and_their_difference_map():
    at = new_app()
    at.switch_page("app_pages/compare.py").run()
    assert any("two solved runs" in i.value for i in at.info)
    solve_on_plan_page(at)
    at.session_state["overrides"] = {**FAST, "carbon.price_cny_per_tco2": 300.0}
    solve_on_plan_page(at)
    at.switch_page("app_pages/compare.py").run()
    no_exception(at)
    assert len(at.metric) == 6 and at.get("image")
    # The comparison table (the page also lists the run store's saved runs, when there are any).
    table = next(frame.value for frame in at.dataframe if {"A", "B"} <= set(frame.value.columns))
    assert len(table) >= 6


# ---------------------------------------------------------------------------------- growth page

def test_growth_page_shows_the_three_modes_and_solves_a_short_pathway():
    at = new_app()
    at.switch_page("app_pages/growth.py").run()
    no_exception(at)
    assert at.get("vega_lite_chart")
    assert any("as stated in the report" in m.value for m in at.markdown)
    at.number_input(key="growth_end_year").set_value(2027)
    at.button(key="growth_set_end").click().run()
    no_exception(at)
    # Issue 13: the pathway plans a copy; the session's scenario is not edited.
    assert "horizon.end_year" not in at.session_state["overrides"]
    assert any("copy of the scenario" in c.value for c in at.caption)
    at.button(key="solve_pathway").click().run()
    no_exception(at)
    labels = [m.label for m in at.metric]
    assert "Mean growth, plan" in labels and "Output gap at the end" in labels
    assert "horizon.end_year" not in at.session_state["overrides"]


# The infeasible pathway's page: tests/test_ui_growth.py.


def test_growth_chart_labels_the_report_formula_in_both_languages():
    from planner.growth import GrowthParams
    from ui.charts import growth_vs_tau_frame

    for lang, marker in (("en", "As stated in the report"), ("zh", "报告原式")):
        frame = growth_vs_tau_frame(GrowthParams(), lang)
        assert frame["mode"].nunique() == 3
        assert any(marker in mode for mode in frame["mode"].unique())


# ---------------------------------------------------------------------------------- export page

def test_export_page_offers_the_bundle_maps_and_tables():
    at = new_app()
    at.switch_page("app_pages/export.py").run()
    assert at.info  # nothing solved yet
    solve_on_plan_page(at)
    at.switch_page("app_pages/export.py").run()
    no_exception(at)
    at.button(key="prepare_bundle").click().run()
    no_exception(at)
    assert at.get("download_button")


def test_export_files_are_complete_and_spreadsheet_safe():
    import openpyxl

    from planner.run import run_scenario
    from ui import exports, jobs

    results = run_scenario(ui_state.resolve(ui_state.shipped_base("baseline"), FAST))
    results.sites.loc[0, "name_en"] = "=HYPERLINK(\"x\")"
    bundle = zipfile.ZipFile(io.BytesIO(jobs.run_bundle_zip(results, "plan")))
    names = {Path(n).name for n in bundle.namelist()}
    assert set(RUN_FILES) | {"plan_map.png"} <= names
    summary = json.loads(bundle.read("plan/summary.json"))
    assert summary["total_cost_cny"] == pytest.approx(results.summary.total_cost_cny)
    csv_text = exports.table_csv(exports.result_tables(results)["sites"]).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text
    workbook = openpyxl.load_workbook(io.BytesIO(exports.tables_excel(results)))
    assert workbook.sheetnames == ["summary", "sites", "provinces", "flows", "links", "columns"]
    assert str(workbook["sites"]["C2"].value).startswith("'=")
    # Human headers with units; the last sheet maps each back to the column name scripts use.
    headers = [cell.value for cell in workbook["sites"][1]]
    assert "New capacity [MW]" in headers and "Total cost [CNY/yr]" in headers
    assert not {"new_mw", "total_cost_cny"} & set(headers)
    key = {(row[0], row[1]): row[2] for row in workbook["columns"].iter_rows(min_row=2, values_only=True)}
    assert key[("flows", "Load [MW]")] == "load_mw"
    chinese = openpyxl.load_workbook(io.BytesIO(exports.tables_excel(results, "zh")))
    assert "新增容量 [MW]" in [cell.value for cell in chinese["sites"][1]]
    files = jobs.map_files(results, ("geojson", "html"), "west_share", "en")
    assert len(files) == 4 and all(files.values())


# ------------------------------------------------------------------------------ language switch

def test_language_switch_turns_labels_and_figures_chinese():
    at = new_app()
    at.radio(key="lang").set_value("zh").run()
    no_exception(at)
    assert at.title[0].value == "情景设置"
    assert edit_widget(at.number_input, "carbon_price").label == "碳价 [元/吨CO₂]"
    # AppTest loses widget state when a rerun renames the pages (the page titles are in the
    # session's language), so the next pages start from a session that is Chinese already.
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.session_state["lang"] = "zh"
    at.session_state["overrides"] = dict(FAST)
    at.run()
    solve_on_plan_page(at)
    assert at.title[0].value == "规划方案"
    assert at.metric[0].label == "年度总成本" and "亿元/年" in at.metric[0].value


def test_every_label_has_both_languages_and_every_used_key_exists():
    for key, texts in LABELS.items():
        assert set(texts) == {"en", "zh"}, key
        assert texts["en"].strip() and texts["zh"].strip(), key
    used = set()
    for path in (Path(__file__).parents[1] / "ui").rglob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']\s*[,)]""", path.read_text(encoding="utf-8")))
    assert not used - set(LABELS), sorted(used - set(LABELS))


# ------------------------------------------------------------------------------ engine and CLI

def test_engine_shares_one_job_per_key_and_bounds_its_cache():
    from ui.engine import Engine

    calls = []
    engine = Engine(inline=True, cache_size=2)
    for _ in range(3):
        assert engine.run(("k", 1), lambda: calls.append(1) or "done") == "done"
    assert calls == [1]
    engine.run(("k", 2), lambda: 2)
    engine.run(("k", 3), lambda: 3)
    assert engine.cached(("k", 1)) is None  # evicted: the cache holds two


def test_engine_solves_in_a_worker_process():
    # The spawn pool must not re-run this module (or the app) in the worker.
    from ui.engine import Engine

    scenario = ui_state.resolve(ui_state.shipped_base("baseline"), FAST)
    engine = Engine(max_workers=1)
    try:
        outcome = engine.submit_plan(scenario).result(timeout=TIMEOUT_S)
    finally:
        engine.shutdown()
    assert outcome.solved and outcome.results.metadata["input_hash"] == scenario.input_hash()


def test_edwc_ui_runs_streamlit_with_the_safety_settings(monkeypatch):
    from click.testing import CliRunner

    from planner.cli import ui_command as cli_ui

    command = cli_ui.streamlit_command(8600, "127.0.0.1")
    assert command[1:4] == ["-m", "streamlit", "run"] and Path(command[4]).name == "app.py"
    assert Path(command[4]).exists()
    # Always headless and never prompting: `edwc ui` opens the browser itself when asked.
    for flag in ("--server.maxUploadSize=1", "--server.enableXsrfProtection=true",
                 "--server.enableCORS=true", "--server.headless=true", "--server.showEmailPrompt=false",
                 "--server.port=8600"):
        assert flag in command
    seen = {}

    class Done:
        pid = 0

        def __init__(self, cmd, cwd, start_new_session):
            seen.update(cmd=cmd, cwd=cwd, session=start_new_session)

        def wait(self, timeout=None):
            return 0

        def poll(self):
            return 0

    monkeypatch.setattr(cli_ui.subprocess, "Popen", Done)
    result = CliRunner().invoke(cli_ui.ui, ["--port", "8601", "--headless"])
    assert result.exit_code == 0, result.output
    assert "--server.port=8601" in seen["cmd"] and Path(seen["cwd"]).name == "ui"
    assert seen["session"]  # its own process group, stopped as a whole
    config = (Path(command[4]).parent / ".streamlit" / "config.toml").read_text()
    assert "enableXsrfProtection = true" in config and "maxUploadSize = 1" in config


def test_sessions_do_not_share_state():
    first, second = new_app({"carbon.price_cny_per_tco2": 10.0}), new_app()
    assert "carbon.price_cny_per_tco2" not in second.session_state["overrides"]
    assert first.session_state["overrides"]["carbon.price_cny_per_tco2"] == 10.0
    assert os.environ.get("EDWC_UI_INLINE") == "1"


# ------------------------------------------------------------------ loading resets the form; stopping stops all

UPLOAD_123 = b"name: mine\ntime:\n  hours_per_day: 4\ncarbon:\n  price_cny_per_tco2: 123\n"


def test_an_upload_resets_every_widget_and_an_untouched_apply_keeps_the_files_values():
    at = new_app()
    edit_widget(at.number_input, "carbon_price").set_value(50.0)
    submit_form(at)
    assert at.session_state["overrides"]["carbon.price_cny_per_tco2"] == 50.0
    old_key = edit_widget(at.number_input, "carbon_price").key
    at.file_uploader(key="upload_file").set_value(("mine.yaml", UPLOAD_123, "application/x-yaml")).run()
    no_exception(at)
    assert at.session_state["base"].kind == "upload" and at.session_state["overrides"] == {}
    price = edit_widget(at.number_input, "carbon_price")
    # A new key: in the browser a widget keeps what the user typed while its key stays the same.
    assert price.key != old_key and price.value == 123.0
    submit_form(at)  # "Apply changes" without touching anything
    assert at.session_state["overrides"] == {}
    record = solve_on_plan_page(at)
    assert record.solved and record.scenario["carbon"]["price_cny_per_tco2"] == 123.0


def test_a_shipped_pick_resets_every_widget_to_its_values():
    at = new_app({"carbon.price_cny_per_tco2": 80.0})
    keys = {w.key for w in at.number_input if str(w.key).startswith("edit.")}
    at.selectbox(key="pick_shipped").set_value("low-carbon").run()
    no_exception(at)
    assert not keys & {w.key for w in at.number_input}
    assert edit_widget(at.number_input, "carbon_cap").value == pytest.approx(72.0)
    assert edit_widget(at.number_input, "carbon_price").value == 0.0
    submit_form(at)
    assert at.session_state["overrides"] == {}


def test_a_description_is_shown_as_plain_text():
    at = new_app()
    text = "![pixel](http://tracker.example/p.png) and **bold** <img src=x>"
    at.file_uploader(key="upload_file").set_value(
        ("d.yaml", f"description: '{text}'\n".encode(), "application/x-yaml")).run()
    no_exception(at)
    assert any(element.value == text for element in at.text)
    assert not any("tracker.example" in str(element.value) for element in at.markdown)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads children from /proc")
def test_stopping_edwc_ui_stops_its_server_and_it_never_prompts(tmp_path):
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    home = tmp_path / "home"  # a first run: no ~/.streamlit/credentials.toml
    home.mkdir()
    env = {**{k: v for k, v in os.environ.items() if k != "EDWC_UI_INLINE"}, "HOME": str(home), "BROWSER": "true",
           "PYTHONPATH": str(Path(__file__).parents[1])}
    # --browser (the default): the server must come up without asking for an e-mail address first.
    ui = subprocess.Popen([sys.executable, "-m", "planner.cli", "ui", "--port", str(port)], env=env,
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120  # a wait, not an assertion on speed
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            assert ui.poll() is None and time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.5)
        servers = _children(ui.pid)
        assert servers, "no server process"
        ui.send_signal(signal.SIGTERM)
        assert ui.wait(timeout=60) == 0
    finally:
        if ui.poll() is None:
            ui.kill()
    for server in servers:
        with pytest.raises(ProcessLookupError):
            os.kill(server, 0)  # gone, not orphaned
