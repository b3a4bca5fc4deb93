"""Figures of a study: frontier, response, tornado and cluster-build charts (PNG and SVG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from edwc_data.labels import t  # noqa: E402
from edwc_data.tables import load_tables  # noqa: E402

from optimizer.status import PlanStatus
from planner.studies.table import NEW_MW_PREFIX, summarise_samples  # noqa: E402

#: Figures a study chart shows, and the divisor from each figure's own unit to the unit shown
#: (label ``figure_<key>`` and unit ``unit_of_<key>`` in the label table).
FIGURES: dict[str, float] = {
    "total_cost_cny": 1e9,
    "capex_cny": 1e9,
    "energy_cost_cny": 1e9,
    "carbon_cost_cny": 1e9,
    "emissions_tco2": 1e6,
    "west_share": 0.01,
    "hub_share": 0.01,
    "green_share": 0.01,
    "new_capacity_mw": 1e3,
    "new_capacity_west_mw": 1e3,
    "load_weighted_latency_ms": 1.0,
    "carbon_shadow_price_cny_per_tco2": 1.0,
    "compute_capex_cny": 1e9,
}
#: Figures the response and tornado charts show, when the table has them.
KEY_FIGURES = ("total_cost_cny", "emissions_tco2", "west_share", "new_capacity_west_mw")
EAST, WEST = "#2471a3", "#c0392b"
LOW, HIGH = "#5dade2", "#e67e22"
DPI = 150


def figure_name(figure: str, lang: str = "en") -> str:
    """Name of a summary figure, e.g. "Total annual cost" (the key itself where it has no label)."""
    return t(f"figure_{figure}", lang) if figure in FIGURES else figure


def figure_unit(figure: str, lang: str = "en") -> str:
    """Unit a summary figure is shown in, e.g. "bn CNY/yr" ('' where it has no label)."""
    return t(f"unit_of_{figure}", lang) if figure in FIGURES else ""


def _label(figure: str, lang: str = "en") -> str:
    unit = figure_unit(figure, lang)
    return f"{figure_name(figure, lang)} [{unit}]" if unit else figure_name(figure, lang)


def _scaled(values, figure: str) -> np.ndarray:
    return np.asarray(values, float) / FIGURES.get(figure, 1.0)


def _save(fig, stem: Path, suffixes: tuple[str, ...] = (".png", ".svg")) -> list[Path]:
    """Write a figure in several formats, laid out and measured once for all of them.

    ``savefig`` would run the figure's layout and its tight-box measurement (a full draw) again for
    every format; both are done once here, and every format is then one plain draw.
    """
    stem.parent.mkdir(parents=True, exist_ok=True)
    renderer = fig.canvas.get_renderer()
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
        fig.set_layout_engine(None)  # keep the positions just found: no layout at each save
    box = fig.get_tightbbox(renderer).padded(plt.rcParams["savefig.pad_inches"])
    paths = []
    for suffix in suffixes:
        path = stem.with_suffix(suffix)
        fig.savefig(path, dpi=DPI, bbox_inches=box)
        paths.append(path)
    plt.close(fig)
    return paths


def _clusters() -> pd.DataFrame:
    sites = load_tables()["sites"]
    names = sites["name_en"].str.replace(" cluster", "", regex=False)
    # The long official name of the Yangtze delta demonstration zone does not fit a legend.
    names = names.where(~names.str.startswith("Yangtze River Delta"), "Yangtze Delta")
    return pd.DataFrame({"site": sites.index, "name": names.to_numpy(), "hub_class": sites["hub_class"].to_numpy()})


def _cluster_colours(clusters: pd.DataFrame) -> dict[str, Any]:
    # Western hubs in warm tones, eastern in cool ones: the programme's split at a glance.
    west = clusters[clusters["hub_class"] == "west"]["site"].tolist()
    east = clusters[clusters["hub_class"] != "west"]["site"].tolist()
    colours = {site: plt.cm.OrRd(0.45 + 0.5 * i / max(len(west) - 1, 1)) for i, site in enumerate(west)}
    colours.update({site: plt.cm.Blues(0.3 + 0.6 * i / max(len(east) - 1, 1)) for i, site in enumerate(east)})
    return colours


def _draw_curve(ax, xs: np.ndarray, cost: np.ndarray, roles: np.ndarray, least_label: str) -> None:
    ax.plot(xs, cost, "-", color="#34495e", lw=1.6, zorder=2)
    ax.scatter(xs, cost, s=22, color="#34495e", zorder=3)
    for role, marker, size, colour, label in (
        ("unconstrained", "*", 190, "#1e8449", "least-cost plan (no cap)"),
        ("least", "D", 70, WEST, least_label),
    ):
        mask = roles == role
        if mask.any():
            ax.scatter(
                xs[mask], cost[mask], s=size, marker=marker, color=colour, ec="white", lw=1.0, zorder=4, label=label
            )


def _price_text(value: float) -> str:
    if not np.isfinite(value):
        return ""
    if abs(value) >= 1e5:
        return f"{value / 1e6:,.1f}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:,.0f}k"
    return f"{value:,.0f}"


# ---------------------------------------------------------------------------------------------
# Frontier
# ---------------------------------------------------------------------------------------------


def plot_frontier(frontier: pd.DataFrame, stem: Path | str, title: str | None = None) -> list[Path]:
    """Cost against emissions (or latency) along an ε-constraint frontier, with its marginal cost.

    Three panels: the frontier itself (points annotated with the shadow price of the cap, the
    unconstrained optimum and the least-emissions point marked); the shadow price of the cap
    (log scale: the marginal abatement cost curve); and new capacity per cluster along the
    frontier. Written as ``<stem>.png`` and ``<stem>.svg``.
    """
    stem = Path(stem)
    x = frontier.attrs.get("x") or (
        "emissions_tco2" if "carbon.cap_tco2" in frontier.columns else "load_weighted_latency_ms"
    )
    latency = x == "load_weighted_latency_ms"
    price = "latency_shadow_price_cny_per_ms" if latency else "carbon_shadow_price_cny_per_tco2"
    solved = frontier[frontier["status"] == PlanStatus.OPTIMAL].sort_values("point")
    fig = plt.figure(figsize=(13, 8.2), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[1.35, 1], height_ratios=[1.25, 1])
    ax_front = fig.add_subplot(grid[0, 0])
    ax_price = fig.add_subplot(grid[0, 1])
    ax_build = fig.add_subplot(grid[1, :])
    if solved.empty:
        ax_front.text(0.5, 0.5, "no solved point", ha="center", va="center", transform=ax_front.transAxes)
        return _save(fig, stem)

    xs = _scaled(solved[x], x)
    cost = _scaled(solved["total_cost_cny"], "total_cost_cny")
    prices = solved[price].to_numpy(float)
    x_unit = "ms" if latency else "MtCO2/yr"
    x_name = "Load-weighted one-way latency" if latency else "Emissions"
    price_unit = "bn CNY/yr per ms" if latency else "CNY/tCO2"
    shown_prices = prices / 1e9 if latency else prices

    roles = solved["role"].to_numpy()
    least_label = "least-latency plan" if latency else "least-emissions plan"
    pad_x = 0.08 * np.ptp(xs) + 1e-9
    pad_y = 0.06 * np.ptp(cost) + 1e-9
    # Above the curve: feasible plans that cost more; beyond the least point: no plan at all.
    ax_front.fill_between(xs, cost, cost.max() + pad_y, color="#eaf2f8", zorder=0)
    ax_front.axvspan(xs.min() - pad_x, xs.min(), color="#f2f3f4", hatch="//", ec="#d5d8dc", zorder=0)
    _draw_curve(ax_front, xs, cost, roles, least_label)
    ax_front.set_xlim(xs.max() + 0.05 * np.ptp(xs) + 1e-9, xs.min() - pad_x)  # tighter to the right
    ax_front.set_ylim(cost.min() - pad_y, cost.max() + pad_y)
    ax_front.text(0.99, 0.03, "no plan", transform=ax_front.transAxes, ha="right", fontsize=8, color="#7f8c8d")
    ax_front.text(0.03, 0.93, "dearer plans", transform=ax_front.transAxes, fontsize=8, color="#7f8c8d")
    # The last cut is often far dearer than the rest: then zoom on the rest in an inset, where
    # the shadow prices are written, so the body of the frontier stays readable.
    steep = len(xs) >= 4 and (cost[-1] - cost[-2]) > 2.0 * (cost[-2] - cost[0])
    labelled = ax_front
    if steep:
        labelled = ax_front.inset_axes([0.07, 0.28, 0.5, 0.55])
        _draw_curve(labelled, xs[:-1], cost[:-1], roles[:-1], least_label)
        labelled.set_xlim(xs[:-1].max() + 0.03 * np.ptp(xs[:-1]), xs[:-1].min() - 0.03 * np.ptp(xs[:-1]))
        labelled.tick_params(labelsize=7)
        labelled.grid(alpha=0.3)
        labelled.set_title("zoom: all but the least point", fontsize=7.5, color="#566573")
        ax_front.indicate_inset_zoom(labelled, edgecolor="#95a5a6")
        ax_front.annotate(
            _price_text(shown_prices[-1]),
            (xs[-1], cost[-1]),
            textcoords="offset points",
            xytext=(-8, -12),
            ha="right",
            fontsize=7.5,
            color="#566573",
        )
    count = len(xs) - 1 if steep else len(xs)
    step = max(1, count // 9)
    for i in range(0, count, step):
        if roles[i] == "unconstrained" or not np.isfinite(shown_prices[i]):
            continue
        labelled.annotate(
            _price_text(shown_prices[i]),
            (xs[i], cost[i]),
            textcoords="offset points",
            xytext=(-4, 6),
            ha="right",
            fontsize=7,
            color="#566573",
        )
    ax_front.set_xlabel(f"{x_name} [{x_unit}]")
    ax_front.set_ylabel("Total annual cost [bn CNY/yr]")
    ax_front.grid(alpha=0.3)
    handles, labels = ax_front.get_legend_handles_labels()
    ax_front.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(0.6, 0.99),
        fontsize=8,
        frameon=False,
        title=f"labels: shadow price of the cap\n[{price_unit}]",
        title_fontsize=7.5,
        alignment="left",
    )
    top, bottom = solved.iloc[0], solved.iloc[-1]
    span = (
        f"{_scaled([top[x]], x)[0]:,.1f} → {_scaled([bottom[x]], x)[0]:,.1f} {x_unit}: "
        f"+{(bottom['total_cost_cny'] - top['total_cost_cny']) / 1e9:,.1f} bn CNY/yr"
    )
    ax_front.set_title(f"Least-cost frontier ({span})", fontsize=10)

    # Marginal cost of tightening the cap, on a log scale: it spans orders of magnitude.
    positive = np.isfinite(shown_prices) & (shown_prices > 0)
    if positive.any():
        ax_price.step(xs[positive], shown_prices[positive], where="mid", color=WEST, lw=1.5)
        ax_price.scatter(xs[positive], shown_prices[positive], s=18, color=WEST, zorder=3)
        ax_price.set_yscale("log")
    ax_price.set_xlabel(f"{x_name} cap [{x_unit}]")
    ax_price.set_ylabel(f"Shadow price of the cap [{price_unit}]")
    ax_price.set_title("Marginal cost of the last unit cut", fontsize=10)
    ax_price.grid(alpha=0.3, which="both")
    ax_price.invert_xaxis()

    # Where the new capacity goes as the cap tightens (loosest on the left).
    clusters = _clusters()
    colours = _cluster_colours(clusters)
    clusters = clusters.sort_values(["hub_class", "site"], ascending=[False, True])
    bottom_gw = np.zeros(len(solved))
    positions = np.arange(len(solved))
    for _, cluster in clusters.iterrows():
        column = NEW_MW_PREFIX + cluster["site"]
        if column not in solved.columns:
            continue
        gw = solved[column].to_numpy(float) / 1e3
        if not np.any(gw > 1e-3):
            continue
        ax_build.bar(
            positions,
            gw,
            bottom=bottom_gw,
            color=colours[cluster["site"]],
            width=0.8,
            label=f"{cluster['name']} ({cluster['hub_class']})",
        )
        bottom_gw += gw
    ax_build.set_xticks(positions)
    ax_build.set_xticklabels(
        [f"{value:,.1f}" if not latency else f"{value:.2f}" for value in xs], rotation=45, ha="right", fontsize=8
    )
    ax_build.set_xlabel(f"{x_name} of the plan [{x_unit}] (tighter to the right)")
    ax_build.set_ylabel("New capacity [GW]")
    ax_build.set_title("New capacity by hub cluster along the frontier", fontsize=10)
    ax_build.legend(ncol=5, fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.32), frameon=False)
    ax_build.grid(alpha=0.3, axis="y")
    name = frontier.attrs.get("scenario")
    fig.suptitle(title or f"Cost against {x_name.lower()}{f' — {name}' if name else ''}", fontsize=12)
    return _save(fig, stem)


# ---------------------------------------------------------------------------------------------
# Sweeps
# ---------------------------------------------------------------------------------------------


def _numeric(table: pd.DataFrame, column: str) -> bool:
    return (
        column in table.columns
        and pd.api.types.is_numeric_dtype(table[column])
        and not pd.api.types.is_bool_dtype(table[column])
    )


def plot_response(
    table: pd.DataFrame,
    x_key: str,
    stem: Path | str,
    hue_key: str | None = None,
    figures: tuple[str, ...] = KEY_FIGURES,
) -> list[Path]:
    """Key figures against one varied parameter, one line per value of a second one."""
    stem = Path(stem)
    figures = [f for f in figures if f in table.columns]
    solved = table[table["status"] == PlanStatus.OPTIMAL]
    cols = 2
    rows = int(np.ceil(len(figures) / cols)) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(11, 3.6 * rows), layout="constrained", squeeze=False)
    hues = sorted(solved[hue_key].dropna().unique()) if hue_key else [None]
    cmap = plt.cm.viridis
    for ax, figure in zip(axes.flat, figures, strict=False):
        for i, hue in enumerate(hues):
            part = solved if hue is None else solved[solved[hue_key] == hue]
            part = part.groupby(x_key, as_index=False)[figure].mean().sort_values(x_key)
            colour = cmap(i / max(len(hues) - 1, 1)) if hue is not None else "#34495e"
            ax.plot(
                part[x_key],
                _scaled(part[figure], figure),
                # Distinct dashes and marker sizes keep coinciding lines visible.
                marker="o",
                linestyle=("-", "--", ":", "-.")[i % 4],
                ms=max(7 - 1.5 * i, 3),
                lw=2.2 - 0.4 * min(i, 3),
                color=colour,
                label=None
                if hue is None
                else f"{hue_key} = {hue:g}"
                if isinstance(hue, float | int)
                else f"{hue_key} = {hue}",
            )
        ax.set_title(_label(figure), fontsize=10)
        ax.set_xlabel(x_key)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(figures) :]:
        ax.set_visible(False)
    if hue_key:
        axes.flat[0].legend(fontsize=8, frameon=False)
    failed = int((table["status"] != PlanStatus.OPTIMAL).sum())
    note = f" ({failed} of {len(table)} runs without a plan are left out)" if failed else ""
    fig.suptitle(f"Response to {x_key}{note}", fontsize=11)
    return _save(fig, stem)


def tornado_effects(table: pd.DataFrame, varied: list[str], figure: str) -> pd.DataFrame:
    """How far each parameter moves ``figure`` between its low and its high values.

    On a grid (no ``sample`` column) the effect is read directly: the mean of the figure over the
    runs at the parameter's least value and over those at its greatest (a main effect; the grid
    is balanced). Samples vary every parameter at once, so there the figure is regressed on all
    numeric parameters together (least squares) and each is moved from its 5th to its 95th
    percentile with the others held at their means.

    Returns
    -------
    pandas.DataFrame
        ``parameter``, ``low_value``, ``high_value``, ``at_low``, ``at_high`` (the figure, in its
        own unit) and ``swing`` (|at_high - at_low|), largest swing first.
    """
    columns = ["parameter", "low_value", "high_value", "at_low", "at_high", "swing"]
    solved = table[table["status"] == PlanStatus.OPTIMAL]
    keys = [k for k in varied if _numeric(solved, k) and solved[k].nunique() > 1]
    if figure not in solved.columns or not keys or solved.empty:
        return pd.DataFrame(columns=columns)
    target = solved[figure].astype(float).to_numpy()
    rows = []
    if "sample" in solved.columns and len(solved) > len(keys) + 1:
        design = solved[keys].astype(float).to_numpy()
        centre = design.mean(axis=0)
        coefficients, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(design)), design - centre]), target, rcond=None)
        for position, key in enumerate(keys):
            low, high = np.percentile(design[:, position], [5, 95])
            slope = coefficients[position + 1]
            at_low = coefficients[0] + slope * (low - centre[position])
            at_high = coefficients[0] + slope * (high - centre[position])
            rows.append([key, low, high, at_low, at_high, abs(at_high - at_low)])
    else:
        for key in keys:
            values = solved[key].astype(float).to_numpy()
            low, high = values.min(), values.max()
            at_low, at_high = target[values == low].mean(), target[values == high].mean()
            rows.append([key, low, high, at_low, at_high, abs(at_high - at_low)])
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("swing", ascending=False).reset_index(drop=True)


def plot_tornado(
    table: pd.DataFrame, varied: list[str], stem: Path | str, figures: tuple[str, ...] = KEY_FIGURES
) -> list[Path]:
    """Tornado chart: how far each varied parameter moves each key figure, low against high value.

    Bars start at the mean over all solved runs and reach the figure at the parameter's low
    (blue) and high (orange) values (see :func:`tornado_effects`). Figures that no parameter
    moves are left out.
    """
    stem = Path(stem)
    solved = table[table["status"] == PlanStatus.OPTIMAL]
    # A figure no parameter moves would be an empty panel.
    moving = (
        [
            f
            for f in figures
            if f in solved.columns
            and np.ptp(solved[f].astype(float).to_numpy()) > 1e-9 * (1.0 + np.abs(solved[f].astype(float)).max())
        ]
        if len(solved)
        else []
    )
    figures = moving or [f for f in figures if f in table.columns][:1]
    fig, axes = plt.subplots(
        len(figures),
        1,
        figsize=(9, 1.2 + 0.55 * max(len(varied), 2) * len(figures)),
        layout="constrained",
        squeeze=False,
    )
    for ax, figure in zip(axes[:, 0], figures, strict=True):
        effects = tornado_effects(table, varied, figure)
        centre = _scaled([solved[figure].astype(float).mean()], figure)[0] if len(solved) else 0.0
        for row, effect in enumerate(effects.itertuples()):
            y = len(effects) - 1 - row
            for value, colour in ((effect.at_low, LOW), (effect.at_high, HIGH)):
                end = _scaled([value], figure)[0]
                ax.barh(y, end - centre, left=centre, color=colour, height=0.6)
            ax.text(
                1.0,
                y,
                f"{effect.low_value:.3g} → {effect.high_value:.3g}",
                va="center",
                ha="left",
                transform=ax.get_yaxis_transform(),
                fontsize=7.5,
                color="#566573",
            )
        ax.set_yticks(range(len(effects)))
        ax.set_yticklabels(list(effects["parameter"])[::-1], fontsize=8)
        ax.axvline(centre, color="#2c3e50", lw=0.8)
        ax.set_title(_label(figure), fontsize=10, loc="left")
        ax.grid(alpha=0.3, axis="x")
        if effects.empty:
            ax.text(0.5, 0.5, "no numeric parameter varies", transform=ax.transAxes, ha="center")
    handles = [plt.Rectangle((0, 0), 1, 1, color=LOW), plt.Rectangle((0, 0), 1, 1, color=HIGH)]
    fig.legend(
        handles,
        ["parameter low", "parameter high"],
        loc="outside lower center",
        ncol=2,
        fontsize=8,
        frameon=False,
    )
    how = (
        "linear effect of moving each parameter from its 5th to its 95th percentile (regression over the samples)"
        if "sample" in table.columns
        else "mean of each figure at a parameter's least vs greatest value"
    )
    fig.suptitle(f"Sensitivity: {how}", fontsize=10)
    return _save(fig, stem)


def plot_sensitivity(indices: pd.DataFrame, stem: Path | str, figures: tuple[str, ...] = KEY_FIGURES) -> list[Path]:
    """Global sensitivity: Sobol' total (bar) and first-order (mark) indices, or Morris μ* with σ, per key.

    One panel per figure (those of ``figures`` the indices hold), keys sorted by their effect.
    """
    stem = Path(stem)
    sobol = "ST" in indices.columns
    shown = [f for f in figures if f in set(indices["figure"])] or list(dict.fromkeys(indices["figure"]))[:4]
    keys = list(dict.fromkeys(indices["key"]))
    fig, axes = plt.subplots(len(shown), 1, figsize=(9, 1.2 + 0.5 * max(len(keys), 2) * len(shown)),
                             layout="constrained", squeeze=False)
    for ax, figure in zip(axes[:, 0], shown, strict=True):
        rows = indices[indices["figure"] == figure].sort_values("ST" if sobol else "mu_star")
        y = np.arange(len(rows))
        if sobol:
            ax.barh(y, rows["ST"], xerr=rows["ST_conf"], color=HIGH, height=0.6, label="total order ST")
            ax.plot(rows["S1"], y, "D", color=EAST, label="first order S1")
            ax.set_xlim(0, max(1.0, float((rows["ST"] + rows["ST_conf"]).max())))
            ax.set_title(figure_name(figure), fontsize=10, loc="left")
        else:
            scale = FIGURES.get(figure, 1.0)
            ax.barh(y, rows["mu_star"] / scale, xerr=rows["mu_star_conf"] / scale, color=HIGH, height=0.6,
                    label="μ* (mean |elementary effect|)")
            ax.plot(rows["sigma"] / scale, y, "D", color=EAST, label="σ (interactions, non-linearity)")
            ax.set_xlim(left=0)
            ax.set_title(_label(figure), fontsize=10, loc="left")
        ax.set_yticks(y)
        ax.set_yticklabels(list(rows["key"]), fontsize=8)
        ax.grid(alpha=0.3, axis="x")
    axes[0, 0].legend(fontsize=8, frameon=False, loc="lower right")
    fig.suptitle("Global sensitivity: Sobol' indices" if sobol else "Global sensitivity: Morris screening",
                 fontsize=10)
    return _save(fig, stem)


def plot_build_shares(table: pd.DataFrame, stem: Path | str) -> list[Path]:
    """Share of runs that build each cluster, and the 5–95 % range of its new capacity."""
    stem = Path(stem)
    summary = summarise_samples(table)
    clusters = _clusters().set_index("site")
    rows = summary[summary["figure"].str.startswith(NEW_MW_PREFIX)].copy()
    rows["site"] = rows["figure"].str.removeprefix(NEW_MW_PREFIX)
    rows = rows[rows["site"].isin(clusters.index)]
    rows["name"] = clusters.loc[rows["site"], "name"].to_numpy()
    rows["hub_class"] = clusters.loc[rows["site"], "hub_class"].to_numpy()
    rows = rows.sort_values(["built_share", "p50"], ascending=True)
    colours = [WEST if c == "west" else EAST for c in rows["hub_class"]]
    fig, (ax_share, ax_range) = plt.subplots(
        1, 2, figsize=(11, 0.45 * len(rows) + 1.6), layout="constrained", sharey=True
    )
    y = np.arange(len(rows))
    ax_share.barh(y, rows["built_share"] * 100, color=colours)
    ax_share.set_yticks(y)
    ax_share.set_yticklabels(rows["name"], fontsize=8)
    ax_share.set_xlim(0, 100)
    ax_share.set_xlabel("Runs in which the cluster gets new capacity [%]")
    ax_share.grid(alpha=0.3, axis="x")
    ax_range.hlines(y, rows["p5"] / 1e3, rows["p95"] / 1e3, color=colours, lw=4, alpha=0.6)
    ax_range.scatter(rows["p50"] / 1e3, y, color="#2c3e50", zorder=3, s=18, label="median")
    ax_range.set_xlabel("New capacity, 5–95 % of runs [GW]")
    ax_range.grid(alpha=0.3, axis="x")
    ax_range.legend(fontsize=8, frameon=False, loc="lower right")
    solved = int((table["status"] == PlanStatus.OPTIMAL).sum())
    fig.suptitle(f"Which clusters are built ({solved} solved runs; red: western hubs, blue: eastern)", fontsize=11)
    return _save(fig, stem)
