"""The day subproblems of a year plan (:mod:`optimizer.decompose`): one LP per day, solved in the workers.

Each day is the plan's own LP on the day's slices (:func:`optimizer.formulation.build_lp`) with the
year's decisions held at the master's point, the parts of the coupling rows held to the day's
allocation, demand and those parts allowed to fall short at a price. A worker keeps the days it has
built and re-solves its run of consecutive days in one HiGHS instance, warm from the day before; it
returns each day's value and subgradients (the cut), and, at the end, the day's verified figures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from optimizer.dispatch import DISPATCH_OPTIONS, with_unserved
from optimizer.formulation import PlanIndex, build_lp
from optimizer.inputs import PlanInputs
from optimizer.lp import INF, LinearProgram
from optimizer.plan import verify_solution
from optimizer.solve import new_highs, pass_lp, read_highs_status, read_solution
from optimizer.status import PlanNotSolved, PlanStatus
from optimizer.verify import annual_totals

if TYPE_CHECKING:
    from optimizer.decompose import Coupling

#: HiGHS tolerances of the day LPs. [-]
DAY_TOLERANCES = {"primal_feasibility_tolerance": 1e-8}
#: HiGHS's solution status of a feasible point (kSolutionStatusFeasible).
_FEASIBLE = 2


@dataclass
class DayCut:
    """What one day returned at the year's decisions m̂.

    Attributes
    ----------
    value : float
        Least cost of the day with m̂ fixed, unserved demand at the penalty included. [CNY]
    gradient : numpy.ndarray
        Its subgradient in m (reduced costs of the fixed columns). [CNY per unit of m]
    unserved_mwh : float
        Demand left unserved that day. [MWh]
    allocation_gradient : numpy.ndarray (R,)
        Its subgradient in the day's parts e of the coupling rows (their duals). [CNY per unit]
    activity : numpy.ndarray (R,)
        The day's operation's part of each coupling row, net of the day's own part of an
        additive bound: what the master's row sums over days. [row unit]
    shortfall : numpy.ndarray (R,)
        The day's part of each coupling row left unmet (its slack). [row unit]
    """

    position: int
    value: float
    gradient: np.ndarray
    unserved_mwh: float
    iterations: int
    solve_s: float
    verified: dict | None = None
    allocation_gradient: np.ndarray = field(default_factory=lambda: np.zeros(0))
    activity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    shortfall: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class DayTask:
    """A run of consecutive days to solve at the year's decisions ``point``.

    ``days`` may be None once a worker has seen them: a worker that has not built a day's LP
    returns :class:`MissingDays` instead, and the task is sent again with its days. ``allocation``
    holds each day's parts of the coupling rows, (days, R); None lifts those rows (the first pass).
    """

    key: str
    positions: list[int]
    days: list[PlanInputs] | None
    point: np.ndarray
    columns: np.ndarray
    master_rows: np.ndarray
    penalty: float
    tolerance: float
    verify: bool = False
    time_limit_s: float = 600.0
    coupling: Coupling | None = None
    allocation: np.ndarray | None = None


@dataclass
class _DayModel:
    """A built day LP, kept compactly: its vectors (shared with other days where equal) and its blocks."""

    shell: LinearProgram  # the LP's column and row blocks only (what extraction reads)
    index: PlanIndex
    inputs: PlanInputs
    arrays: tuple  # cost, col_lower, col_upper, matrix (CSC), row_lower, row_upper
    slack_columns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


#: Per worker process: the day LPs already built, (task key, day position) -> _DayModel; the
#: distinct vectors and matrices they share; one solver.
_MODELS: dict[tuple[str, int], _DayModel] = {}
_SHARED: dict[bytes, object] = {}
_SOLVER: dict[str, DaySolver] = {}
_FIRST: dict[tuple, object] = {}


def _shared(value, digest_of):
    # Days of a year share most of their vectors (costs, lower bounds) and their matrix: keep one copy.
    import hashlib

    digest = hashlib.blake2b(digest_of(value), digest_size=16).digest()
    return _SHARED.setdefault(digest, value)


def _vector(values: np.ndarray) -> np.ndarray:
    values = np.ascontiguousarray(values, float)
    values.flags.writeable = False
    return _shared(values, lambda v: b"v" + v.tobytes())


def _matrix(matrix):
    csc = matrix.tocsc()
    return _shared(csc, lambda m: b"m" + m.indptr.tobytes() + m.indices.tobytes() + m.data.tobytes())


class DaySolver:
    """One HiGHS instance that re-solves day LPs of one matrix, changing only costs and bounds."""

    def __init__(self, time_limit_s: float = 600.0):
        self.time_limit_s = time_limit_s
        # A day's prices span from a CNY per MWh to the price of missing a coupling row: HiGHS's default
        # feasibility tolerance (1e-7) then leaves bounds missed by more than the plan's checks accept.
        self.highs = new_highs(time_limit_s, {**DISPATCH_OPTIONS, **DAY_TOLERANCES})
        self._matrix = None
        self._last: tuple = ()

    def solve(self, arrays) -> tuple[str, float]:
        """Run HiGHS on ``arrays`` (cost, bounds, CSC matrix, row bounds); (status text, solve seconds)."""
        cost, col_lower, col_upper, matrix, row_lower, row_upper = arrays
        if self._matrix is matrix:
            last_cost, last_lower, last_upper, last_row_lower, last_row_upper = self._last
            changed = np.nonzero(cost != last_cost)[0].astype(np.int32)
            if changed.size:
                self.highs.changeColsCost(changed.size, changed, cost[changed])
            changed = np.nonzero((col_lower != last_lower) | (col_upper != last_upper))[0].astype(np.int32)
            if changed.size:
                self.highs.changeColsBounds(changed.size, changed, col_lower[changed], col_upper[changed])
            changed = np.nonzero((row_lower != last_row_lower) | (row_upper != last_row_upper))[0].astype(np.int32)
            if changed.size:
                self.highs.changeRowsBounds(changed.size, changed, row_lower[changed], row_upper[changed])
        else:
            pass_lp(self.highs, cost, col_lower, col_upper, matrix, row_lower, row_upper)
            self._matrix = matrix
        self._last = (cost, col_lower, col_upper, row_lower, row_upper)
        start = time.perf_counter()
        self.highs.run()
        try:
            status = read_highs_status(self.highs, self.time_limit_s)
        except PlanNotSolved:
            # A warm start can end in numerical trouble (status 'unknown') where a cold solve does not:
            # solve once more from scratch, then by the interior-point method (with crossover, so the
            # duals a cut needs come from a basis), and only then give up.
            self.highs.clearSolver()
            self.highs.run()
            try:
                status = read_highs_status(self.highs, self.time_limit_s)
            except PlanNotSolved:
                self.highs.clearSolver()
                self.highs.setOptionValue("solver", "ipm")
                try:
                    self.highs.run()
                    status = read_highs_status(self.highs, self.time_limit_s)
                except PlanNotSolved:
                    self.highs.clearSolver()
                    self._matrix = None
                    raise
                finally:
                    self.highs.setOptionValue("solver", "choose")
        return status, time.perf_counter() - start


def _model(task: DayTask, position: int, day: PlanInputs | None) -> _DayModel:
    key = (task.key, position)
    if key not in _MODELS:
        lp, index = build_lp(day)
        elastic = with_unserved(lp, day, task.penalty)
        coupling = task.coupling
        slack_columns = np.zeros(0, np.int64)
        if coupling is not None and coupling.size:
            # A day may miss its part of a coupling row, at a price (coupling_penalties).
            elastic = elastic.with_slack("coupling_slack", coupling.penalty, INF, coupling.positions,
                                         np.arange(coupling.size), coupling.sense)
            block = elastic.columns["coupling_slack"]
            slack_columns = np.arange(block.start, block.stop)
        cost, col_lower, col_upper, matrix, row_lower, row_upper = elastic.arrays()
        shell = LinearProgram(columns=dict(elastic.columns), rows=dict(elastic.rows),
                              num_cols=elastic.num_cols, num_rows=elastic.num_rows)
        arrays = (_vector(cost), _vector(col_lower), _vector(col_upper), _matrix(matrix), _vector(row_lower),
                  _vector(row_upper))
        _MODELS[key] = _DayModel(shell, index, day, arrays, slack_columns)
    return _MODELS[key]


def _coupling_bounds(model: _DayModel, task: DayTask):
    """(a·m̂, the day's own part of each additive bound) of the coupling rows, (R,) each."""
    coupling = task.coupling
    positions = coupling.positions
    own = np.where(coupling.sense > 0, model.arrays[4][positions], model.arrays[5][positions])
    share = np.where(coupling.additive, own, 0.0)
    return coupling.matrix @ task.point, share


def _fixed_arrays(model: _DayModel, task: DayTask, allocation: np.ndarray | None = None):
    """The day's arrays with the year's decisions held at the task's point (their cost only when verifying).

    A coupling row r of the day holds its operation's part to the allocation: B·x ≥ e_r plus the day's
    own part of an additive bound (≤ for an upper bound); the row also carries a·m̂, added to its bound.
    """
    cost, col_lower, col_upper, matrix, row_lower, row_upper = model.arrays
    coupling = task.coupling
    if not task.verify or (coupling is not None and coupling.size):
        cost = cost.copy()
    if not task.verify:
        cost[task.columns] = 0.0  # counted once, in the master
    if coupling is not None and coupling.size:
        cost[model.slack_columns] = coupling.penalty  # the price of the round (plan_year raises it)
    col_lower, col_upper = col_lower.copy(), col_upper.copy()
    col_lower[task.columns] = task.point
    col_upper[task.columns] = task.point
    if task.master_rows.size:
        row_lower, row_upper = row_lower.copy(), row_upper.copy()
        row_lower[task.master_rows], row_upper[task.master_rows] = -INF, INF  # the master holds them
    if coupling is not None and coupling.size:
        row_lower, row_upper = row_lower.copy(), row_upper.copy()
        positions = coupling.positions
        if allocation is None:
            row_lower[positions], row_upper[positions] = -INF, INF
        else:
            shift, share = _coupling_bounds(model, task)
            bound = shift + share + allocation
            row_lower[positions] = np.where(coupling.sense > 0, bound, -INF)
            row_upper[positions] = np.where(coupling.sense > 0, INF, bound)
    return cost, col_lower, col_upper, matrix, row_lower, row_upper


@dataclass
class MissingDays:
    """A worker's answer to a task without days whose LPs it has not built."""

    positions: list[int]


def solve_days(task: DayTask) -> list[DayCut] | MissingDays:
    """Solve a task's days in order at its point; each warm-started from the one before.

    Raises
    ------
    PlanNotSolved
        A day was not solved to a proven optimum, or (with ``verify``) failed its checks.
    """
    solver = _SOLVER.get("day")
    if solver is None or solver.time_limit_s != task.time_limit_s:
        solver = _SOLVER["day"] = DaySolver(task.time_limit_s)
    if task.days is None:
        missing = [p for p in task.positions if (task.key, p) not in _MODELS]
        if missing:
            return MissingDays(missing)
    cuts = []
    for number, position in enumerate(task.positions):
        model = _model(task, position, None if task.days is None else task.days[number])
        allocation = None if task.allocation is None else task.allocation[number]
        arrays = _fixed_arrays(model, task, allocation)
        status, solve_s = solver.solve(arrays)
        if task.verify:
            solution = read_solution(solver.highs, arrays, "highs-day", status)
            solution.timings["solver_s"] = solve_s
            verified = _verified_day(model, solution, task)
            objective, iterations = solution.objective, solution.iterations
            # The cut's value leaves the year's decisions' own cost to the master.
            value = objective - float(model.arrays[0][task.columns] @ task.point)
            row_duals, col_values = solution.row_duals, solution.values
        else:
            # Only what a cut needs is read back (a full read-back costs half a warm solve): the row
            # duals, once HiGHS holds them dual feasible (the cut's validity rests on that).
            info = solver.highs.getInfo()
            objective, iterations = float(info.objective_function_value), int(info.simplex_iteration_count)
            verified = None
            if info.dual_solution_status != _FEASIBLE:
                msg = f"day {position + 1} | HiGHS holds no feasible dual solution: no valid cut"
                raise PlanNotSolved(msg, status=PlanStatus.RESIDUAL)
            value = objective
            read = solver.highs.getSolution()
            row_duals, col_values = np.asarray(read.row_dual), np.asarray(read.col_value)
        coupling = task.coupling
        split = coupling is not None and coupling.size > 0
        if split:
            # A coupling row's a·m̂ sits in its bound, not in the year's decisions' reduced costs.
            allocation_gradient = row_duals[coupling.positions].copy()
            row_duals = row_duals.copy()
            row_duals[coupling.positions] = 0.0
        # Subgradient: reduced costs of the fixed columns, c − Aᵀy, at a cost of zero in the day LP.
        gradient = -(_first_stage_columns(model, task).T @ row_duals)
        if task.verify:
            gradient += model.arrays[0][task.columns]
        cut = DayCut(position, value, gradient, verified["unserved_mwh"] if verified else float("nan"),
                     iterations, solve_s, verified)
        if split:
            shortfall = col_values[model.slack_columns]
            shift, share = _coupling_bounds(model, task)
            # B·x: the row's activity without a·m̂ and the slack; net of the day's own part of its bound.
            rows = _row_values(model, col_values, task)
            cut.allocation_gradient = allocation_gradient
            cut.activity = rows - shift - coupling.sense * shortfall - share
            cut.shortfall = shortfall
        cuts.append(cut)
    return cuts


def _row_values(model: _DayModel, col_values: np.ndarray, task: DayTask) -> np.ndarray:
    # Only the coupling rows' activities: their rows of the matrix, kept per matrix.
    matrix = model.arrays[3]
    key = (id(matrix), "coupling", task.coupling.positions.tobytes())
    if key not in _FIRST:
        _FIRST[key] = matrix.tocsr()[task.coupling.positions]
    return _FIRST[key] @ col_values


def _first_stage_columns(model: _DayModel, task: DayTask):
    matrix = model.arrays[3]
    key = (id(matrix), task.columns.tobytes())
    if key not in _FIRST:
        _FIRST[key] = matrix[:, task.columns].tocsc()
    return _FIRST[key]


def _verified_day(model: _DayModel, solution, task: DayTask) -> dict:
    """A day's solution through :func:`optimizer.plan.verify_solution`, and what the year's tables need of it."""
    from optimizer.extract import cost_components, extract_quantities, site_load
    from optimizer.network import link_peaks
    from optimizer.results import COST_PARTS

    day, lp, index = model.inputs, model.shell, model.index
    quantities = extract_quantities(day, lp, index, solution)
    costs = cost_components(day, index, quantities)
    cost = float(costs[COST_PARTS].to_numpy().sum())
    shortfall_cny = 0.0
    if model.slack_columns.size:
        shortfall_cny = float(task.coupling.penalty @ solution.values[model.slack_columns])
    cost += shortfall_cny
    # The annual families hold for the year, not the day: the year plan checks them on its totals.
    quantities, trust = verify_solution(day, lp, index, solution, task.tolerance, task.penalty,
                                        quantities=quantities, plan_cost_cny=cost, annual=False)
    num_p, num_k = day.demand_mw.shape[:2]
    num_s = len(day.sites)
    hours = day.hours
    load_mwh = np.zeros((num_p, num_s, num_k))
    np.add.at(load_mwh, (index.triple_province, index.triple_site, index.triple_workload), quantities.load @ hours)
    load = site_load(day, index, quantities.load)
    shifted = 0.0
    deferrable = day.deferrable_classes
    if deferrable.any():
        served = quantities.load[deferrable[index.triple_workload]].sum(axis=0)
        demanded = day.demand_mw[:, deferrable].sum(axis=(0, 1))
        shifted = float(np.maximum(served - demanded, 0.0) @ hours)
    return {
        "max_violation": trust["max_violation"],
        "duality_gap": trust["duality_gap"],
        "load_mwh": load_mwh,
        "new_mw": quantities.new_mw,
        "fitout_mw": quantities.fitout_mw,
        "certificate_mwh": quantities.certificate_mwh,
        "totals": annual_totals(day, index, quantities),
        "green_mwh": quantities.green_mw @ hours,
        "capacity_dual": quantities.capacity_duals.sum(axis=1),
        "site_peak_mw": load.max(axis=1, initial=0.0),
        "costs": {part: float(costs[part].sum()) for part in costs.columns},
        "shifted_mwh": shifted,
        "unserved_mwh": float(quantities.unserved_mw.sum(axis=(0, 1)) @ hours),
        "shortfall_cny": shortfall_cny,
        "network": (quantities.network, hours),
        "link_peak_gbps": link_peaks(day, index, quantities.load, quantities.network),
    }
