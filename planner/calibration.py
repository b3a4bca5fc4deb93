"""The default year against published aggregates: which figures of a plan sit inside which published range.

A planner compares the default year with what is published about China's data centres before
reading any plan. ``data/published.csv`` holds the published ranges, each with its status (F/E)
and source; :func:`compare` puts a plan's figures beside them:

- *stock*: what the dataset says stands at the start of the year (racks, 上架率, where they are);
- *plan*: what the plan's year comes to (electricity, PUE, load per rack, emissions, green share, price).

The plan's own choices (how much runs in the west and in the hubs, what it fits out and builds)
have no published counterpart; :func:`choices` shows them next to the stock's value at the start.

``python -m planner.calibration`` solves the default scenario and writes ``docs/calibration.md``
and the headline block of ``README.md`` from it; ``tests/test_calibration.py`` checks that both are
current and that every figure is inside its range.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from edwc_data.labels import t
from edwc_data.tables import load_tables

from optimizer.results import Results

#: IT capacity of a standard rack (标准机架). [MW per rack]
RACK_MW = 2.5e-3
#: China's electricity consumption in 2025 (NEA, Jan 2026, F): the base of ``electricity_share``. [MWh/yr]
NATIONAL_CONSUMPTION_2025_MWH = 10_368.2e6
#: Markers of the README blocks this module writes: the headline, and the shipped scenarios side by side.
README_BEGIN, README_END = "<!-- calibration:begin -->", "<!-- calibration:end -->"
SCENARIOS_BEGIN, SCENARIOS_END = "<!-- scenarios:begin -->", "<!-- scenarios:end -->"
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Figure:
    """How one figure is shown: scale from the plan's value to the shown one, decimals, per cent."""

    scale: float = 1.0
    digits: int = 2
    percent: bool = False

    def show(self, value: float) -> str:
        if self.percent:
            return f"{100 * value:.{self.digits}f} %"
        return f"{value * self.scale:,.{self.digits}f}"

    def rounded(self, value: float) -> float:
        """``value`` rounded as shown, in its own units."""
        factor = 100.0 if self.percent else self.scale
        return round(value * factor, self.digits) / factor


#: Display of each published figure (its unit is in published.csv).
FIGURES = {
    "racks_million": Figure(digits=2),
    "cluster_racks_million": Figure(digits=2),
    "occupancy_stock": Figure(digits=1, percent=True),
    "occupancy_clusters_stock": Figure(digits=1, percent=True),
    "west_region_rack_share": Figure(digits=1, percent=True),
    "facility_twh": Figure(digits=1),
    "electricity_share": Figure(digits=2, percent=True),
    "pue_average": Figure(digits=3),
    "it_kw_per_rack": Figure(digits=2),
    "emissions_location_mt": Figure(digits=1),
    "emissions_market_mt": Figure(digits=1),
    "green_share": Figure(digits=1, percent=True),
    "price_cny_per_kwh": Figure(digits=3),
}


def _stock(results: Results) -> pd.DataFrame:
    """Per site: built, fitted at the start of the year, cluster or not, in the western region. [MW]"""
    sites = results.sites
    regions = load_tables()["provinces"]["economic_region"]
    return pd.DataFrame({
        "built": sites["existing_mw"].to_numpy(float),
        "fitted": (sites["capacity_mw"] - sites["fitout_mw"] - sites["new_mw"]).to_numpy(float),
        "cluster": (sites["kind"] == "cluster").to_numpy(),
        "west_cluster": (sites["hub_class"] == "west").to_numpy(),
        "west_region": sites["host_province"].map(regions).eq("west").to_numpy(),
    })


def plan_figures(results: Results) -> dict[str, float]:
    """The plan's value of every figure of ``data/published.csv``, in the units there."""
    s, stock = results.summary, _stock(results)
    built, clusters = stock["built"].sum(), stock[stock["cluster"]]
    facility = s.facility_energy_mwh
    return {
        "racks_million": built / RACK_MW / 1e6,
        "cluster_racks_million": clusters["built"].sum() / RACK_MW / 1e6,
        "occupancy_stock": stock["fitted"].sum() / built,
        "occupancy_clusters_stock": clusters["fitted"].sum() / clusters["built"].sum(),
        "west_region_rack_share": stock.loc[stock["west_region"], "built"].sum() / built,
        "facility_twh": facility / 1e6,
        "electricity_share": facility / NATIONAL_CONSUMPTION_2025_MWH,
        "pue_average": s.pue_average,
        "it_kw_per_rack": s.mean_demand_mw / (built / RACK_MW) * 1e3,
        "emissions_location_mt": s.emissions_location_tco2 / 1e6,
        "emissions_market_mt": s.emissions_market_tco2 / 1e6,
        "green_share": s.green_share,
        "price_cny_per_kwh": s.energy_cost_cny / facility / 1e3,
    }


def compare(results: Results) -> pd.DataFrame:
    """Every published figure beside the plan's: figure, kind, year, unit, plan, low, high, inside, status, source."""
    published = load_tables()["published"].reset_index(drop=True)
    values = plan_figures(results)
    frame = published[["figure", "kind", "year", "unit", "low", "high", "status", "source"]].copy()
    frame["plan"] = frame["figure"].map(values).astype(float)
    # Compared as shown: the ranges are published to no more digits than the page shows.
    frame["inside"] = [low <= FIGURES[f].rounded(v) <= high for f, v, low, high in zip(
        frame["figure"], frame["plan"], frame["low"], frame["high"], strict=True)]
    return frame


def choices(results: Results) -> pd.DataFrame:
    """The plan's own choices beside the stock's value at the start of the year: figure, start, plan."""
    s, stock = results.summary, _stock(results)
    fitted = stock["fitted"].sum()
    return pd.DataFrame([
        ("west_share", stock.loc[stock["west_cluster"], "fitted"].sum() / fitted, s.west_share),
        ("hub_share", stock.loc[stock["cluster"], "fitted"].sum() / fitted, s.hub_share),
        ("occupancy_plan", fitted / stock["built"].sum(), s.occupancy),
        ("hub_occupancy_plan", stock.loc[stock["cluster"], "fitted"].sum() / stock.loc[stock["cluster"], "built"].sum(),
         s.hub_occupancy),
    ], columns=["figure", "start", "plan"])


# ---------------------------------------------------------------------------------------------
# The page and the README block
# ---------------------------------------------------------------------------------------------

def _range(figure: str, low: float, high: float) -> str:
    return f"{FIGURES[figure].show(low)} – {FIGURES[figure].show(high)}"


def _table(frame: pd.DataFrame, lang: str) -> list[str]:
    lines = [f"| {t('calib_col_figure', lang)} | {t('calib_col_unit', lang)} | {t('calib_col_plan', lang)} "
             f"| {t('calib_col_published', lang)} | {t('calib_col_inside', lang)} | F/E |",
             "|---|---|---|---|---|---|"]
    for row in frame.itertuples():
        unit = "" if row.unit == "-" or FIGURES[row.figure].percent else row.unit
        mark = t("calib_yes", lang) if row.inside else f"**{t('calib_no', lang)}**"
        lines.append(f"| {t('calib_' + row.figure, lang)} | {unit} | {FIGURES[row.figure].show(row.plan)} "
                     f"| {_range(row.figure, row.low, row.high)} | {mark} | {row.status} |")
    return lines


def render_page(results: Results) -> str:
    """``docs/calibration.md``: the comparison, the plan's choices and the source of every range."""
    table = compare(results)
    s = results.summary
    lines = [
        "# Calibration: the default year against published figures",
        "",
        "Generated by `python -m planner.calibration` from the default scenario (`edwc run`); "
        "`tests/test_calibration.py` fails when this page or the README's headline block is stale, "
        "or when a figure leaves its published range. Ranges are for "
        f"{int(table['year'].max())}; F marks a range set by official figures, E one that rests on "
        "estimates or is derived here (the source says how). The ranges live in `data/published.csv`.",
        "",
        f"Default plan: {s.mean_demand_mw:,.0f} MW of mean IT load (peak {s.peak_demand_mw:,.0f} MW), "
        f"{s.total_cost_cny / 1e9:,.1f} bn CNY/yr, solved on the scenario's representative days.",
        "",
        "## What stands at the start of the year (the dataset)",
        "",
        *_table(table[table["kind"] == "stock"], "en"),
        "",
        "## What the default year comes to (the plan)",
        "",
        *_table(table[table["kind"] == "plan"], "en"),
        "",
        "## What the plan chooses (no published counterpart)",
        "",
        "Where load runs and what is fitted out are the plan's answer, not an input to calibrate: they are "
        "shown beside the stock's value at the start of the year. They are for direction: a least-cost plan "
        "moves every movable load, where tenants in fact move over years.",
        "",
        "| figure | start of the year | plan |",
        "|---|---|---|",
        *[f"| {t('calib_' + r.figure, 'en')} | {100 * r.start:.1f} % | {100 * r.plan:.1f} % |"
          for r in choices(results).itertuples()],
        f"| {t('calib_fitout', 'en')} | – | {s.fitout_mw:,.0f} MW |",
        f"| {t('calib_new', 'en')} | – | {s.new_capacity_mw:,.0f} MW |",
        f"| {t('calib_utilisation', 'en')} | – | {100 * s.mean_utilisation:.1f} % "
        f"(peak {100 * s.peak_utilisation:.1f} %) |",
        "",
        "## Sources of the ranges",
        "",
        *[f"- **{t('calib_' + r.figure, 'en')}** ({r.status}): {r.source}." for r in table.itertuples()],
        "",
        "## What is not compared, and why",
        "",
        "- **Cost.** No published aggregate covers the same scope (capex annualised, electricity, network, "
        "green power). Its largest part is checked through electricity and the price paid above.",
        "- **New capacity.** China's rack count grew by about 2M standard racks (≈5 GW) in the first half of "
        "2025 (8.8M to 10.85M, MIIT); a one-year plan builds only what its own year needs on top of today's "
        "vacant racks. Use a pathway (`pathway-2035`) for the build-out ahead of demand.",
        "- **Water.** The plan counts water used on site (WUE × IT energy), "
        f"{s.water_m3 / 1e9:.2f} bn m³/yr. China Water Risk's ≈1.3 bn m³/yr (2024) also counts water "
        "consumed at the power plants, so the two are not comparable.",
        "- **Latency.** No published national figure; the plan's load-weighted one-way latency is a model "
        "output (distance, route factor and overhead), for direction.",
        "",
    ]
    return "\n".join(lines)


#: The README's headline figures, in order.
README_FIGURES = ("racks_million", "occupancy_stock", "facility_twh", "pue_average", "emissions_location_mt",
                  "emissions_market_mt", "green_share", "price_cny_per_kwh")


def render_readme_block(results: Results) -> str:
    """The README's headline block (between the calibration markers), in English."""
    table = compare(results).set_index("figure")
    s = results.summary
    start = choices(results).set_index("figure")["start"]
    rows = []
    for figure in README_FIGURES:
        row = table.loc[figure]
        unit = "" if row["unit"] == "-" or FIGURES[figure].percent else f" {row['unit']}"
        rows.append(f"| {t('calib_' + figure, 'en')} | {FIGURES[figure].show(row['plan'])}{unit} "
                    f"| {_range(figure, row['low'], row['high'])}{unit} |")
    lines = [
        README_BEGIN,
        f"What the default dataset says (the baseline plan, {int(table['year'].max())}): "
        f"{s.mean_demand_mw / 1e3:.1f} GW of mean IT load (peak {s.peak_demand_mw / 1e3:.1f} GW) for "
        f"{s.total_cost_cny / 1e9:.1f} bn CNY/yr. Beside the published figures of the year "
        "(every one, with its source: [docs/calibration.md](docs/calibration.md)):",
        "",
        "| figure | baseline plan | published |",
        "|---|---|---|",
        *rows,
        "",
        f"The plan's own answer: {100 * s.west_share:.1f} % of the load runs in the four western clusters "
        f"(which hold {100 * start['west_share']:.1f} % of the racks in use today) and "
        f"{100 * s.hub_share:.1f} % in the ten clusters ({100 * start['hub_share']:.1f} % today); it fits out "
        f"{s.fitout_mw / 1e3:.2f} GW of vacant racks and builds {s.new_capacity_mw / 1e3:.2f} GW. These "
        "shares are for direction: a least-cost plan moves every load it may, where tenants move over years.",
        README_END,
    ]
    return "\n".join(lines)


def render_scenarios_block(solved: dict[str, Results]) -> str:
    """The README's table of the shipped single-year scenarios, baseline first (between the scenario markers)."""
    base = solved["baseline"].summary
    lines = [
        SCENARIOS_BEGIN,
        "| scenario | cost, bn CNY/yr | vs baseline | emissions, MtCO2/yr (counted as) | location-based | "
        "green share | in the west | new capacity, GW | carbon shadow price, CNY/t |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ["baseline", *sorted(set(solved) - {"baseline"})]:
        s = solved[name].summary
        shadow = s.carbon_shadow_price_cny_per_tco2
        lines.append(
            f"| `{name}` | {s.total_cost_cny / 1e9:,.1f} | {100 * (s.total_cost_cny / base.total_cost_cny - 1):+.1f} % "
            f"| {s.emissions_tco2 / 1e6:,.1f} ({s.carbon_accounting}) | {s.emissions_location_tco2 / 1e6:,.1f} "
            f"| {100 * s.green_share:.1f} % | {100 * s.west_share:.1f} % | {s.new_capacity_mw / 1e3:.2f} "
            f"| {'–' if shadow is None else f'{shadow:,.0f}'} |")
    lines.append(SCENARIOS_END)
    return "\n".join(lines)


def replace_block(readme: str, block: str) -> str:
    """``readme`` with the block whose markers open and close ``block`` replaced by it."""
    begin, end = block.splitlines()[0], block.splitlines()[-1]
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(readme):
        msg = f"README.md | has no {begin} … {end} block. Add the two markers where the block goes."
        raise ValueError(msg)
    return pattern.sub(lambda _: block, readme)


def solve_shipped() -> dict[str, Results]:
    """Every shipped single-year scenario of one future solved, by name (stochastic plans: docs/robust.md)."""
    from planner.run import run_scenario
    from planner.scenario import load_scenario, shipped_scenarios

    scenarios = {name: load_scenario(name) for name in shipped_scenarios()}
    return {name: run_scenario(s) for name, s in scenarios.items() if s.horizon.end_year is None and s.futures is None}


def default_results() -> Results:
    """The default scenario solved (what ``edwc run`` plans)."""
    from planner.run import run_scenario
    from planner.scenario import load_scenario

    return run_scenario(load_scenario())


def main() -> int:
    """Write ``docs/calibration.md`` and the README blocks from the default plan and the shipped scenarios."""
    from edwc_data.files import write_text_atomic

    results = default_results()
    write_text_atomic(ROOT / "docs" / "calibration.md", render_page(results))
    readme = ROOT / "README.md"
    text = replace_block(readme.read_text(encoding="utf-8"), render_readme_block(results))
    write_text_atomic(readme, replace_block(text, render_scenarios_block(solve_shipped())))
    outside = compare(results).query("not inside")
    for row in outside.itertuples():
        print(f"outside its published range: {row.figure} = {row.plan:.4g} ({row.low:g}–{row.high:g})",
              file=sys.stderr)
    return 1 if len(outside) else 0


if __name__ == "__main__":
    sys.exit(main())
