"""Growth page: the plan's τ path and growth paths against the counterfactual, and g against τ."""

from __future__ import annotations

import streamlit as st

from optimizer.status import PlanStatus
from planner.errors import error_text
from planner.growth import preset_params
from ui import charts, jobs
from ui.engine import get_engine, wait_for
from ui.i18n import current_lang, t
from ui.views import common

REGIONS = ("national", "east_hubs", "west_hubs", "rest")


def pathway_available() -> bool:
    """True when the multi-year pathway module is installed."""
    try:
        import planner.pathway  # noqa: F401
    except ImportError:
        return False
    return True


def _pathway_copy(scenario, settings: dict):
    """The scenario to plan: a copy with the page's pathway settings (the session's scenario is not edited)."""
    from planner.scenario import resolve_scenario

    document = scenario.to_dict()
    horizon = document["horizon"]
    horizon["end_year"] = settings["end_year"]
    horizon["step_years"] = settings["step_years"]
    horizon["mode"] = settings["mode"]
    horizon["demand_growth"] = {**horizon["demand_growth"], **settings["demand_growth"]}
    return resolve_scenario(document, name=scenario.name, source=f"scenario '{scenario.name}' (Growth page)")


def _pathway_controls(scenario) -> dict | None:
    """End year, step, demand growth and mode of the pathway to plan; None until the user asks for one."""
    horizon = scenario.horizon
    language = common.lang()
    cols = st.columns(3, vertical_alignment="bottom")
    end = cols[0].number_input(t("end_year"), min_value=scenario.year + 1, max_value=2100,
                               value=horizon.end_year or min(scenario.year + 10, 2100), step=1,
                               key="growth_end_year")
    step = cols[1].number_input(t("step_years_label"), min_value=1, max_value=10, value=horizon.step_years,
                                step=1, key="growth_step")
    mode = cols[2].radio(t("pathway_mode"), ("myopic", "foresight"), index=("myopic", "foresight").index(horizon.mode),
                         horizontal=True, key="growth_mode", format_func=lambda m: t("mode_" + m, language))
    rates = {}
    with st.expander(t("demand_growth_rates")):
        rate_cols = st.columns(4)
        for i, (workload, rate) in enumerate(sorted(horizon.demand_growth.items())):
            rates[workload] = rate_cols[i % 4].number_input(
                t("growth_rate_class", workload=workload), min_value=-50.0, max_value=200.0,
                value=100.0 * rate, step=1.0, format="%.1f", key=f"growth_rate.{workload}") / 100.0
    if st.button(t("set_end_year"), key="growth_set_end", type="primary"):
        st.session_state["growth_pathway"] = {"end_year": int(end), "step_years": int(step),
                                              "mode": mode, "demand_growth": rates}
    return st.session_state.get("growth_pathway")


def _feasibility(scenario) -> str | None:
    """None when every planned year's peak fits what could stand in it; else the message with the fix."""
    cache = st.session_state.setdefault("growth_feasibility", {})
    key = scenario.input_hash()
    if key not in cache:
        from optimizer.status import PlanInfeasible
        from planner.pathway import check_pathway_capacity

        try:
            check_pathway_capacity(scenario)
            cache[key] = None
        except PlanInfeasible as exc:
            cache[key] = str(exc)
    return cache[key]


def _pathway_section(scenario) -> dict | None:
    st.subheader(t("pathway_title"))
    if not pathway_available():
        st.info(t("pathway_missing"))
        return None
    if scenario.horizon.end_year is None:
        st.info(t("pathway_single_year", year=scenario.year))
    settings = _pathway_controls(scenario)
    if settings is None:
        return None
    from planner.scenario import ScenarioError

    try:
        scenario = _pathway_copy(scenario, settings)
    except ScenarioError as exc:
        st.error(error_text(exc, current_lang()))
        return None
    horizon = scenario.horizon
    st.caption(t("pathway_copy", end=horizon.end_year, step=horizon.step_years,
                 mode=t("mode_" + horizon.mode)))
    engine = get_engine()
    key = ("pathway", scenario.input_hash())
    outcome = engine.cached(key)
    if outcome is None:
        problem = _feasibility(scenario)
        if problem is not None:  # before any solve: the year, the shortfall and the settings that fix it
            st.error(problem)
            return None
        st.success(t("pathway_feasible"))
        st.caption(t("pathway_how_" + horizon.mode, start=scenario.year, end=horizon.end_year))
        if not st.button(t("solve_pathway"), type="primary", key="solve_pathway",
                         icon=":material/timeline:"):
            return None
        from planner.pathway import planned_years

        with st.status(t("solving_pathway_" + horizon.mode, years=len(planned_years(scenario))),
                       expanded=True) as status:
            line = st.empty()
            outcome = wait_for(
                engine.submit(key, jobs.solve_pathway, scenario.to_dict()),
                lambda s: line.write(t("step_solving", seconds=s)))
            solved = outcome["status"] == PlanStatus.OPTIMAL
            status.update(label=t("pathway_done" if solved else "pathway_failed"),
                          state="complete" if solved else "error", expanded=False)
        if solved:
            st.rerun()  # draw the page again without the button, from the cache
        st.error(outcome["message"])
        return None
    if outcome["status"] != PlanStatus.OPTIMAL:
        st.error(outcome["message"])
        return None
    _pathway_costs(outcome, horizon)
    _pathway_figures(outcome)
    return outcome


def _pathway_costs(outcome: dict, horizon) -> None:
    """The pathway's cost figures, each saying its year(s) and whether annualised or discounted."""
    language = common.lang()
    scale = charts.money_scale(language)
    table = outcome["table"]
    start, end = int(table["year"].iloc[0]), int(table["year"].iloc[-1])
    unit = t("unit_money")
    total = float(table["discounted_cost_cny"].sum())
    basis = t("discount_basis", start=start, rate=100 * horizon.discount_rate, salvage=horizon.salvage)
    cols = st.columns(3)
    cols[0].metric(t("cost_discounted_total", start=start, end=end), f"{total / scale:,.0f} {unit}",
                   border=True, help=basis)
    cols[1].metric(t("cost_annual_year", year=end), f"{float(table['annual_cost_cny'].iloc[-1]) / scale:,.1f} "
                   f"{t('unit_money_yr')}", border=True, help=t("cost_annual_help"))
    compare = outcome.get("compare")
    if compare is not None and compare["status"] == "optimal":
        cols[2].metric(t("cost_myopic_total", start=start, end=end),
                       f"{compare['discounted_cost_myopic_cny'] / scale:,.0f} {unit}", border=True, help=basis,
                       delta=f"{-compare['saving_cny'] / scale:,.1f} {unit}", delta_color="inverse")
        st.caption(t("foresight_saving", saving=compare["saving_cny"] / scale, unit=unit,
                     share=100 * compare["saving_share"]))
    elif compare is not None:
        st.warning(t("myopic_not_plannable", message=compare["message"]))


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
        st.caption(t("pathway_table_costs"))
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
