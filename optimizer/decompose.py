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
rule) go into the master. An annual row that couples the days through their operation (a carbon cap,
the green-power share, certificates within a site's electricity, a PUE cap, any such family added
later) is split by budget allocation: the master also decides each day's part e_{r,d} of the row,
with the year's row a·m + Σ_d e_{r,d} ≥ b (or ≤) in the master, and each day holds its operation's
part of the row to e_{r,d}; the day's value is convex in (m, e) and the row's dual is the cut's
slope in e. Whether the row's bound is the year's (a cap: the same for one day and two) or a sum over
days (a share of the days' demand: twice as large for two days) is read off the formulation too; a
row that is neither, or bounded on both sides, is refused with a one-line message, not approximated.

Every day may leave demand unserved at a price far above the cost of building for it
(:func:`default_penalty`), and miss its part of a coupling row at a price as high per unit of the row,
so every day has a finite value at every (m, e) and yields a cut. The
penalised problem is a relaxation of the year plan: its lower bound is one for the year plan, and its
incumbent, once it serves every hour and misses no part of a row, is a year plan whose cost is the
upper bound. Before the first point, each day is solved once with its coupling rows lifted: those
cuts bound every θ_d from below whatever the allocation, and the days' own use of each row gives the
first allocation and the row's unit in the master.

The master is stabilised by a trust region (Linderoth and Wright, 2003): the lower bound comes from
the master LP, the next point is the master's least point within a box around the incumbent,
measured in each column's range, which widens while the cuts predict well and narrows where they
mislead. (A level method, the next point nearest the incumbent below a level between the bounds,
took three to four times as many iterations on reduced years: its points swung to the bounds of
the unguarded columns.) Days run in parallel
through the caller's ``run_tasks``; each worker re-solves its run of consecutive days in one HiGHS
instance, warm from the day before (:class:`DaySolver`). The final answer is every day solved again
at the incumbent and passed through :func:`optimizer.plan.verify_solution`, and the year's totals
through :func:`optimizer.verify.annual_violations` (the annual rules checked on the year, not by day).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from optimizer.daycuts import DayCut, DayTask, MissingDays, solve_days
from optimizer.formulation import PlanIndex, build_lp
from optimizer.inputs import PlanInputs
from optimizer.lp import INF, LinearProgram
from optimizer.master import Master, master_problem
from optimizer.solve import solve_lp
from optimizer.status import PlanInfeasible, PlanNotSolved, PlanStatus
from optimizer.verify import AnnualTotals, annual_violations

#: Relative gap between the bounds at which the year plan stops, by default. [-]
DEFAULT_GAP = 1e-3
#: The trust region's first half-width, in each year's decision's range (the master's unit). [-]
BOX_START = 0.3
#: ... its widest and narrowest. [-]
BOX_MAX, BOX_MIN = 1.0, 1e-4
#: A point is a step forward when it gains at least this share of the gain the cuts predicted. [-]
STEP_GAIN = 0.1
#: Unserved energy in the final plan below this (or the tolerance's share of demand) is solver noise. [MWh/yr]
UNSERVED_TOLERANCE_MWH = 1e-3
#: A day's price of missing its part of a coupling row starts this far below the unserved price. [-]
PENALTY_START_DIVISOR = 1e3
#: ... and is multiplied by this while the plan found misses the row. [-]
PENALTY_STEP = 30.0
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
    coupling : Coupling
        The annual rows that couple the days' operation, split by budget allocation.
    index : PlanIndex
        Which column is which plan quantity in a day LP (the same for every day).
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
    coupling: Coupling = None
    index: PlanIndex | None = None


@dataclass
class Coupling:
    """Annual rows of a day LP that couple the days: a·m + Σ_d B_d·x_d ≥ b (sense +1) or ≤ b (sense −1).

    Attributes
    ----------
    families : list of str
        Their row families.
    positions : numpy.ndarray (R,)
        Their rows in a day LP.
    sense : numpy.ndarray (R,)
        +1 for a lower bound, −1 for an upper one.
    additive : numpy.ndarray (R,) of bool
        The bound is a sum over the days (each day LP states its own part), not the year's.
    matrix : scipy.sparse.csr_matrix (R, M)
        a: their coefficients on the year's decisions.
    bound : numpy.ndarray (R,)
        The year's bound b where it is not additive; 0 where it is (the days hold their parts).
    row_family : list of str (R,)
        The family of each row.
    penalty : numpy.ndarray (R,)
        Price of a unit of a day's part left unmet, in CNY per unit of the row (set by the year plan).
    """

    families: list[str]
    positions: np.ndarray
    sense: np.ndarray
    additive: np.ndarray
    matrix: object
    bound: np.ndarray
    row_family: list[str]
    penalty: np.ndarray | None = None

    @property
    def size(self) -> int:
        """Number of coupling rows (R)."""
        return int(self.positions.size)


def _positions(blocks, families) -> np.ndarray:
    return np.concatenate([np.arange(blocks[f].start, blocks[f].stop) for f in families] or [np.zeros(0, int)])


def year_structure(inputs: PlanInputs) -> YearStructure:
    """Read the year's decisions and the master's rows off the formulation (one day against two).

    Raises
    ------
    YearPlanRefused
        A family neither repeats by day nor stays annual, or an annual row couples the days in a
        way that does not split (:func:`_coupling`).
    """
    first = day_slices(inputs)[0]
    one = restrict(inputs, first, day=1)
    lp1, index1 = build_lp(one)
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
    rows = _positions(lp1.rows, master_rows)
    split = _coupling(lp1, lp2, coupling, first_stage, columns)
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
        coupling=split,
        index=index1,
    )


def _coupling(lp1: LinearProgram, lp2: LinearProgram, families: list[str], first_stage: list[str],
              columns: np.ndarray) -> Coupling:
    """The coupling rows of ``families``, their sense, bounds and coefficients on the year's decisions.

    Raises
    ------
    YearPlanRefused
        A row bounded on both sides, a bound neither the year's nor a sum over days, or a
        coefficient on the year's decisions that changes with the number of days.
    """
    _, _, _, matrix1, lower1, upper1 = lp1.arrays()
    _, _, _, matrix2, lower2, upper2 = lp2.arrays()
    columns2 = _positions(lp2.columns, first_stage)
    kept, by_row, refused = [], [], []
    sense, additive, bound = [], [], []
    for family in families:
        rows1 = np.arange(lp1.rows[family].start, lp1.rows[family].stop)
        rows2 = np.arange(lp2.rows[family].start, lp2.rows[family].stop)
        same_a = np.allclose(matrix1[rows1][:, columns].toarray(), matrix2[rows2][:, columns2].toarray(),
                             rtol=1e-12, atol=0.0)
        for row1, row2 in zip(rows1, rows2, strict=True):
            lo, up = lower1[row1], upper1[row1]
            if np.isfinite(lo) == np.isfinite(up):
                if np.isfinite(lo):
                    refused.append(family)
                continue  # a free row holds nothing
            one, two = (lo, lower2[row2]) if np.isfinite(lo) else (up, upper2[row2])
            if not same_a or not (np.isclose(two, one, rtol=1e-12, atol=0.0)
                                  or np.isclose(two, 2.0 * one, rtol=1e-12, atol=0.0)):
                refused.append(family)
                continue
            is_sum = bool(one != 0.0 and np.isclose(two, 2.0 * one, rtol=1e-12, atol=0.0))
            kept.append(row1)
            by_row.append(family)
            sense.append(1.0 if np.isfinite(lo) else -1.0)
            additive.append(is_sum)
            bound.append(0.0 if is_sum else float(one))
    if refused:
        msg = (f"year plan | the annual constraint {', '.join(dict.fromkeys(refused))} couples the days in a way "
               "the year plan does not split (bounded on both sides, or its terms change with the number of "
               "days). Lift it, or plan on representative days (without --year).")
        raise YearPlanRefused(msg)
    positions = np.array(kept, dtype=np.int64)
    split = Coupling(
        families=list(dict.fromkeys(by_row)),
        positions=positions,
        sense=np.array(sense, float),
        additive=np.array(additive, bool),
        matrix=matrix1[positions][:, columns].tocsr(),
        bound=np.array(bound, float),
        row_family=by_row,
    )
    return split


def coupling_penalties(inputs: PlanInputs, structure: YearStructure,
                       penalty: float) -> tuple[np.ndarray, np.ndarray]:
    """(first, highest) price of a unit of a coupling row left unmet by a day, (R,) each. [CNY/unit]

    The first is ``penalty`` over the row's largest coefficient on a day's operation, divided by
    ``PENALTY_START_DIVISOR``: low enough for the master to converge quickly where no row binds hard.

    A column of a day's operation spans at most the longest slice (h hours) and enters the row with
    coefficient b: leaving its MW unserved costs ``penalty``·h and moves the row by |b|. So
    ``penalty``·h over the smallest |b| is dearer than any way of meeting the row by leaving demand
    unserved, itself dearer than any plan: at that price no day misses a row a plan can meet.
    """
    coupling = structure.coupling
    if not coupling.size:
        return np.zeros(0), np.zeros(0)
    lp, _ = build_lp(restrict(inputs, day_slices(inputs)[0], day=1))
    matrix = lp.arrays()[3].tocsr()[coupling.positions]
    is_first = np.zeros(lp.num_cols, bool)
    is_first[structure.columns] = True
    smallest, largest = np.ones(coupling.size), np.ones(coupling.size)
    for r in range(coupling.size):
        start, stop = matrix.indptr[r], matrix.indptr[r + 1]
        values = np.abs(matrix.data[start:stop][~is_first[matrix.indices[start:stop]]])
        values = values[values > 1e-9 * values.max(initial=0.0)]  # a coefficient of rounding noise moves nothing
        if values.size:
            smallest[r], largest[r] = float(values.min()), float(values.max())
    ceiling = penalty * float(inputs.hours.max()) / smallest
    return np.minimum(penalty / largest / PENALTY_START_DIVISOR, ceiling), ceiling


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
    allocation : numpy.ndarray (days, R)
        Each day's part of each coupling row (:class:`Coupling`). [row unit]
    totals : AnnualTotals
        The year's totals its annual rules were checked on.
    """

    structure: YearStructure
    point: np.ndarray
    upper_bound_cny: float
    lower_bound_cny: float
    days: list[dict]
    history: list[dict] = field(default_factory=list)
    penalty_cny_per_mwh: float = 0.0
    metadata: dict = field(default_factory=dict)
    allocation: np.ndarray | None = None
    totals: AnnualTotals | None = None

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
        The inputs hold a constraint that couples the days in a way that does not split
        (see :func:`year_structure`).
    PlanInfeasible
        Even the best plan found leaves demand unserved, or misses an annual constraint.
    PlanNotSolved
        A solve was not proven, a check failed, or the limits came before the gap (status
        ``time_limit``, with the bounds reached in the message).
    """
    started = time.perf_counter()
    structure = year_structure(inputs)
    penalty = penalty_cny_per_mwh if penalty_cny_per_mwh is not None else default_penalty(inputs, structure)
    coupling = structure.coupling
    # A day may miss its part of a coupling row at a price. The price starts low (steep prices slow
    # the master) and rises, row by row, while the plan found misses a row; every cut stays valid,
    # since a day's value only grows with the price. The ceiling is never cheaper than leaving demand
    # unserved; a row still missed there cannot be met.
    coupling.penalty, ceiling = coupling_penalties(inputs, structure, penalty)
    num_r, num_m = coupling.size, structure.columns.size
    slices = day_slices(inputs)
    days = [restrict(inputs, s, day=1) for s in slices]
    num_d = len(days)
    key = f"{id(inputs):x}-{time.time_ns():x}"
    count = min(num_d, max(1, workers) * tasks_per_worker)
    runs = [run.tolist() for run in np.array_split(np.arange(num_d), count)]
    sent = [False]

    def evaluate(point: np.ndarray, verify: bool = False, lifted: bool = False) -> list[DayCut]:
        m, allocation = point[:num_m], point[num_m:].reshape(num_d, num_r)

        def task(run, with_days):
            return DayTask(key, run, [days[i] for i in run] if with_days else None, m, structure.columns,
                           structure.master_row_positions, penalty, tolerance, verify,
                           coupling=coupling if num_r else None,
                           allocation=None if lifted or not num_r else allocation[run])

        # Days travel to a worker only when it has not built them (pickling 365 days costs a second).
        results = run_tasks(solve_days, [task(run, not sent[0]) for run in runs])
        sent[0] = True
        again = [i for i, result in enumerate(results) if isinstance(result, MissingDays)]
        if again:
            for i, result in zip(again, run_tasks(solve_days, [task(runs[i], True) for i in again]), strict=True):
                results[i] = result
        return sorted((cut for result in results for cut in result), key=lambda cut: cut.position)

    m = np.clip(start if start is not None else structure.upper, structure.lower, structure.upper)
    m = np.where(np.isfinite(m), m, structure.lower)
    point = np.concatenate([m, np.zeros(num_d * num_r)])
    lifted_cuts, allocation_span = [], np.ones(0)
    if num_r:
        # Each day with its coupling rows lifted: cuts that bound θ_d whatever the allocation, and the
        # days' own use of each row, from which the first allocation and the row's unit follow.
        lifted_cuts = evaluate(point, lifted=True)
        allocation, allocation_span = first_allocation(structure, m, np.array([c.activity for c in lifted_cuts]))
        point[num_m:] = allocation.ravel()
    problem = master_problem(structure, num_d, allocation_span)
    master = None
    history = []
    best_point, best_value, best_cuts = None, INF, []
    lower = -INF
    radius, step = BOX_START, None
    for iteration in range(max_iterations):
        step_start = time.perf_counter()
        cuts = evaluate(point)
        value = float(problem.cost @ point) + sum(cut.value for cut in cuts)
        if master is None:
            master = Master(problem, num_d, scale=max(abs(value) / num_d, 1.0))
            if lifted_cuts:
                master.add_cuts(point, lifted_cuts)
        master.add_cuts(point, cuts)
        if value < best_value:
            best_point, best_value, best_cuts = point.copy(), value, cuts
        lower, _ = master.lower_bound()
        relative = (best_value - lower) / max(abs(best_value), 1.0)
        # Stricter than the final check: the verified days are solved again and may land on another vertex.
        missed = (_missed_rows(structure, best_cuts, 0.1 * tolerance) if relative <= gap and num_r
                  else np.zeros(0, bool))
        if missed.any() and np.any(coupling.penalty[missed] < ceiling[missed]):
            coupling.penalty = np.where(missed, np.minimum(coupling.penalty * PENALTY_STEP, ceiling),
                                        coupling.penalty)
            best_cuts = evaluate(best_point)
            best_value = float(problem.cost @ best_point) + sum(cut.value for cut in best_cuts)
            master.add_cuts(best_point, best_cuts)
            lower, _ = master.lower_bound()
            relative = (best_value - lower) / max(abs(best_value), 1.0)
        row = {"iteration": iteration + 1, "lower_bound_cny": lower, "upper_bound_cny": best_value, "gap": relative,
               "point_cny": value,
               "day_iterations": sum(c.iterations for c in cuts), "day_solve_s": sum(c.solve_s for c in cuts),
               "seconds": time.perf_counter() - step_start}
        history.append(row)
        if progress is not None:
            progress(row)
        if relative <= gap and not (missed.any() and np.any(coupling.penalty[missed] < ceiling[missed])):
            break  # done; or a row still missed at the ceiling, refused below with the row named
        if time.perf_counter() - started > time_limit_s:
            break
        radius = _next_radius(radius, value, step)
        step = _Step(value=best_value)
        step.predicted, point = master.box_point(best_point, radius)
        step.width = float(np.max(np.abs(master.scaled(point) - master.scaled(best_point)), initial=0.0))
    else:
        relative = (best_value - lower) / max(abs(best_value), 1.0)
    if relative > gap:
        msg = (f"year plan | stopped after {len(history)} iterations at a gap of {relative:.2%} "
               f"(bounds {lower:,.0f} and {best_value:,.0f} CNY/yr) above the {gap:.2%} asked for. "
               "Allow more time or a larger gap.")
        raise PlanNotSolved(msg, status=PlanStatus.TIME_LIMIT)
    final = evaluate(best_point, verify=True)
    unserved = sum(c.verified["unserved_mwh"] for c in final)
    # Unserved energy within the plan's relative tolerance of the year's demand is the solver's noise.
    allowed = max(UNSERVED_TOLERANCE_MWH, tolerance * float(inputs.demand_mw.sum(axis=(0, 1)) @ inputs.hours))
    if unserved > allowed:
        short = sum(1 for c in final if c.verified["unserved_mwh"] > allowed / num_d)
        msg = (f"year plan | even the best capacities found leave {unserved:,.0f} MWh of demand unserved on "
               f"{short} days: the year's peaks cannot be served within the build limits. Raise "
               "sites.<id>.max_new_mw or policy.local_max_new_share, or lower the demand.")
        raise PlanInfeasible(msg)
    # The final solves must price the plan as the iterations did.
    final_value = float(problem.cost @ best_point) + sum(c.value for c in final)
    if not abs(final_value - best_value) <= 1e-6 * max(abs(best_value), 1.0):
        msg = (f"year plan | the verified days cost {final_value:,.0f} CNY/yr against {best_value:,.0f} "
               "in the decomposition")
        raise PlanNotSolved(msg, status=PlanStatus.RESIDUAL)
    # The annual rules, checked on the year's totals (each day was checked without them). A day may
    # miss its own part of a row by a little where others exceed theirs: the year is what must hold.
    totals = final[0].verified["totals"]
    for cut in final[1:]:
        totals = totals + cut.verified["totals"]
    annual = annual_violations(inputs, structure.index, totals)
    worst = max(annual, key=annual.get) if annual else None
    if worst is not None and not annual[worst] <= tolerance:
        at_ceiling = [coupling.penalty[r] >= ceiling[r] for r in range(num_r) if coupling.row_family[r] == worst]
        if at_ceiling and all(at_ceiling):
            msg = (f"year plan | even the best plan found misses the annual constraint {worst} by "
                   f"{annual[worst]:.2%}: no plan within the build limits meets it over the year. Relax it, "
                   "or raise the build limits.")
            raise PlanInfeasible(msg)
        msg = (f"year plan | the year's totals violate the {worst} constraint by {annual[worst]:.2e} (relative), "
               f"above the tolerance {tolerance:.0e}; it is not reported as a plan")
        raise PlanNotSolved(msg, status=PlanStatus.RESIDUAL)
    # The plan's cost is its days' without the prices of what they left, within tolerance, unserved or
    # missed (the year holds every row).
    final_value -= sum(c.verified["shortfall_cny"] + penalty * c.verified["unserved_mwh"] for c in final)
    return YearPlan(
        structure=structure,
        point=best_point[:num_m],
        upper_bound_cny=final_value,
        lower_bound_cny=lower,
        days=[c.verified for c in final],
        history=history,
        penalty_cny_per_mwh=penalty,
        allocation=best_point[num_m:].reshape(num_d, num_r),
        totals=totals,
        metadata={
            "iterations": len(history),
            "cuts": master.cuts,
            "wall_s": time.perf_counter() - started,
            "max_violation": max([c.verified["max_violation"] for c in final] + list(annual.values())),
            "max_duality_gap": max(c.verified["duality_gap"] for c in final),
            "annual_violations": annual,
            "coupling_rows": coupling.families,
        },
    )


@dataclass
class _Step:
    """A trust-region step from the incumbent (cost ``value``) to a point the cuts value at ``predicted``. [CNY/yr]"""

    value: float
    predicted: float = INF
    width: float = 0.0


def _next_radius(radius: float, value: float, step: _Step | None) -> float:
    """The trust region's half-width after a step whose point cost ``value`` [CNY/yr].

    Wider when the step gained what the cuts promised and reached the box's edge (the region held
    the model back); narrower when the point cost more than the incumbent (the cuts misled there);
    the same otherwise (the new cuts correct the model where it was wrong).
    """
    if step is None:
        return radius
    if value <= step.value - STEP_GAIN * (step.value - step.predicted):
        return min(2.0 * radius, BOX_MAX) if step.width >= 0.99 * radius else radius
    if value > step.value:
        return max(0.5 * radius, BOX_MIN)
    return radius


def first_allocation(structure: YearStructure, m: np.ndarray, activity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first parts e of the coupling rows, (days, R), and each row's unit in the master, (R,).

    Each day starts from its own use of the row (``activity``, solved with the row lifted); where
    the year's row is then missed, the shortfall is spread over the days in proportion to their use.
    """
    coupling = structure.coupling
    num_d = activity.shape[0]
    total = coupling.matrix @ m + activity.sum(axis=0)
    missing = np.maximum(coupling.sense * (coupling.bound - total), 0.0)
    weight = np.abs(activity)
    weight_sum = weight.sum(axis=0)
    share = np.where(weight_sum > 0, weight / np.where(weight_sum > 0, weight_sum, 1.0), 1.0 / num_d)
    allocation = activity + coupling.sense * missing * share
    span = np.maximum(np.abs(activity).mean(axis=0), np.abs(coupling.bound) / num_d)
    return allocation, np.where(span > 0, span, 1.0)


def _shortfall(structure: YearStructure, cuts: list[DayCut]) -> tuple[np.ndarray, np.ndarray]:
    """(each coupling row's part left unmet over the year [row unit], the same relative to the row's size [-])."""
    coupling = structure.coupling
    shortfall = np.sum([c.shortfall for c in cuts], axis=0)
    scale = np.maximum(np.abs(np.array([c.activity for c in cuts])).sum(axis=0), np.abs(coupling.bound))
    relative = np.divide(shortfall, scale, out=np.where(shortfall > 0, np.inf, 0.0), where=scale > 0)
    return shortfall, relative


def _missed_rows(structure: YearStructure, cuts: list[DayCut], tolerance: float) -> np.ndarray:
    """Which coupling rows the days miss (their part left unmet above the tolerance), (R,) bool."""
    return _shortfall(structure, cuts)[1] > tolerance
