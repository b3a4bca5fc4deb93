"""Full-year check of a plan: dispatch every day of the year with the plan's capacity fixed, and compare.

A plan is optimised on a few representative days. This module takes its capacities (existing plus
new, from the run directory) and dispatches each day of the year as its own small LP
(:mod:`optimizer.dispatch`): the plan's LP with no new build, the day's hourly demand and green power
(:mod:`planner.profiles`), and elastic unserved demand at a high penalty, so that a day the plan
cannot serve reports a shortfall instead of being infeasible. Days are independent, so they run in
parallel (a local process pool or Dask, through :func:`planner.parallel.open_executor`), in runs of
consecutive days that warm-start each other.

Carbon: a plan under a carbon price is dispatched at that price. A plan under a cap is dispatched
at its price plus the cap's shadow price from the plan (the cap spread over the year's hours by the
price it set); the reported carbon cost stays at the scenario's own price, as in the plan.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from edwc_data.files import write_text_atomic
from edwc_data.outputs import require_owned, shown_path
from edwc_data.units import DAYS_PER_YEAR, HOURS_PER_DAY

from optimizer.dispatch import DayCase, DayResult, DispatchSolver, dispatch_day, dispatch_template
from optimizer.inputs import PlanInputs
from optimizer.results import COST_PARTS, Summary
from planner.errors import ScenarioError
from planner.parallel import open_executor
from planner.preprocess import build_inputs
from planner.rundir import read_run_checked
from planner.scenario import Scenario

#: Penalty on unserved demand. [CNY/MWh] About a hundred times the dearest power with carbon, so
#: load is shed only where no capacity within its latency reach is left, never to save cost.
UNSERVED_PENALTY_CNY_PER_MWH = 1e5

#: Tasks per worker. Each task is a run of consecutive days that warm-start each other; its first
#: day is solved cold (~0.25 s against ~0.03 s warm), so few long runs are fastest, and four per
#: worker still balance workers that run at different speeds.
TASKS_PER_WORKER = 4

CHECK_FILES = ("check.json", "check_days.csv")


class CheckError(ScenarioError):
    """The run directory cannot be checked (a pathway, another dataset, bad options); message-first, picklable."""


@dataclass
class _Task:
    template: PlanInputs
    report_carbon_price: float
    penalty: float
    cases: list[DayCase]
    start_basis: tuple | None = None


def dispatch_days(task: _Task) -> list[DayResult]:
    """Dispatch the days of one task in order: the first from the shared start basis, each next from the one before."""
    solver = DispatchSolver(start_basis=task.start_basis)
    return [dispatch_day(task.template, case, task.report_carbon_price, task.penalty, solver) for case in task.cases]


def _warm_up(_: object) -> None:
    """Nothing: makes a pool start its workers while the parent prepares the days."""


def start_basis(template: PlanInputs, case: DayCase, report_carbon_price: float, penalty: float) -> tuple:
    """The optimal basis of one day, solved once here and handed to every task (set-up shared by all workers).

    A run of days then starts warm in every worker: its first day takes a few dozen simplex
    iterations, not the thousands of a cold solve.
    """
    from optimizer.dispatch import basis_arrays

    solver = DispatchSolver()
    dispatch_day(template, case, report_carbon_price, penalty, solver)
    return basis_arrays(solver.highs)


# ---------------------------------------------------------------------------------------------
# The plan and its days
# ---------------------------------------------------------------------------------------------

@dataclass
class PlanToCheck:
    """A plan read back from its run directory, ready to dispatch."""

    run_dir: Path
    scenario: Scenario
    inputs: PlanInputs
    capacity_mw: np.ndarray
    new_mw: np.ndarray
    summary: Summary
    sites_table: pd.DataFrame
    dispatch_carbon_price: float
    carbon_shadow_price: float | None
    #: Capacity of each backbone link after the plan (existing and new), in the network's order;
    #: None without a network. [Gbit/s]
    link_capacity_gbps: np.ndarray | None = None


def load_plan(run_dir: Path | str) -> PlanToCheck:
    """Read a run directory, validated like a scenario file, and rebuild the plan's inputs from its scenario.

    Raises
    ------
    planner.rundir.RunDirError
        The directory is not a complete, untampered run (:func:`planner.rundir.read_run_checked`).
    CheckError
        A pathway run, or its sites do not match the scenario's.
    """
    run_dir = Path(run_dir)
    results, scenario = read_run_checked(run_dir)
    where = shown_path(run_dir)
    if scenario.horizon.end_year is not None:
        msg = (
            f"is a pathway run (horizon to {scenario.horizon.end_year}). Check a single-year "
            "run: solve one year with --set horizon.end_year=null."
        )
        raise CheckError(msg, source=where)
    inputs = build_inputs(scenario)
    table = results.sites.set_index("site")
    missing = sorted(set(inputs.sites["site"]) - set(table.index))
    if missing:
        msg = (
            f"has no row for {', '.join(missing[:5])}: the run was written by another version of "
            "the dataset. Re-run the scenario."
        )
        raise CheckError(msg, source=shown_path(run_dir / "sites.csv"))
    if table.index.duplicated().any():
        msg = "holds a site twice. Re-run the scenario."
        raise CheckError(msg, source=shown_path(run_dir / "sites.csv"))
    order = inputs.sites["site"].to_numpy()
    capacity = table.loc[order, "capacity_mw"].to_numpy(float)
    new = table.loc[order, "new_mw"].to_numpy(float)
    link_capacity = None
    if inputs.network is not None:
        links = inputs.network.links
        link_capacity = links["existing_gbps"].to_numpy(float).copy()
        if results.links is not None:  # the plan's new bandwidth, by link id
            new_gbps = results.links.set_index("link")["new_gbps"].astype(float)
            link_capacity += links["link"].map(new_gbps).fillna(0.0).to_numpy(float)
    shadow = results.summary.carbon_shadow_price_cny_per_tco2
    price = scenario.carbon.price_cny_per_tco2
    if scenario.carbon.cap_tco2 is not None and shadow is not None:
        price += max(float(shadow), 0.0)
    return PlanToCheck(
        run_dir=run_dir,
        scenario=scenario,
        inputs=inputs,
        capacity_mw=capacity,
        new_mw=new,
        summary=results.summary,
        sites_table=results.sites,
        dispatch_carbon_price=price,
        carbon_shadow_price=None if shadow is None else float(shadow),
        link_capacity_gbps=link_capacity,
    )


def _green_mw(plan: PlanToCheck, profile: np.ndarray) -> np.ndarray:
    sites = plan.inputs.sites
    rated = sites["green_available_mw"].to_numpy(float)[:, None] * profile
    with_new = (sites["green_new_share"].to_numpy(float) * sites["pue"].to_numpy(float) * plan.new_mw)[:, None]
    return rated + with_new


def representative_cases(plan: PlanToCheck) -> list[DayCase]:
    """The plan's own representative days, weighted as in the plan."""
    inputs = plan.inputs
    days = inputs.periods["day"].to_numpy()
    cases = []
    for day in np.unique(days):
        slices = np.nonzero(days == day)[0]
        cases.append(DayCase(
            label=f"d{int(day):03d}",
            hours=inputs.hours[slices],
            demand_mw=inputs.demand_mw[:, :, slices],
            green_mw=_green_mw(plan, inputs.green_profile[:, slices]),
            pue=inputs.pue[:, slices],
            peak_ratio=inputs.peak[:, slices],
        ))
    return cases


def year_cases(plan: PlanToCheck, year_hours: int = 8760) -> list[DayCase]:
    """Days of the year, hour by hour, from the hourly profiles (planner/profiles.py).

    Parameters
    ----------
    year_hours : int
        Hours to check, a multiple of 24 up to 8,760. Fewer than 8,760 checks that many hours'
        worth of days spread evenly over the year, each hour weighted so that the totals are annual.
    """
    from planner.profiles import seasonal_pue_offset, year_profiles

    if year_hours % HOURS_PER_DAY or not HOURS_PER_DAY <= year_hours <= DAYS_PER_YEAR * HOURS_PER_DAY:
        msg = f"must be a multiple of 24 from 24 to 8760, got {year_hours}. Give whole days."
        raise CheckError(msg,
                         source="--year-hours")
    inputs = plan.inputs
    profiles = year_profiles(inputs.sites, inputs.workloads, plan.scenario.year,
                             plan.scenario.demand.within_year_growth)
    count = year_hours // HOURS_PER_DAY
    chosen = np.unique(np.round(np.linspace(0, DAYS_PER_YEAR - 1, count)).astype(int))
    weight = DAYS_PER_YEAR / chosen.size
    mean_mw = (inputs.demand_mw @ inputs.hours) / inputs.hours.sum()  # (P, K) annual mean load
    green_days, demand_days = profiles.by_day()
    dates = profiles.times[::HOURS_PER_DAY]
    annual_pue = inputs.sites["pue"].to_numpy(float)
    offsets = seasonal_pue_offset(inputs.sites["pue_amplitude"].to_numpy(float), chosen) if (
        "pue_amplitude" in inputs.sites) else np.zeros((annual_pue.size, chosen.size))
    return [
        DayCase(
            label=dates[day].strftime("%Y-%m-%d"),
            hours=np.full(HOURS_PER_DAY, weight),
            demand_mw=mean_mw[:, :, None] * demand_days[None, :, day, :],
            green_mw=_green_mw(plan, green_days[:, day, :]),
            pue=np.repeat((annual_pue + offsets[:, i])[:, None], HOURS_PER_DAY, axis=1),
        )
        for i, day in enumerate(chosen)
    ]


# ---------------------------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------------------------

@dataclass
class CheckReport:
    """What the plan promised and what dispatching the days delivered."""

    report: dict[str, Any]
    days: pd.DataFrame


def check_plan(
    run_dir: Path | str | PlanToCheck,
    year_hours: int = 8760,
    representative: bool = False,
    executor: str = "local",
    workers: int | None = None,
    penalty_cny_per_mwh: float = UNSERVED_PENALTY_CNY_PER_MWH,
    progress=None,
) -> CheckReport:
    """Dispatch the plan in ``run_dir`` day by day and compare with what it promised.

    Parameters
    ----------
    run_dir : path or PlanToCheck
        A run directory written by ``edwc run`` (validated by :func:`load_plan`), or a loaded plan.
    year_hours : int
        Hours of the year to dispatch (multiple of 24; 8,760 = every day).
    representative : bool
        Dispatch the plan's own representative days instead (a consistency check: it reproduces
        the plan's operating cost and emissions).
    executor : {'local', 'dask', 'serial'}
        Where the days run (:func:`planner.parallel.open_executor`).
    workers : int, optional
        Worker processes (default: CPU count).
    penalty_cny_per_mwh : float
        Cost of unserved demand. [CNY/MWh]
    progress : callable, optional
        ``progress(done_days, total_days)`` after each task.

    Returns
    -------
    CheckReport
    """
    start = time.perf_counter()
    results: list[DayResult] = []
    with open_executor(executor, workers) as pool:
        used_workers = pool.workers
        # The workers start (a pool starts them at its first task) while this process reads the plan
        # and solves the first day, whose basis every task then starts from.
        warming = threading.Thread(target=lambda: list(pool.map_unordered(_warm_up, list(range(used_workers)))),
                                   daemon=True)
        warming.start()
        plan = run_dir if isinstance(run_dir, PlanToCheck) else load_plan(run_dir)
        cases = representative_cases(plan) if representative else year_cases(plan, year_hours)
        template = dispatch_template(plan.inputs, plan.capacity_mw, plan.dispatch_carbon_price,
                                     plan.link_capacity_gbps)
        report_price = plan.scenario.carbon.price_cny_per_tco2
        basis = start_basis(template, cases[0], report_price, penalty_cny_per_mwh)
        warming.join()
        runs = np.array_split(np.arange(len(cases)), min(len(cases), TASKS_PER_WORKER * used_workers))
        tasks = [_Task(template, report_price, penalty_cny_per_mwh, [cases[i] for i in run], basis) for run in runs]
        for _, value, exc in pool.map_unordered(dispatch_days, tasks):
            if exc is not None:
                raise exc
            results.extend(value)
            if progress is not None:
                progress(len(results), len(cases))
    order = {case.label: i for i, case in enumerate(cases)}
    results.sort(key=lambda r: order[r.label])
    wall_s = time.perf_counter() - start
    report = _report(plan, results, cases, representative, executor, used_workers, wall_s, penalty_cny_per_mwh)
    return CheckReport(report=report, days=_days_table(results))


def _promised(plan: PlanToCheck) -> dict[str, float]:
    s = plan.summary
    utilisation = plan.sites_table["peak_utilisation"].to_numpy(float)
    return {
        "total_cost_cny": float(s.total_cost_cny),
        "operating_cost_cny": float(s.total_cost_cny - s.capex_cny),
        "capex_cny": float(s.capex_cny),
        "emissions_tco2": float(s.emissions_tco2),
        "it_energy_mwh": float(s.it_energy_mwh),
        "green_mwh": float(s.green_mwh),
        "green_share": float(s.green_share),
        "peak_utilisation": float(utilisation.max(initial=0.0)),
        "unserved_mwh": 0.0,
        "unserved_hours": 0.0,
    }


def _report(plan, results, cases, representative, executor, workers, wall_s, penalty) -> dict[str, Any]:
    inputs = plan.inputs
    capex = float(plan.summary.capex_cny)
    # The plan's new bandwidth is the year's (the days dispatch on fixed links): its cost counts once.
    bandwidth = float(plan.summary.network_capex_cny)
    operating = sum(sum(r.costs_cny.values()) for r in results)
    facility = sum(r.facility_energy_mwh for r in results)
    green = sum(r.green_mwh for r in results)
    capacity = plan.capacity_mw
    site_peak = np.max([r.site_peak_mw for r in results], axis=0) if results else np.zeros(capacity.size)
    utilisation = np.divide(site_peak, capacity, out=np.zeros(capacity.size), where=capacity > 0)
    delivered = {
        "total_cost_cny": capex + bandwidth + operating,
        "operating_cost_cny": operating + bandwidth,
        "capex_cny": capex,
        "emissions_tco2": sum(r.emissions_tco2 for r in results),
        "it_energy_mwh": sum(r.it_energy_mwh for r in results),
        "green_mwh": green,
        "green_share": green / facility if facility else 0.0,
        "peak_utilisation": float(utilisation.max(initial=0.0)),
        "unserved_mwh": sum(r.unserved_mwh for r in results),
        "unserved_hours": sum(r.unserved_hours for r in results),
    }
    for part in COST_PARTS:
        if part != "capex_cny":
            delivered[part] = sum(r.costs_cny.get(part, 0.0) for r in results)
    delivered["network_cost_cny"] = delivered.get("network_cost_cny", 0.0) + bandwidth
    promised = _promised(plan)
    difference = {
        key: {
            "absolute": delivered[key] - promised[key],
            "relative": (delivered[key] - promised[key]) / abs(promised[key]) if promised[key] else None,
        }
        for key in promised
    }
    unserved_mwh = np.sum([r.unserved_by_pair_mwh for r in results], axis=0)
    unserved_hours = np.sum([r.unserved_hours_by_pair for r in results], axis=0)
    shortfalls = [
        {
            "province": str(inputs.provinces["province"].iloc[p]),
            "workload": str(inputs.workloads["workload"].iloc[k]),
            "unserved_mwh": float(unserved_mwh[p, k]),
            "unserved_hours": float(unserved_hours[p, k]),
        }
        for p, k in zip(*np.nonzero(unserved_mwh > 0), strict=True)
    ]
    shortfalls.sort(key=lambda row: -row["unserved_mwh"])
    hours_checked = float(sum(case.hours.size for case in cases))
    sites = [
        {
            "site": str(site),
            "capacity_mw": float(capacity[i]),
            "peak_load_mw": float(site_peak[i]),
            "peak_utilisation": float(utilisation[i]),
            "planned_utilisation": float(plan.sites_table.set_index("site").loc[site, "peak_utilisation"]),
        }
        for i, site in enumerate(inputs.sites["site"])
    ]
    return {
        "scenario": plan.scenario.name,
        "run_dir": str(plan.run_dir),
        "mode": "representative" if representative else "year",
        "year": plan.scenario.year,
        "days_checked": len(cases),
        "slices_checked": hours_checked,
        "annualised": (not representative) and len(cases) < 365,
        "dispatch_carbon_price_cny_per_tco2": plan.dispatch_carbon_price,
        "carbon_shadow_price_cny_per_tco2": plan.carbon_shadow_price,
        "unserved_penalty_cny_per_mwh": penalty,
        "executor": executor,
        "workers": workers,
        "wall_s": wall_s,
        "solve_s": sum(r.solve_s for r in results),
        "promised": promised,
        "delivered": delivered,
        "difference": difference,
        "shortfalls": shortfalls,
        "sites": sites,
    }


def _days_table(results: list[DayResult]) -> pd.DataFrame:
    return pd.DataFrame({
        "day": [r.label for r in results],
        "operating_cost_cny": [sum(r.costs_cny.values()) for r in results],
        "emissions_tco2": [r.emissions_tco2 for r in results],
        "it_energy_mwh": [r.it_energy_mwh for r in results],
        "green_mwh": [r.green_mwh for r in results],
        "green_share": [r.green_mwh / r.facility_energy_mwh if r.facility_energy_mwh else 0.0 for r in results],
        "unserved_mwh": [r.unserved_mwh for r in results],
        "unserved_hours": [r.unserved_hours for r in results],
        "solve_s": [r.solve_s for r in results],
    })


def write_check(report: CheckReport, run_dir: Path | str) -> list[Path]:
    """Write ``check.json`` and ``check_days.csv`` into the run directory (only one the tool wrote), each atomically."""
    run_dir = require_owned(run_dir, ("run",))
    days = run_dir / "check_days.csv"
    summary = run_dir / "check.json"
    write_text_atomic(days, report.days.to_csv(index=False))
    write_text_atomic(summary, json.dumps(report.report, indent=2, ensure_ascii=False, default=float) + "\n")
    return [summary, days]
