"""Optimise one plan: precheck, build, solve, verify the solution against every constraint, tabulate."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from optimizer.diagnose import diagnose_infeasible, explain_conflicts, precheck_conflicts
from optimizer.extract import build_tables, extract_quantities
from optimizer.formulation import build_lp
from optimizer.inputs import PlanInputs
from optimizer.solve import PlanInfeasible, PlanNotSolved, Solution, solve_lp, solver_versions
from optimizer.verify import constraint_violations


@dataclass
class OptimisedPlan:
    """Tables and facts of one verified optimum (no PuLP objects)."""

    flows: object
    sites: object
    provinces: object
    summary: dict
    metadata: dict = field(default_factory=dict)


def accept_solution(solution: Solution, summary: dict, violations: dict[str, float], tolerance: float) -> dict:
    """Refuse a solution that is not a proven, correctly extracted optimum; return its trust figures.

    Checks that every constraint family holds within ``tolerance`` (relative), that the cost
    recomputed from the tables equals the solver's objective, and that the dual objective equals
    the primal one (strong duality), each NaN-safe.

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
        raise PlanNotSolved(status="residual", message=msg)
    scale = max(abs(solution.objective), 1.0)
    # The objective recomputed from the tables must match the solver's: a check on extraction.
    objective_gap = abs(summary["total_cost_cny"] - solution.objective) / scale
    if not objective_gap <= 1e-6:
        msg = f"recomputed cost differs from the solver's objective by {objective_gap:.2e} (relative)"
        raise PlanNotSolved(status="residual", message=msg)
    # Strong duality: a proven optimum's dual objective equals its primal objective.
    duality_gap = abs(solution.objective - solution.dual_objective) / scale
    if not duality_gap <= 1e-6:
        msg = f"primal and dual objectives differ by {duality_gap:.2e} (relative): the optimum is not proven"
        raise PlanNotSolved(status="residual", message=msg)
    return {
        "max_violation": worst,
        "violations": violations,
        "objective_cny": solution.objective,
        "objective_gap": objective_gap,
        "dual_objective_cny": solution.dual_objective,
        "duality_gap": duality_gap,
    }


def optimise(
    inputs: PlanInputs,
    backend: str = "auto",
    time_limit_s: float = 600.0,
    tolerance: float = 1e-6,
    options: dict | None = None,
) -> OptimisedPlan:
    """Find the least-cost plan for ``inputs`` and check it before returning it.

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
        raise PlanInfeasible(explain_conflicts(conflicts), conflicts)
    start = time.perf_counter()
    lp, index = build_lp(inputs)
    formulate_s = time.perf_counter() - start
    try:
        solution = solve_lp(lp, backend=backend, time_limit_s=time_limit_s, options=options)
    except PlanInfeasible:
        conflicts = diagnose_infeasible(inputs, lp, index, time_limit_s=time_limit_s)
        raise PlanInfeasible(explain_conflicts(conflicts), conflicts) from None
    start = time.perf_counter()
    quantities = extract_quantities(inputs, lp, index, solution)
    violations = constraint_violations(inputs, index, quantities)
    flows, sites, provinces, summary = build_tables(inputs, index, quantities)
    tabulate_s = time.perf_counter() - start
    trust = accept_solution(solution, summary, violations, tolerance)
    summary["status"] = "optimal"
    metadata = {
        "status": "optimal",
        "model_status": solution.model_status,
        "backend": solution.backend,
        **solver_versions(),
        **trust,
        "columns": lp.num_cols,
        "rows": lp.num_rows,
        "timings_s": {"formulate_s": formulate_s, **solution.timings, "tabulate_s": tabulate_s},
    }
    return OptimisedPlan(flows, sites, provinces, summary, metadata)
