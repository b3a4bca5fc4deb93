"""Plan page: solve the session's scenario and show its figures, map, tables and costs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import charts
from ui import state as ui_state
from ui.engine import get_engine
from ui.headline import cost_breakdown
from ui.i18n import t
from ui.views import common


def site_table(sites: pd.DataFrame, language: str) -> pd.DataFrame:
    """Sites as the Plan page shows them: clusters first, then local sites by new capacity."""
    frame = sites.copy()
    frame["name"] = frame["name_zh"] if language == "zh" else frame["name_en"]
    frame["class"] = [t(c, language) for c in frame["hub_class"]]
    # Bundled green power only: certificates are a national purchase, and which site the plan books
    # them at is a tie between equal-cost choices.
    frame["green_share"] = (frame["green_mwh"] / frame["energy_mwh"].where(frame["energy_mwh"] > 0)).fillna(0.0)
    frame["emissions_mt"] = frame["emissions_tco2"] / 1e6
    frame["cost"] = frame["total_cost_cny"] / charts.money_scale(language)
    frame["is_cluster"] = frame["kind"] == "cluster"
    frame = frame.sort_values(["is_cluster", "new_mw", "capacity_mw"], ascending=False)
    return frame[["name", "class", "existing_mw", "fitout_mw", "new_mw", "capacity_mw", "mean_load_mw",
                  "utilisation", "pue", "green_share", "emissions_mt", "cost"]]


def site_columns(language: str, new_max_mw: float = 2000.0) -> dict:
    money = t("unit_money_yr", language)
    return {
        "name": st.column_config.TextColumn(t("col_site", language), width="medium"),
        "class": st.column_config.TextColumn(t("col_hub_class", language)),
        "existing_mw": st.column_config.NumberColumn(t("col_existing_mw", language), format="%.0f"),
        "fitout_mw": st.column_config.NumberColumn(t("col_fitout_mw", language), format="%.0f"),
        "new_mw": st.column_config.ProgressColumn(
            t("col_new_mw", language), format="%.0f", min_value=0.0,
            max_value=max(float(new_max_mw), 1.0)),
        "capacity_mw": st.column_config.NumberColumn(t("col_capacity_mw", language), format="%.0f"),
        "mean_load_mw": st.column_config.NumberColumn(t("col_load_mw", language), format="%.0f"),
        "utilisation": st.column_config.NumberColumn(t("col_utilisation", language), format="percent"),
        "pue": st.column_config.NumberColumn("PUE", format="%.2f"),
        "green_share": st.column_config.NumberColumn(t("col_green_share", language), format="percent"),
        "emissions_mt": st.column_config.NumberColumn(t("col_emissions_mt", language), format="%.2f"),
        "cost": st.column_config.NumberColumn(f"{t('col_cost', language)} [{money}]", format="%.1f"),
    }


def province_table(provinces: pd.DataFrame, language: str) -> pd.DataFrame:
    """Provinces as the Plan page shows them, largest demand first."""
    frame = provinces.copy()
    frame["name"] = frame["name_zh"] if language == "zh" else frame["name_en"]
    frame["demand_gw"] = frame["demand_mw"] / 1e3
    frame["emissions_mt"] = frame["emissions_tco2"] / 1e6
    frame = frame.sort_values("demand_mw", ascending=False)
    return frame[["name", "demand_gw", "west_share", "hub_share", "local_share",
                  "load_weighted_latency_ms", "emissions_mt"]]


def province_columns(language: str) -> dict:
    return {
        "name": st.column_config.TextColumn(t("col_province", language)),
        "demand_gw": st.column_config.NumberColumn(t("col_demand_gw", language), format="%.2f"),
        "west_share": st.column_config.ProgressColumn(
            t("fig_west", language), format="percent", min_value=0.0, max_value=1.0),
        "hub_share": st.column_config.NumberColumn(t("fig_hub", language), format="percent"),
        "local_share": st.column_config.NumberColumn(t("col_local_share", language), format="percent"),
        "load_weighted_latency_ms": st.column_config.NumberColumn(
            t("col_latency_ms", language), format="%.2f"),
        "emissions_mt": st.column_config.NumberColumn(t("col_emissions_mt", language), format="%.2f"),
    }


def calibration_table(results, language: str) -> pd.DataFrame:
    """The plan's figures beside the published ranges (planner.calibration), as the Plan page shows them."""
    from planner.calibration import FIGURES, compare

    table = compare(results)
    return pd.DataFrame({
        t("calib_col_figure", language): [t("calib_" + f, language) for f in table["figure"]],
        t("calib_col_plan", language): [FIGURES[f].show(v) for f, v in zip(table["figure"], table["plan"],
                                                                             strict=True)],
        t("calib_col_published", language): [f"{FIGURES[f].show(lo)} – {FIGURES[f].show(hi)}" for f, lo, hi in zip(
            table["figure"], table["low"], table["high"], strict=True)],
        t("calib_col_unit", language): ["" if u == "-" or FIGURES[f].percent else u
                                        for f, u in zip(table["figure"], table["unit"], strict=True)],
        t("calib_col_inside", language): [t("calib_yes" if inside else "calib_no", language)
                                          for inside in table["inside"]],
        "F/E": table["status"],
        t("calib_col_source", language): table["source"],
    })


def show_calibration(record: ui_state.RunRecord, results) -> None:
    """The plan against the published figures of the default year, in an expander."""
    from planner.calibration import compare

    published_year = int(compare(results)["year"].max())
    with st.expander(t("calib_title")):
        st.caption(t("calib_intro", year=published_year))
        if int(record.scenario.get("year", published_year)) != published_year:
            st.warning(t("calib_other_year", published=published_year, year=record.scenario["year"]))
        st.dataframe(calibration_table(results, common.lang()), hide_index=True, width="stretch")


def futures_table(stochastic: dict, language: str) -> pd.DataFrame:
    """A stochastic run's futures (``summary.stochastic``) as the Plan page shows them; money in its unit."""
    frame = pd.DataFrame(stochastic["futures"])
    scale = charts.money_scale(language)
    return pd.DataFrame({
        t("robust_future", language): frame["future"],
        t("robust_probability", language): frame["probability"],
        t("robust_cost", language): frame["cost_cny"] / scale,
        t("robust_mean_plan_cost", language): frame["mean_plan_cost_cny"] / scale,
        t("robust_perfect_cost", language): frame["perfect_cost_cny"] / scale,
        t("robust_unserved", language): frame["mean_plan_unserved_mwh"],
    })


def show_futures(summary: dict | None) -> None:
    """Expected cost, CVaR, VSS, EVPI and the futures of a stochastic run; nothing for a plan of one future."""
    stochastic = (summary or {}).get("stochastic")
    if not stochastic:
        return
    language = common.lang()
    scale, money = charts.money_scale(language), t("unit_money_yr", language)
    st.subheader(t("robust_section"))
    st.caption(t("robust_shown", future=stochastic["shown_future"]))
    figures = [("robust_expected", stochastic["expected_cost_cny"])]
    if stochastic.get("cvar_cny") is not None:
        figures.append(("robust_cvar", stochastic["cvar_cny"]))
    figures += [("robust_vss", stochastic["vss_cny"]), ("robust_evpi", stochastic["evpi_cny"])]
    for column, (label, value) in zip(st.columns(len(figures)), figures, strict=True):
        column.metric(t(label), f"{value / scale:,.1f} {money}")
    table = futures_table(stochastic, language)
    columns = {name: st.column_config.NumberColumn(name, format="%.1f") for name in table.columns[2:5]}
    columns[t("robust_probability", language)] = st.column_config.NumberColumn(
        t("robust_probability", language), format="percent")
    columns[t("robust_unserved", language)] = st.column_config.NumberColumn(t("robust_unserved", language),
                                                                            format="%.0f")
    st.caption(t("robust_title", unit=money))
    st.dataframe(table, column_config=columns, hide_index=True, width="stretch")


def show_plan(record: ui_state.RunRecord, key: str = "plan") -> None:
    """Figures, map, cost breakdown and tables of one run (or why it has no plan)."""
    language = common.lang()
    if not record.solved:
        common.show_not_solved(record)
        return
    results = common.results_of(record)
    if results is None:
        common.show_not_solved(record)
        return
    previous = ui_state.previous_solved_run(record)
    caption = t("delta_against", run=common.run_label(previous)) if previous else t("first_run")
    common.headline_metrics(record.summary, previous.summary if previous else None, caption)
    show_futures(record.summary)
    show_calibration(record, results)
    left, right = st.columns([2, 1], gap="large")
    with left:
        st.subheader(t("plan_map"))
        metric = common.metric_picker(f"{key}_metric")
        draw_map = common.plan_map(record, results, metric)  # drawn last: the figures come first
    with right:
        st.subheader(t("capacity_by_cluster"))
        st.altair_chart(charts.capacity_chart(results.sites, language), width="stretch")
    st.subheader(t("cost_breakdown"))
    st.altair_chart(charts.cost_breakdown_chart(
        cost_breakdown({common.run_label(record): record.summary}, language), language),
        width="stretch")
    tab_sites, tab_provinces = st.tabs([t("sites_table"), t("provinces_table")])
    with tab_sites:
        columns = site_columns(language, results.sites["new_mw"].max())
        st.dataframe(site_table(results.sites, language), column_config=columns,
                     hide_index=True, width="stretch", height=420)
    with tab_provinces:
        st.dataframe(province_table(results.provinces, language),
                     column_config=province_columns(language), hide_index=True, width="stretch",
                     height=420)
    draw_map()


def render() -> None:
    """The Plan page."""
    common.page_intro("page_plan", "intro_plan")
    scenario = common.current_scenario_or_error()
    if scenario is None:
        return
    base = st.session_state["base"]
    overrides = st.session_state["overrides"]
    label = common.scenario_label(base, overrides)
    engine = get_engine()
    current = ui_state.current_run()
    up_to_date = current is not None and current.input_hash == scenario.input_hash()
    if not up_to_date and engine.cached_plan(scenario.input_hash()) is not None:
        # Solved before (by this session or another with the identical scenario): show at once.
        current = common.solve_with_progress(scenario, label)
        up_to_date = True
    top = st.columns([3, 1], vertical_alignment="center")
    top[0].markdown(f"**{t('scenario')}:** {label}")
    clicked = top[1].button(t("solve"), type="primary", key="solve_plan", width="stretch",
                            icon=":material/play_arrow:", disabled=up_to_date)
    if clicked:
        current = common.solve_with_progress(scenario, label)
        up_to_date = True
    if current is None:
        st.info(t("no_run_yet"))
        return
    if not up_to_date:
        st.warning(t("stale_run", run=common.run_label(current)))
    show_plan(current)
