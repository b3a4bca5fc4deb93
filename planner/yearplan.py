"""A scenario planned against every hour of its year (``edwc run --year``): decomposition on the local pool or Dask.

The scenario's own representative days give the first capacities; then the year's 365 days of 24
hours, from the hourly profiles (:mod:`planner.profiles`), decide them, each day its own LP in a
worker (:func:`optimizer.decompose.plan_year`), to the gap asked for. The run directory holds the
scenario as given (so ``edwc check`` dispatches the plan over the same year), the tables by month
(:mod:`optimizer.yeartables`), and the bounds and iterations in ``metadata.json`` under
``year_plan``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from edwc_data.units import DAYS_PER_YEAR, HOURS_PER_DAY

from optimizer.decompose import DEFAULT_GAP, YearPlanRefused, first_stage_values, plan_year, year_structure
from optimizer.inputs import PlanInputs
from optimizer.results import Results
from optimizer.status import PlanNotSolved
from optimizer.yeartables import year_tables
from planner.parallel import open_executor
from planner.preprocess import build_inputs
from planner.run import results_from_plan
from planner.scenario import Scenario, ScenarioError, resolve_scenario


def year_scenario(scenario: Scenario) -> Scenario:
    """The scenario on every day of its year: 365 clustered days (each day itself) of 24 hourly slices."""
    document = scenario.to_dict()
    document["time"] = {**document["time"], "representative": "clustered", "days": DAYS_PER_YEAR,
                        "hours_per_day": HOURS_PER_DAY}
    return resolve_scenario(document, (), name=scenario.name)


def month_labels(scenario: Scenario) -> list[str]:
    """Month ('2025-01') of each day of the scenario's year."""
    from planner.profiles import year_hours

    return [stamp.strftime("%Y-%m") for stamp in year_hours(scenario.year)[::HOURS_PER_DAY]]


def _start(scenario: Scenario, structure) -> object:
    # The scenario's own (representative) plan: a good first point, cheap to find. A scenario whose
    # representative days have no plan starts from the build limits instead.
    try:
        return first_stage_values(build_inputs(scenario), structure)
    except PlanNotSolved:
        return None


def plan_scenario_year(
    scenario: Scenario,
    gap: float = DEFAULT_GAP,
    executor: str = "local",
    workers: int | None = None,
    inputs: PlanInputs | None = None,
    groups: list[str] | None = None,
    progress: Callable[[dict], None] | None = None,
) -> Results:
    """Plan ``scenario`` against every hour of its year, verified day by day.

    Parameters
    ----------
    scenario : Scenario
        A validated single-year scenario.
    gap : float
        Relative gap between the bounds at which the decomposition stops. [-]
    executor, workers
        Where the days are solved (:func:`planner.parallel.open_executor`).
    inputs : PlanInputs, optional
        The days to plan on (default: the scenario's year, :func:`year_scenario`); tests pass a
        reduced year. ``groups`` labels each day's table period (default: months, or each day).
    progress : callable, optional
        ``progress(row)`` after each iteration (bounds, gap, seconds).

    Raises
    ------
    ScenarioError
        A pathway scenario, or a constraint the year plan does not split (one line).
    PlanInfeasible, PlanNotSolved
        As :func:`optimizer.decompose.plan_year`.
    """
    start = time.perf_counter()
    if scenario.horizon.end_year is not None:
        where = f"scenario '{scenario.name}'"
        msg = (f"is {scenario.horizon.end_year}: a year plan is of one year, not a pathway. "
               "Plan it without --year, or set horizon.end_year=null.")
        raise ScenarioError(msg, source=where, field="horizon.end_year")
    if inputs is None:
        inputs = build_inputs(year_scenario(scenario))
        groups = month_labels(scenario)
    inputs_s = time.perf_counter() - start
    try:
        structure = year_structure(inputs)
    except YearPlanRefused as exc:
        where = f"scenario '{scenario.name}'"
        raise ScenarioError(str(exc).split(" | ", 1)[-1], source=where) from None
    first = _start(scenario, structure)
    with open_executor(executor, workers) as pool:

        def run_tasks(function, tasks):
            results = [None] * len(tasks)
            position = {id(task): i for i, task in enumerate(tasks)}
            for task, value, exc in pool.map_unordered(function, tasks):
                if exc is not None:
                    raise exc
                results[position[id(task)]] = value
            return results

        plan = plan_year(inputs, run_tasks, workers=pool.workers, gap=gap, start=first,
                         tolerance=scenario.solver.tolerance, time_limit_s=scenario.solver.time_limit_s,
                         progress=progress)
        used = pool.workers
    optimised = year_tables(inputs, plan, groups, tolerance=max(scenario.solver.tolerance, 1e-9))
    optimised.metadata["year_plan"].update(executor=executor, workers=used)
    results = results_from_plan(scenario, optimised)
    results.metadata["timings_s"] = {"inputs_s": inputs_s, **results.metadata["timings_s"],
                                     "total_s": time.perf_counter() - start}
    return results
