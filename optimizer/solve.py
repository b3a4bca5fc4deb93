"""Hand a LinearProgram to HiGHS (through PuLP, or directly as a matrix) and gate on HiGHS's own status."""

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

from optimizer.formulation import LinearProgram

BACKENDS = ("auto", "pulp", "highs")

#: 'auto' states models up to this many columns in PuLP and larger ones as a matrix for highspy.
#: Measured (benchmarks/README.md): at the national default size (43k columns) PuLP's build and
#: hand-over take ~1.1 s against a 0.4 s solve, at 288 slices ~15 s against 12.5 s; the matrix
#: path takes 0.08 s and 0.8 s. Below this size PuLP's overhead is a few tenths of a second.
AUTO_PULP_MAX_COLUMNS = 20_000


class PlanNotSolved(RuntimeError):
    """The solver did not return a proven optimum.

    Attributes
    ----------
    status : str
        'infeasible', 'unbounded', 'time_limit', 'residual' or the HiGHS model status.
    diagnosis : object
        Structured explanation where one is available (see :mod:`optimizer.diagnose`).
    """

    def __init__(self, status: str, message: str, diagnosis=None):
        self.status, self.diagnosis = status, diagnosis
        super().__init__(message)


class PlanInfeasible(PlanNotSolved):
    """No plan satisfies every constraint."""

    def __init__(self, message: str, diagnosis=None):
        super().__init__("infeasible", message, diagnosis)


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


def solver_versions() -> dict[str, str]:
    """Versions of the modelling layer and solver, for run metadata."""
    return {"pulp": version("pulp"), "highspy": version("highspy")}


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
    solver = pulp.HiGHS(msg=False, timeLimit=time_limit_s, **options)
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
        raise PlanNotSolved(status="internal", message=msg)
    return highs, positions, timings


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


def new_highs() -> highspy.Highs:
    """A quiet highspy.Highs instance."""
    with _stdout_silenced():
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
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


def _solve_highs(lp: LinearProgram, time_limit_s: float, options: dict) -> tuple[highspy.Highs, np.ndarray, dict]:
    timings = {}
    start = time.perf_counter()
    model = highs_lp(*lp.arrays())
    highs = new_highs()
    highs.setOptionValue("time_limit", float(time_limit_s))
    for key, value in options.items():
        highs.setOptionValue(key, value)
    highs.passModel(model)
    timings["build_s"] = time.perf_counter() - start
    start = time.perf_counter()
    highs.run()
    timings["handover_and_solve_s"] = time.perf_counter() - start
    return highs, np.arange(lp.num_cols), timings


def dual_objective(lp: LinearProgram, row_duals: np.ndarray, reduced_costs: np.ndarray) -> float:
    """Objective of the dual solution: Σ y·(active row bound) + Σ z·(active column bound).

    Equals the primal objective at an optimum (strong duality); HiGHS's sign convention
    (minimisation: a dual ≥ 0 prices the lower bound, ≤ 0 the upper bound).
    """
    _, col_lower, col_upper, _, row_lower, row_upper = lp.arrays()

    def priced(dual, lower, upper):
        dual = np.where(np.abs(dual) < 1e-9, 0.0, dual)
        bound = np.where(dual > 0, lower, upper)
        return float(np.sum(np.where(dual != 0, dual * np.where(np.isfinite(bound), bound, 0.0), 0.0)))

    return priced(row_duals, row_lower, row_upper) + priced(reduced_costs, col_lower, col_upper)


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
        raise PlanNotSolved(status="bad_model", message=msg)


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
    PlanInfeasible
        HiGHS proved that no plan exists.
    PlanNotSolved
        Any other outcome that is not a proven optimum with a feasible primal solution
        (time limit, unbounded, numerical trouble, solver error). PuLP reports a time-limited
        solve as optimal, so HiGHS's own model and solution status are read here.
    """
    if backend not in BACKENDS:
        msg = f"backend must be one of {BACKENDS}, got {backend!r}"
        raise ValueError(msg)
    if backend == "auto":
        backend = "pulp" if lp.num_cols <= AUTO_PULP_MAX_COLUMNS else "highs"
    check_finite(lp)
    runner = _solve_pulp if backend == "pulp" else _solve_highs
    highs, positions, timings = runner(lp, time_limit_s, dict(options or {}))
    status = highs.getModelStatus()
    status_text = highs.modelStatusToString(status)
    info = highs.getInfo()
    feasible = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status == highspy.HighsModelStatus.kInfeasible:
        msg = "HiGHS proved that no plan satisfies every constraint"
        raise PlanInfeasible(msg)
    if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        raise PlanNotSolved(status="unbounded", message=f"HiGHS reports the model {status_text.lower()}")
    if status == highspy.HighsModelStatus.kTimeLimit:
        msg = f"HiGHS stopped at the {time_limit_s:g} s time limit before proving an optimum"
        raise PlanNotSolved(status="time_limit", message=msg)
    if status != highspy.HighsModelStatus.kOptimal or not feasible or not np.isfinite(info.objective_function_value):
        msg = f"HiGHS ended with status '{status_text}' and no proven-optimal solution"
        raise PlanNotSolved(status="not_solved", message=msg)
    start = time.perf_counter()
    solution = highs.getSolution()
    values = np.asarray(solution.col_value)[positions]
    duals = np.asarray(solution.row_dual)
    reduced_costs = np.asarray(solution.col_dual)[positions]
    timings["extract_s"] = time.perf_counter() - start
    timings["solver_s"] = float(highs.getRunTime())
    return Solution(
        values=values,
        row_duals=duals,
        objective=float(info.objective_function_value),
        dual_objective=dual_objective(lp, duals, reduced_costs),
        backend=backend,
        model_status=status_text,
        timings=timings,
    )
