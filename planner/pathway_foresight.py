"""Perfect-foresight pathways (``horizon.mode: foresight``): every planned year in one LP, read back as a Pathway.

The stacked LP is :mod:`optimizer.foresight`'s; here each planned year's inputs are built the way
the myopic pathway builds them (:func:`planner.pathway.year_scenario`), its size is checked before
anything is built, and the solved years are recorded in the same tables as a myopic pathway, so
growth, files and the app read both alike. :func:`compare_with_myopic` sets the two side by side.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from optimizer.foresight import ForesightYear, foresight_size, optimise_foresight
from optimizer.results import Results
from optimizer.size import BYTES_PER_GB, memory_budget_bytes
from optimizer.status import PlanInfeasible, PlanNotSolved
from planner.errors import PlanTooLarge
from planner.pathway import (
    PATHWAY_CAPACITY_FIX,
    Pathway,
    _capex_per_mw,
    _check_baseline,
    assemble_pathway,
    build_limit_factor,
    check_pathway_capacity,
    planned_years,
    record_year,
    run_pathway,
    year_scenario,
)
from planner.preprocess import build_inputs
from planner.run import results_from_plan
from planner.scenario import Scenario, ScenarioError
from planner.sizing import estimate_plan_size

__all__ = ["compare_with_myopic", "plan_pathway", "run_foresight"]


def _year_scenarios(scenario: Scenario) -> tuple[list[int], pd.DataFrame, dict, dict, dict]:
    """Planned years, the first year's sites, and per year its scenario, build limit and fit-out pace."""
    years = planned_years(scenario)
    first = build_inputs(scenario)
    base = first.sites.set_index("site")
    shares = first.workloads.set_index("workload")["share"].astype(float)
    existing0, max_new0 = base["existing_mw"].astype(float), base["max_new_mw"].astype(float)
    lifetime = scenario.costs.lifetime_years
    fitout_share = scenario.policy.fitout_max_share
    derived, limits, pace = {}, {}, {}
    previous = years[0] - 1
    for year in years:
        limits[year] = max_new0 * build_limit_factor(scenario, previous, year)
        # The n columns of a year are the new build standing in it: at most every standing vintage's limit.
        standing = sum((limits[v] for v in limits if year - v < lifetime), existing0 * 0.0)
        # Every vacant rack may be fitted out in the block; the pace rows hold the yearly limit.
        derived[year] = year_scenario(scenario, year, existing0, standing, shares, None, 1.0)
        pace[year] = None if fitout_share is None else min(1.0, fitout_share * (year - previous))
        previous = year
    return years, base, derived, limits, pace


def _check_size(scenario: Scenario, derived: dict[int, Scenario], new_sites: int, fitout_sites: int,
                cap_bytes: int | None = None):
    """Refuse a foresight LP beyond the memory budget, before building it; return its estimated size."""
    size = foresight_size([estimate_plan_size(s) for s in derived.values()], new_sites, fitout_sites,
                          scenario.costs.lifetime_years, scenario.solver.backend)
    budget = memory_budget_bytes(scenario.solver.memory_budget_gb)
    if cap_bytes is not None and (budget is None or cap_bytes < budget):
        budget = cap_bytes  # a ceiling the scenario's own budget cannot raise (the app's workers)
    if budget is not None and size.memory_bytes > budget:
        msg = (f"the foresight LP over {len(derived)} planned years is {size.describe()}, over the budget of "
               f"{budget / BYTES_PER_GB:,.3g} GB. Plan fewer years (a larger horizon.step_years or an earlier "
               "horizon.end_year), fewer time slices (time.days, time.hours_per_day), horizon.mode: myopic, "
               "or raise solver.memory_budget_gb on a machine that has the memory.")
        raise PlanTooLarge(msg, source=f"scenario '{scenario.name}'", field="horizon.mode")
    return size


def run_foresight(scenario: Scenario, progress: Callable[[int, Results], None] | None = None,
                  cap_bytes: int | None = None) -> Pathway:
    """Plan every year of a pathway in one LP (perfect foresight) and simulate its growth.

    The first year's existing capacity never retires within the horizon; capacity built in
    planned year v stands while t − v < ``costs.lifetime_years``; each planned year builds within
    the myopic pathway's limit (:func:`planner.pathway.build_limit_factor`). Costs are discounted at
    ``horizon.discount_rate``; ``horizon.salvage`` says how capex is charged (docs/pathway.md).
    ``cap_bytes`` is a memory ceiling the scenario's budget cannot raise (the app's workers). [bytes]

    Returns
    -------
    Pathway
        ``mode`` 'foresight'; ``solve`` the LP's size, timings and trust figures.

    Raises
    ------
    optimizer.status.PlanInfeasible
        Before solving (:func:`planner.pathway.check_pathway_capacity`) or from the solver, with the fix.
    optimizer.status.PlanNotSolved
        No proven optimum, or a check of the solution failed.
    planner.errors.PlanTooLarge
        The stacked LP is over the memory budget.
    planner.scenario.ScenarioError
        The scenario has ``futures`` (a stochastic plan): foresight plans one future.
    """
    start = time.perf_counter()
    _check_baseline(scenario)
    if scenario.futures is not None:  # one LP per future per year is not built here
        msg = ("a foresight pathway plans one future: remove futures, or plan the pathway with "
               "horizon.mode: myopic (a stochastic plan each year)")
        raise ScenarioError(msg, source=f"scenario '{scenario.name}'", field="horizon.mode")
    check_pathway_capacity(scenario)
    years, base, derived, limits, pace = _year_scenarios(scenario)
    inputs = {year: build_inputs(s) for year, s in derived.items()}
    order = inputs[years[0]].sites["site"]
    for year in years[1:]:  # the stacked LP pairs sites by position
        if not inputs[year].sites["site"].equals(order):
            msg = f"pathway year {year} lists its sites in another order than {years[0]}"
            raise ValueError(msg)
    existing0 = inputs[years[0]].sites["existing_mw"].to_numpy(float)
    vacant = inputs[years[0]].fitout_max_mw
    estimate = _check_size(scenario, derived, int((limits[years[0]] > 0).sum()), int((vacant > 1e-9).sum()),
                           cap_bytes)
    capex = _capex_per_mw(scenario, base["kind"]).reindex(order).to_numpy()
    plan_years = [ForesightYear(year, previous + 1 if i else year, inputs[year],
                                limits[year].reindex(order).to_numpy(), pace[year])
                  for i, (previous, year) in enumerate(zip([years[0] - 1, *years[:-1]], years, strict=True))]
    solver = scenario.solver
    try:
        plan = optimise_foresight(plan_years, existing0, scenario.costs.lifetime_years, scenario.horizon.salvage,
                                  capex, capex * scenario.costs.fitout_capex_factor,
                                  scenario.horizon.discount_rate, solver.backend, solver.time_limit_s,
                                  solver.tolerance)
    except PlanInfeasible as exc:
        msg = (f"scenario '{scenario.name}', foresight pathway {years[0]}–{years[-1]} | infeasible: no plan "
               f"meets every year's demand within the build and fit-out limits. To fix: {PATHWAY_CAPACITY_FIX}")
        raise PlanInfeasible(msg, diagnosis=exc.diagnosis) from None
    except PlanNotSolved as exc:
        msg = f"scenario '{scenario.name}', foresight pathway {years[0]}–{years[-1]} | {exc.status}: {exc}"
        raise type(exc)(msg, status=exc.status, diagnosis=exc.diagnosis) from None

    index = pd.Index(order, name="site")
    investments: dict[int, pd.Series] = {}
    results, site_rows, rows = {}, [], []
    previous_fitout, standing_before = pd.Series(0.0, index), pd.Series(existing0, index)
    for year in years:
        built = pd.Series(plan.built_mw[year], index).clip(lower=0.0)
        carried = sum((pd.Series(plan.built_mw[v], index).clip(lower=0.0) for v in years
                       if v < year and year - v < scenario.costs.lifetime_years), pd.Series(0.0, index))
        existing = pd.Series(existing0, index) + carried
        fitted_out = pd.Series(plan.fitted_out_mw[year], index)
        fitout = (fitted_out - previous_fitout).clip(lower=0.0)
        res = results_from_plan(derived[year], plan.plans[year])
        # As a myopic year's: existing includes earlier builds, new and fit-out are the year's own.
        sites = res.sites.set_index("site")
        sites["existing_mw"], sites["new_mw"], sites["fitout_mw"] = existing, built, fitout
        res = dataclasses.replace(res, sites=sites.reset_index())
        frame, row = record_year(scenario, year, res, existing, built, fitout,
                                 (standing_before - existing).clip(lower=0.0), limits[year].reindex(order),
                                 investments, annual_cost_cny=plan.annual_cost_cny[year])
        # Its headline cost is the year's own plan, as a myopic year's: operations and the annuity of
        # its own build and fit-outs; the table's carried_capex_annual_cny holds the earlier ones.
        own = row["total_cost_cny"] - row["operating_cost_cny"]
        west, hub = (frame["hub_class"] == "west").to_numpy(), (frame["kind"] == "cluster").to_numpy()
        res = dataclasses.replace(res, summary=dataclasses.replace(
            res.summary, total_cost_cny=row["total_cost_cny"], capex_cny=own,
            new_capacity_mw=float(built.sum()), new_capacity_west_mw=float(built[west].sum()),
            new_capacity_hub_mw=float(built[hub].sum()), fitout_mw=float(fitout.sum()),
            compute_capex_cny=row["compute_capex_cny"],
            compute_capex_west_cny=float(frame.loc[west, "capex_cny"].sum())))
        site_rows.append(frame)
        rows.append(row)
        results[year] = res
        previous_fitout, standing_before = fitted_out, existing + built
        if progress is not None:
            progress(year, res)
    solve = {**plan.metadata, "estimate": {"columns": estimate.columns, "rows": estimate.rows,
                                           "nonzeros": estimate.nonzeros, "memory_bytes": estimate.memory_bytes},
             "discounted_cost_cny": plan.objective_cny}
    return assemble_pathway(scenario, years, results, rows, site_rows, "none",
                            {years[-1]: time.perf_counter() - start}, "foresight", solve)


def plan_pathway(scenario: Scenario, progress: Callable[[int, Results], None] | None = None,
                 compare: bool = True, cap_bytes: int | None = None) -> Pathway:
    """The pathway of ``horizon.mode``; a foresight one carries the myopic comparison (``compare``).

    The myopic run of the same inputs is cheap beside the foresight LP; its cost, capacity by
    year and the difference go to ``pathway.solve['myopic']`` (:func:`compare_with_myopic`), or
    the reason it fails.
    """
    if scenario.horizon.mode != "foresight":
        return run_pathway(scenario, progress=progress)
    pathway = run_foresight(scenario, progress, cap_bytes)
    if compare:
        try:
            myopic = run_pathway(scenario)
        except PlanNotSolved as exc:  # a pathway only foresight can plan
            pathway.solve["myopic"] = {"status": str(exc.status), "message": str(exc)}
        else:
            pathway.solve["myopic"] = compare_with_myopic(myopic, pathway)
    return pathway


def compare_with_myopic(myopic: Pathway, foresight: Pathway) -> dict:
    """Discounted cost and capacity by year of two pathways of the same scenario, and the differences.

    Both costs are evaluated alike (:func:`optimizer.foresight.discounted_cost`, at
    ``horizon.discount_rate`` with ``horizon.salvage``), so the difference is what foresight saves.

    Returns
    -------
    dict
        ``status`` 'optimal', ``discounted_cost_cny`` of each and ``saving_cny`` (myopic −
        foresight) [CNY], and ``by_year``: a list of rows (year, capacity, new build and full annual
        cost of each mode) [MW, CNY/yr].
    """
    a, b = myopic.table.set_index("year"), foresight.table.set_index("year")
    by_year = pd.DataFrame({
        "year": a.index,
        "capacity_myopic_mw": a["capacity_mw"].to_numpy(), "capacity_foresight_mw": b["capacity_mw"].to_numpy(),
        "new_myopic_mw": a["new_mw"].to_numpy(), "new_foresight_mw": b["new_mw"].to_numpy(),
        "annual_cost_myopic_cny": a["annual_cost_cny"].to_numpy(),
        "annual_cost_foresight_cny": b["annual_cost_cny"].to_numpy(),
    })
    cost_myopic = float(a["discounted_cost_cny"].sum())
    cost_foresight = float(b["discounted_cost_cny"].sum())
    return {
        "status": "optimal",
        "discounted_cost_myopic_cny": cost_myopic,
        "discounted_cost_foresight_cny": cost_foresight,
        "saving_cny": cost_myopic - cost_foresight,
        "saving_share": (cost_myopic - cost_foresight) / cost_myopic if cost_myopic else float(np.nan),
        "by_year": by_year.to_dict(orient="records"),
    }
