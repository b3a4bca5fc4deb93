"""A plan decided against every day of a year, by decomposition: a master on the year's decisions, one LP per day.

The whole year as one LP (8,760 hourly slices) is out of reach (benchmarks/README.md), but it splits:
the columns that do not repeat by day (new capacity) are decided once for the year; every other
column and row belongs to one day. So

    min  c·m + Σ_d v_d(m)   over the year's decisions m (bounds and the rows on m alone),

where v_d(m) is the least cost of day d with m fixed: the plan's own LP of that day
(:func:`optimizer.formulation.build_lp` on the day's slices), m held by column bounds. v_d is convex
and piecewise linear; a solve at m̂ gives its value and, from the reduced costs of the fixed columns,
a subgradient g: the cut v_d(m) ≥ v_d(m̂) + g·(m − m̂), valid for every m by LP duality.

Nothing here copies a constraint. Which columns are the year's and which rows are the master's is
read off the formulation itself (:func:`year_structure`): a family whose size stays the same when the
LP spans two days instead of one is annual. Annual rows on the year's decisions alone (the hub-share
rule) go into the master; an annual row that couples days through their operation (a carbon cap, a
latency cap, any such family added later) is refused with a one-line message, not approximated.

Every day may leave demand unserved at a price far above the cost of building for it
(:func:`default_penalty`), so every day has a finite value at every m and yields a cut. The
penalised problem is a relaxation of the year plan: its lower bound is one for the year plan, and its
incumbent, once it serves every hour, is a year plan whose cost is the upper bound.

The master is stabilised by the level method (Lemaréchal, Nemirovskii and Nesterov, 1995): the lower
bound comes from the master LP, the next point is the one nearest the incumbent (L1, scaled by each
column's range) whose master value is at most a level between the bounds. Days run in parallel
through the caller's ``run_tasks``; each worker re-solves its run of consecutive days in one HiGHS
instance, warm from the day before (:class:`DaySolver`). The final answer is every day solved again
at the incumbent and passed through :func:`optimizer.plan.verify_solution`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from optimizer.dispatch import DISPATCH_OPTIONS, with_unserved
from optimizer.formulation import PlanIndex, build_lp
from optimizer.inputs import PlanInputs
from optimizer.lp import INF, LinearProgram
from optimizer.plan import verify_solution
from optimizer.solve import new_highs, pass_lp, read_highs_status, read_solution, solve_lp
from optimizer.status import PlanInfeasible, PlanNotSolved, PlanStatus

#: Relative gap between the bounds at which the year plan stops, by default. [-]
DEFAULT_GAP = 1e-3
#: Share of the gap the level sits above the lower bound. [-]
LEVEL_SHARE = 0.5
#: Unserved energy in the final plan below this is solver noise. [MWh/yr]
UNSERVED_TOLERANCE_MWH = 1e-3
#: HiGHS's solution status of a feasible point (kSolutionStatusFeasible).
_FEASIBLE = 2
#: PlanInputs fields that are not per time slice even when a dimension happens to match.
_NOT_TIMED = frozenset({"distance_km", "latency_ms", "deferrable"})


class YearPlanRefused(ValueError):
    """The inputs hold a constraint the year plan cannot split by day. The message is one line."""


# ---------------------------------------------------------------------------------------------
# Days of the inputs and the structure of the year
# ---------------------------------------------------------------------------------------------

def day_slices(inputs: PlanInputs) -> list[np.ndarray]:
    """Slices of each day window (``periods['day']``), in order."""
    days = inputs.periods["day"].to_numpy()
    _, first, inverse = np.unique(days, return_index=True, return_inverse=True)
    order = np.argsort(first)
    return [np.nonzero(inverse == d)[0] for d in order]


def restrict(inputs: PlanInputs, slices: np.ndarray, day: int | None = None) -> PlanInputs:
    """The inputs on some of their slices: every per-slice array cut to them (``day`` renumbers the window)."""
    num_t = inputs.hours.size
    changes = {}
    for item in dataclasses.fields(inputs):
        value = getattr(inputs, item.name)
        if item.name not in _NOT_TIMED and isinstance(value, np.ndarray) and value.ndim and value.shape[-1] == num_t:
            changes[item.name] = value[..., slices]
    periods = inputs.periods.iloc[slices].reset_index(drop=True)
    if day is not None:
        periods["day"] = day
    return dataclasses.replace(inputs, periods=periods, **changes)


def _two_days(day: PlanInputs) -> PlanInputs:
    # The same day twice, as two windows: what a family that repeats by day does is then plain.
    num_t = day.hours.size
    twice = restrict(day, np.tile(np.arange(num_t), 2))
    twice.periods["day"] = np.repeat([1, 2], num_t)
    twice.periods["period"] = [f"{p}#{i}" for i, p in enumerate(twice.periods["period"])]
    return twice


@dataclass
class YearStructure:
    """Which families of the day LP are the year's and which repeat by day.

    Attributes
    ----------
    first_stage : list of str
        Column families decided once for the year (their size does not grow with days).
    master_rows : list of str
        Annual row families on first-stage columns alone: the master holds them.
    columns : numpy.ndarray
        Positions of the first-stage columns in a day LP.
    lower, upper, cost : numpy.ndarray
        Their bounds and annual cost, as the day LP states them.
    master_matrix : scipy.sparse.csr_matrix
        Rows of ``master_rows`` on the first-stage columns; bounds ``master_lower``, ``master_upper``.
    """

    first_stage: list[str]
    master_rows: list[str]
    columns: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    cost: np.ndarray
    master_matrix: object
    master_lower: np.ndarray
    master_upper: np.ndarray
    master_row_positions: np.ndarray


def _positions(blocks, families) -> np.ndarray:
    return np.concatenate([np.arange(blocks[f].start, blocks[f].stop) for f in families] or [np.zeros(0, int)])


def year_structure(inputs: PlanInputs) -> YearStructure:
    """Read the year's decisions and the master's rows off the formulation (one day against two).

    Raises
    ------
    YearPlanRefused
        A family neither repeats by day nor stays annual, or an annual row couples the days'
        operation (e.g. a carbon cap over the year).
    """
    first = day_slices(inputs)[0]
    one = restrict(inputs, first, day=1)
    lp1, _ = build_lp(one)
    lp2, _ = build_lp(_two_days(one))

    def size(blocks, family):
        return blocks[family].stop - blocks[family].start

    first_stage, odd = [], []
    for family in lp1.columns:
        if size(lp2.columns, family) == size(lp1.columns, family):
            first_stage.append(family)
        elif size(lp2.columns, family) != 2 * size(lp1.columns, family):
            odd.append(family)
    columns = _positions(lp1.columns, first_stage)
    cost, col_lower, col_upper, matrix, row_lower, row_upper = lp1.arrays()
    is_first = np.zeros(lp1.num_cols, bool)
    is_first[columns] = True
    master_rows, coupling = [], []
    for family, block in lp1.rows.items():
        if size(lp2.rows, family) == 2 * size(lp1.rows, family):
            continue
        if size(lp2.rows, family) != size(lp1.rows, family):
            odd.append(family)
            continue
        used = matrix[block.start:block.stop].indices
        (master_rows if is_first[used].all() else coupling).append(family)
    if odd:
        msg = (f"year plan | the families {', '.join(odd)} neither repeat by day nor hold for the year. "
               "Plan on representative days (without --year) for this scenario.")
        raise YearPlanRefused(msg)
    if coupling:
        msg = (f"year plan | the annual constraint {', '.join(coupling)} couples the days' operation, which the "
               "year plan does not split (caps on annual emissions or mean latency). Lift it, or plan on "
               "representative days (without --year).")
        raise YearPlanRefused(msg)
    rows = _positions(lp1.rows, master_rows)
    return YearStructure(
        first_stage=first_stage,
        master_rows=master_rows,
        columns=columns,
        lower=col_lower[columns].copy(),
        upper=col_upper[columns].copy(),
        cost=cost[columns].copy(),
        master_matrix=matrix[rows][:, columns].tocsr(),
        master_lower=row_lower[rows].copy(),
        master_upper=row_upper[rows].copy(),
        master_row_positions=rows,
    )


def default_penalty(inputs: PlanInputs, structure: YearStructure) -> float:
    """Price of unserved demand that no plan would pay rather than build for it. [CNY/MWh]

    Ten times the dearest way to serve one more MW in the shortest slice: the annual cost of the
    capacity it needs (first-stage cost over the smallest coefficient it enters a day row with) plus
    the dearest operating cost, per hour of that slice.
    """
    day = restrict(inputs, day_slices(inputs)[0], day=1)
    lp, _ = build_lp(day)
    cost, _, _, matrix, _, _ = lp.arrays()
    csc = matrix.tocsc()
    per_mw = 0.0
    for position, annual in zip(structure.columns, structure.cost, strict=True):
        entries = np.abs(csc.data[csc.indptr[position]:csc.indptr[position + 1]])
        entries = entries[entries > 0]
        if entries.size:
            per_mw = max(per_mw, float(annual) / float(entries.min()))
    hours = inputs.hours
    shortest = float(hours[hours > 0].min())
    operating = float(np.abs(np.delete(cost, structure.columns)).max(initial=0.0)) / shortest
    return 10.0 * (per_mw / shortest + operating + 1.0)


# ---------------------------------------------------------------------------------------------
# Day subproblems (run in the workers)
# ---------------------------------------------------------------------------------------------

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
    """

    position: int
    value: float
    gradient: np.ndarray
    unserved_mwh: float
    iterations: int
    solve_s: float
    verified: dict | None = None


@dataclass
class DayTask:
    """A run of consecutive days to solve at the year's decisions ``point``.

    ``days`` may be None once a worker has seen them: a worker that has not built a day's LP
    returns :class:`MissingDays` instead, and the task is sent again with its days.
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


@dataclass
class _DayModel:
    """A built day LP, kept compactly: its vectors (shared with other days where equal) and its blocks."""

    shell: LinearProgram  # the LP's column and row blocks only (what extraction reads)
    index: PlanIndex
    inputs: PlanInputs
    arrays: tuple  # cost, col_lower, col_upper, matrix (CSC), row_lower, row_upper


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
        self.highs = new_highs(time_limit_s, dict(DISPATCH_OPTIONS))
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
            # solve once more from scratch, and only then give up.
            self.highs.clearSolver()
            self.highs.run()
            try:
                status = read_highs_status(self.highs, self.time_limit_s)
            except PlanNotSolved:
                self.highs.clearSolver()
                self._matrix = None
                raise
        return status, time.perf_counter() - start


def _model(task: DayTask, position: int, day: PlanInputs | None) -> _DayModel:
    key = (task.key, position)
    if key not in _MODELS:
        lp, index = build_lp(day)
        elastic = with_unserved(lp, day, task.penalty)
        cost, col_lower, col_upper, matrix, row_lower, row_upper = elastic.arrays()
        shell = LinearProgram(columns=dict(elastic.columns), rows=dict(elastic.rows),
                              num_cols=elastic.num_cols, num_rows=elastic.num_rows)
        arrays = (_vector(cost), _vector(col_lower), _vector(col_upper), _matrix(matrix), _vector(row_lower),
                  _vector(row_upper))
        _MODELS[key] = _DayModel(shell, index, day, arrays)
    return _MODELS[key]


def _fixed_arrays(model: _DayModel, task: DayTask):
    """The day's arrays with the year's decisions held at the task's point (their cost only when verifying)."""
    cost, col_lower, col_upper, matrix, row_lower, row_upper = model.arrays
    if not task.verify:
        cost = cost.copy()
        cost[task.columns] = 0.0  # counted once, in the master
    col_lower, col_upper = col_lower.copy(), col_upper.copy()
    col_lower[task.columns] = task.point
    col_upper[task.columns] = task.point
    if task.master_rows.size:
        row_lower, row_upper = row_lower.copy(), row_upper.copy()
        row_lower[task.master_rows], row_upper[task.master_rows] = -INF, INF  # the master holds them
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
        arrays = _fixed_arrays(model, task)
        status, solve_s = solver.solve(arrays)
        if task.verify:
            solution = read_solution(solver.highs, arrays, "highs-day", status)
            solution.timings["solver_s"] = solve_s
            verified = _verified_day(model, solution, task)
            objective, iterations = solution.objective, solution.iterations
            # The cut's value leaves the year's decisions' own cost to the master.
            value = objective - float(model.arrays[0][task.columns] @ task.point)
            row_duals = solution.row_duals
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
            row_duals = np.asarray(solver.highs.getSolution().row_dual)
        # Subgradient: reduced costs of the fixed columns, c − Aᵀy, at a cost of zero in the day LP.
        gradient = -(_first_stage_columns(model, task).T @ row_duals)
        if task.verify:
            gradient += model.arrays[0][task.columns]
        cuts.append(DayCut(position, value, gradient, verified["unserved_mwh"] if verified else float("nan"),
                           iterations, solve_s, verified))
    return cuts


def _first_stage_columns(model: _DayModel, task: DayTask):
    matrix = model.arrays[3]
    key = (id(matrix), task.columns.tobytes())
    if key not in _FIRST:
        _FIRST[key] = matrix[:, task.columns].tocsc()
    return _FIRST[key]


def _verified_day(model: _DayModel, solution, task: DayTask) -> dict:
    """A day's solution through :func:`optimizer.plan.verify_solution`, and what the year's tables need of it."""
    from optimizer.extract import cost_components, site_load

    day, lp, index = model.inputs, model.shell, model.index
    quantities, trust = verify_solution(day, lp, index, solution, task.tolerance, task.penalty)
    num_p, num_k = day.demand_mw.shape[:2]
    num_s = len(day.sites)
    hours = day.hours
    load_mwh = np.zeros((num_p, num_s, num_k))
    np.add.at(load_mwh, (index.triple_province, index.triple_site, index.triple_workload), quantities.load @ hours)
    costs = cost_components(day, index, quantities)
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
        "green_mwh": quantities.green_mw @ hours,
        "capacity_dual": quantities.capacity_duals.sum(axis=1),
        "site_peak_mw": load.max(axis=1, initial=0.0),
        "costs": {part: float(costs[part].sum()) for part in costs.columns},
        "shifted_mwh": shifted,
        "unserved_mwh": float(quantities.unserved_mw.sum(axis=(0, 1)) @ hours),
    }


# ---------------------------------------------------------------------------------------------
# The master: cuts on the year's decisions, stabilised by the level method
# ---------------------------------------------------------------------------------------------

class Master:
    """min c·m + Σ_d θ_d subject to the master rows, the cuts θ_d ≥ v_d + g_d·(m − m̂), and m's bounds.

    One HiGHS LP holds both problems of an iteration. Columns: m, θ (one per day), and p, q ≥ 0 with
    m − p + q = centre. The lower bound minimises c·m + Σθ (the centre rows then bind nothing); the
    next point minimises Σ (p + q) over m with c·m + Σθ at most the level. Inside, m is measured in
    its own range (0–1 between its bounds) and costs in ``scale`` (about one day's cost), so that
    HiGHS sees numbers near 1 whatever the plan's size.
    """

    def __init__(self, structure: YearStructure, num_days: int, scale: float, time_limit_s: float = 600.0):
        import scipy.sparse as sp

        self.structure = structure
        self.num_m = m = structure.columns.size
        self.num_days = d = num_days
        self.time_limit_s = time_limit_s
        self.scale = float(scale)
        finite = np.isfinite(structure.upper) & np.isfinite(structure.lower)
        self.span = np.where(finite, np.maximum(structure.upper - structure.lower, 1.0), 1.0)
        self.origin = np.where(np.isfinite(structure.lower), structure.lower, 0.0)
        self.fixed_cost = float(structure.cost @ self.origin)
        cost_m = structure.cost * self.span / self.scale
        # Columns: m (scaled), θ (scaled), p, q.
        self.cost_bound = np.concatenate([cost_m, np.ones(d), np.zeros(2 * m)])
        self.cost_level = np.concatenate([np.zeros(m + d), np.ones(2 * m)])
        lower = np.concatenate([(structure.lower - self.origin) / self.span, np.full(d, -INF), np.zeros(2 * m)])
        upper = np.concatenate([(structure.upper - self.origin) / self.span, np.full(d, INF), np.full(2 * m, INF)])
        master = structure.master_matrix @ sp.diags(self.span)
        shift = structure.master_matrix @ self.origin
        rows = [sp.hstack([master, sp.csr_matrix((master.shape[0], d + 2 * m))])]
        eye = sp.identity(m, format="csr")
        rows.append(sp.hstack([eye, sp.csr_matrix((m, d)), -eye, eye]))
        rows.append(sp.csr_matrix(self.cost_bound[None, :]))
        matrix = sp.vstack(rows).tocsr()
        self.centre_rows = master.shape[0] + np.arange(m)
        self.level_row = master.shape[0] + m
        row_lower = np.concatenate([structure.master_lower - shift, np.zeros(m), [-INF]])
        row_upper = np.concatenate([structure.master_upper - shift, np.zeros(m), [INF]])
        self.highs = new_highs(time_limit_s)
        pass_lp(self.highs, self.cost_bound, lower, upper, matrix, row_lower, row_upper)
        self.cuts = 0

    def _scaled(self, point: np.ndarray) -> np.ndarray:
        return (point - self.origin) / self.span

    def _unscaled(self, values: np.ndarray) -> np.ndarray:
        return self.origin + self.span * values[: self.num_m]

    def add_cuts(self, point: np.ndarray, cuts: list[DayCut]) -> None:
        """θ_d − g·m ≥ v − g·m̂ for each day's cut (in the master's units)."""
        m = self.num_m
        scaled = self._scaled(point)
        starts, indices, values, lower = [], [], [], []
        for cut in cuts:
            gradient = cut.gradient * self.span / self.scale
            starts.append(len(indices))
            indices.extend(range(m))
            values.extend((-gradient).tolist())
            indices.append(m + cut.position)
            values.append(1.0)
            lower.append(cut.value / self.scale - float(gradient @ scaled))
        count = len(cuts)
        self.highs.addRows(count, np.array(lower), np.full(count, INF), len(indices), np.array(starts, np.int32),
                           np.array(indices, np.int32), np.array(values))
        self.cuts += count

    def _solve(self, cost: np.ndarray) -> np.ndarray:
        self.highs.changeColsCost(cost.size, np.arange(cost.size, dtype=np.int32), cost)
        self.highs.run()
        try:
            read_highs_status(self.highs, self.time_limit_s)
        except PlanNotSolved:
            # Cuts added since the last basis can leave the simplex in numerical trouble: start afresh once.
            self.highs.clearSolver()
            self.highs.run()
            read_highs_status(self.highs, self.time_limit_s)
        return np.asarray(self.highs.getSolution().col_value)

    def lower_bound(self) -> tuple[float, np.ndarray]:
        """(least master value [CNY/yr], its m): a lower bound on the year plan's cost."""
        self.highs.changeRowBounds(int(self.level_row), -INF, INF)
        values = self._solve(self.cost_bound)
        return self.fixed_cost + self.scale * float(self.cost_bound @ values), self._unscaled(values)

    def next_point(self, centre: np.ndarray, level: float) -> np.ndarray:
        """The m nearest ``centre`` (L1, in each column's range) whose master value is at most ``level`` [CNY/yr]."""
        rows = self.centre_rows.astype(np.int32)
        scaled = self._scaled(centre)
        self.highs.changeRowsBounds(rows.size, rows, scaled, scaled)
        self.highs.changeRowBounds(int(self.level_row), -INF, (float(level) - self.fixed_cost) / self.scale)
        return self._unscaled(self._solve(self.cost_level))


# ---------------------------------------------------------------------------------------------
# The year plan
# ---------------------------------------------------------------------------------------------

@dataclass
class YearPlan:
    """The verified year plan and how the decomposition reached it.

    Attributes
    ----------
    point : numpy.ndarray
        The year's decisions (first-stage columns, in day-LP order).
    upper_bound_cny, lower_bound_cny : float
        Cost of the plan, and a proven lower bound on any year plan's cost. [CNY/yr]
    days : list of dict
        Per day, the verified figures (:func:`_verified_day`).
    history : list of dict
        Per iteration: bounds, gap, seconds.
    """

    structure: YearStructure
    point: np.ndarray
    upper_bound_cny: float
    lower_bound_cny: float
    days: list[dict]
    history: list[dict] = field(default_factory=list)
    penalty_cny_per_mwh: float = 0.0
    metadata: dict = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """(upper − lower) / upper. [-]"""
        return (self.upper_bound_cny - self.lower_bound_cny) / max(abs(self.upper_bound_cny), 1.0)


def serial_tasks(function: Callable, tasks: list) -> list:
    """Run tasks here, one after another (the default ``run_tasks``)."""
    return [function(task) for task in tasks]


def first_stage_values(inputs: PlanInputs, structure: YearStructure, backend: str = "highs") -> np.ndarray | None:
    """The year's decisions of the least-cost plan of ``inputs`` (e.g. representative days): a start."""
    lp, _ = build_lp(inputs)
    if any(family not in lp.columns for family in structure.first_stage):
        return None
    solution = solve_lp(lp, backend=backend)
    return np.concatenate([solution.values[lp.columns[f].start:lp.columns[f].stop] for f in structure.first_stage])


def plan_year(
    inputs: PlanInputs,
    run_tasks: Callable[[Callable, list], list] = serial_tasks,
    workers: int = 1,
    gap: float = DEFAULT_GAP,
    start: np.ndarray | None = None,
    penalty_cny_per_mwh: float | None = None,
    tolerance: float = 1e-6,
    max_iterations: int = 200,
    time_limit_s: float = 3600.0,
    tasks_per_worker: int = 2,
    progress: Callable[[dict], None] | None = None,
) -> YearPlan:
    """Decide the year's decisions of ``inputs`` against every one of its days, to a relative gap.

    Parameters
    ----------
    inputs : PlanInputs
        Every day of the year as its own window (``periods['day']``); e.g. 365 days of 24 hours.
    run_tasks : callable
        ``run_tasks(function, tasks)`` → results in task order; runs the day tasks (in parallel).
    workers : int
        How many workers ``run_tasks`` has; the days are cut into ``tasks_per_worker`` runs each.
    gap : float
        Stop when (upper − lower) / upper is at most this. [-]
    start : numpy.ndarray, optional
        First point (the year's decisions of a representative plan, :func:`first_stage_values`);
        the upper bounds otherwise.
    penalty_cny_per_mwh : float, optional
        Price of unserved demand (default :func:`default_penalty`). [CNY/MWh]
    tolerance : float
        Largest accepted constraint violation of each day's final solution (relative). [-]
    max_iterations, time_limit_s : int, float
        Limits of the decomposition. [-], [s]
    progress : callable, optional
        ``progress(row)`` after each iteration, with the bounds and the gap.

    Raises
    ------
    YearPlanRefused
        The inputs hold a constraint that couples the days (see :func:`year_structure`).
    PlanInfeasible
        Even the best plan found leaves demand unserved.
    PlanNotSolved
        A solve was not proven, a check failed, or the limits came before the gap (status
        ``time_limit``, with the bounds reached in the message).
    """
    started = time.perf_counter()
    structure = year_structure(inputs)
    penalty = penalty_cny_per_mwh if penalty_cny_per_mwh is not None else default_penalty(inputs, structure)
    slices = day_slices(inputs)
    days = [restrict(inputs, s, day=1) for s in slices]
    key = f"{id(inputs):x}-{time.time_ns():x}"
    count = min(len(days), max(1, workers) * tasks_per_worker)
    runs = [run.tolist() for run in np.array_split(np.arange(len(days)), count)]

    def evaluate(point: np.ndarray, verify: bool = False, send_days: bool = False) -> list[DayCut]:
        def task(run, with_days):
            return DayTask(key, run, [days[i] for i in run] if with_days else None, point, structure.columns,
                           structure.master_row_positions, penalty, tolerance, verify)

        # Days travel to a worker only when it has not built them (pickling 365 days costs a second).
        results = run_tasks(solve_days, [task(run, send_days) for run in runs])
        again = [i for i, result in enumerate(results) if isinstance(result, MissingDays)]
        if again:
            for i, result in zip(again, run_tasks(solve_days, [task(runs[i], True) for i in again]), strict=True):
                results[i] = result
        return [cut for result in results for cut in result]

    point = np.clip(start if start is not None else structure.upper, structure.lower, structure.upper)
    point = np.where(np.isfinite(point), point, structure.lower)
    master = None
    history = []
    best_point, best_value, best_cuts = None, INF, None
    lower = -INF
    for iteration in range(max_iterations):
        step_start = time.perf_counter()
        cuts = evaluate(point, send_days=iteration == 0)
        value = float(structure.cost @ point) + sum(cut.value for cut in cuts)
        if master is None:
            master = Master(structure, len(days), scale=max(abs(value) / len(days), 1.0))
        master.add_cuts(point, cuts)
        if value < best_value:
            best_point, best_value, best_cuts = point.copy(), value, cuts
        lower, _ = master.lower_bound()
        relative = (best_value - lower) / max(abs(best_value), 1.0)
        row = {"iteration": iteration + 1, "lower_bound_cny": lower, "upper_bound_cny": best_value, "gap": relative,
               "point_cny": value,
               "day_iterations": sum(c.iterations for c in cuts), "day_solve_s": sum(c.solve_s for c in cuts),
               "seconds": time.perf_counter() - step_start}
        history.append(row)
        if progress is not None:
            progress(row)
        if relative <= gap:
            break
        if time.perf_counter() - started > time_limit_s:
            break
        point = master.next_point(best_point, lower + LEVEL_SHARE * (best_value - lower))
    else:
        relative = (best_value - lower) / max(abs(best_value), 1.0)
    if relative > gap:
        msg = (f"year plan | stopped after {len(history)} iterations at a gap of {relative:.2%} "
               f"(bounds {lower:,.0f} and {best_value:,.0f} CNY/yr) above the {gap:.2%} asked for. "
               "Allow more time or a larger gap.")
        raise PlanNotSolved(msg, status=PlanStatus.TIME_LIMIT)
    final = evaluate(best_point, verify=True)
    unserved = sum(c.verified["unserved_mwh"] for c in final)
    if unserved > UNSERVED_TOLERANCE_MWH:
        short = sum(1 for c in final if c.verified["unserved_mwh"] > UNSERVED_TOLERANCE_MWH)
        msg = (f"year plan | even the best capacities found leave {unserved:,.0f} MWh of demand unserved on "
               f"{short} days: the year's peaks cannot be served within the build limits. Raise "
               "sites.<id>.max_new_mw or policy.local_max_new_share, or lower the demand.")
        raise PlanInfeasible(msg)
    # The final solves must price the plan as the iterations did.
    final_value = float(structure.cost @ best_point) + sum(c.value for c in final)
    if not abs(final_value - best_value) <= 1e-6 * max(abs(best_value), 1.0):
        msg = (f"year plan | the verified days cost {final_value:,.0f} CNY/yr against {best_value:,.0f} "
               "in the decomposition")
        raise PlanNotSolved(msg, status=PlanStatus.RESIDUAL)
    del best_cuts
    return YearPlan(
        structure=structure,
        point=best_point,
        upper_bound_cny=final_value,
        lower_bound_cny=lower,
        days=[c.verified for c in final],
        history=history,
        penalty_cny_per_mwh=penalty,
        metadata={
            "iterations": len(history),
            "cuts": master.cuts,
            "wall_s": time.perf_counter() - started,
            "max_violation": max(c.verified["max_violation"] for c in final),
            "max_duality_gap": max(c.verified["duality_gap"] for c in final),
        },
    )
