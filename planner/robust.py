"""Two-stage stochastic plans of a scenario with futures: the plan, cost per future, VSS and EVPI, its run directory.

A scenario's ``futures`` (:class:`planner.scenario.FutureSpec`, or a sample from a study's
distributions) become one scenario each; their inputs go into one stochastic LP
(:func:`optimizer.stochastic.solve_stochastic`) whose new capacity is shared. Around it:

- the **mean-future plan**: every edited key at its probability-weighted mean, planned alone; its
  year decisions fixed and evaluated on every future, demand it cannot serve priced as the year
  check prices it (:data:`planner.yearcheck.UNSERVED_PENALTY_CNY_PER_MWH`). VSS is that plan's
  objective minus the stochastic optimum;
- **perfect information**: each future planned alone. EVPI is the stochastic optimum minus the
  probability-weighted (risk-measured) optima.

With ``risk``, "objective" is (1 − ω)·E[cost] + ω·CVaR_α throughout; without, the expected cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.results import Results
from optimizer.size import BYTES_PER_GB, DEFAULT_BUDGET_SHARE, LPSize, memory_budget_bytes
from optimizer.stochastic import (
    Future,
    Risk,
    StochasticRefused,
    futures_within,
    risk_measure,
    solve_stochastic,
    stacked_size,
    value_figures,
)
from planner.errors import PlanTooLarge, ScenarioError
from planner.preprocess import build_inputs
from planner.rundir import write_run
from planner.safe_yaml import shown_key, shown_value
from planner.scenario import Scenario, resolve_scenario, set_dotted
from planner.sizing import estimate_plan_size

#: Columns of ``futures.csv``; costs annual [CNY/yr], energy [MWh/yr].
FUTURE_COLUMNS = ["future", "probability", "cost_cny", "mean_plan_cost_cny", "mean_plan_unserved_mwh",
                  "perfect_cost_cny", "new_capacity_mw"]


@dataclass
class FutureCase:
    """One future: its name, probability [-], edits (dotted key -> value) and resolved scenario."""

    name: str
    probability: float
    edits: dict[str, Any]
    scenario: Scenario


@dataclass
class RobustPlan:
    """A verified stochastic plan and its figures.

    Attributes
    ----------
    results : Results
        The run as written: the plan in the most probable future (its tables and summary), with
        ``summary.stochastic`` holding the figures below and the futures.
    futures : pandas.DataFrame
        One row per future, columns ``FUTURE_COLUMNS``.
    """

    results: Results
    futures: pd.DataFrame
    objective_cny: float
    expected_cost_cny: float
    cvar_cny: float | None
    vss_cny: float
    evpi_cny: float


def _base_document(scenario: Scenario) -> dict[str, Any]:
    document = scenario.to_dict()
    document.pop("futures", None)
    document.pop("risk", None)
    return document


def future_cases(scenario: Scenario, source: str | None = None) -> list[FutureCase]:
    """The futures of ``scenario``, each resolved and validated.

    Raises
    ------
    ScenarioError
        No futures, or a future's edit the schema refuses (field ``futures.<i>.set.<key>``).
    """
    source = source or f"scenario '{scenario.name}'"
    futures = scenario.futures
    if futures is None:
        msg = "the scenario lists no futures. Add a futures section (docs/robust.md)."
        raise ScenarioError(msg, source=source, field="futures")
    if isinstance(futures, list):
        listed = [(future.name, future.probability, dict(future.set)) for future in futures]
    else:
        listed = _sampled(scenario, futures, source)
    if scenario.horizon.end_year is not None:
        msg = "a stochastic plan plans one year; it cannot have horizon.end_year. Set horizon.end_year to null."
        raise ScenarioError(msg, source=source, field="futures")
    cases = []
    for i, (name, probability, edits) in enumerate(listed):
        nested = [key for key in edits if key.split(".")[0] in ("futures", "risk", "horizon", "name")]
        if nested:
            msg = (f"future '{name}' edits {shown_key(nested[0])}; a future edits its plan's inputs only. "
                   "Remove the key.")
            raise ScenarioError(msg, source=source, field=f"futures.{i}.set.{shown_key(nested[0])}")
        document = _base_document(scenario)
        for key, value in edits.items():
            set_dotted(document, key, value)
        try:
            resolved = resolve_scenario(document, (), name=scenario.name, source=source)
        except ScenarioError as exc:
            field = f"futures.{i}.set.{exc.field}" if exc.field in edits else f"futures.{i}.set"
            msg = f"future '{name}': {exc.message}"
            raise ScenarioError(msg, source=source, field=field) from None
        cases.append(FutureCase(name, probability, edits, resolved))
    return cases


def _sampled(scenario: Scenario, sample, source: str) -> list[tuple[str, float, dict[str, Any]]]:
    """Futures drawn from a study's distributions (its factors scale this scenario's values)."""
    from planner.studies.design import design_runs, factor_base_values, load_base, scenario_values
    from planner.studies.spec import load_study

    try:
        study = load_study(sample.study)
    except ScenarioError as exc:
        msg = f"{exc}. Name a study file or a shipped study such as monte-carlo."
        raise ScenarioError(msg, source=source, field="futures.study") from None
    distributions = study.spec.distributions or {}
    if not distributions:
        msg = (f"the study {shown_value(sample.study)} has no distributions to draw futures from. "
               "Name a Monte Carlo study.")
        raise ScenarioError(msg, source=source, field="futures.study")
    base = load_base(_base_document(scenario))
    base_values = factor_base_values(base, study.spec.factors)
    runs = design_runs(samples=sample.sample, distributions=distributions, seed=sample.seed)
    return [(f"sample {run.sample + 1}", 1.0 / sample.sample, scenario_values(run.values, study.spec.factors,
                                                                              base_values)) for run in runs]


def mean_future(scenario: Scenario, cases: list[FutureCase], source: str | None = None) -> Scenario:
    """The scenario with every key a future edits at its probability-weighted mean (the base value where unedited).

    Raises
    ------
    ScenarioError
        A future edits a key that is not a number (the mean future then does not exist).
    """
    from planner.studies.design import factor_base_values, load_base

    source = source or f"scenario '{scenario.name}'"
    document = _base_document(scenario)
    keys = list(dict.fromkeys(key for case in cases for key in case.edits))
    try:
        base_values = factor_base_values(load_base(document), {key: [key] for key in keys})
    except ValueError as exc:
        msg = f"the mean future needs numeric edits: {exc}. Vary numbers in the futures' set."
        raise ScenarioError(msg, source=source, field="futures") from None
    for key in keys:
        values = [case.edits.get(key, base_values[key]) for case in cases]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            msg = (f"the mean future needs numeric edits, but {shown_key(key)} is given {shown_value(values)}. "
                   "Vary numbers in the futures' set.")
            raise ScenarioError(msg, source=source, field="futures")
        set_dotted(document, key, float(sum(case.probability * v for case, v in zip(cases, values, strict=True))))
    return resolve_scenario(document, (), name=scenario.name, source=source)


def check_robust_size(scenario: Scenario, cases: list[FutureCase], source: str | None = None) -> LPSize:
    """Refuse a stochastic plan whose LP would not fit in the memory budget, before anything is built.

    Raises
    ------
    PlanTooLarge
        One line: the size, the budget and how many futures of this size fit.
    """
    per_future = max((estimate_plan_size(case.scenario) for case in cases), key=lambda size: size.memory_bytes)
    size = stacked_size(per_future, len(cases), scenario.risk is not None)
    budget = memory_budget_bytes(scenario.solver.memory_budget_gb)
    if budget is None or size.memory_bytes <= budget:
        return size
    what = (f"solver.memory_budget_gb = {scenario.solver.memory_budget_gb:g}" if scenario.solver.memory_budget_gb
            else f"{DEFAULT_BUDGET_SHARE:.0%} of this machine's available memory")
    fit = futures_within(per_future, budget, scenario.risk is not None)
    msg = (f"{len(cases)} futures give a stochastic LP of {size.describe()}, over the budget of "
           f"{budget / BYTES_PER_GB:,.3g} GB ({what}); {fit} futures of this size fit. List fewer futures, "
           "plan on fewer time slices, or raise solver.memory_budget_gb on a machine that has the memory.")
    raise PlanTooLarge(msg, source=source or f"scenario '{scenario.name}'", field="futures")


def plan_robust(scenario: Scenario, source: str | None = None, penalty_cny_per_mwh: float | None = None) -> RobustPlan:
    """Solve the stochastic plan of a scenario with futures and its VSS and EVPI, every solve verified.

    Parameters
    ----------
    scenario : Scenario
        With ``futures`` (and optionally ``risk``).
    penalty_cny_per_mwh : float, optional
        Price of demand the mean-future plan leaves unserved in a future (default: the year check's). [CNY/MWh]

    Raises
    ------
    ScenarioError, PlanTooLarge
        Bad futures, or an LP over the memory budget.
    optimizer.status.PlanInfeasible, optimizer.status.PlanNotSolved
        As a plan's solve.
    """
    from planner.run import results_from_plan
    from planner.yearcheck import UNSERVED_PENALTY_CNY_PER_MWH

    start = time.perf_counter()
    penalty = UNSERVED_PENALTY_CNY_PER_MWH if penalty_cny_per_mwh is None else penalty_cny_per_mwh
    cases = future_cases(scenario, source)
    mean = mean_future(scenario, cases, source)
    size = check_robust_size(scenario, cases, source)
    futures = [Future(case.name, case.probability, build_inputs(case.scenario)) for case in cases]
    risk = None if scenario.risk is None else Risk(scenario.risk.cvar_alpha, scenario.risk.cvar_weight)
    solver = scenario.solver
    settings = {"backend": solver.backend, "time_limit_s": solver.time_limit_s, "tolerance": solver.tolerance}
    inputs_s = time.perf_counter() - start
    try:
        stochastic = solve_stochastic(futures, risk, **settings)
    except StochasticRefused as exc:
        raise ScenarioError(str(exc).removeprefix("stochastic plan | "), source=source or f"scenario '{scenario.name}'",
                            field="futures") from None
    stochastic_s = time.perf_counter() - start - inputs_s
    values = value_figures(futures, build_inputs(mean), stochastic, risk, penalty, **settings)
    probabilities = [case.probability for case in cases]
    expected, cvar = risk_measure(stochastic.costs_cny, probabilities, None)[0], stochastic.metadata.get("cvar_cny")
    table = pd.DataFrame({
        "future": [case.name for case in cases],
        "probability": probabilities,
        "cost_cny": stochastic.costs_cny,
        "mean_plan_cost_cny": values.mean_plan_costs_cny,
        "mean_plan_unserved_mwh": values.mean_plan_unserved_mwh,
        "perfect_cost_cny": values.perfect_costs_cny,
        "new_capacity_mw": [plan.summary.new_capacity_mw for plan in stochastic.plans],
    }, columns=FUTURE_COLUMNS)
    shown = max(range(len(cases)), key=lambda k: (cases[k].probability, -k))
    figures = {
        "objective_cny": stochastic.objective_cny,
        "expected_cost_cny": expected,
        "cvar_cny": cvar,
        "cvar_alpha": None if risk is None else risk.alpha,
        "cvar_weight": None if risk is None else risk.weight,
        "vss_cny": values.vss_cny,
        "evpi_cny": values.evpi_cny,
        "mean_plan_objective_cny": values.mean_plan_objective_cny,
        "perfect_objective_cny": values.perfect_objective_cny,
        "shown_future": cases[shown].name,
        "futures": table.to_dict(orient="records"),
    }
    plan = stochastic.plans[shown]
    results = results_from_plan(scenario, plan)
    results.summary = replace(results.summary, stochastic=figures)
    results.metadata["stochastic"] = {key: value for key, value in stochastic.metadata.items() if key != "timings_s"}
    results.metadata["stochastic"]["estimated"] = {"columns": size.columns, "rows": size.rows,
                                                   "nonzeros": size.nonzeros, "memory_bytes": size.memory_bytes}
    results.metadata["max_violation"] = stochastic.metadata["max_violation"]
    results.metadata["timings_s"] = {"inputs_s": inputs_s, **stochastic.metadata["timings_s"],
                                     "stochastic_s": stochastic_s, "total_s": time.perf_counter() - start}
    return RobustPlan(results, table, stochastic.objective_cny, expected, cvar, figures["vss_cny"],
                      figures["evpi_cny"])


def write_robust(plan: RobustPlan, out_dir: Path | str, extras=None) -> Path:
    """Write the run directory of a stochastic plan (:func:`planner.rundir.write_run` adds ``futures.csv``)."""
    return write_run(plan.results, out_dir, extras=extras)
