"""Every call into HiGHS and PuLP: hand a LinearProgram over, run it, and read HiGHS's own status.

One reading of the status (:func:`read_highs_status`) and one read-back of the solution
(:func:`read_solution`) serve every solve path: the cold plan (through PuLP or as a matrix), the
warm re-solves of :mod:`optimizer.warm`, the day dispatches of :mod:`optimizer.dispatch` and the
elastic re-solves of :mod:`optimizer.diagnose`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import version

import highspy
import numpy as np
import pulp

from optimizer.lp import LinearProgram
from optimizer.status import PlanInfeasible, PlanNotSolved, PlanStatus

BACKENDS = ("auto", "pulp", "highs")

#: 'auto' states models up to this many columns in PuLP and larger ones as a matrix for highspy.
#: Measured (benchmarks/README.md): at the national default size (43k columns) PuLP's build and
#: hand-over take ~1.1 s against a 0.4 s solve, at 288 slices ~15 s against 12.5 s; the matrix
#: path takes 0.08 s and 0.8 s. Below this size PuLP's overhead is a few tenths of a second.
AUTO_PULP_MAX_COLUMNS = 20_000

#: HiGHS's solution status of a feasible primal point (kSolutionStatusFeasible).
_FEASIBLE = 2


@dataclass
class Solution:
    """A proven-optimal solution in the LinearProgram's own column and row order."""

    values: np.ndarray
    row_duals: np.ndarray
    objective: float
    dual_objective: float
    backend: str
    model_status: str
    timings: dict[str, float] = field(default_factory=dict)
    iterations: int = 0


def solver_versions() -> dict[str, str]:
    """Versions of the modelling layer and solver, for run metadata."""
    return {"pulp": version("pulp"), "highspy": version("highspy")}


# ---------------------------------------------------------------------------------------------
# HiGHS instances and the hand-over
# ---------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _stdout_silenced():
    # highspy >= 1.16 prints a banner from C++ when a Highs object is created, before any
    # option can switch output off; hold file descriptor 1 on /dev/null meanwhile.
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


#: Environment variable that caps HiGHS's threads in this process (set on cluster workers, which
#: each hold one core: HiGHS would otherwise start a thread pool the size of the node).
HIGHS_THREADS_ENV = "EDWC_HIGHS_THREADS"


def thread_options() -> dict:
    """``{'threads': n}`` when :data:`HIGHS_THREADS_ENV` holds a whole number n ≥ 1, else ``{}``."""
    value = os.environ.get(HIGHS_THREADS_ENV, "").strip()
    return {"threads": int(value)} if value.isdigit() and int(value) >= 1 else {}


def new_highs(time_limit_s: float | None = None, options: dict | None = None) -> highspy.Highs:
    """A quiet highspy.Highs instance with a time limit [s] and further HiGHS options."""
    with _stdout_silenced():
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    if time_limit_s is not None:
        highs.setOptionValue("time_limit", float(time_limit_s))
    for key, value in {**thread_options(), **(options or {})}.items():
        highs.setOptionValue(key, value)
    return highs


def highs_lp(cost, col_lower, col_upper, matrix, row_lower, row_upper) -> highspy.HighsLp:
    """The arrays of a LinearProgram (``LinearProgram.arrays()``) as a column-wise highspy model."""
    csc = matrix.tocsc()
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = csc.shape[1], csc.shape[0]
    model.col_cost_, model.col_lower_, model.col_upper_ = cost, col_lower, col_upper
    model.row_lower_, model.row_upper_ = row_lower, row_upper
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = csc.indptr.astype(np.int32)
    model.a_matrix_.index_ = csc.indices.astype(np.int32)
    model.a_matrix_.value_ = csc.data
    return model


def pass_lp(highs: highspy.Highs, cost, col_lower, col_upper, matrix, row_lower, row_upper) -> None:
    """Hand the arrays of a LinearProgram to ``highs`` (replacing any model it holds).

    Uses the pointer overload of ``passModel``, which reads the numpy arrays in place instead of
    copying them into a ``HighsLp`` field by field (benchmarks/README.md, "Hand-over").
    """
    csc = matrix.tocsc()
    num_row, num_col = csc.shape
    status = highs.passModel(
        int(num_col), int(num_row), int(csc.nnz), int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize), 0.0,
        np.ascontiguousarray(cost, float), np.ascontiguousarray(col_lower, float),
        np.ascontiguousarray(col_upper, float), np.ascontiguousarray(row_lower, float),
        np.ascontiguousarray(row_upper, float),
        csc.indptr[:-1].astype(np.int32), csc.indices.astype(np.int32), np.ascontiguousarray(csc.data, float),
        # Every column continuous: HiGHS wants the array, and zeros make it an LP.
        np.zeros(num_col, np.int32),
    )
    if status == highspy.HighsStatus.kError:
        msg = f"HiGHS refused the model ({num_col} columns, {num_row} rows)"
        raise PlanNotSolved(msg, status=PlanStatus.INTERNAL)


# ---------------------------------------------------------------------------------------------
# Status and read-back, shared by every path
# ---------------------------------------------------------------------------------------------

def read_highs_status(highs: highspy.Highs, time_limit_s: float | None = None) -> str:
    """Return HiGHS's model status text when it holds a proven optimum with a feasible point; raise otherwise.

    Raises
    ------
    PlanInfeasible
        HiGHS proved that no solution exists.
    PlanNotSolved
        Status ``unbounded``, ``time_limit`` or ``not_solved`` (iteration limit, numerical
        trouble, interrupt, solver error, an "optimal" status without a feasible point or a
        finite objective). PuLP reports a time-limited solve as optimal, so this reads HiGHS.
    """
    status = highs.getModelStatus()
    text = highs.modelStatusToString(status)
    info = highs.getInfo()
    if status == highspy.HighsModelStatus.kInfeasible:
        msg = "HiGHS proved that no plan satisfies every constraint"
        raise PlanInfeasible(msg)
    if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        msg = f"HiGHS reports the model {text.lower()}"
        raise PlanNotSolved(msg, status=PlanStatus.UNBOUNDED)
    if status == highspy.HighsModelStatus.kTimeLimit:
        limit = f"the {time_limit_s:g} s time limit" if time_limit_s is not None else "its time limit"
        msg = f"HiGHS stopped at {limit} before proving an optimum"
        raise PlanNotSolved(msg, status=PlanStatus.TIME_LIMIT)
    if (
        status != highspy.HighsModelStatus.kOptimal
        or info.primal_solution_status != _FEASIBLE
        or not np.isfinite(info.objective_function_value)
    ):
        msg = f"HiGHS ended with status '{text}' and no proven-optimal solution"
        raise PlanNotSolved(msg, status=PlanStatus.NOT_SOLVED)
    return text


def dual_objective(arrays, row_duals: np.ndarray, reduced_costs: np.ndarray) -> float:
    """Objective of the dual solution: Σ y·(active row bound) + Σ z·(active column bound).

    Equals the primal objective at an optimum (strong duality); HiGHS's sign convention
    (minimisation: a dual ≥ 0 prices the lower bound, ≤ 0 the upper bound).

    Parameters
    ----------
    arrays : tuple
        ``LinearProgram.arrays()`` of the LP as it was solved (costs and bounds).
    """
    _, col_lower, col_upper, _, row_lower, row_upper = arrays

    def priced(dual, lower, upper):
        dual = np.where(np.abs(dual) < 1e-9, 0.0, dual)
        bound = np.where(dual > 0, lower, upper)
        return float(np.sum(np.where(dual != 0, dual * np.where(np.isfinite(bound), bound, 0.0), 0.0)))

    return priced(row_duals, row_lower, row_upper) + priced(reduced_costs, col_lower, col_upper)


def read_solution(
    highs: highspy.Highs,
    arrays,
    backend: str,
    model_status: str,
    positions: np.ndarray | None = None,
    timings: dict[str, float] | None = None,
) -> Solution:
    """The solution ``highs`` holds, in the LP's own column order, with its dual objective.

    Parameters
    ----------
    highs : highspy.Highs
        After :func:`read_highs_status` accepted it.
    arrays : tuple
        ``LinearProgram.arrays()`` of the LP as solved (for the dual objective).
    positions : numpy.ndarray, optional
        HiGHS column of each LP column (PuLP may reorder them); identity when None.
    """
    start = time.perf_counter()
    result = highs.getSolution()
    info = highs.getInfo()
    values = np.asarray(result.col_value)
    reduced_costs = np.asarray(result.col_dual)
    if positions is not None:
        values, reduced_costs = values[positions], reduced_costs[positions]
    row_duals = np.asarray(result.row_dual)
    timings = dict(timings or {})
    timings["extract_s"] = time.perf_counter() - start
    timings["solver_s"] = float(highs.getRunTime())
    return Solution(
        values=values,
        row_duals=row_duals,
        objective=float(info.objective_function_value),
        dual_objective=dual_objective(arrays, row_duals, reduced_costs),
        backend=backend,
        model_status=model_status,
        timings=timings,
        iterations=int(info.simplex_iteration_count),
    )


def check_finite(lp: LinearProgram) -> None:
    """Refuse an LP with NaN anywhere, or infinite costs or coefficients: HiGHS calls such a model optimal."""
    cost, col_lower, col_upper, matrix, row_lower, row_upper = lp.arrays()
    bad = [name for name, values in (("costs", cost), ("coefficients", matrix.data)) if not np.isfinite(values).all()]
    bad += [
        name
        for name, values in (("column bounds", np.concatenate([col_lower, col_upper])),
                             ("row bounds", np.concatenate([row_lower, row_upper])))
        if np.isnan(values).any()
    ]
    if bad:
        msg = f"the LP has NaN or infinite {' and '.join(bad)}; an input number is missing or not finite"
        raise PlanNotSolved(msg, status=PlanStatus.BAD_MODEL)


# ---------------------------------------------------------------------------------------------
# The PuLP path
# ---------------------------------------------------------------------------------------------

def _affine(pairs):
    # PuLP 4.x builds expressions in its Rust core from a list; 3.x takes the list in the constructor.
    if hasattr(pulp.LpAffineExpression, "from_list"):
        return pulp.LpAffineExpression.from_list(pairs)
    return pulp.LpAffineExpression(pairs)


def build_pulp_problem(lp: LinearProgram) -> tuple[pulp.LpProblem, list]:
    """State ``lp`` as a PuLP problem; returns the problem and its variables in column order."""
    cost, col_lower, col_upper, matrix, row_lower, row_upper = lp.arrays()
    prob = pulp.LpProblem("edwc_plan", pulp.LpMinimize)
    variables: list = []
    for family, block in lp.columns.items():
        lower = col_lower[block.start : block.stop]
        upper = col_upper[block.start : block.stop]
        count = block.stop - block.start
        if count and np.all(lower == lower[0]) and np.all(np.isinf(upper)):
            batch = prob.add_variable_dicts(family, range(count), lowBound=float(lower[0]))
            variables.extend(batch[i] for i in range(count))
        else:
            variables.extend(
                prob.add_variable(f"{family}_{i}", float(lo), None if np.isinf(up) else float(up))
                for i, (lo, up) in enumerate(zip(lower.tolist(), upper.tolist(), strict=True))
            )
    indptr, indices, values = matrix.indptr, matrix.indices.tolist(), matrix.data.tolist()
    for family, block in lp.rows.items():
        for i in range(block.start, block.stop):
            start, stop = indptr[i], indptr[i + 1]
            expr = _affine([(variables[j], v) for j, v in zip(indices[start:stop], values[start:stop], strict=True)])
            lower, upper = row_lower[i], row_upper[i]
            if lower == upper:
                constraint = expr == float(lower)
            elif np.isinf(lower):
                constraint = expr <= float(upper)
            else:
                constraint = expr >= float(lower)
            prob.addConstraint(constraint, f"{family}_{i - block.start}")
    nonzero = np.nonzero(cost)[0]
    prob.setObjective(_affine([(variables[j], float(cost[j])) for j in nonzero.tolist()]))
    return prob, variables


def _pulp_column_positions(prob: pulp.LpProblem, variables: list) -> np.ndarray:
    # Where each of our columns sits in the model PuLP handed to HiGHS, so the solution can be
    # read in bulk from the solver object rather than variable by variable.
    if hasattr(prob, "exported_variables"):  # PuLP 4.x: HiGHS columns follow exported_variables()
        position = {var.id: j for j, var in enumerate(prob.exported_variables())}
        return np.fromiter((position[var.id] for var in variables), int, len(variables))
    return np.fromiter((var.index for var in variables), int, len(variables))  # PuLP 3.x sets .index


def _solve_pulp(lp: LinearProgram, time_limit_s: float, options: dict) -> tuple[highspy.Highs, np.ndarray, dict]:
    timings = {}
    start = time.perf_counter()
    prob, variables = build_pulp_problem(lp)
    timings["build_s"] = time.perf_counter() - start
    solver = pulp.HiGHS(msg=False, timeLimit=time_limit_s, **{**thread_options(), **options})
    start = time.perf_counter()
    with _stdout_silenced():
        prob.solve(solver)
    timings["handover_and_solve_s"] = time.perf_counter() - start
    highs = prob.solverModel
    start = time.perf_counter()
    positions = _pulp_column_positions(prob, variables)
    timings["map_s"] = time.perf_counter() - start
    if highs.getNumRow() != lp.num_rows:
        msg = f"PuLP handed {highs.getNumRow()} rows to HiGHS, expected {lp.num_rows}"
        raise PlanNotSolved(msg, status=PlanStatus.INTERNAL)
    return highs, positions, timings


def _solve_highs(lp: LinearProgram, time_limit_s: float, options: dict) -> tuple[highspy.Highs, None, dict]:
    timings = {}
    start = time.perf_counter()
    highs = new_highs(time_limit_s, options)
    pass_lp(highs, *lp.arrays())
    timings["build_s"] = time.perf_counter() - start
    start = time.perf_counter()
    highs.run()
    timings["handover_and_solve_s"] = time.perf_counter() - start
    return highs, None, timings


def solve_lp(
    lp: LinearProgram, backend: str = "auto", time_limit_s: float = 600.0, options: dict | None = None
) -> Solution:
    """Solve ``lp`` with HiGHS and return a proven-optimal solution.

    Parameters
    ----------
    lp : LinearProgram
    backend : {'auto', 'pulp', 'highs'}
        'auto' picks 'pulp' up to ``AUTO_PULP_MAX_COLUMNS`` columns and 'highs' above. 'pulp' states
        the model in PuLP and solves with ``pulp.HiGHS``; 'highs' passes the matrix straight to
        highspy. Both solve the same formulation.
    time_limit_s : float
        Wall-clock limit for the solver. [s]
    options : dict, optional
        Extra HiGHS options (e.g. ``{"solver": "ipm"}``).

    Raises
    ------
    PlanInfeasible, PlanNotSolved
        As :func:`read_highs_status`; ``bad_model`` for an LP with NaN or infinite numbers.
    """
    if backend not in BACKENDS:
        msg = f"backend must be one of {BACKENDS}, got {backend!r}"
        raise ValueError(msg)
    if backend == "auto":
        backend = "pulp" if lp.num_cols <= AUTO_PULP_MAX_COLUMNS else "highs"
    check_finite(lp)
    runner = _solve_pulp if backend == "pulp" else _solve_highs
    highs, positions, timings = runner(lp, time_limit_s, dict(options or {}))
    status_text = read_highs_status(highs, time_limit_s)
    return read_solution(highs, lp.arrays(), backend, status_text, positions, timings)
