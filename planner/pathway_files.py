"""Pathway outputs as text and files read back: the table ``edwc run`` prints, growth.csv."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from planner.pathway import REGIONS, Pathway

__all__ = ["GROWTH_COLUMNS", "format_comparison", "format_pathway", "read_growth"]


#: Columns of growth.csv: per region and year, the plan's and the counterfactual's paths.
GROWTH_COLUMNS = ("region", "year", "calibration", "consumption",
                  *(f"{v}_{run}" for run in ("plan", "counterfactual") for v in ("tau", "Y", "C", "g_Y", "g_C")))
#: Largest growth.csv read back. [bytes]
MAX_GROWTH_BYTES = 64_000_000


def read_growth(run_dir: Path | str) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Plan and counterfactual frames of a pathway run directory's ``growth.csv``, validated.

    The run directory is checked as :func:`planner.rundir.read_run_checked` checks it (marker,
    files, scenario schema, input hash, finite numbers); ``growth.csv`` must be a regular file
    with every column and finite numbers.

    Returns
    -------
    dict
        ``region -> (plan, counterfactual)``, ``national`` first; each frame indexed by year
        with columns tau, Y, C, g_Y, g_C (what :func:`planner.growth_plot.plot_growth_paths`
        reads) and ``attrs["calibration"]``, ``attrs["consumption"]``.

    Raises
    ------
    planner.rundir.RunDirError
        Not a (pathway) run directory, or one whose files do not check out.
    """
    import io

    from edwc_data.files import FileRefused, read_regular_file
    from edwc_data.outputs import shown_path

    from planner.rundir import RunDirError, read_run_checked

    read_run_checked(run_dir)
    path = Path(run_dir) / "growth.csv"
    where = shown_path(path)
    if not os.path.lexists(path):
        msg = (
            "no growth.csv: not a pathway run. Run `edwc run` on a scenario with horizon.end_year "
            "set, e.g. `edwc run pathway-2035`."
        )
        raise RunDirError(msg, source=shown_path(run_dir))
    try:
        growth = pd.read_csv(io.BytesIO(read_regular_file(path, MAX_GROWTH_BYTES, what=where)))
    except FileRefused as exc:
        raise RunDirError(exc.message, source=where) from None
    except Exception:  # noqa: BLE001 - any parse failure: not the file the tool wrote
        msg = "cannot be read as a table. Rerun `edwc run` on the pathway."
        raise RunDirError(msg, source=where) from None
    missing = [column for column in GROWTH_COLUMNS if column not in growth.columns]
    if missing or growth.empty:
        msg = (
            f"has no {'rows' if not missing else 'column ' + ', '.join(missing[:3])}. "
            "Rerun `edwc run` on the pathway."
        )
        raise RunDirError(msg, source=where)
    for column in GROWTH_COLUMNS:
        if column in ("region", "calibration", "consumption"):
            continue
        values = pd.to_numeric(growth[column], errors="coerce").to_numpy(float)
        # A growth rate is undefined (NaN, blank in the file) where a path has no year before it.
        allowed = np.isnan(values) & (growth[column].isna().to_numpy() if column.startswith("g_") else False)
        if not (np.isfinite(values) | allowed).all():
            msg = "holds a value that is not a finite number. Rerun `edwc run` on the pathway."
            raise RunDirError(msg,
                              source=where, field=column)
        growth[column] = values
    unknown = sorted(set(growth["region"].astype(str)) - {"national", *REGIONS})
    if unknown:  # region names become file names: only the model's own
        msg = f"holds the unknown region {unknown[0][:40]!r}. Rerun `edwc run` on the pathway."
        raise RunDirError(msg,
                          source=where, field="region")
    frames = {}
    for region, group in growth.groupby("region", sort=False):
        pair = []
        for run in ("plan", "counterfactual"):
            frame = pd.DataFrame({
                "tau": group[f"tau_{run}"].to_numpy(), "Y": group[f"Y_{run}"].to_numpy(),
                "C": group[f"C_{run}"].to_numpy(), "g_Y": group[f"g_Y_{run}"].to_numpy(),
                "g_C": group[f"g_C_{run}"].to_numpy(),
            }, index=pd.Index(group["year"].to_numpy().astype(int), name="year"))
            frame.attrs.update(calibration=str(group["calibration"].iloc[0]),
                               consumption=str(group["consumption"].iloc[0]))
            pair.append(frame)
        frames[str(region)] = tuple(pair)
    if "national" not in frames:
        msg = "has no national rows. Rerun `edwc run` on the pathway."
        raise RunDirError(msg, source=where, field="region")
    return {"national": frames.pop("national"), **frames}


def format_pathway(pathway: Pathway) -> str:
    """A readable table of a pathway: one line per planned year, then the growth figures."""
    header = (f"{'year':>4}  {'demand MW':>10}  {'capacity MW':>11}  {'new MW':>8}  "
              f"{'retired MW':>10}  {'MtCO2':>7}  {'cost bn CNY/yr':>14}  {'capex bn CNY':>12}  "
              f"{'τ':>6}")
    lines = [header]
    for row in pathway.table.itertuples():
        lines.append(
            f"{row.year:>4}  {row.demand_mw:>10,.0f}  {row.capacity_mw:>11,.0f}  "
            f"{row.new_mw:>8,.0f}  {row.retired_mw:>10,.0f}  {row.emissions_tco2 / 1e6:>7,.1f}  "
            f"{row.annual_cost_cny / 1e9:>14,.1f}  {row.compute_capex_cny / 1e9:>12,.1f}  "
            f"{row.tau:>6.2%}")
    g = pathway.growth_summary
    last = pathway.table.iloc[-1]
    horizon = pathway.scenario.horizon
    total = pathway.table["discounted_cost_cny"].sum() / 1e9
    lines.insert(0, f"Pathway ({pathway.mode}), {pathway.years[0]}–{pathway.years[-1]}: discounted total cost "
                    f"{total:,.1f} bn CNY ({pathway.years[0]} CNY, {horizon.discount_rate:.0%}/yr, "
                    f"salvage: {horizon.salvage})")
    lines.append("(cost: the year's full annual cost = its plan's cost (operations and the annuity of its own "
                 "new build) + the annuities of earlier builds still standing; capex: overnight, not annualised)")
    lines.append(f"The headline 'Total annual cost' is the plan's cost of {last['year']} alone: "
                 f"{last['total_cost_cny'] / 1e9:,.1f} + {last['carried_capex_annual_cny'] / 1e9:,.1f} of "
                 f"earlier builds = {last['annual_cost_cny'] / 1e9:,.1f} bn CNY/yr in the table.")
    lines.extend(format_comparison(pathway))
    lines.append("")
    if g["growth_rate_plan"] is not None:
        lines.append(f"Growth (mean per year, {g['pathway_years'][0]}–{g['pathway_years'][1]}): "
                     f"plan {g['growth_rate_plan']:.2%}, counterfactual "
                     f"{g['growth_rate_counterfactual']:.2%}; output gap at the end "
                     f"{g['output_gap_end']:+.2%}")
        regional = ", ".join(f"{r} {v:.2%}" for r, v in g["growth_rate_plan_by_region"].items())
        lines.append(f"  by region (plan): {regional}")
    lines.append(f"τ: baseline {g['tau_baseline']:.2%}, plan mean {g['tau_plan_mean']:.2%}, "
                 f"max {g['tau_plan_max']:.2%}")
    lines.append(f"Calibration: {g['growth_calibration']}")
    return "\n".join(lines)


def format_comparison(pathway: Pathway) -> list[str]:
    """Lines setting a foresight pathway beside the myopic one (none for a myopic pathway)."""
    compare = pathway.solve.get("myopic")
    if compare is None:
        return []
    if compare["status"] != "optimal":
        return ["", f"Myopic on the same inputs: {compare['status']}: {compare['message']}"]
    lines = ["", f"Myopic on the same inputs: discounted total cost {compare['discounted_cost_myopic_cny'] / 1e9:,.1f} "
                 f"bn CNY; foresight saves {compare['saving_cny'] / 1e9:,.2f} bn CNY "
                 f"({compare['saving_share']:.3%})",
             f"{'year':>4}  {'capacity MW myopic':>18}  {'foresight':>10}  {'new MW myopic':>13}  "
             f"{'foresight':>10}  {'annual cost bn CNY/yr myopic':>28}  {'foresight':>10}"]
    for row in compare["by_year"]:
        lines.append(f"{row['year']:>4}  {row['capacity_myopic_mw']:>18,.0f}  {row['capacity_foresight_mw']:>10,.0f}  "
                     f"{row['new_myopic_mw']:>13,.0f}  {row['new_foresight_mw']:>10,.0f}  "
                     f"{row['annual_cost_myopic_cny'] / 1e9:>28,.1f}  {row['annual_cost_foresight_cny'] / 1e9:>10,.1f}")
    return lines
