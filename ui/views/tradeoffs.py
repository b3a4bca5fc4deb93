"""Trade-offs page: the cost–emissions and cost–latency frontiers (clicking a point loads its plan), and the
capacity ranges of the plans within a cost slack of the optimum, and which uncertain inputs move the plan most."""

from __future__ import annotations

import functools
import math

import streamlit as st

from optimizer.status import PlanStatus
from ui import charts, frontier, jobs
from ui import state as ui_state
from ui.engine import get_engine, wait_for
from ui.i18n import t
from ui.views import common
from ui.views.plan import show_plan


def _compute(kind: str, points: int) -> frontier.Frontier:
    engine = get_engine()
    base, overrides = st.session_state["base"], st.session_state["overrides"]
    bar = st.progress(0.0, text=t("sweeping"))

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=t("sweep_progress", done=done, total=total))

    result = frontier.frontier(engine, kind, base, overrides, points, progress)
    bar.empty()
    return result


def point_label(point: frontier.FrontierPoint, kind: str, language: str) -> str:
    """How a frontier point is named in pickers and the run history."""
    if not math.isfinite(point.setting):
        return t("no_cap", language)
    if kind == "emissions":
        return t("cap_label", language, mt=point.setting / 1e6)
    return t("latency_cap_label", language, ms=point.setting)


def points_table(result: frontier.Frontier, kind: str, language: str):
    """The solved points of a frontier as the page lists them."""
    import pandas as pd

    rows = []
    for point in result.points:
        if not point.solved:
            continue
        s = point.summary
        shadow = s.get("carbon_shadow_price_cny_per_tco2")
        rows.append({
            t("tip_setting_" + kind, language): point_label(point, kind, language),
            t("axis_cost", language): round(s["total_cost_cny"] / charts.money_scale(language), 1),
            t("axis_emissions", language): round(s["emissions_tco2"] / 1e6, 2),
            t("axis_latency", language): round(s["load_weighted_latency_ms"], 3),
            t("fig_west", language): f"{s['west_share']:.1%}",
            t("fig_green", language): f"{s['green_share']:.1%}",
            t("carbon_shadow", language): "–" if shadow is None else f"{shadow:,.0f}",
        })
    return pd.DataFrame(rows)


def _load_point(point: frontier.FrontierPoint, kind: str) -> ui_state.RunRecord:
    """Put a frontier point into the run history (its plan is in the shared cache)."""
    from planner.scenario import Scenario

    scenario = Scenario.model_validate(point.scenario)
    base = common.scenario_label(st.session_state["base"], st.session_state["overrides"])
    label = f"{base} · {point_label(point, kind, common.lang())}"
    return common.solve_with_progress(scenario, label, origin=f"frontier:{kind}")


def _selected_point(event) -> int | None:
    """The point id a click on a frontier chart selected, or None."""
    if event is None:
        return None
    selection = event.get("selection") if isinstance(event, dict) else getattr(event, "selection", None)
    if not selection:
        return None
    picked = selection.get(charts.PICK) if hasattr(selection, "get") else None
    if picked:
        value = picked[0].get("point_id")
        return None if value is None else int(value)
    return None


def _on_chart_select(kind: str) -> None:
    # Runs before the script: a click on the chart sets the point picker, which loads the plan.
    point = _selected_point(st.session_state.get(f"chart_{kind}"))
    if point is not None:
        st.session_state[f"pick_box_{kind}"] = point


def _frontier_tab(kind: str, scenario) -> None:
    language = common.lang()
    store = st.session_state.setdefault("frontiers", {})
    controls = st.columns([2, 1, 1], vertical_alignment="bottom")
    controls[0].caption(t(f"frontier_{kind}_how"))
    points = controls[1].slider(t("frontier_points"), 4, 12, 8, key=f"frontier_points_{kind}")
    if controls[2].button(t("compute_frontier"), key=f"compute_{kind}", type="primary",
                          icon=":material/insights:", width="stretch"):
        store[kind] = _compute(kind, points)
        st.session_state.pop(f"pick_box_{kind}", None)
    result: frontier.Frontier | None = store.get(kind)
    if result is None:
        st.info(t("frontier_not_yet"))
        return
    if result.base_hash != scenario.input_hash():
        st.warning(t("frontier_stale"))
    table = result.table()
    failed = [p for p in result.points if not p.solved]
    if result.message and table.empty:
        st.error(result.message)
        return
    if table.empty:
        st.error(t("frontier_empty"))
        return
    chosen = st.session_state.get(f"pick_box_{kind}")
    st.altair_chart(
        charts.frontier_chart(table, kind, language, chosen), on_select=functools.partial(_on_chart_select, kind),
        selection_mode=charts.PICK, key=f"chart_{kind}", width="stretch")
    with st.expander(t("frontier_points_table")):
        st.dataframe(points_table(result, kind, language), hide_index=True, width="stretch")
    if failed:
        with st.expander(t("frontier_failed", count=len(failed))):
            for point in failed:
                st.markdown(f"- **{point_label(point, kind, language)}**: {point.message}")
    solved = [p for p in result.points if p.solved]
    labels = {p.point_id: point_label(p, kind, language) for p in solved}
    picked = st.selectbox(t("open_point"), list(labels), format_func=labels.get, index=None,
                          key=f"pick_box_{kind}", placeholder=t("open_point_placeholder"))
    if picked is None:
        st.caption(t("click_hint"))
        return
    record = _load_point(result.point(picked), kind)
    st.subheader(t("point_plan", label=labels[picked]))
    show_plan(record, key=f"point_{kind}")


def _pooled_result(name: str, scenario, pressed: bool, spinner: str, not_yet: str, job, key, *args):
    """A tab's result: computed by ``job(scenario, *args)`` in the pool when ``pressed``, kept in the session.

    Returns None after saying why there is nothing to show (not computed yet, or not solved); warns
    when the result belongs to an earlier state of the scenario.
    """
    store = st.session_state.setdefault(name, {})
    if pressed:
        with st.spinner(spinner):
            future = get_engine().submit((name, scenario.input_hash(), key), job, scenario.to_dict(), *args)
            store["result"] = wait_for(future)
            store["input_hash"] = scenario.input_hash()
    result = store.get("result")
    if result is None:
        st.info(not_yet)
        return None
    if result["status"] != PlanStatus.OPTIMAL:
        st.error(result["message"])
        return None
    if store.get("input_hash") != scenario.input_hash():
        st.warning(t("frontier_stale"))
    return result


def _alternatives_tab(scenario) -> None:
    language = common.lang()
    controls = st.columns([2, 1, 1], vertical_alignment="bottom")
    controls[0].caption(t("alt_how"))
    slack_pct = controls[1].slider(t("alt_slack"), 0.5, 10.0, 2.0, step=0.5, key="alt_slack_pct")
    pressed = controls[2].button(t("alt_compute"), key="compute_alternatives", type="primary",
                                 icon=":material/tune:", width="stretch")
    result = _pooled_result("alternatives", scenario, pressed, t("alt_solving"), t("alt_not_yet"),
                            jobs.near_optimal_alternatives, slack_pct, slack_pct / 100)
    if result is None:
        return
    cost = t("cli_money_yr", language, value=result["optimal_cost_cny"] / charts.money_scale(language))
    st.markdown(t("alt_chart_title", language, cost=cost))
    st.altair_chart(charts.range_chart(result["ranges"], result["names"], language), width="stretch")
    rows = [{t("alt_plan", language): t(f"alt_plan_{name}", language),
             t("axis_cost", language): round(summary["total_cost_cny"] / charts.money_scale(language), 2),
             t("fig_new_capacity", language): round(summary["new_capacity_mw"]),
             t("alt_west_new", language): round(summary["new_capacity_west_mw"])}
            for name, summary in result["plans"].items()]
    with st.expander(t("alt_plans_table")):
        st.dataframe(rows, hide_index=True, width="stretch")
    _open_alternative(result, slack_pct)


def _open_alternative(result: dict, slack_pct: float) -> None:
    """Save one of the most different plans in the run store and open it, as any saved run opens."""
    from ui.views.store import open_stored_run

    names = list(result["plans"])
    choice = st.columns([2, 1], vertical_alignment="bottom")
    picked = choice[0].selectbox(t("alt_open"), names, format_func=lambda name: t(f"alt_plan_{name}"),
                                 key="alt_open_pick")
    if not choice[1].button(t("alt_open_button"), key="alt_open_button", icon=":material/open_in_new:",
                            width="stretch"):
        return
    base = common.scenario_label(st.session_state["base"], st.session_state["overrides"])
    label = f"{base} · {t(f'alt_plan_{picked}', 'en')} ({slack_pct:g} %)"
    edits = [f"{key}={value}" for key, value in st.session_state["overrides"].items()]
    saved = wait_for(get_engine().submit(("save_alternative", label, result["plan_results"][picked].metadata.get(
        "input_hash"), picked, slack_pct), jobs.save_run, result["plan_results"][picked], label, edits, "alternative"))
    if saved["store_id"] is None:
        st.error(saved["message"])
        return
    record = open_stored_run(saved["store_id"])
    if record is not None:
        st.session_state["current_run"] = record.run_id
        st.success(t("alt_opened", run=common.run_label(record)))


def _screening_tab(scenario) -> None:
    import pandas as pd

    language = common.lang()
    controls = st.columns([2, 1, 1], vertical_alignment="bottom")
    controls[0].caption(t("screen_how"))
    trajectories = controls[1].slider(t("screen_trajectories"), 2, 8, 4, key="screen_trajectories")
    pressed = controls[2].button(t("screen_compute"), key="compute_screening", type="primary",
                                 icon=":material/troubleshoot:", width="stretch")
    result = _pooled_result("screening", scenario, pressed, t("screen_solving", trajectories=trajectories),
                            t("screen_not_yet"), jobs.sensitivity_screening, trajectories, trajectories)
    if result is None:
        return
    st.caption(t("screen_done", runs=result["runs"], solved=result["solved"], seconds=result["solve_s"]))
    indices = pd.DataFrame(result["indices"])
    figures = list(dict.fromkeys(indices["figure"]))
    figure = st.selectbox(t("screen_figure"), figures, format_func=lambda f: t(f"figure_{f}"), key="screen_figure")
    st.altair_chart(charts.screening_chart(indices, figure, language), width="stretch")
    for note in result["skipped"]:
        st.caption(t("screen_skipped", note=note))


def render() -> None:
    """The Trade-offs page."""
    common.page_intro("page_tradeoffs", "intro_tradeoffs")
    scenario = common.current_scenario_or_error()
    if scenario is None:
        return
    tab_emissions, tab_latency, tab_alternatives, tab_screening = st.tabs(
        [t("tab_cost_emissions"), t("tab_cost_latency"), t("tab_alternatives"), t("tab_screening")])
    with tab_emissions:
        _frontier_tab("emissions", scenario)
    with tab_latency:
        _frontier_tab("latency", scenario)
    with tab_alternatives:
        _alternatives_tab(scenario)
    with tab_screening:
        _screening_tab(scenario)
