"""Regions in the compute-capital growth model: separate economies, and paths bounded by the nation."""

# The model of planner/growth.py has no trade: a region simulated alone is a closed economy, and
# one whose compute share τ_i sits nearer 1 − α pulls ahead for good. simulate_regions runs such
# regions; bound_to_nation rescales their output and consumption so that each year they add up to
# a national path, which keeps a plan's regional output gaps within what the national one implies.

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from planner.growth import PATH_COLUMNS, GrowthParams, simulate

__all__ = ["LEVELS", "bound_to_nation", "simulate_regions"]


def _region_specs(regions) -> dict[str, dict]:
    if isinstance(regions, pd.DataFrame):
        missing = {"region", "tau", "K0", "H0"} - set(regions.columns)
        if missing:
            msg = f"regions DataFrame lacks columns {sorted(missing)}"
            raise ValueError(msg)
        specs = {}
        for name, grp in regions.groupby("region", sort=False):
            grp = grp.sort_values("year") if "year" in grp else grp
            first = grp.iloc[0]
            spec = {"tau_path": grp["tau"].to_numpy(), "K0": first["K0"], "H0": first["H0"]}
            if "A" in grp and pd.notna(first["A"]):
                spec["A"] = first["A"]
            if "year" in grp:
                spec["start_year"] = int(first["year"])
            specs[name] = spec
        return specs
    if not isinstance(regions, Mapping):
        msg = "regions must be a mapping name -> dict or a DataFrame"
        raise TypeError(msg)
    return {name: dict(spec) for name, spec in regions.items()}


def simulate_regions(params: GrowthParams | None, regions, years: int | None = None,
                     consumption: str = "exact", start_year: int = 0):
    """Simulate regions as separate closed economies and measure their dispersion.

    Parameters
    ----------
    params : GrowthParams or None
        Shared parameters; a region's own ``A`` replaces the shared one (then uncalibrated).
    regions : mapping or pandas.DataFrame
        Mapping ``name -> {"tau_path": float | sequence, "K0": float, "H0": float, "A": float
        (optional)}``; or a long DataFrame with columns ``region, tau, K0, H0`` and optionally
        ``year`` and ``A``: each region's rows (sorted by year) form its τ path, and K0, H0, A are
        read from its first row. A one-row-per-region frame means constant τ (give ``years``).
    years : int, optional
        Horizon; inferred from the τ paths when they are sequences (they must agree).
    consumption : {"exact", "rule"}
        Passed to :func:`simulate`.
    start_year : int
        First year label (a DataFrame's ``year`` column takes precedence).

    Returns
    -------
    (paths, dispersion) : tuple of pandas.DataFrame
        ``paths``: long format, the :func:`simulate` columns plus ``region`` and ``year``.
        ``dispersion``: indexed by year, ``sd_log_Y`` (population s.d. of log Y across regions) and
        ``max_min_ratio`` (largest over smallest Y).
    """
    p = params or GrowthParams()
    specs = _region_specs(regions)
    if not specs:
        msg = "regions is empty"
        raise ValueError(msg)
    lengths = {np.size(s["tau_path"]) for s in specs.values() if np.ndim(s["tau_path"]) > 0}
    if years is None:
        if len(lengths) != 1:
            msg = f"give years, or tau paths of one length (got {sorted(lengths)})"
            raise ValueError(msg)
        years = lengths.pop()
    frames = []
    for name, s in specs.items():
        pr = dataclasses.replace(p, A=float(s["A"])) if s.get("A") is not None else p
        df = simulate(pr, s["tau_path"], s["K0"], s["H0"], years, consumption,
                      s.get("start_year", start_year))
        frames.append(df.reset_index().assign(region=name))
    paths = pd.concat(frames, ignore_index=True)[["region", "year", *PATH_COLUMNS]]
    logY = np.log(paths.pivot(index="year", columns="region", values="Y"))
    dispersion = pd.DataFrame({"sd_log_Y": logY.std(axis=1, ddof=0),
                               "max_min_ratio": np.exp(logY.max(axis=1) - logY.min(axis=1))})
    paths.attrs["calibration"] = p.calibration_note
    return paths, dispersion


#: Level columns of a path that bound_to_nation makes add up to the national path.
LEVELS = ("Y", "K", "H_T", "H", "H_X", "X", "C", "I", "Pi")
_GROWTH_OF = (("g_Y", "Y"), ("g_C", "C"), ("g_K", "K"), ("g_H", "H_T"))


def bound_to_nation(paths: pd.DataFrame, national: pd.DataFrame) -> pd.DataFrame:
    """Regional paths rescaled, year by year, so that their levels add up to the national path.

    Regions simulated alone are closed economies: one with a high τ_i runs away although the
    nation finances its capex. Here each region keeps its simulated share of the regions' total
    each year, ``Y_i ← Y_nat · Ŷ_i / Σ_j Ŷ_j`` (likewise every column of ``LEVELS``), and the
    growth rates are recomputed from the rescaled levels. The output-weighted mean of the regional
    output gaps is then the national one (weights: counterfactual output shares), so no region's
    gap can leave the range its partners and the nation allow. Rentals and prices (r, w, p_X)
    stay those of the region's own simulation.

    Parameters
    ----------
    paths : pandas.DataFrame
        Long output of :func:`simulate_regions` (columns region, year and the path columns).
    national : pandas.DataFrame
        The national path of :func:`planner.growth.simulate`, indexed by the same years.

    Returns
    -------
    pandas.DataFrame
        ``paths`` with the level and growth columns replaced; ``attrs["bounded"] = True``.
    """
    out = paths.copy()
    years = out["year"].to_numpy()
    missing = set(years) - set(national.index)
    if missing:
        msg = f"national path lacks the years {sorted(missing)[:3]}"
        raise ValueError(msg)
    for column in LEVELS:
        total = out.groupby("year")[column].transform("sum").to_numpy()
        out[column] = out[column].to_numpy() * national[column].reindex(years).to_numpy() / total
    for rate, level in _GROWTH_OF:
        out[rate] = out[level] / out.groupby("region", sort=False)[level].shift(1) - 1
    out.attrs.update(paths.attrs, bounded=True)
    return out
