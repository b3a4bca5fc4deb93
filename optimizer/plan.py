"""Optimise one plan, and the one path by which any solution becomes a plan: verify it, then tabulate it.

Cold solves (:func:`optimise`), warm re-solves (:mod:`optimizer.warm`) and day dispatches
(:mod:`optimizer.dispatch`) all pass their solution through :func:`verify_solution` before they
report anything: constraint residuals recomputed from the plan quantities, the cost recomputed
from them against the solver's objective, and strong duality.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from optimizer.diagnose import diagnose_infeasible, explain_conflicts, precheck_conflicts
from optimizer.extract import PlanQuantities, build_tables, cost_components, extract_quantities
from optimizer.formulation import build_lp
from optimizer.index import PlanIndex
from optimizer.inputs import PlanInputs
from optimizer.lp import LinearProgram
from optimizer.network import link_table
from optimizer.results import COST_PARTS, Summary
from optimizer.solve import Solution, solve_lp, solver_versions
from optimizer.status import PlanInfeasible, PlanNotSolved, PlanStatus
from optimizer.verify import constraint_violations

#: Merge demand rows the plan cannot tell apart before solving (:mod:`optimizer.aggregate`). Off:
#: exact, but on the shipped scenarios it removes under 1 % of the columns and HiGHS's presolve
#: already takes out most of those, so the solve is no faster (benchmarks/README.md, "Smaller LPs").
AGGREGATE_BY_DEFAULT = False

#: The tolerance of the objective and duality checks is relative to the objective, but never to
#: less than this many CNY: a plan that costs nothing cannot be checked to a fraction of nothing. [CNY]
OBJECTIVE_FLOOR_CNY = 1.0


@dataclass
class OptimisedPlan:
    """Tables and facts of one verified optimum (no solver objects)."""

    flows: object
    sites: object
    provinces: object
    summary: Summary
    metadata: dict = field(default_factory=dict)
    links: object = None


def accept_solution(solution: Solution, recomputed_cost: float, violations: dict[str, float], tolerance: float) -> dict:
    """Refuse a solution that is not a proven, correctly extracted optimum; return its trust figures.

    Checks that every constraint family holds within ``tolerance`` (relative), that the cost
    recomputed from the plan quantities equals the solver's objective, and that the dual objective
    equals the primal one (strong duality), each NaN-safe.

    Raises
    ------
    PlanNotSolved
        With status 'residual', naming what failed and by how much.
    """
    # A NaN residual proves nothing: count it as the worst.
    worst_family = max(violations, key=lambda f: math.inf if math.isnan(violations[f]) else violations[f])
    worst = violations[worst_family]
    if not worst <= tolerance:
        msg = (
            f"the solver's solution violates the {worst_family} constraints by {worst:.2e} (relative), "
            f"above the tolerance {tolerance:.0e}; it is not reported as a plan"
        )
        raise PlanNotSolved(msg, status=PlanStatus.RESIDUAL)
    scale = max(abs(solution.objective), OBJECTIVE_FLOOR_CNY)
    # The objective recomputed from the plan must match the solver's: a check on extraction.
    objective_gap = abs(recomputed_cost - solution.objective) / scale
    if not objective_gap <= 1e-6:
        msg = f"recomputed cost differs from the solver's objective by {objective_gap:.2e} (relative)"
        raise PlanNotSolved(msg, status=PlanStatus.RESIDUAL)
    # Strong duality: a proven optimum's dual objective equals its primal objective.
    duality_gap = abs(solution.objective - solution.dual_objective) / scale
    if not duality_gap <= 1e-6:
        msg = f"primal and dual objectives differ by {duality_gap:.2e} (relative): the optimum is not proven"
        raise PlanNotSolved(msg, status=PlanStatus.RESIDUAL)
    return {
        "max_violation": worst,
        "violations": violations,
        "objective_cny": solution.objective,
        "objective_gap": objective_gap,
        "dual_objective_cny": solution.dual_objective,
        "duality_gap": duality_gap,
    }


def verify_solution(
    inputs: PlanInputs,
    lp: LinearProgram,
    index: PlanIndex,
    solution: Solution,
    tolerance: float,
    unserved_penalty_cny_per_mwh: float = 0.0,
    quantities: PlanQuantities | None = None,
    plan_cost_cny: float | None = None,
    annual: bool = True,
    objective_of: Callable[[PlanQuantities], float] | None = None,
    cost_cap_cny: float | None = None,
) -> tuple[PlanQuantities, dict]:
    """The plan quantities of a solution, once it passed every check; and its trust figures.

    Parameters
    ----------
    unserved_penalty_cny_per_mwh : float
        Price of the LP's 'unserved' columns (dispatch LPs), part of its objective. [CNY/MWh]
    quantities, plan_cost_cny : optional
        The solution's quantities and the plan's cost recomputed from them [CNY/yr], where the
        caller has them already (recomputed here otherwise).
    annual : bool
        Check the families on annual totals too (False for a day of a year plan: the year holds them).
    objective_of : callable, optional
        What the solver minimised, recomputed from the plan quantities, when that is not the
        plan's cost (a near-optimal alternative, :mod:`optimizer.nearoptimal`); checked against
        the solver's objective in its place.
    cost_cap_cny : float, optional
        The most the plan may cost (an LP with a cost row); checked as the family ``cost_cap``,
        relative to the cap. [CNY/yr]

    Raises
    ------
    PlanNotSolved
        Status 'residual' (:func:`accept_solution`).
    """
    if quantities is None:
        quantities = extract_quantities(inputs, lp, index, solution)
    violations = constraint_violations(inputs, index, quantities, annual=annual)
    recomputed = plan_cost_cny
    if recomputed is None:
        recomputed = float(cost_components(inputs, index, quantities)[COST_PARTS].to_numpy().sum())
    if quantities.unserved_mw is not None:
        recomputed += unserved_penalty_cny_per_mwh * float(quantities.unserved_mw.sum(axis=(0, 1)) @ inputs.hours)
    if cost_cap_cny is not None:
        violations = {**violations, "cost_cap": max(recomputed - cost_cap_cny, 0.0)
                      / max(abs(cost_cap_cny), OBJECTIVE_FLOOR_CNY)}
    if objective_of is not None:
        recomputed = float(objective_of(quantities))
    return quantities, accept_solution(solution, recomputed, violations, tolerance)


def tabulate(
    inputs: PlanInputs, lp: LinearProgram, index: PlanIndex, solution: Solution, tolerance: float,
    metadata: dict | None = None, objective_of: Callable[[PlanQuantities], float] | None = None,
    cost_cap_cny: float | None = None,
) -> OptimisedPlan:
    """Verify a solution (:func:`verify_solution`, with its ``objective_of`` and ``cost_cap_cny``) and tabulate it."""
    start = time.perf_counter()
    quantities = extract_quantities(inputs, lp, index, solution)
    flows, sites, provinces, summary = build_tables(inputs, index, quantities, lp)
    _, trust = verify_solution(inputs, lp, index, solution, tolerance, quantities=quantities,
                               plan_cost_cny=summary.total_cost_cny, objective_of=objective_of,
                               cost_cap_cny=cost_cap_cny)
    tabulate_s = time.perf_counter() - start
    metadata = dict(metadata or {})
    timings = {**metadata.pop("timings_s", {}), **solution.timings, "tabulate_s": tabulate_s}
    metadata = {
        "status": str(PlanStatus.OPTIMAL),
        "model_status": solution.model_status,
        "backend": solution.backend,
        **solver_versions(),
        **trust,
        "columns": lp.num_cols,
        "rows": lp.num_rows,
        "simplex_iterations": solution.iterations,
        **metadata,
        "timings_s": timings,
    }
    links = link_table(inputs, index, quantities.load, quantities.network) if inputs.network is not None else None
    return OptimisedPlan(flows, sites, provinces, summary, metadata, links)


def _solve(lp: LinearProgram, backend: str, time_limit_s: float, options: dict | None, merge: bool) -> Solution:
    if merge:
        from optimizer.aggregate import aggregate

        start = time.perf_counter()
        merged = aggregate(lp)
        if merged is not None:
            aggregate_s = time.perf_counter() - start
            solution = solve_lp(merged.lp, backend=backend, time_limit_s=time_limit_s, options=options)
            try:
                solution = merged.map_back(solution, lp)
            except ValueError:
                pass  # not exact after all: solve the LP as it is
            else:
                solution.timings["aggregate_s"] = aggregate_s
                return solution
    return solve_lp(lp, backend=backend, time_limit_s=time_limit_s, options=options)


def optimise(
    inputs: PlanInputs,
    backend: str = "auto",
    time_limit_s: float = 600.0,
    tolerance: float = 1e-6,
    options: dict | None = None,
    aggregate: bool = AGGREGATE_BY_DEFAULT,
) -> OptimisedPlan:
    """Find the least-cost plan for ``inputs`` and check it before returning it.

    With ``aggregate``, the LP is first merged where the plan cannot tell rows apart
    (:func:`optimizer.aggregate.aggregate`), and the merged solution is mapped back to the full LP,
    where it is verified as any solution is.

    Raises
    ------
    PlanInfeasible
        With a one-line reason (which demand or limit cannot be met, and by how much).
    PlanNotSolved
        The solver did not prove an optimum, or the solution violates a constraint by more
        than ``tolerance`` (relative).
    """
    conflicts = precheck_conflicts(inputs)
    if conflicts:
        raise PlanInfeasible(explain_conflicts(conflicts), diagnosis=conflicts)
    start = time.perf_counter()
    lp, index = build_lp(inputs)
    formulate_s = time.perf_counter() - start
    try:
        solution = _solve(lp, backend, time_limit_s, options, aggregate)
    except PlanInfeasible:
        conflicts = diagnose_infeasible(inputs, lp, index, time_limit_s=time_limit_s)
        raise PlanInfeasible(explain_conflicts(conflicts), diagnosis=conflicts) from None
    return tabulate(inputs, lp, index, solution, tolerance, {"timings_s": {"formulate_s": formulate_s}})

