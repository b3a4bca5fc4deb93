"""Multi-year pathways: plans solved year by year, capacity carried forward, growth implied."""

# A myopic pathway (horizon.mode: myopic, here) plans each year as an ordinary single-year plan (built, solved and
# verified like `edwc run`) whose existing capacity is what earlier years built, less what has
# retired. The new capacity's overnight capex, set against national gross fixed investment, gives
# the compute share τ of investment year by year; the growth model of the 2023 compute report
# (planner/growth.py) turns that τ path into output paths, against a counterfactual in which τ
# stays at its baseline. Regions are the provinces hosting east-hub clusters, those hosting
# west-hub clusters, and the rest; they add up to the nation (planner/pathway_growth.py). A
# foresight pathway (planner/pathway_foresight.py) solves every year as one LP and is read back
# into the same Pathway (docs/pathway.md).

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from optimizer.diagnose import precheck_conflicts
from optimizer.foresight import discounted_cost, year_weights
from optimizer.results import Results
from optimizer.status import PlanInfeasible, PlanNotSolved
from planner.growth import GrowthParams
from planner.pathway_growth import (
    REGIONS,
    _check_baseline,
    _spread_capex,
    investment_table,
    province_regions,
    scenario_growth_params,
    served_capex,
    simulate_pathway_growth,
)
from planner.preprocess import build_inputs, capital_recovery_factor
from planner.run import run_scenario
from planner.rundir import neutralise_formulas, write_run
from planner.scenario import Scenario, resolve_scenario

__all__ = [
    "EXISTING_RETIREMENT",
    "PATHWAY_FILES",
    "REGIONS",
    "Pathway",
    "build_limit_factor",
    "check_pathway_capacity",
    "investment_table",
    "planned_years",
    "province_regions",
    "run_and_write",
    "run_pathway",
    "scenario_growth_params",
    "served_capex",
    "simulate_pathway_growth",
    "write_pathway",
    "year_scenario",
]

#: How the capacity existing in the first year retires: never within the horizon, or linearly
#: over ``costs.lifetime_years`` (its vintages are unknown, so a uniform age spread is assumed).
EXISTING_RETIREMENT = ("none", "linear")
#: Files a pathway adds to the final year's run directory.
PATHWAY_FILES = ("pathway.csv", "pathway_sites.csv", "growth.csv", "pathway_scenario.yaml")


@dataclass
class Pathway:
    """A plan over several years and the growth it implies.

    Attributes
    ----------
    scenario : Scenario
        The pathway scenario as given (``horizon.end_year`` set).
    years : list of int
        Planned years: ``year, year + step, …, end_year``.
    results : dict of int to Results
        Each planned year's verified plan; its ``scenario`` is the derived single-year scenario
        (carried capacity as ``sites.<id>.existing_mw``).
    table : pandas.DataFrame
        ``pathway.csv``: one row per planned year (demand, capacity, load, emissions, cost, capex
        by region and τ by region).
    sites : pandas.DataFrame
        ``pathway_sites.csv``: one row per planned year and site (existing, retired, new,
        capacity, capex).
    investment : pandas.DataFrame
        One row per calendar year: gross fixed investment, baseline compute investment, the
        plan's capex and τ, nationally and by region.
    growth : pandas.DataFrame
        ``growth.csv``: long table by region (``national`` first) and calendar year of plan and
        counterfactual τ, output Y, consumption C and their growth rates, with the calibration.
    params : GrowthParams
        Growth-model parameters with A calibrated at the baseline τ.
    growth_summary : dict
        Headline growth figures, written into the final year's ``summary.json`` (``pathway``).
    existing_retirement : str
        One of ``EXISTING_RETIREMENT``.
    timings_s : dict of int to float
        Wall time of each planned year (foresight: of the whole LP, under the last year). [s]
    mode : str
        ``horizon.mode`` it was planned in: ``myopic`` or ``foresight``.
    solve : dict
        Size, timings and trust figures of the foresight LP (empty for a myopic pathway).
    """

    scenario: Scenario
    years: list[int]
    results: dict[int, Results]
    table: pd.DataFrame
    sites: pd.DataFrame
    investment: pd.DataFrame
    growth: pd.DataFrame
    params: GrowthParams
    growth_summary: dict
    existing_retirement: str = "none"
    timings_s: dict[int, float] = field(default_factory=dict)
    mode: str = "myopic"
    solve: dict = field(default_factory=dict)

    @property
    def final(self) -> Results:
        """The last planned year's Results, its summary extended by the growth figures."""
        last = self.results[self.years[-1]]
        row = self.table.iloc[-1]
        costs = {key: float(row[key]) for key in ("total_cost_cny", "carried_capex_annual_cny", "annual_cost_cny")}
        # total_cost_cny is the year's own plan (as the summary's headline); annual_cost_cny adds earlier builds.
        summary = dataclasses.replace(last.summary, pathway={"year": self.years[-1], **costs, **self.growth_summary})
        metadata = {
            **last.metadata,
            "pathway": {
                "scenario": self.scenario.name,
                "input_hash": self.scenario.input_hash(),
                "years": self.years,
                "existing_retirement": self.existing_retirement,
                "mode": self.mode,
                "discounted_cost_cny": float(self.table["discounted_cost_cny"].sum()),
                "discount_rate": self.scenario.horizon.discount_rate,
                "salvage": self.scenario.horizon.salvage,
                **({"foresight_lp": self.solve} if self.solve else {}),
                "timings_s": {str(year): t for year, t in self.timings_s.items()},
            },
        }
        return dataclasses.replace(last, summary=summary, metadata=metadata)


# ----------------------------------------------------------------------------- years and regions

def planned_years(scenario: Scenario) -> list[int]:
    """Years solved: ``year``, ``year + step_years``, … and always ``end_year`` itself.

    A single-year scenario (``end_year`` null) gives ``[year]``. When the step does not divide
    the horizon, the last interval is shorter.
    """
    end = scenario.horizon.end_year
    if end is None:
        return [scenario.year]
    years = list(range(scenario.year, end + 1, scenario.horizon.step_years))
    if years[-1] != end:
        years.append(end)
    return years


def _demand_factors(scenario: Scenario, workloads: pd.Index, year: int) -> pd.Series:
    """(1 + g_k)^(year − scenario.year) per workload class; classes without a rate do not grow."""
    rates = scenario.horizon.demand_growth
    age = year - scenario.year
    return pd.Series([(1.0 + rates.get(k, 0.0)) ** age for k in workloads], index=workloads)


def build_limit_factor(scenario: Scenario, previous: int, year: int) -> float:
    """Multiple of the first year's ``max_new_mw`` that planned ``year`` may build.

    The planned year stands for the calendar years (previous, year]; calendar year k allows
    ``(1 + horizon.build_limit_growth)^(k − scenario.year)`` times the first year's limit.
    """
    growth = 1.0 + scenario.horizon.build_limit_growth
    return float(sum(growth ** (k - scenario.year) for k in range(previous + 1, year + 1)))


def year_scenario(scenario: Scenario, year: int, existing_mw: pd.Series | None = None,
                  max_new_mw: pd.Series | None = None, base_shares: pd.Series | None = None,
                  occupancy: pd.Series | None = None, fitout_max_share: float | None = None) -> Scenario:
    """The single-year scenario solved for one planned year of a pathway.

    Demand of class k is the first year's demand × (1 + g_k)^(year − scenario.year): the
    national load is scaled by the share-weighted factor and the class shares renormalised.

    Parameters
    ----------
    scenario : Scenario
        The pathway scenario.
    year : int
        The planned year.
    existing_mw, max_new_mw : pandas.Series, optional
        Per site id (clusters and ``local_<province>``): capacity standing at the start of the
        year and the most that may be built in it. [MW]
    occupancy : pandas.Series, optional
        Per site id: the share of the standing capacity fitted and in use (earlier years' fit-outs
        and new build carried forward). [-]
    base_shares : pandas.Series, optional
        Class shares of the first year's demand (default: from the scenario's tables).
    fitout_max_share : float, optional
        The fit-out limit of this planned year, when it stands for several years (default: the
        scenario's). [-]

    Returns
    -------
    Scenario
        ``year`` set, ``horizon.end_year`` null (it is a one-year plan), demand grown, and the
        site overrides applied.
    """
    if base_shares is None:
        base_shares = build_inputs(scenario).workloads.set_index("workload")["share"].astype(float)
    document = copy.deepcopy(scenario.to_dict())
    document["year"] = year
    document["horizon"]["end_year"] = None
    factors = _demand_factors(scenario, base_shares.index, year)
    grown = base_shares * factors
    national = scenario.demand.national_it_load_mw * float(grown.sum())
    document["demand"]["national_it_load_mw"] = national
    workloads = document.setdefault("workloads", {})
    for workload, share in (grown / grown.sum()).items():
        workloads.setdefault(workload, {})["share"] = float(share)
    if fitout_max_share is not None:
        document["policy"]["fitout_max_share"] = float(fitout_max_share)
    sites = document.setdefault("sites", {})
    for column, values in (("existing_mw", existing_mw), ("max_new_mw", max_new_mw), ("occupancy", occupancy)):
        if values is None:
            continue
        for site, value in values.items():
            sites.setdefault(site, {})[column] = float(value)
    return resolve_scenario(document, name=scenario.name,
                            source=f"scenario '{scenario.name}' (pathway year {year})")


# ----------------------------------------------------------------------------- investment and τ

def _capex_per_mw(scenario: Scenario, kind: pd.Series) -> pd.Series:
    """Overnight capex per MW of each site; local sites pay ``local_capex_factor`` more. [CNY/MW]"""
    costs = scenario.costs
    capex = costs.capex_usd_per_mw * costs.fx_cny_per_usd
    return pd.Series(np.where(kind == "local", capex * costs.local_capex_factor, capex),
                     index=kind.index)


# ----------------------------------------------------------------------------- the pathway

def _not_solved(exc: PlanNotSolved, scenario: Scenario, year: int) -> PlanNotSolved:
    message = f"scenario '{scenario.name}', pathway year {year} | {exc.status}: {exc}"
    shortfall = [c for c in exc.diagnosis or () if getattr(c, "constraint", None) == "capacity"]
    if shortfall:  # earlier years built only what they needed; the year's own limit is too small
        message = (f"{message.rstrip('.')}. The pathway's year is short by "
                   f"{sum(c.amount for c in shortfall) / 1e3:,.1f} GW; to fix: {PATHWAY_CAPACITY_FIX}")
    return type(exc)(message, status=exc.status, diagnosis=exc.diagnosis)


PATHWAY_CAPACITY_FIX = ("raise horizon.build_limit_growth or sites.<id>.max_new_mw, lower "
                        "horizon.demand_growth.<class>, or end the pathway earlier (horizon.end_year)")


def check_pathway_capacity(scenario: Scenario, existing_retirement: str = "none") -> None:
    """Before any solve: each planned year's peak demand fits what could stand in it at most.

    The most that can stand in planned year t is the first year's capacity (less its linear
    retirement, if chosen), every earlier planned year's whole build limit still within its life,
    and year t's own limit (:func:`build_limit_factor`), all fitted, at ``utilisation_max``. A
    year whose peak exceeds it cannot be planned whatever earlier years build. The myopic plan
    builds less than its limits, so a year can still fail later in the solve; that message
    names the year too.

    Raises
    ------
    optimizer.status.PlanInfeasible
        Naming the first such year, its peak demand, the capacity that could stand, the
        shortfall in GW and the fields that fix it.
    """
    years = planned_years(scenario)
    if len(years) < 2:
        return
    first = build_inputs(scenario)
    base = first.sites.set_index("site")
    base_shares = first.workloads.set_index("workload")["share"].astype(float)
    existing0, max_new0 = base["existing_mw"].astype(float), base["max_new_mw"].astype(float)
    lifetime = scenario.costs.lifetime_years
    limits: dict[int, pd.Series] = {}
    previous = years[0] - 1
    for year in years:
        limits[year] = max_new0 * build_limit_factor(scenario, previous, year)
        previous = year
        if year == years[0]:
            continue  # the first year is the plain single-year plan: its own pre-check applies
        age = year - years[0]
        remaining = 1.0 if existing_retirement == "none" else max(0.0, 1.0 - age / lifetime)
        standing = existing0 * remaining + sum(
            (limits[v] for v in limits if v < year and year - v < lifetime), existing0 * 0.0)
        derived = year_scenario(scenario, year, standing, limits[year], base_shares, standing * 0.0 + 1.0)
        inputs = build_inputs(derived)
        short = [c for c in precheck_conflicts(inputs) if c.constraint == "capacity"]
        if not short:
            continue
        capacity = inputs.utilisation_max * float(
            (inputs.sites["existing_mw"] + inputs.sites["max_new_mw"]).sum())
        gap_mw = short[0].amount
        message = (
            f"scenario '{scenario.name}', pathway year {year} | infeasible before solving: peak demand "
            f"{(capacity + gap_mw) / 1e3:,.1f} GW exceeds the {capacity / 1e3:,.1f} GW that could stand "
            f"at {inputs.utilisation_max:.0%} utilisation even if every planned year built its whole limit "
            f"(short by {gap_mw / 1e3:,.1f} GW). To fix: {PATHWAY_CAPACITY_FIX}"
        )
        raise PlanInfeasible(message, diagnosis=short)


def run_pathway(scenario: Scenario, existing_retirement: str = "none",
                progress: Callable[[int, Results], None] | None = None) -> Pathway:
    """Solve a plan year by year (myopic) and simulate the growth its investment implies.

    Each planned year is built with :func:`year_scenario` and solved and verified with
    :func:`planner.run.run_scenario`. Capacity new in year v stands in every later year t with
    ``t − v < costs.lifetime_years``; ``max_new_mw`` is a yearly limit growing at
    ``horizon.build_limit_growth``, and a planned year ``gap`` years after the previous one may
    build the limits of those ``gap`` calendar years (:func:`build_limit_factor`).

    Parameters
    ----------
    scenario : Scenario
        A validated scenario; ``horizon.end_year`` null gives a one-year pathway.
    existing_retirement : {"none", "linear"}
        The first year's existing capacity never retires within the horizon (default), or
        retires linearly over ``costs.lifetime_years``.
    progress : callable, optional
        ``progress(year, results)`` after each solved year (e.g. to print a line).

    Returns
    -------
    Pathway

    Raises
    ------
    optimizer.solve.PlanInfeasible, optimizer.solve.PlanNotSolved
        A year could not be planned; the message names the year. Earlier years are lost.
    planner.scenario.ScenarioError
        The investment settings give a compute share of investment outside (0, 1).
    """
    if existing_retirement not in EXISTING_RETIREMENT:
        msg = (f"existing_retirement must be one of {EXISTING_RETIREMENT}, "
               f"got {existing_retirement!r}")
        raise ValueError(msg)
    _check_baseline(scenario)  # before hours of solving, not after
    check_pathway_capacity(scenario, existing_retirement)
    years = planned_years(scenario)
    first = build_inputs(scenario)
    base_sites = first.sites.set_index("site")
    base_shares = first.workloads.set_index("workload")["share"].astype(float)
    existing0 = base_sites["existing_mw"].astype(float)
    max_new0 = base_sites["max_new_mw"].astype(float)
    lifetime = scenario.costs.lifetime_years
    vintages: dict[int, pd.Series] = {}
    investments: dict[int, pd.Series] = {}  # overnight capex of each planned year, by site [CNY]
    results: dict[int, Results] = {}
    timings: dict[int, float] = {}
    site_rows, rows = [], []
    previous, standing_before = years[0] - 1, existing0 * 0.0
    # Capacity in use carries forward: what the first year found fitted, then each year's fit-outs and builds.
    in_use = existing0 * base_sites["occupancy"].astype(float)
    for year in years:
        start = time.perf_counter()
        age = year - years[0]
        remaining = 1.0 if existing_retirement == "none" else max(0.0, 1.0 - age / lifetime)
        carried = sum((new for built, new in vintages.items() if year - built < lifetime),
                      existing0 * 0.0)
        existing = existing0 * remaining + carried
        # New build is fitted when built and leaves fitted when it retires: its racks in use go with
        # it, rather than passing to vacant racks of the older stock for free.
        in_use = (in_use - sum((new for built, new in vintages.items()
                                if previous - built < lifetime <= year - built), existing0 * 0.0)).clip(lower=0.0)
        gap = year - previous
        occupancy = (in_use / existing.where(existing > 0)).fillna(1.0).clip(0.0, 1.0)
        # A planned year standing for `gap` years may build and fit out that many years' worth.
        share = scenario.policy.fitout_max_share
        max_new = max_new0 * build_limit_factor(scenario, previous, year)
        derived = year_scenario(scenario, year, existing, max_new, base_shares, occupancy,
                                None if share is None else min(1.0, share * gap))
        try:
            res = run_scenario(derived)
        except PlanNotSolved as exc:
            raise _not_solved(exc, scenario, year) from None
        sites = res.sites.set_index("site")
        # The LP may return -1e-12 for an unbuilt site; keep the carried stock non-negative.
        new = sites["new_mw"].reindex(existing0.index).fillna(0.0).clip(lower=0.0)
        vintages[year] = new
        fitout = sites["fitout_mw"].reindex(existing0.index).fillna(0.0).clip(lower=0.0)
        frame, row = record_year(scenario, year, res, existing, new, fitout,
                                 (standing_before - existing).clip(lower=0.0), max_new, investments)
        site_rows.append(frame)
        rows.append(row)
        results[year] = res
        standing_before = existing + new
        in_use = sites["capacity_mw"].reindex(existing0.index).fillna(0.0).clip(lower=0.0)
        previous = year
        timings[year] = time.perf_counter() - start
        if progress is not None:
            progress(year, res)

    return assemble_pathway(scenario, years, results, rows, site_rows, existing_retirement, timings)


def record_year(scenario: Scenario, year: int, res: Results, existing: pd.Series, new: pd.Series,
                fitout: pd.Series, retired: pd.Series, max_new: pd.Series, investments: dict[int, pd.Series],
                annual_cost_cny: float | None = None) -> tuple[pd.DataFrame, dict]:
    """A planned year's rows of ``pathway_sites.csv`` and ``pathway.csv``; adds its capex to ``investments``.

    Parameters
    ----------
    existing, new, fitout, retired, max_new : pandas.Series
        Per site id: capacity standing at the start of the year, built in it, fitted out in it,
        retired since the previous planned year, and the year's build limit. [MW]
    investments : dict of int to pandas.Series
        Overnight capex of the earlier planned years by site [CNY]; the year's is added.
    annual_cost_cny : float, optional
        The year's full annual cost when its plan already prices the capacity standing from
        earlier years (foresight); otherwise the annuities of earlier builds still within their
        life are added to the plan's cost (myopic). [CNY/yr]
    """
    lifetime = scenario.costs.lifetime_years
    base = res.sites.set_index("site").reindex(existing.index)
    # The year's investment: new build, and vacant racks fitted out at their share of its cost.
    capex = (new + scenario.costs.fitout_capex_factor * fitout) * _capex_per_mw(scenario, base["kind"])
    crf = capital_recovery_factor(scenario.costs.discount_rate, lifetime)
    # Capacity built in earlier planned years still within its life keeps costing its annuity.
    carried = crf * sum(float(investments[v].sum()) for v in investments if v < year and year - v < lifetime)
    investments[year] = capex
    region_of = province_regions()
    host_region = base["host_province"].map(region_of)
    frame = pd.DataFrame({
        "year": year, "site": existing.index, "kind": base["kind"].to_numpy(),
        "hub_class": base["hub_class"].to_numpy(), "region": host_region.to_numpy(),
        "existing_mw": existing.to_numpy(), "retired_mw": retired.to_numpy(),
        "new_mw": new.to_numpy(), "capacity_mw": (existing + new).to_numpy(),
        "max_new_mw": max_new.to_numpy(), "mean_load_mw": base["mean_load_mw"].to_numpy(),
        "capex_cny": capex.to_numpy(),
    })
    row = _year_row(year, res, base, existing, new, retired, capex, host_region)
    for region, value in served_capex(res.flows, capex, region_of).items():
        row[f"compute_capex_served_{region}_cny"] = float(value)
    row["operating_cost_cny"] = res.summary.total_cost_cny - res.summary.capex_cny
    if annual_cost_cny is not None:  # the plan's cost holds every standing annuity: split off the carried part
        row["total_cost_cny"] = row["operating_cost_cny"] + crf * float(capex.sum())
        carried = annual_cost_cny - row["total_cost_cny"]
    row["carried_capex_annual_cny"] = carried
    row["annual_cost_cny"] = row["total_cost_cny"] + carried
    return frame, row


def assemble_pathway(scenario: Scenario, years: list[int], results: dict[int, Results], rows: list[dict],
                     site_rows: list[pd.DataFrame], existing_retirement: str, timings: dict[int, float],
                     mode: str = "myopic", metadata: dict | None = None) -> Pathway:
    """The Pathway of solved years (:func:`record_year` rows): τ by year, growth, discounted cost."""
    table = pd.DataFrame(rows).set_index("year")
    capex_by_year = table[[f"compute_capex_{r}_cny" for r in REGIONS]]
    capex_by_year.columns = list(REGIONS)
    served_by_year = table[[f"compute_capex_served_{r}_cny" for r in REGIONS]]
    served_by_year.columns = list(REGIONS)
    investment = investment_table(scenario, _spread_capex(capex_by_year, years),
                                  _spread_capex(served_by_year, years))
    growth, params, growth_summary = simulate_pathway_growth(scenario, investment)
    for column in ("gfcf_cny", "baseline_compute_cny", "tau_baseline", "tau",
                   *(f"tau_{r}" for r in REGIONS), *(f"tau_served_{r}" for r in REGIONS)):
        table[column] = investment.loc[years, column].to_numpy()
    table["growth_calibration"] = params.calibration_note
    horizon = scenario.horizon
    weights, spends = year_weights(years, [years[0], *(y + 1 for y in years[:-1])], horizon.discount_rate)
    operating = table["operating_cost_cny"].to_numpy()
    table["discount_weight"] = weights
    table["discounted_cost_cny"] = discounted_cost(
        weights, spends, operating, table["annual_cost_cny"].to_numpy() - operating,
        table["compute_capex_cny"].to_numpy(), horizon.salvage)
    table["mode"] = mode
    return Pathway(scenario, years, results, table.reset_index(),
                   pd.concat(site_rows, ignore_index=True), investment, growth, params,
                   growth_summary, existing_retirement, timings, mode, dict(metadata or {}))


def _year_row(year: int, res: Results, sites: pd.DataFrame, existing: pd.Series, new: pd.Series,
              retired: pd.Series, capex: pd.Series, host_region: pd.Series) -> dict:
    s = res.summary
    hub_class = sites["hub_class"].reindex(existing.index)
    capacity = existing + new
    load = sites["mean_load_mw"].reindex(existing.index)
    row = {
        "year": year,
        "demand_mw": s.mean_demand_mw,
        "peak_demand_mw": s.peak_demand_mw,
        "existing_mw": float(existing.sum()),
        "retired_mw": float(retired.sum()),
        "new_mw": float(new.sum()),
        "capacity_mw": float(capacity.sum()),
    }
    for cls in ("east", "west", "local"):
        mask = hub_class == cls
        row[f"capacity_{cls}_mw"] = float(capacity[mask].sum())
        row[f"new_{cls}_mw"] = float(new[mask].sum())
        row[f"load_{cls}_mw"] = float(load[mask].sum())
    row.update({
        "west_share": s.west_share,
        "hub_share": s.hub_share,
        "emissions_tco2": s.emissions_tco2,
        "total_cost_cny": s.total_cost_cny,
        "compute_capex_cny": float(capex.sum()),
    })
    for region in REGIONS:
        row[f"compute_capex_{region}_cny"] = float(capex[host_region == region].sum())
    return row


# ----------------------------------------------------------------------------- files

def write_pathway(pathway: Pathway, out_dir: Path | str,
                  extras: Callable[[Results, Path], None] | None = None) -> Path:
    """Write the final year's run directory plus the pathway files, atomically.

    The folder holds everything :func:`planner.rundir.write_run` writes for the last planned
    year (its ``summary.json`` extended by the growth figures, its ``scenario.yaml`` the derived
    one-year scenario) and ``pathway.csv``, ``pathway_sites.csv``, ``growth.csv`` and
    ``pathway_scenario.yaml`` (the pathway scenario, to rerun it with ``edwc run``).

    Parameters
    ----------
    pathway : Pathway
    out_dir : path
    extras : callable, optional
        ``extras(results, folder)`` for further files (maps of the final year).

    Returns
    -------
    Path
        ``out_dir``.
    """
    def add_pathway_files(results: Results, folder: Path) -> None:
        neutralise_formulas(pathway.table).to_csv(folder / "pathway.csv", index=False)
        neutralise_formulas(pathway.sites).to_csv(folder / "pathway_sites.csv", index=False)
        neutralise_formulas(pathway.growth).to_csv(folder / "growth.csv", index=False)
        (folder / "pathway_scenario.yaml").write_text(
            yaml.safe_dump(pathway.scenario.to_dict(), sort_keys=False, allow_unicode=True),
            encoding="utf-8")
        if extras is not None:
            extras(results, folder)

    return write_run(pathway.final, out_dir, extras=add_pathway_files)


def run_and_write(scenario: Scenario, out_dir: Path | str,
                  extras: Callable[[Results, Path], None] | None = None,
                  progress: Callable[[int, Results], None] | None = None) -> Pathway:
    """Run a pathway in its ``horizon.mode`` and write it (:func:`write_pathway`): ``edwc run``'s
    path when ``horizon.end_year`` is set. A foresight pathway is compared with the myopic one
    (:func:`planner.pathway_foresight.plan_pathway`).

    Returns
    -------
    Pathway
        ``pathway.final`` is what the run directory's summary holds.
    """
    from planner.pathway_foresight import plan_pathway  # it builds on this module

    pathway = plan_pathway(scenario, progress=progress)
    write_pathway(pathway, out_dir, extras)
    return pathway
