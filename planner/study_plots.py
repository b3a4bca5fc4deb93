"""Figures and the markdown report of a study: frontier, response, tornado and cluster-build charts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from planner.dataset import load_tables  # noqa: E402
from planner.study import (  # noqa: E402
    FRONTIER_FILE,
    NEW_MW_PREFIX,
    TABLE_FILE,
    summarise_samples,
)

__all__ = ["plot_build_shares", "plot_frontier", "plot_response", "plot_tornado", "write_report", "write_study_meta"]

#: How each figure is shown: label, divisor from its own unit, display unit.
FIGURES: dict[str, tuple[str, float, str]] = {
    "total_cost_cny": ("Total annual cost", 1e9, "bn CNY/yr"),
    "capex_cny": ("Annualised capex", 1e9, "bn CNY/yr"),
    "energy_cost_cny": ("Electricity cost", 1e9, "bn CNY/yr"),
    "carbon_cost_cny": ("Carbon cost", 1e9, "bn CNY/yr"),
    "emissions_tco2": ("Emissions", 1e6, "MtCO2/yr"),
    "west_share": ("Served in the west", 0.01, "%"),
    "hub_share": ("Served in hub clusters", 0.01, "%"),
    "green_share": ("Green share of power", 0.01, "%"),
    "new_capacity_mw": ("New capacity", 1e3, "GW"),
    "new_capacity_west_mw": ("New capacity, west", 1e3, "GW"),
    "load_weighted_latency_ms": ("Load-weighted latency", 1.0, "ms"),
    "carbon_shadow_price_cny_per_tco2": ("Carbon shadow price", 1.0, "CNY/tCO2"),
    "compute_capex_cny": ("Compute capex", 1e9, "bn CNY"),
}
#: Figures the response and tornado charts show, when the table has them.
KEY_FIGURES = ("total_cost_cny", "emissions_tco2", "west_share", "new_capacity_west_mw")
EAST, WEST = "#2471a3", "#c0392b"
LOW, HIGH = "#5dade2", "#e67e22"
DPI = 150


def _label(figure: str) -> str:
    name, _, unit = FIGURES.get(figure, (figure, 1.0, ""))
    return f"{name} [{unit}]" if unit else name


def _scaled(values, figure: str) -> np.ndarray:
    return np.asarray(values, float) / FIGURES.get(figure, ("", 1.0, ""))[1]


def _save(fig, stem: Path) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix in (".png", ".svg"):
        path = stem.with_suffix(suffix)
        fig.savefig(path, dpi=DPI, bbox_inches="tight")
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
    solved = frontier[frontier["status"] == "optimal"].sort_values("point")
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
    solved = table[table["status"] == "optimal"]
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
    failed = int((table["status"] != "optimal").sum())
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
    solved = table[table["status"] == "optimal"]
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
    solved = table[table["status"] == "optimal"]
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
    solved = int((table["status"] == "optimal").sum())
    fig.suptitle(f"Which clusters are built ({solved} solved runs; red: western hubs, blue: eastern)", fontsize=11)
    return _save(fig, stem)


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

META_FILE = "study.json"


def write_study_meta(out_dir: Path | str, **meta: Any) -> Path:
    """Merge ``meta`` (name, description, base, varied keys, ...) into ``study.json`` of the study folder."""
    path = Path(out_dir) / META_FILE
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    current.update(meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def _fmt(value: Any, figure: str) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if figure in FIGURES:
        scaled = _scaled([value], figure)[0]
        return f"{scaled:,.2f}" if abs(scaled) < 100 else f"{scaled:,.1f}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _unit(figure: str) -> str:
    return FIGURES[figure][2] if figure in FIGURES else ""


def write_report(out_dir: Path | str) -> Path:
    """Write ``report.md`` from what the study folder holds (study table, frontier, plots, study.json)."""
    out_dir = Path(out_dir)
    meta = json.loads((out_dir / META_FILE).read_text(encoding="utf-8")) if (out_dir / META_FILE).exists() else {}
    lines = [f"# Study: {meta.get('name', out_dir.name)}", ""]
    if meta.get("description"):
        lines += [str(meta["description"]).strip(), ""]
    if meta.get("base"):
        overrides = meta.get("set") or {}
        tail = f", with {', '.join(f'`{k}={v}`' for k, v in overrides.items())}" if overrides else ""
        lines += [f"Base scenario: `{meta['base']}`{tail}.", ""]

    table_path = out_dir / TABLE_FILE
    if table_path.exists():
        lines += _sweep_section(pd.read_parquet(table_path), meta, out_dir)
    frontier_path = out_dir / FRONTIER_FILE
    if frontier_path.exists():
        lines += _frontier_section(pd.read_parquet(frontier_path), meta, out_dir)
    path = out_dir / "report.md"
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path


def _sweep_section(table: pd.DataFrame, meta: dict, out_dir: Path) -> list[str]:
    varied = [key for key in meta.get("varied", []) if key in table.columns]
    counts = table["status"].value_counts()
    lines = ["## Runs", ""]
    if meta.get("grid"):
        lines.append("Grid (full factorial):")
        lines += [f"- `{key}`: {', '.join(str(v) for v in values)}" for key, values in meta["grid"].items()]
    if meta.get("distributions"):
        lines.append(f"Monte Carlo: {meta.get('samples')} samples, seed {meta.get('seed', 0)}:")
        for key, spec in meta["distributions"].items():
            shown = ", ".join(f"{k} {v}" for k, v in spec.items() if k != "dist" and v is not None)
            lines.append(f"- `{key}`: {spec.get('dist')} ({shown})")
    for name, keys in (meta.get("factors") or {}).items():
        lines.append(f"- factor `{name}` multiplies the base values of {', '.join(f'`{k}`' for k in keys)}")
    statuses = ", ".join(f"{counts[s]} {s}" for s in counts.index)
    total_s = float(table["wall_s"].fillna(0).sum())
    lines += [
        "",
        f"{len(table)} runs: {statuses}. Solver wall time {total_s:,.1f} s in all "
        f"({total_s / max(len(table), 1):.2f} s per run; runs sharing one LP are warm-started).",
        "",
    ]

    figures = [f for f in meta.get("outputs") or FIGURES if f in table.columns and f in FIGURES]
    if "sample" in table.columns:
        summary = summarise_samples(table, figures)
        stats = summary[~summary["figure"].str.startswith(NEW_MW_PREFIX) & summary["p50"].notna()]
        lines += ["### Percentiles over the solved samples", ""]
        lines += _md_table(
            ["figure", "unit", "p5", "p50", "p95"],
            [
                [
                    FIGURES[r.figure][0],
                    _unit(r.figure),
                    _fmt(r.p5, r.figure),
                    _fmt(r.p50, r.figure),
                    _fmt(r.p95, r.figure),
                ]
                for r in stats.itertuples()
            ],
        )
        clusters = _clusters().set_index("site")
        built = summary[summary["figure"].str.startswith(NEW_MW_PREFIX)].copy()
        built["site"] = built["figure"].str.removeprefix(NEW_MW_PREFIX)
        built = built[built["site"].isin(clusters.index)].sort_values("built_share", ascending=False)
        lines += ["", "### Clusters built", ""]
        lines += _md_table(
            ["cluster", "hub", "built in [% of runs]", "new GW p5", "p50", "p95"],
            [
                [
                    clusters.loc[r.site, "name"],
                    clusters.loc[r.site, "hub_class"],
                    f"{r.built_share:.0%}",
                    f"{r.p5 / 1e3:.2f}",
                    f"{r.p50 / 1e3:.2f}",
                    f"{r.p95 / 1e3:.2f}",
                ]
                for r in built.itertuples()
            ],
        )
    elif len(table) <= 60:
        shown = [
            f
            for f in (
                "total_cost_cny",
                "emissions_tco2",
                "west_share",
                "new_capacity_west_mw",
                "carbon_shadow_price_cny_per_tco2",
            )
            if f in figures and table[f].notna().any()
        ]
        lines += ["### Results", ""]
        lines += _md_table(
            [*varied, *(f"{FIGURES[f][0]} [{_unit(f)}]" for f in shown), "status"],
            [
                [_fmt(r[k], k) for k in varied] + [_fmt(r[f], f) for f in shown] + [r["status"]]
                for r in table.to_dict("records")
            ],
        )
    failed = table[table["status"] != "optimal"]
    if len(failed):
        lines += ["", "### Runs without a plan", ""]
        for r in failed.head(10).to_dict("records"):
            values = ", ".join(f"{k}={r[k]:.4g}" if isinstance(r[k], float) else f"{k}={r[k]}" for k in varied)
            lines.append(f"- run {r['run']} ({values}): **{r['status']}**: {r['message']}")
        if len(failed) > 10:
            lines.append(f"- … and {len(failed) - 10} more (see `{TABLE_FILE}`).")
    charts = [
        (name, title)
        for name, title in (
            ("response", "Response of the key figures"),
            ("clusters", "Clusters built"),
            ("tornado", "Sensitivity (tornado)"),
        )
        if (out_dir / f"{name}.png").exists()
    ]
    if charts:
        lines += ["", "### Charts", ""]
        for name, title in charts:
            lines += [f"![{title}]({name}.png)", f"({name}.svg)", ""]
    lines += [f"Full table: `{TABLE_FILE}` (one row per run).", ""]
    return lines


def _frontier_section(frontier: pd.DataFrame, meta: dict, out_dir: Path) -> list[str]:
    latency = "latency_cap_ms" in frontier.columns
    x = "load_weighted_latency_ms" if latency else "emissions_tco2"
    price = "latency_shadow_price_cny_per_ms" if latency else "carbon_shadow_price_cny_per_tco2"
    solved = frontier[frontier["status"] == "optimal"]
    lines = ["## Frontier: cost against " + ("load-weighted latency" if latency else "emissions"), ""]
    method = (
        "a cap on load-weighted one-way latency (a row added to the LP; class limits stay)"
        if latency
        else "a cap on annual emissions (`carbon.cap_tco2`)"
    )
    lines += [
        f"ε-constraint method, {len(frontier)} points: the least-cost plan without a cap, the least "
        f"achievable value (cost-minimised just above it), and caps evenly spaced between them, each "
        f"solved for least cost under {method}. {len(solved)} of {len(frontier)} points solved.",
        "",
    ]
    if len(solved) >= 2:
        top, bottom = solved.iloc[0], solved.iloc[-1]
        lines += [
            f"From {_fmt(top[x], x)} to {_fmt(bottom[x], x)} {_unit(x)}, cost rises from "
            f"{_fmt(top['total_cost_cny'], 'total_cost_cny')} to {_fmt(bottom['total_cost_cny'], 'total_cost_cny')} "
            f"bn CNY/yr.",
            "",
        ]
    price_unit = "bn CNY/yr per ms" if latency else "CNY/tCO2"
    rows = []
    for r in frontier.to_dict("records"):
        shadow = r.get(price)
        shadow = shadow / 1e9 if latency and shadow is not None and np.isfinite(shadow) else shadow
        rows.append(
            [
                str(r["point"]),
                r["role"],
                _fmt(r[x], x),
                _fmt(r["total_cost_cny"], "total_cost_cny"),
                "–" if shadow is None or not np.isfinite(shadow) else f"{shadow:,.1f}",
                _fmt(r.get("west_share"), "west_share"),
                r["status"],
            ]
        )
    lines += _md_table(
        [
            "point",
            "role",
            f"{FIGURES[x][0]} [{_unit(x)}]",
            "cost [bn CNY/yr]",
            f"shadow price [{price_unit}]",
            "west [%]",
            "status",
        ],
        rows,
    )
    if (out_dir / "frontier.png").exists():
        lines += ["", "![Frontier](frontier.png)", "(frontier.svg)", ""]
    lines += [f"Full table: `{FRONTIER_FILE}`.", ""]
    return lines
