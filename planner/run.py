"""Solve a scenario end to end: scenario → inputs → optimiser → verified Results (assembled only here)."""

from __future__ import annotations

import dataclasses
import platform
import time
from importlib.metadata import PackageNotFoundError, version

from optimizer.plan import OptimisedPlan, optimise
from optimizer.results import Results
from planner.preprocess import build_inputs
from planner.scenario import Scenario
from planner.sizing import check_plan_size


def package_version() -> str:
    """Installed version of edwc-planner ('unknown' when run from a bare source tree)."""
    try:
        return version("edwc-planner")
    except PackageNotFoundError:
        return "unknown"


def run_scenario(scenario: Scenario, options: dict | None = None) -> Results:
    """Find, verify and tabulate the least-cost plan of a scenario.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (:func:`planner.scenario.load_scenario`).
    options : dict, optional
        Extra HiGHS options.

    Returns
    -------
    Results

    Raises
    ------
    optimizer.solve.PlanInfeasible
        No plan exists; the message says which demand or limit fails and by how much.
    optimizer.solve.PlanNotSolved
        The solver proved no optimum, or its answer failed the residual check.
    planner.errors.PlanTooLarge
        The LP would not fit in the memory budget (:func:`planner.sizing.check_plan_size`).

    A scenario with ``futures`` is one stochastic plan (:func:`planner.robust.plan_robust`): its
    Results are the plan in its most probable future, ``summary.stochastic`` the futures' figures.
    """
    if scenario.futures is not None:
        from planner.robust import plan_robust

        return plan_robust(scenario).results
    start = time.perf_counter()
    check_plan_size(scenario)  # refuse what the machine cannot hold before building anything
    inputs = build_inputs(scenario)
    inputs_s = time.perf_counter() - start
    plan = optimise(
        inputs,
        backend=scenario.solver.backend,
        time_limit_s=scenario.solver.time_limit_s,
        tolerance=scenario.solver.tolerance,
        options=options,
    )
    results = results_from_plan(scenario, plan)
    results.metadata["timings_s"] = {
        "inputs_s": inputs_s, **results.metadata["timings_s"], "total_s": time.perf_counter() - start
    }
    return results


def results_from_plan(scenario: Scenario, plan: OptimisedPlan) -> Results:
    """The Results of a verified plan of ``scenario``: its tables, its named summary and its provenance."""
    metadata = {
        "scenario": scenario.name,
        "input_hash": scenario.input_hash(),
        "package": "edwc-planner",
        "package_version": package_version(),
        "python": platform.python_version(),
        **plan.metadata,
    }
    summary = dataclasses.replace(plan.summary, scenario=scenario.name)
    return Results(scenario.to_dict(), plan.flows, plan.sites, plan.provinces, summary, metadata, plan.links)
