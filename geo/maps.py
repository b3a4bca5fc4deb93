"""Static maps of a plan: provinces coloured by a metric, clusters, flows, South China Sea inset.

The provinces are drawn from outlines already projected (:data:`CHINA_ALBERS`), simplified and
turned into matplotlib paths once (:mod:`geo.map_geometry`, kept in the tool's cache folder); a map
then only colours them, and draws flows and outlines as single collections.
"""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from edwc_data.labels import t, texts
from edwc_data.units import HOURS_PER_YEAR
from matplotlib import colors as mcolors
from matplotlib import patheffects
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from geo.boundaries import BOUNDARY_SOURCE, check_province_table
from geo.flows import GROUP_COLOURS, group_colour, map_flows
from geo.fonts import font_rc, resolve_lang
from geo.map_geometry import CHINA_ALBERS, map_geometry  # noqa: F401 - CHINA_ALBERS: the maps' projection
from geo.map_geometry import project as _project
from geo.map_style import FONT_PT, METRICS, MetricStyle, _colour_scale, _nice, metric_label

if TYPE_CHECKING:
    from optimizer.results import Results

#: Fill of the units outside the plan (Taiwan, Hong Kong, Macau) and of provinces without a value.
NO_DATA_COLOUR = "#d9d9d9"
#: Fill of provinces where two compared plans agree (difference below rounding noise).
NO_CHANGE_COLOUR = "#ffffff"
CLASS_COLOURS = {"west": "#00582c", "east": "#262626"}

#: Short map labels where a cluster's full name is too long to print.
SHORT_NAMES = {"yangtze_delta": ("Yangtze Delta", "长三角示范区")}

#: Extent of the main map and of the South China Sea inset. [m, CHINA_ALBERS]
_MAIN_EXTENT = (-2_700_000.0, 2_740_000.0, 1_800_000.0, 5_980_000.0)
_INSET_EXTENT = (60_000.0, 2_060_000.0, 170_000.0, 2_780_000.0)
_INSET_SCALE = 0.40  # inset drawn at this fraction of the main map's scale

# ---------------------------------------------------------------------------------------------
# Geometry in the map projection
# ---------------------------------------------------------------------------------------------


def _province_frame(results: Results, values: pd.Series) -> pd.DataFrame:
    """All 34 units in the order of :func:`map_geometry` with a ``value`` column (NaN outside the plan)."""
    units = map_geometry().units
    table = results.provinces[["province", "adcode", "name_zh", "name_en", "lat", "lon"]].copy()
    table["value"] = table["province"].map(values).to_numpy(float)
    check_province_table(table, set(units["adcode"]), where="results.provinces")  # raises on mismatch
    table["adcode"] = pd.to_numeric(table["adcode"]).astype("int64")
    return units.merge(table.drop(columns=["name_zh", "name_en"]), on="adcode", how="left")


# ---------------------------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------------------------


def _plain(text) -> str:
    """Text from the data, shown literally: a ``$`` would otherwise start matplotlib mathtext."""
    return str(text).replace("$", r"\$")


def _halo(width: float = 2.5):
    return [patheffects.withStroke(linewidth=width, foreground="white")]


def _draw_units(ax, frame: pd.DataFrame, cmap, norm, scale: float, linewidth: float):
    value = frame["value"].to_numpy(float) / scale
    fill = np.where(
        np.isfinite(value)[:, None],
        cmap(norm(np.nan_to_num(value))),
        mcolors.to_rgba(NO_DATA_COLOUR),
    )
    if "unchanged" in frame:
        fill[frame["unchanged"].to_numpy(bool)] = mcolors.to_rgba(NO_CHANGE_COLOUR)
    ax.add_collection(PathCollection(map_geometry().paths, facecolors=fill, edgecolors="#8c8c8c",
                                     linewidths=linewidth, zorder=1), autolim=False)


def _draw_outline(ax, linewidth: float):
    geometry = map_geometry()
    ax.add_collection(LineCollection(geometry.outline, colors="#4d4d4d", linewidths=linewidth, zorder=2),
                      autolim=False)
    ax.add_collection(LineCollection(geometry.dashes, colors="#4d4d4d", linewidths=linewidth * 1.6, zorder=2),
                      autolim=False)


def _add_inset(ax, frame, cmap, norm, scale, lang):
    x0, x1, y0, y1 = _INSET_EXTENT
    width, height = (x1 - x0) * _INSET_SCALE, (y1 - y0) * _INSET_SCALE
    mx1, my0 = _MAIN_EXTENT[1], _MAIN_EXTENT[2]
    pad = 30_000.0
    inset = ax.inset_axes([mx1 - width - pad, my0 + pad, width, height], transform=ax.transData)
    _draw_units(inset, frame, cmap, norm, scale, linewidth=0.25)
    _draw_outline(inset, linewidth=0.5)
    inset.set_xlim(x0, x1)
    inset.set_ylim(y0, y1)
    inset.set_aspect("equal")
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_xlabel("")
    inset.set_ylabel("")
    for spine in inset.spines.values():
        spine.set_linewidth(0.8)
        spine.set_color("#4d4d4d")
    inset.set_facecolor("white")
    inset.text(
        0.96,
        0.03,
        t("map_inset", lang),
        transform=inset.transAxes,
        ha="right",
        va="bottom",
        multialignment="right",
        fontsize=7,
        color="#333333",
        path_effects=_halo(),
    )
    return inset


def _setup_axes(ax, figsize):
    if ax is None:
        fig = plt.figure(figsize=figsize)
        ax = fig.add_axes([0.01, 0.04, 0.98, 0.865])
    ax.set_xlim(_MAIN_EXTENT[0], _MAIN_EXTENT[1])
    ax.set_ylim(_MAIN_EXTENT[2], _MAIN_EXTENT[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()
    return ax.figure, ax


def _add_colourbar(ax, cmap, norm, levels, style: MetricStyle, label: str, percent_points=False):
    cax = ax.inset_axes([0.025, 0.12, 0.26, 0.022])
    mappable = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    bar = ax.figure.colorbar(
        mappable, cax=cax, orientation="horizontal", ticks=levels, spacing="uniform"
    )
    factor = 100.0 if style.percent else 1.0
    spec = ("+" if percent_points else "") + (",.0f" if style.percent else ",.3g")

    def tick(value, _):
        value = 0.0 if abs(value) < 1e-12 else value * factor
        return format(value, spec if value else ",.0f").replace("-", "\u2212")

    bar.formatter = FuncFormatter(tick)
    bar.update_ticks()
    bar.ax.tick_params(labelsize=FONT_PT["colourbar_ticks"], length=2, width=0.5)
    bar.outline.set_linewidth(0.5)
    # Wrapped so a long label stays clear of Yunnan, east of the bar.
    bar.ax.set_title(textwrap.fill(label, 40), fontsize=FONT_PT["colourbar_title"], loc="left", pad=4)
    return bar


def _no_data_key(ax, lang, no_change: bool = False):
    keys = [(NO_DATA_COLOUR, t("map_no_data", lang))]
    if no_change:
        keys.insert(0, (NO_CHANGE_COLOUR, t("map_no_change", lang)))
    for i, (colour, label) in enumerate(keys):
        key = ax.inset_axes([0.025, 0.05 - 0.035 * i, 0.016, 0.022])
        key.set_facecolor(colour)
        key.set_xticks([])
        key.set_yticks([])
        for spine in key.spines.values():
            spine.set_linewidth(0.4)
            spine.set_color("#999999")
        key.text(1.5, 0.5, label, transform=key.transAxes, va="center", fontsize=FONT_PT["legend"])


def _site_label(row, lang) -> str:
    short = SHORT_NAMES.get(row["site"])
    if short:
        return short[0 if lang == "en" else 1]
    name = _plain(row["name_en"] if lang == "en" else row["name_zh"])
    for suffix in (" cluster", " Cluster", "集群", "枢纽节点"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name


def _label_sides(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Label to the left where another cluster sits close to the east at about the same height."""
    dx = x[None, :] - x[:, None]
    dy = np.abs(y[None, :] - y[:, None])
    crowded = (dx > 0) & (dx < 650_000) & (dy < 220_000)
    return np.where(crowded.any(axis=1), "left", "right")


def _bezier(x0, y0, x1, y1, bend: float, n: int = 24):
    """A quadratic Bezier from (x0, y0) to (x1, y1) bowing ``bend`` x length to the left."""
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    cx, cy = mx - (y1 - y0) * bend, my + (x1 - x0) * bend
    t = np.linspace(0, 1, n)[:, None]
    points = (1 - t) ** 2 * [x0, y0] + 2 * (1 - t) * t * [cx, cy] + t**2 * [x1, y1]
    return points[:, 0], points[:, 1]


_GROUP_BENDS = {"interactive": 0.10, "ai": 0.17, "batch": 0.24}
_MAX_FLOW_WIDTH = 6.0  # [pt]
_MAX_MARKER_DIAMETER = 30.0  # [pt]


def _draw_flows(ax, results: Results, min_share: float):
    flows = map_flows(results, min_share=min_share)
    if flows.empty:
        return flows, 0.0
    origin = results.provinces.set_index("province")[["lon", "lat"]].astype(float)
    target = results.sites.set_index("site")[["lon", "lat"]].astype(float)
    ox, oy = _project(origin.loc[flows["province"], "lon"], origin.loc[flows["province"], "lat"])
    tx, ty = _project(target.loc[flows["site"], "lon"], target.loc[flows["site"], "lat"])
    top = float(flows["mean_load_mw"].max())
    starts = ~pd.Series(flows["province"]).duplicated().to_numpy()
    ax.scatter(ox[starts], oy[starts], s=7, color="#262626", linewidths=0, zorder=4)
    # Two collections for all flows, white halos under coloured lines: a line artist each (with its
    # own halo effect) costs more to set up than to draw.
    widths = 0.5 + (_MAX_FLOW_WIDTH - 0.5) * flows["mean_load_mw"].to_numpy(float) / top
    groups = flows["group"].tolist()
    curves = [np.column_stack(_bezier(ox[k], oy[k], tx[k], ty[k], _GROUP_BENDS.get(group, 0.3)))
              for k, group in enumerate(groups)]
    ax.add_collection(LineCollection(curves, colors="white", linewidths=widths + 0.9, alpha=0.7,
                                     capstyle="round", zorder=3), autolim=False)
    ax.add_collection(LineCollection(curves, colors=[group_colour(g) for g in groups], linewidths=widths,
                                     alpha=0.9, capstyle="round", zorder=3), autolim=False)
    return flows, top


#: Widest backbone link on the plan map (the busiest), and the colour of links with new capacity. [pt]
_MAX_LINK_WIDTH = 3.0
NEW_LINK_COLOUR = "#d7301f"
LINK_COLOUR = "#737373"


def _draw_links(ax, results: Results, lang) -> None:
    """Backbone links under the flows: width by busy-hour flow, links with new capacity in colour, and a key."""
    from edwc_data.tables import load_tables

    links = getattr(results, "links", None)
    if links is None or links.empty:
        return
    used = links[(links["peak_flow_gbps"] > 1e-6) | (links["new_gbps"] > 1e-6)]
    if used.empty:
        return
    nodes = load_tables()["network_nodes"].set_index("node")
    known = used["from"].isin(nodes.index) & used["to"].isin(nodes.index)
    used = used[known.to_numpy()]
    fx, fy = _project(nodes.loc[used["from"], "lon"], nodes.loc[used["from"], "lat"])
    tx, ty = _project(nodes.loc[used["to"], "lon"], nodes.loc[used["to"], "lat"])
    top = float(used["peak_flow_gbps"].max()) or 1.0
    widths = 0.3 + (_MAX_LINK_WIDTH - 0.3) * used["peak_flow_gbps"].to_numpy(float) / top
    new = used["new_gbps"].to_numpy(float) > 1e-6
    colours = np.where(new, NEW_LINK_COLOUR, LINK_COLOUR)
    segments = [[(x0, y0), (x1, y1)] for x0, y0, x1, y1 in zip(fx, fy, tx, ty, strict=True)]
    ax.add_collection(LineCollection(segments, colors=list(colours), linewidths=widths, alpha=0.75, zorder=2.5,
                                     capstyle="round"), autolim=False)
    text = texts("map", lang)
    handles = [Line2D([], [], color=LINK_COLOUR, linewidth=_MAX_LINK_WIDTH),
               Line2D([], [], color=NEW_LINK_COLOUR, linewidth=1.5)]
    labels = [text["link_flow"].format(value=top), text["link_new"]]
    legend = ax.legend(handles, labels, title=text["links"], loc="upper right", bbox_to_anchor=(0.995, 0.995),
                       fontsize=FONT_PT["legend"], title_fontsize=FONT_PT["legend_title"], frameon=False,
                       alignment="left")
    ax.add_artist(legend)


def _draw_clusters(ax, results: Results, lang, show_local: bool):
    sites = results.sites
    clusters = sites[sites["kind"] == "cluster"].reset_index(drop=True)
    if show_local:
        local = sites[sites["kind"] == "local"]
        lx, ly = _project(local["lon"], local["lat"])
        ax.scatter(lx, ly, s=6, color="#7f7f7f", linewidths=0, zorder=4)
    if clusters.empty:
        return 0.0
    x, y = _project(clusters["lon"], clusters["lat"])
    capacity = clusters["capacity_mw"].to_numpy(float)
    existing = np.minimum(clusters["existing_mw"].to_numpy(float), capacity)
    top = float(capacity.max()) if capacity.max() > 0 else 1.0
    size = _MAX_MARKER_DIAMETER**2 / top  # marker area per MW [pt^2/MW]
    colour = [CLASS_COLOURS.get(c, CLASS_COLOURS["east"]) for c in clusters["hub_class"]]
    light = [mcolors.to_rgba(c, 0.28) for c in colour]
    ax.scatter(
        x,
        y,
        s=np.maximum(capacity * size, 9),
        facecolor=light,
        edgecolor=colour,
        linewidths=1.1,
        zorder=5,
    )
    ax.scatter(
        x,
        y,
        s=np.maximum(existing * size, 4),
        facecolor=colour,
        edgecolor="white",
        linewidths=0.4,
        zorder=6,
    )
    sides = _label_sides(x, y)
    for i, row in clusters.iterrows():
        radius = math.sqrt(max(capacity[i] * size, 9)) / 2
        offset = radius + 3 if sides[i] == "right" else -(radius + 3)
        ax.annotate(
            _site_label(row, lang),
            (x[i], y[i]),
            xytext=(offset, 0),
            textcoords="offset points",
            ha="left" if sides[i] == "right" else "right",
            va="center",
            fontsize=FONT_PT["site_label"],
            fontweight="bold",
            color="#1a1a1a",
            zorder=7,
            path_effects=_halo(2.8),
        )
    return top


def _legends(ax, lang, flow_top: float, groups: list[str], capacity_top: float):
    text = texts("map", lang)
    # Flows: one colour per group, then two widths.
    handles = [Line2D([], [], color=group_colour(g), linewidth=3) for g in groups]
    labels = [texts("group", lang).get(g, g) for g in groups]
    if flow_top > 0:
        for value in sorted({_nice(flow_top), _nice(flow_top / 4)}, reverse=True):
            width = 0.5 + (_MAX_FLOW_WIDTH - 0.5) * value / flow_top
            handles.append(Line2D([], [], color="#7f7f7f", linewidth=width))
            labels.append(f"{value:,.0f} MW")
    flow_legend = None
    if handles:
        flow_legend = ax.legend(
            handles,
            labels,
            title=text["flows"],
            loc="upper left",
            bbox_to_anchor=(0.005, 0.995),
            fontsize=FONT_PT["legend"],
            title_fontsize=FONT_PT["legend_title"],
            frameon=False,
            ncols=2,
            columnspacing=1.2,
            handlelength=2.2,
            alignment="left",
        )
        ax.add_artist(flow_legend)
    if capacity_top <= 0:
        return
    size = _MAX_MARKER_DIAMETER**2 / capacity_top
    handles, labels = [], []
    for value in sorted({_nice(capacity_top), _nice(capacity_top / 5)}, reverse=True):
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker="o",
                markersize=math.sqrt(value * size),
                markerfacecolor="white",
                markeredgecolor="#4d4d4d",
                markeredgewidth=1,
            )
        )
        labels.append(f"{value:,.0f} MW")
    for cls in ("west", "east"):
        c = CLASS_COLOURS[cls]
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker="o",
                markersize=9,
                markerfacecolor=mcolors.to_rgba(c, 0.28),
                markeredgecolor=c,
            )
        )
        labels.append(text[cls])
    handles += [
        Line2D(
            [],
            [],
            linestyle="",
            marker="o",
            markersize=9,
            markerfacecolor="#4d4d4d",
            markeredgecolor="#4d4d4d",
        ),
        Line2D(
            [],
            [],
            linestyle="",
            marker="o",
            markersize=9,
            markerfacecolor=mcolors.to_rgba("#4d4d4d", 0.28),
            markeredgecolor="#4d4d4d",
        ),
    ]
    labels += [text["existing"], text["new"]]
    legend = ax.legend(
        handles,
        labels,
        title=text["clusters"],
        loc="upper left",
        bbox_to_anchor=(0.005, 0.845),
        fontsize=FONT_PT["legend"],
        title_fontsize=FONT_PT["legend_title"],
        frameon=False,
        ncols=2,
        columnspacing=1.5,
        labelspacing=1.1,
        handlelength=_MAX_MARKER_DIAMETER / FONT_PT["legend"],  # the largest circle fits
        handletextpad=0.6,
        borderpad=0.2,
        alignment="left",
    )
    if flow_legend is not None:
        ax.add_artist(legend)


def _scenario_name(results: Results, fallback: str) -> str:
    name = (results.scenario or {}).get("name")
    return _plain(name) if name else fallback


def _totals(results: Results) -> tuple[float, float, float, float]:
    """Mean IT demand [GW], share served in western hubs [-], cluster capacity and new [GW]."""
    flows, sites = results.flows, results.sites
    energy = flows["load_mw"].to_numpy(float) * flows["hours"].to_numpy(float)
    total = energy.sum()
    west_sites = set(sites.loc[sites["hub_class"] == "west", "site"])
    west = energy[flows["site"].isin(west_sites).to_numpy()].sum() / total if total > 0 else 0.0
    clusters = sites[sites["kind"] == "cluster"]
    demand_gw = total / HOURS_PER_YEAR / 1000.0
    capacity_gw = clusters["capacity_mw"].sum() / 1000.0
    new_gw = clusters["new_mw"].sum() / 1000.0
    return demand_gw, west, capacity_gw, new_gw


def _headline(results: Results, lang: str) -> str:
    """One line of plan totals under the title, computed from the results tables."""
    demand_gw, west, capacity_gw, new_gw = _totals(results)
    if lang == "zh":
        return (
            f"平均IT负荷 {demand_gw:,.1f} GW · 西部枢纽承接 {west:.0%} · "
            f"枢纽集群容量 {capacity_gw:,.1f} GW（新增 {new_gw:,.1f} GW）"
        )
    return (
        f"Mean IT demand {demand_gw:,.1f} GW · served in western hubs {west:.0%} · "
        f"hub cluster capacity {capacity_gw:,.1f} GW ({new_gw:,.1f} GW new)"
    )


def _headline_change(results_a: Results, results_b: Results, lang: str) -> str:
    """Plan totals of A and B side by side, for the difference map."""
    _, west_a, capacity_a, _ = _totals(results_a)
    _, west_b, capacity_b, _ = _totals(results_b)
    if lang == "zh":
        return (
            f"西部枢纽承接 {west_a:.0%} → {west_b:.0%} · "
            f"枢纽集群容量 {capacity_a:,.1f} → {capacity_b:,.1f} GW"
        )
    return (
        f"Served in western hubs {west_a:.0%} → {west_b:.0%} · "
        f"hub cluster capacity {capacity_a:,.1f} → {capacity_b:,.1f} GW"
    )


def _add_titles(fig, ax, own_figure: bool, title: str, source: str, subtitle: str = ""):
    if own_figure:
        ax.apply_aspect()
        left = ax.get_position().x0
        fig.text(left, 0.975, title, ha="left", va="top", fontsize=14, fontweight="bold")
        if subtitle:
            fig.text(left, 0.935, subtitle, ha="left", va="top", fontsize=9.5, color="#404040")
        fig.text(left, 0.018, source, ha="left", va="bottom", fontsize=7, color="#555555")
    else:
        ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
        ax.text(
            0.0,
            -0.01,
            subtitle + "\n" + source if subtitle else source,
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=6.5,
            color="#555555",
        )


def _check_metric(metric: str, results: Results, where: str) -> MetricStyle:
    if metric not in METRICS:
        msg = f"{where} | unknown metric {metric!r}. Choose one of {', '.join(METRICS)}."
        raise ValueError(msg)
    if metric not in results.provinces.columns:
        msg = f"results.provinces | has no column {metric!r}. Pass Results from the optimiser."
        raise ValueError(msg)
    return METRICS[metric]


def plot_plan_map(
    results: Results,
    metric: str = "west_share",
    lang: str = "en",
    ax=None,
    title: str | None = None,
    *,
    figsize: tuple[float, float] = (12.0, 9.0),
    min_flow_share: float = 0.03,
    show_local: bool = False,
    province_labels: bool = False,
):
    """Map of one plan: provinces coloured by a metric, hub clusters and the flows to them.

    Clusters are circles with area proportional to capacity: a solid inner circle for
    existing capacity inside a light ring for new capacity, green for western hubs. Lines run
    from each province's representative point to the clusters outside the province that
    serve it, one per workload group, width proportional to annual mean load. A South China
    Sea inset sits in the lower right.

    Parameters
    ----------
    results : optimizer.results.Results
        A solved plan.
    metric : str
        Column of ``results.provinces`` to colour by, one of ``METRICS``.
    lang : {"en", "zh"}
        Label language; Chinese falls back to English (with a warning) without a CJK font.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes; a new figure of ``figsize`` otherwise.
    title : str, optional
        Replaces the default title (metric and scenario name).
    figsize : tuple of float
        Size of a new figure. [in]
    min_flow_share : float
        Flows below this fraction of the largest drawn flow are not drawn. [-]
    show_local : bool
        Also mark local (in-province) sites with small grey dots.
    province_labels : bool
        Print province names.

    Returns
    -------
    matplotlib.figure.Figure
    """
    style = _check_metric(metric, results, "plot_plan_map")
    lang = resolve_lang(lang)
    text = texts("map", lang)
    with mpl.rc_context(font_rc(lang)):
        own_figure = ax is None
        fig, ax = _setup_axes(ax, figsize)
        values = results.provinces.set_index("province")[metric].astype(float)
        frame = _province_frame(results, values)
        cmap, norm, levels = _colour_scale(frame["value"].to_numpy(float), style, False)
        _draw_units(ax, frame, cmap, norm, style.scale, linewidth=0.35)
        _draw_outline(ax, linewidth=0.7)
        if province_labels:
            _draw_province_labels(ax, frame, lang)
        _draw_links(ax, results, lang)
        flows, flow_top = _draw_flows(ax, results, min_flow_share)
        capacity_top = _draw_clusters(ax, results, lang, show_local)
        _add_inset(ax, frame, cmap, norm, style.scale, lang)
        label = metric_label(metric, lang)
        _add_colourbar(ax, cmap, norm, levels, style, label)
        _no_data_key(ax, lang)
        present = list(dict.fromkeys(flows["group"])) if len(flows) else []
        groups = [g for g in GROUP_COLOURS if g in present] + [
            g for g in present if g not in GROUP_COLOURS
        ]
        _legends(ax, lang, flow_top, groups, capacity_top)
        name = _scenario_name(results, "plan")
        if title is None:
            title = text["title"].format(metric=label.split(" [")[0], scenario=name)
        source = text["source"].format(
            boundaries=BOUNDARY_SOURCE, scenario=text["scenario"].format(name=name)
        )
        _add_titles(fig, ax, own_figure, title, source, _headline(results, lang))
    return fig


def _draw_province_labels(ax, frame, lang):
    plan = frame[frame["in_plan"]]
    for _, row in plan.iterrows():
        name = row["name_en"] if lang == "en" else row["name_zh"]
        ax.text(
            row["point_x"],
            row["point_y"],
            _plain(name),
            fontsize=6,
            color="#404040",
            ha="center",
            va="center",
            zorder=2.5,
            path_effects=_halo(1.5),
        )


def plot_difference_map(
    results_a: Results,
    results_b: Results,
    metric: str = "west_share",
    lang: str = "en",
    ax=None,
    title: str | None = None,
    *,
    figsize: tuple[float, float] = (12.0, 9.0),
    west_threshold: float = 0.005,
):
    """Map of the change in a province metric from plan A to plan B.

    Provinces are coloured by B minus A on a diverging scale centred at zero; a westward
    triangle marks provinces whose share served in western hubs rose by more than
    ``west_threshold`` (an eastward one, where it fell).

    Parameters
    ----------
    results_a, results_b : optimizer.results.Results
        The reference plan and the plan compared with it.
    metric : str
        Column of ``results.provinces``, one of ``METRICS``.
    lang : {"en", "zh"}
        Label language.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes; a new figure of ``figsize`` otherwise.
    title : str, optional
        Replaces the default title.
    figsize : tuple of float
        Size of a new figure. [in]
    west_threshold : float
        Smallest change of ``west_share`` marked as a move. [-]

    Returns
    -------
    matplotlib.figure.Figure
    """
    style = _check_metric(metric, results_a, "plot_difference_map")
    _check_metric(metric, results_b, "plot_difference_map")
    lang = resolve_lang(lang)
    text = texts("map", lang)
    with mpl.rc_context(font_rc(lang)):
        own_figure = ax is None
        fig, ax = _setup_axes(ax, figsize)
        a = results_a.provinces.set_index("province")
        b = results_b.provinces.set_index("province")
        delta = b[metric].astype(float) - a[metric].reindex(b.index).astype(float)
        frame = _province_frame(results_b, delta)
        # Equal plans differ only by floating-point noise: show those provinces as unchanged.
        noise = 1e-9 * max(1.0, float(np.nanmax(np.abs(b[metric].astype(float)), initial=0.0)))
        frame["unchanged"] = np.abs(frame["value"].to_numpy(float)) <= noise
        # Differences smaller than 5 points of a share, or 2 % of the metric's largest value,
        # stay pale.
        reference = np.abs(b[metric].astype(float).to_numpy()) / style.scale
        min_span = 0.05 if style.percent else 0.02 * float(np.nanmax(reference, initial=0.0))
        cmap, norm, levels = _colour_scale(
            frame["value"].to_numpy(float), style, True, min_span=min_span
        )
        _draw_units(ax, frame, cmap, norm, style.scale, linewidth=0.35)
        _draw_outline(ax, linewidth=0.7)

        west = b["west_share"].astype(float) - a["west_share"].reindex(b.index).astype(float)
        plan = frame[frame["in_plan"]].set_index("province")
        points = plan[["point_x", "point_y"]].rename(columns={"point_x": "x", "point_y": "y"})
        handles = []
        for sign, marker, key in ((1, "<", "moved_west"), (-1, ">", "moved_east")):
            moved = west.index[(sign * west) > west_threshold]
            if len(moved) == 0:
                continue
            pts = points.loc[[p for p in moved if p in points.index]]
            fill = "white" if sign > 0 else "#1a1a1a"
            ax.scatter(
                pts.x,
                pts.y,
                marker=marker,
                s=48,
                facecolor=fill,
                edgecolor="#1a1a1a",
                linewidths=0.9,
                zorder=6,
            )
            handles.append(
                (
                    Line2D(
                        [],
                        [],
                        linestyle="",
                        marker=marker,
                        markersize=7,
                        markerfacecolor=fill,
                        markeredgecolor="#1a1a1a",
                    ),
                    text[key],
                )
            )
        sites = results_b.sites[results_b.sites["kind"] == "cluster"]
        sx, sy = _project(sites["lon"], sites["lat"])
        ax.scatter(
            sx, sy, marker="o", s=22, color="#1a1a1a", edgecolor="white", linewidths=0.8, zorder=5
        )
        handles.append(
            (
                Line2D(
                    [],
                    [],
                    linestyle="",
                    marker="o",
                    markersize=5,
                    markerfacecolor="#1a1a1a",
                    markeredgecolor="white",
                ),
                text["clusters_plain"],
            )
        )
        ax.legend(
            [h for h, _ in handles],
            [t for _, t in handles],
            loc="upper left",
            bbox_to_anchor=(0.005, 0.995),
            fontsize=FONT_PT["legend"],
            frameon=False,
        )

        _add_inset(ax, frame, cmap, norm, style.scale, lang)
        label = metric_label(metric, lang)
        short = label.split(" [")[0]
        lower = short[0].lower() + short[1:] if short[1:2].islower() else short
        unit = text["pp"] if style.percent else "[" + label.split(" [")[-1]
        bar_label = text["diff_label"].format(metric=short, metric_lower=lower) + " " + unit
        _add_colourbar(ax, cmap, norm, levels, style, bar_label, percent_points=True)
        _no_data_key(ax, lang, no_change=bool(frame["unchanged"].any()))
        name_a = _scenario_name(results_a, "A")
        name_b = _scenario_name(results_b, "B")
        if title is None:
            title = text["diff_title"].format(metric=short, metric_lower=lower, a=name_a, b=name_b)
        source = text["source"].format(
            boundaries=BOUNDARY_SOURCE,
            scenario=text["scenario"].format(name=f"{name_a} → {name_b}"),
        )
        _add_titles(
            fig, ax, own_figure, title, source, _headline_change(results_a, results_b, lang)
        )
    return fig
