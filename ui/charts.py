"""Interactive charts of the app (Altair): frontiers, cost breakdown, capacity, growth."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
from edwc_data.labels import MONEY_SCALE

from planner.growth import GrowthParams, steady_state_growth
from ui.i18n import t

#: Colours shared by the charts: the plan and its counterfactual, western and eastern capacity.
PLAN_COLOUR = "#00695c"
COUNTERFACTUAL_COLOUR = "#8d99a6"
SELECTED_COLOUR = "#d84315"
MODE_COLOURS = {"report": "#c0392b", "pe": "#2471a3", "ge": "#1e8449"}
#: One colour per part of optimizer.results.COST_PARTS, in its order.
COST_COLOURS = ["#1b4f72", "#e67e22", "#27ae60", "#8e44ad", "#7f8c8d", "#c0392b", "#5dade2", "#f4d03f"]
#: Name of the selection parameter of the frontier charts (read back from st.altair_chart).
PICK = "pick"


def money_scale(lang: str) -> float:
    """Display unit of money: billions of CNY in English, 亿元 (1e8 CNY) in Chinese. [CNY]"""
    return MONEY_SCALE[lang]


def frontier_chart(table: pd.DataFrame, kind: str, lang: str,
                   selected: int | None = None) -> alt.Chart:
    """Cost against emissions or latency, one clickable point per solved plan.

    Parameters
    ----------
    table : pandas.DataFrame
        :meth:`ui.frontier.Frontier.table`.
    kind : {"emissions", "latency"}
    lang : {"en", "zh"}
    selected : int, optional
        Point id drawn highlighted (the plan currently loaded).
    """
    data = table.copy()
    data["cost"] = data["total_cost_cny"] / money_scale(lang)
    data["emissions"] = data["emissions_tco2"] / 1e6
    data["latency"] = data["load_weighted_latency_ms"]
    data["west"] = data["west_share"]
    data["chosen"] = data["point_id"] == selected
    if kind == "emissions":
        x_field, x_title = "emissions", t("axis_emissions", lang)
        data["setting_text"] = [
            t("no_cap", lang) if not np.isfinite(v) else f"{v / 1e6:,.1f} Mt" for v in data["setting"]
        ]
    else:
        x_field, x_title = "latency", t("axis_latency", lang)
        data["setting_text"] = [
            t("no_cap", lang) if not np.isfinite(v) else f"≤ {v:.2f} ms" for v in data["setting"]
        ]
    data = data.sort_values(x_field).reset_index(drop=True)
    # Extra cost per unit given up, against the neighbouring point with more of it.
    step_cost = data["total_cost_cny"].diff(-1)
    if kind == "emissions":
        data["marginal"] = -step_cost / data["emissions_tco2"].diff(-1)
    else:
        data["marginal"] = -step_cost / data["load_weighted_latency_ms"].diff(-1) / money_scale(lang)
    y_title = t("axis_cost", lang)
    pick = alt.selection_point(name=PICK, fields=["point_id"], on="click", clear=False)
    base = alt.Chart(data).encode(
        x=alt.X(f"{x_field}:Q", title=x_title, scale=alt.Scale(zero=False)),
        y=alt.Y("cost:Q", title=y_title, scale=alt.Scale(zero=False)),
    )
    line = base.mark_line(color=PLAN_COLOUR, strokeWidth=2, opacity=0.7)
    tooltip = [
        alt.Tooltip("setting_text:N", title=t("tip_setting_" + kind, lang)),
        alt.Tooltip("cost:Q", title=y_title, format=",.1f"),
        alt.Tooltip("emissions:Q", title=t("axis_emissions", lang), format=",.1f"),
        alt.Tooltip("latency:Q", title=t("axis_latency", lang), format=".2f"),
        alt.Tooltip("west:Q", title=t("fig_west", lang), format=".1%"),
        alt.Tooltip("marginal:Q", title=t("tip_marginal_" + kind, lang), format=",.1f"),
    ]
    points = base.mark_circle(size=140, stroke="white", strokeWidth=1.5, cursor="pointer").encode(
        color=alt.condition(alt.datum.chosen, alt.value(SELECTED_COLOUR), alt.value(PLAN_COLOUR)),
        size=alt.condition(alt.datum.chosen, alt.value(320), alt.value(140)),
        tooltip=tooltip,
    ).add_params(pick)
    return (line + points).properties(height=380)


def cost_breakdown_chart(frame: pd.DataFrame, lang: str, legend_columns: int = 6) -> alt.Chart:
    """Stacked horizontal bars of annual cost by part, one bar per plan (``figures.cost_breakdown``).

    Parameters
    ----------
    legend_columns : int
        Legend entries per row: 6 fit a full-width chart, 2 a narrow column. [-]
    """
    parts = list(dict.fromkeys(frame.sort_values("order")["part"]))
    # Streamlit fits the whole chart, legend included, into this height.
    height = 150 + 45 * frame["plan"].nunique()
    return alt.Chart(frame).mark_bar(size=22).encode(
        y=alt.Y("plan:N", title=None, sort=list(dict.fromkeys(frame["plan"]))),
        x=alt.X("sum(value):Q", title=t("axis_cost", lang)),
        color=alt.Color("part:N", title=None, sort=parts,
                        scale=alt.Scale(domain=parts, range=COST_COLOURS[: len(parts)]),
                        legend=alt.Legend(orient="bottom", columns=legend_columns, labelLimit=220)),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("part:N", title=t("col_part", lang)),
                 alt.Tooltip("value:Q", title=t("axis_cost", lang), format=",.1f")],
    ).properties(height=height)


def capacity_chart(sites: pd.DataFrame, lang: str) -> alt.Chart:
    """Capacity of each hub cluster: in use at the start, fitted out, new, and racks left vacant. [GW]"""
    clusters = sites[sites["kind"] == "cluster"].copy()
    name = clusters["name_zh"] if lang == "zh" else clusters["name_en"].str.removesuffix(" cluster")
    clusters["cluster"] = name.str.slice(0, 18)
    fitout = clusters["fitout_mw"] if "fitout_mw" in clusters else clusters["new_mw"] * 0.0
    new = clusters["new_mw"].clip(lower=0.0)
    in_use = clusters["capacity_mw"] - fitout - new
    parts = {"cap_in_use": in_use, "cap_fitout": fitout, "cap_new": new,
             "cap_vacant": (clusters["existing_mw"] - in_use - fitout).clip(lower=0.0)}
    rows = []
    for i, (_, row) in enumerate(clusters.iterrows()):
        region = t("west" if row["hub_class"] == "west" else "east", lang)
        for order, (key, values) in enumerate(parts.items()):
            rows.append({"cluster": row["cluster"], "kind": t(key, lang), "order": order,
                         "gw": float(values.iloc[i]) / 1e3, "region": region})
    data = pd.DataFrame(rows)
    order = list(clusters.sort_values("existing_mw", ascending=False)["cluster"])
    kinds = [t(key, lang) for key in parts]
    return alt.Chart(data).mark_bar().encode(
        y=alt.Y("cluster:N", sort=order, title=None),
        x=alt.X("sum(gw):Q", title=t("axis_capacity", lang)),
        color=alt.Color("kind:N", sort=kinds, title=None,
                        scale=alt.Scale(domain=kinds, range=["#455a64", "#5dade2", PLAN_COLOUR, "#d5dbdb"]),
                        legend=alt.Legend(orient="bottom", columns=2)),
        order=alt.Order("order:Q"),
        tooltip=["cluster:N", "region:N", "kind:N", alt.Tooltip("sum(gw):Q", format=".2f")],
    ).properties(height=430)


def growth_vs_tau_frame(params: GrowthParams, lang: str, points: int = 99) -> pd.DataFrame:
    """Long table of steady-state growth against τ for the three modes of the growth model."""
    tau = np.linspace(0.01, 0.99, points)
    rows = []
    for mode in ("report", "pe", "ge"):
        growth = steady_state_growth(tau, params, mode)
        rows.append(pd.DataFrame({"tau": tau, "g": growth, "mode": t("mode_" + mode, lang)}))
    return pd.concat(rows, ignore_index=True)


def growth_vs_tau_chart(params: GrowthParams, lang: str,
                        marks: dict[str, float] | None = None) -> alt.Chart:
    """g(τ) for the report's formula (labelled as stated in the report), pe and ge.

    Parameters
    ----------
    marks : dict of str to float, optional
        Vertical rules at these τ values, labelled by the keys (e.g. baseline and plan τ).
    """
    frame = growth_vs_tau_frame(params, lang)
    modes = [t("mode_" + m, lang) for m in ("report", "pe", "ge")]
    lines = alt.Chart(frame).mark_line(strokeWidth=2.5).encode(
        x=alt.X("tau:Q", title=t("axis_tau", lang), axis=alt.Axis(format="%")),
        y=alt.Y("g:Q", title=t("axis_growth", lang), axis=alt.Axis(format="%")),
        color=alt.Color("mode:N", title=None, sort=modes,
                        scale=alt.Scale(domain=modes, range=list(MODE_COLOURS.values())),
                        legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=600)),
        strokeDash=alt.StrokeDash("mode:N", sort=modes, legend=None,
                                  scale=alt.Scale(domain=modes, range=[[6, 3], [2, 2], [1, 0]])),
        tooltip=[alt.Tooltip("mode:N"), alt.Tooltip("tau:Q", format=".1%"),
                 alt.Tooltip("g:Q", format=".2%")],
    )
    layers = [lines]
    if marks:
        rules = pd.DataFrame({"label": list(marks), "tau": list(marks.values())})
        layers.append(alt.Chart(rules).mark_rule(color="#333333", strokeDash=[3, 3]).encode(
            x="tau:Q", tooltip=["label:N", alt.Tooltip("tau:Q", format=".2%")]))
        # Stagger the labels: the baseline and plan τ are often a point apart.
        rules["y"] = [12 + 16 * index for index in range(len(rules))]
        layers.append(alt.Chart(rules).mark_text(align="left", dx=4, fontSize=11,
                                                 color="#333333").encode(
            x="tau:Q", y=alt.Y("y:Q", scale=None), text="label:N"))
    return alt.layer(*layers).properties(height=380)


def _plan_vs_counterfactual(growth: pd.DataFrame, region: str, column: str, lang: str,
                            title: str, percent: bool = True, step: bool = False) -> alt.Chart:
    part = growth[growth["region"] == region]
    plan_label, cf_label = t("plan", lang), t("counterfactual", lang)
    frame = pd.concat([
        pd.DataFrame({"year": part["year"], "value": part[f"{column}_plan"], "run": plan_label}),
        pd.DataFrame({"year": part["year"], "value": part[f"{column}_counterfactual"],
                      "run": cf_label}),
    ])
    axis = alt.Axis(format="%" if percent else ",.0f")
    interpolate = "step-after" if step else "linear"
    return alt.Chart(frame, title=title).mark_line(
        strokeWidth=2.5, interpolate=interpolate, point=True
    ).encode(
        x=alt.X("year:O", title=t("axis_year", lang), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title=None, axis=axis, scale=alt.Scale(zero=False)),
        color=alt.Color("run:N", title=None, sort=[plan_label, cf_label],
                        scale=alt.Scale(domain=[plan_label, cf_label],
                                        range=[PLAN_COLOUR, COUNTERFACTUAL_COLOUR]),
                        legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("run:N", sort=[plan_label, cf_label], legend=None,
                                  scale=alt.Scale(domain=[plan_label, cf_label],
                                                  range=[[1, 0], [6, 4]])),
        tooltip=["run:N", "year:O", alt.Tooltip("value:Q", format=".3%" if percent else ",.1f")],
    ).properties(height=320)


def tau_path_chart(growth: pd.DataFrame, region: str, lang: str) -> alt.Chart:
    """The plan's compute share of investment τ by year against the counterfactual's."""
    return _plan_vs_counterfactual(growth, region, "tau", lang, t("panel_tau", lang), step=True)


def output_growth_chart(growth: pd.DataFrame, region: str, lang: str) -> alt.Chart:
    """Output growth g_Y by year, plan against counterfactual."""
    return _plan_vs_counterfactual(growth, region, "g_Y", lang, t("panel_gy", lang))


def output_gap_chart(growth: pd.DataFrame, lang: str) -> alt.Chart:
    """Output gap Y_plan/Y_counterfactual − 1 by year, one line per region."""
    frame = growth[["region", "year", "output_gap"]].copy()
    regions = list(dict.fromkeys(frame["region"]))
    names = [t("region_" + r, lang) for r in regions]
    frame["region"] = [t("region_" + r, lang) for r in frame["region"]]
    palette = {"national": PLAN_COLOUR, "east_hubs": "#455a64", "west_hubs": "#2e7d32",
               "rest": "#b0892f"}
    return alt.Chart(frame, title=t("panel_gap", lang)).mark_line(strokeWidth=2.5, point=True).encode(
        x=alt.X("year:O", title=t("axis_year", lang), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("output_gap:Q", title=None, axis=alt.Axis(format=".1%")),
        color=alt.Color("region:N", title=None, sort=names,
                        scale=alt.Scale(domain=names,
                                        range=[palette.get(r, "#888888") for r in regions]),
                        legend=alt.Legend(orient="top")),
        tooltip=["region:N", "year:O", alt.Tooltip("output_gap:Q", format=".3%")],
    ).properties(height=320)


def range_chart(ranges: pd.DataFrame, names: dict[str, dict[str, str]], lang: str) -> alt.Chart:
    """The least to the most new capacity of each cluster and region within the slack, the optimum a dot.

    Parameters
    ----------
    ranges : pandas.DataFrame
        ``alternatives.csv``'s table (:func:`planner.alternatives.find_alternatives`); only its
        ``new_mw`` rows are drawn.
    names : dict
        Site -> {"en": ..., "zh": ...}.
    lang : {"en", "zh"}
    """
    data = ranges[ranges["quantity"] == "new_mw"].copy()
    data["label"] = [t(f"alt_region_{name}", lang) if scope == "region" else names.get(name, {}).get(lang, name)
                     for scope, name in zip(data["scope"], data["name"], strict=True)]
    data["kind"] = [t("alt_kind_" + scope, lang) for scope in data["scope"]]
    order = list(data["label"])
    y = alt.Y("label:N", sort=order, title=None)
    tooltip = [alt.Tooltip("label:N", title=t("alt_what", lang)),
               alt.Tooltip("min_mw:Q", title=t("alt_least", lang), format=",.0f"),
               alt.Tooltip("optimum_mw:Q", title=t("alt_optimum", lang), format=",.0f"),
               alt.Tooltip("max_mw:Q", title=t("alt_most", lang), format=",.0f")]
    bars = alt.Chart(data).mark_bar(height=12, opacity=0.55).encode(
        x=alt.X("min_mw:Q", title=t("alt_axis_mw", lang)), x2="max_mw:Q", y=y,
        color=alt.Color("kind:N", title=None), tooltip=tooltip)
    dots = alt.Chart(data).mark_point(filled=True, size=70, color="black").encode(
        x="optimum_mw:Q", y=y, tooltip=tooltip)
    return (bars + dots).properties(height=22 * len(data) + 40)


#: Label of each input the app screens (the keys of data/studies/screening.yaml).
SCREENING_LABELS = {"west_price_factor": "screen_west_price", "demand.scale": "screen_demand",
                    "costs.capex_usd_per_mw": "screen_capex", "carbon.price_cny_per_tco2": "screen_carbon_price"}


def screening_chart(indices: pd.DataFrame, figure: str, lang: str) -> alt.Chart:
    """Morris μ* (bar) and σ (tick) of one figure for each screened input, the largest effect first.

    Parameters
    ----------
    indices : pandas.DataFrame
        :func:`planner.studies.sensitivity.sensitivity_indices` with the Morris columns.
    figure : str
        A summary figure, e.g. ``total_cost_cny``.
    lang : {"en", "zh"}
    """
    from planner.studies.plots import FIGURES

    data = indices[indices["figure"] == figure].copy()
    scale = money_scale(lang) if figure.endswith("_cny") else FIGURES.get(figure, 1.0)
    data["mu"] = data["mu_star"] / scale
    data["sd"] = data["sigma"] / scale
    data["label"] = [t(SCREENING_LABELS[key], lang) if key in SCREENING_LABELS else key for key in data["key"]]
    order = list(data.sort_values("mu", ascending=False)["label"])
    unit = t(f"unit_of_{figure}", lang)
    y = alt.Y("label:N", sort=order, title=None)
    tooltip = [alt.Tooltip("label:N", title=t("screen_input", lang)),
               alt.Tooltip("mu:Q", title=t("screen_mu", lang), format=",.3g"),
               alt.Tooltip("sd:Q", title=t("screen_sigma", lang), format=",.3g")]
    bars = alt.Chart(data).mark_bar(height=18, color="#e67e22", opacity=0.85).encode(
        x=alt.X("mu:Q", title=f"{t('screen_mu', lang)} [{unit}]"), y=y, tooltip=tooltip)
    ticks = alt.Chart(data).mark_tick(color="#2471a3", thickness=3, size=22).encode(x="sd:Q", y=y, tooltip=tooltip)
    return (bars + ticks).properties(height=40 * len(data) + 40)
