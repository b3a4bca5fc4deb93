"""Growth page: the plan's τ path and growth paths against the counterfactual, and g against τ."""

from __future__ import annotations

import streamlit as st

from optimizer.status import PlanStatus
from planner.growth import preset_params
from ui import charts, jobs
from ui.engine import get_engine, wait_for
from ui.i18n import t
from ui.views import common

REGIONS = ("national", "east_hubs", "west_hubs", "rest")


def pathway_available() -> bool:
    """True when the multi-year pathway module is installed."""
    try:
        import planner.pathway  # noqa: F401
    except ImportError:
        return False
    return True


def _pathway_section(scenario) -> dict | None:
    st.subheader(t("pathway_title"))
    if not pathway_available():
        st.info(t("pathway_missing"))
        return None
    if scenario.horizon.end_year is None:
        st.info(t("pathway_single_year", year=scenario.year))
        cols = st.columns([1, 1, 2], vertical_alignment="bottom")
        end = cols[0].number_input(t("end_year"), min_value=scenario.year + 1, max_value=2100,
                                   value=min(scenario.year + 10, 2100), step=1, key="growth_end_year")
        if cols[1].button(t("set_end_year"), key="growth_set_end", type="primary"):
            st.session_state["growth_pathway_end"] = int(end)
        chosen = st.session_state.get("growth_pathway_end")
        if chosen is None:
            return None
        # The pathway plans a copy with the chosen last year; the session's scenario stays as it is.
        from planner.scenario import resolve_scenario

        document = scenario.to_dict()
        document["horizon"]["end_year"] = chosen
        scenario = resolve_scenario(document, name=scenario.name, source=f"scenario '{scenario.name}'")
        st.caption(t("pathway_copy", end=chosen))
    engine = get_engine()
    key = ("pathway", scenario.input_hash())
    outcome = engine.cached(key)
    years = scenario.horizon.end_year - scenario.year
    if outcome is None:
        st.caption(t("pathway_how", start=scenario.year, end=scenario.horizon.end_year))
        if not st.button(t("solve_pathway"), type="primary", key="solve_pathway",
                         icon=":material/timeline:"):
            return None
        with st.status(t("solving_pathway", years=years + 1), expanded=True) as status:
            line = st.empty()
            outcome = wait_for(
                engine.submit(key, jobs.solve_pathway, scenario.to_dict()),
                lambda s: line.write(t("step_solving", seconds=s)))
            solved = outcome["status"] == PlanStatus.OPTIMAL
            status.update(label=t("pathway_done" if solved else "pathway_failed"),
                          state="complete" if solved else "error", expanded=False)
        if outcome["status"] == PlanStatus.OPTIMAL:
            st.rerun()  # draw the page again without the button, from the cache
    if outcome["status"] != PlanStatus.OPTIMAL:
        st.error(outcome["message"])
        return None
    _pathway_figures(outcome)
    return outcome


def _pathway_figures(outcome: dict) -> None:
    language = common.lang()
    summary = outcome["summary"]
    growth = outcome["growth"]

    def pct(value, digits=2):
        return "–" if value is None else f"{100 * value:.{digits}f} %"

    c1, c2, c3, c4 = st.columns(4)
    plan, cf = summary.get("growth_rate_plan"), summary.get("growth_rate_counterfactual")
    c1.metric(t("growth_plan"), pct(plan), border=True,
              delta=None if plan is None or cf is None else f"{100 * (plan - cf):+.3f} {t('unit_pp')}")
    c2.metric(t("growth_counterfactual"), pct(cf), border=True)
    c3.metric(t("output_gap_end"), pct(summary.get("output_gap_end"), 3), border=True)
    c4.metric(t("tau_mean"), pct(summary.get("tau_plan_mean")), border=True,
              help=t("tau_mean_help", base=100 * summary.get("tau_baseline", 0.0)))
    region = st.segmented_control(
        t("region"), REGIONS, default="national", key="growth_region",
        format_func=lambda r: t("region_" + r, language)) or "national"
    left, right = st.columns(2)
    left.altair_chart(charts.tau_path_chart(growth, region, language), width="stretch")
    right.altair_chart(charts.output_growth_chart(growth, region, language), width="stretch")
    st.altair_chart(charts.output_gap_chart(growth, language), width="stretch")
    st.caption(summary.get("growth_calibration", ""))
    with st.expander(t("pathway_table")):
        st.dataframe(outcome["table"], hide_index=True, width="stretch")


def render() -> None:
    """The Growth page."""
    common.page_intro("page_growth", "intro_growth")
    scenario = common.current_scenario_or_error()
    if scenario is None:
        return
    outcome = _pathway_section(scenario)
    st.divider()
    st.subheader(t("g_vs_tau_title"))
    language = common.lang()
    investment = scenario.investment
    tau0 = investment.baseline_compute_share
    choice = st.radio(
        t("calibration"), ("scenario", "report"), horizontal=True, key="growth_calibration",
        format_func=lambda c: t("calibration_" + c, language, tau=tau0))
    from planner.pathway import scenario_growth_params

    # The scenario's set is what the pathway uses; "report" is the report's illustrative set (docs/growth.md).
    params = scenario_growth_params(scenario) if choice == "scenario" else preset_params("report")
    marks = {t("tau_baseline_mark", language): investment.baseline_compute_share}
    if outcome is not None and outcome["summary"].get("tau_plan_mean") is not None:
        marks[t("tau_plan_mark", language)] = outcome["summary"]["tau_plan_mean"]
    st.altair_chart(charts.growth_vs_tau_chart(params, language, marks), width="stretch")
    st.markdown(t("modes_explained"))
    st.caption(f"{params.calibration_note}. " + t(
        "params_note", alpha=params.alpha, beta=params.beta, sigma=params.sigma,
        delta=params.delta, rho=params.rho, r=params.r, w=params.w))
