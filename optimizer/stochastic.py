"""Two-stage stochastic plans: capacity decided once for several futures, operation per future, in one LP.

Each future f (probability p_f) has its own planning LP (:func:`optimizer.formulation.build_lp` of
its inputs). The year's decisions, the column families whose size does not grow with the time
slices (new capacity ``n``, fit-out ``f``; read off the formulation as
:func:`optimizer.decompose.year_structure` does, so families added later come along) are shared by
every future; every other family is copied per future, so the stochastic LP is the futures' LPs
stacked block-diagonally with the shared columns merged. Rows on shared columns alone (the hub
rule) are stated once where the futures agree on them.

Objective, with x_f a future's columns, m the shared ones and cost_f = c_f·(m, x_f):

    min (1 − ω) Σ_f p_f cost_f + ω (η + 1/(1 − α) Σ_f p_f u_f),   u_f ≥ cost_f − η,  u_f ≥ 0

the expected cost plus, with a weight ω, the conditional value at risk at level α
(Rockafellar and Uryasev, 2000); ω = 0 is the risk-neutral plan.

Every future's part is verified on its own (:func:`optimizer.plan.verify_solution`): the shared
columns fixed at the solution's values, the future's row duals are the stacked LP's divided by the
weight w_f = (1 − ω) p_f + μ_f its cost carries in the objective (μ_f the dual of its risk row),
so each part passes the residual, recomputed-cost and strong-duality checks of a plan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from optimizer.decompose import YearPlanRefused, year_structure
from optimizer.diagnose import diagnose_infeasible, explain_conflicts, precheck_conflicts
from optimizer.dispatch import with_unserved
from optimizer.extract import PlanQuantities
from optimizer.formulation import build_lp
from optimizer.index import PlanIndex
from optimizer.inputs import PlanInputs
from optimizer.lp import INF, LinearProgram
from optimizer.plan import OBJECTIVE_FLOOR_CNY, OptimisedPlan, tabulate, verify_solution
from optimizer.size import BASE_MEMORY_BYTES, BYTES_PER_NONZERO, LPSize
from optimizer.solve import Solution, dual_objective, solve_lp
from optimizer.status import PlanInfeasible, PlanNotSolved, PlanStatus

#: Probabilities must add up to 1 within this. [-]
PROBABILITY_TOLERANCE = 1e-6


class StochasticRefused(ValueError):
    """The futures cannot share one plan (their year decisions differ). The message is one line."""


@dataclass
class Future:
    """One future of a stochastic plan: its name, probability [-] and planning inputs."""

    name: str
    probability: float
    inputs: PlanInputs


@dataclass(frozen=True)
class Risk:
    """CVaR in the objective: ``alpha`` the level [-], ``weight`` ω in [0, 1) [-]."""

    alpha: float
    weight: float


@dataclass
class StochasticLP:
    """The stacked LP and where each future's columns and rows sit in it.

    Attributes
    ----------
    lp : LinearProgram
        The stochastic LP.
    parts : list of (LinearProgram, PlanIndex)
        Each future's own LP.
    columns : list of numpy.ndarray
        Stacked column of every column of a future's LP.
    rows : list of numpy.ndarray
        Stacked row of every row of a future's LP; −1 for a row on shared columns alone (it carries
        no dual in the future's own check).
    shared : list of numpy.ndarray
        Positions of the shared columns in each future's LP, in the same order.
    shared_families : list of str
        Their families.
    risk_rows : numpy.ndarray
        Stacked row of each future's CVaR row (empty without risk).
    """

    lp: LinearProgram
    parts: list[tuple[LinearProgram, PlanIndex]]
    columns: list[np.ndarray]
    rows: list[np.ndarray]
    shared: list[np.ndarray]
    shared_families: list[str]
    risk_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


@dataclass
class StochasticPlan:
    """A verified stochastic optimum.

    Attributes
    ----------
    plans : list of OptimisedPlan
        The plan in each future (the same shared decisions), verified.
    costs_cny : numpy.ndarray (F,)
        Each future's annual cost. [CNY/yr]
    objective_cny : float
        The stochastic LP's optimum: expected cost, or its mix with CVaR. [CNY/yr]
    shared_values : numpy.ndarray
        The shared columns' values (MW of new capacity and fit-out, ...).
    metadata : dict
        Size, solver time and trust figures of the stacked LP.
    """

    plans: list[OptimisedPlan]
    costs_cny: np.ndarray
    objective_cny: float
    shared_values: np.ndarray
    metadata: dict = field(default_factory=dict)


def check_probabilities(probabilities) -> np.ndarray:
    """The probabilities as an array, refused unless each is positive and they add up to 1.

    Raises
    ------
    ValueError
        One line with the offending values.
    """
    p = np.asarray(probabilities, float)
    if p.size == 0 or not np.all(np.isfinite(p)) or np.any(p <= 0.0):
        msg = f"every future needs a probability above 0, got {p.tolist()}"
        raise ValueError(msg)
    if abs(p.sum() - 1.0) > PROBABILITY_TOLERANCE:
        msg = f"probabilities must add up to 1, got {p.sum():.6g}"
        raise ValueError(msg)
    return p


def risk_measure(costs_cny, probabilities, risk: Risk | None) -> tuple[float, float | None]:
    """(objective, CVaR) of a cost per future: (1 − ω)·E[cost] + ω·CVaR_α, and CVaR_α (None without risk). [CNY/yr]

    CVaR_α is min over η of η + 1/(1 − α) Σ p_f (cost_f − η)⁺, whose minimum lies at one of the costs.
    """
    costs, p = np.asarray(costs_cny, float), np.asarray(probabilities, float)
    expected = float(p @ costs)
    if risk is None:
        return expected, None
    cvar = min(float(eta + p @ np.maximum(costs - eta, 0.0) / (1.0 - risk.alpha)) for eta in costs)
    return (1.0 - risk.weight) * expected + risk.weight * cvar, cvar


def shared_families(inputs: PlanInputs) -> list[str]:
    """Column families decided once, whatever the time slices: new capacity, fit-out and any added later.

    Raises
    ------
    StochasticRefused
        The formulation's families cannot be told apart (:func:`optimizer.decompose.year_structure`).
    """
    try:
        return year_structure(inputs).first_stage
    except YearPlanRefused as exc:
        msg = f"stochastic plan | the year's decisions cannot be read off this scenario's LP: {exc}"
        raise StochasticRefused(msg) from None


def stacked_size(per_future: LPSize, futures: int, risk: bool) -> LPSize:
    """Size of the stochastic LP of ``futures`` futures, each of ``per_future`` (:mod:`optimizer.size`).

    The futures' parts add up (the shared columns are counted in each, a small overestimate); the
    process's own memory is counted once. Each CVaR row holds every column of its future.
    """
    extra_nonzeros = futures * (per_future.columns + 3) if risk else 0
    memory = (BASE_MEMORY_BYTES + futures * (per_future.memory_bytes - BASE_MEMORY_BYTES)
              + BYTES_PER_NONZERO["highs"] * extra_nonzeros)
    return LPSize(futures * per_future.columns + (futures + 2 if risk else 0),
                  futures * per_future.rows + (futures if risk else 0),
                  futures * per_future.nonzeros + extra_nonzeros, int(memory))


def futures_within(per_future: LPSize, budget_bytes: int, risk: bool) -> int:
    """How many futures of ``per_future`` fit in ``budget_bytes`` (:func:`stacked_size`)."""
    count = 0
    while stacked_size(per_future, count + 1, risk).memory_bytes <= budget_bytes and count < 100_000:
        count += 1
    return count


def _positions(blocks, families) -> np.ndarray:
    return np.concatenate([np.arange(blocks[f].start, blocks[f].stop) for f in families] or [np.zeros(0, np.int64)])


def build_stochastic_lp(futures: list[Future], risk: Risk | None = None) -> StochasticLP:
    """The stochastic LP of ``futures``: their LPs stacked, the year's decisions shared.

    Raises
    ------
    StochasticRefused
        The futures' year decisions differ (other sites may be built, other bounds that exclude
        each other).
    ValueError
        Bad probabilities (:func:`check_probabilities`).
    """
    p = check_probabilities([future.probability for future in futures])
    families = shared_families(futures[0].inputs)
    parts = [build_lp(future.inputs) for future in futures]

    def width(lp, family):
        return lp.columns[family].stop - lp.columns[family].start

    for future, (lp, _) in zip(futures, parts, strict=True):
        for family in families:
            if width(lp, family) != width(parts[0][0], family):
                msg = (f"stochastic plan | future '{future.name}' has other {family} columns than "
                       f"'{futures[0].name}': every future must allow the same sites to be built. "
                       "Vary demand, prices and limits, not which sites exist.")
                raise StochasticRefused(msg)
    shared = [_positions(lp.columns, families) for lp, _ in parts]
    arrays = [lp.arrays() for lp, _ in parts]
    weight = 0.0 if risk is None else risk.weight
    stacked = LinearProgram()
    lower = np.max([a[1][positions] for a, positions in zip(arrays, shared, strict=True)], axis=0)
    upper = np.min([a[2][positions] for a, positions in zip(arrays, shared, strict=True)], axis=0)
    if np.any(lower > upper):
        msg = ("stochastic plan | the futures' bounds on new capacity exclude each other. "
               "Give the futures common limits.")
        raise StochasticRefused(msg)
    shared_cost = sum(pk * a[0][positions] for pk, a, positions in zip(p, arrays, shared, strict=True))
    block = stacked.add_columns("shared", (1.0 - weight) * shared_cost, lower, upper)
    maps = []
    for k, ((lp, _), a) in enumerate(zip(parts, arrays, strict=True)):
        own = np.ones(lp.num_cols, bool)
        own[shared[k]] = False
        mapping = np.empty(lp.num_cols, np.int64)
        mapping[shared[k]] = block.start + np.arange(shared[k].size)
        private = stacked.add_columns(f"future{k}", (1.0 - weight) * p[k] * a[0][own], a[1][own], a[2][own])
        mapping[own] = np.arange(private.start, private.stop)
        maps.append(mapping)
    rows = [_add_future_rows(stacked, k, a, maps[k], shared[k], arrays[0], shared[0]) for k, a in enumerate(arrays)]
    out = StochasticLP(stacked, parts, maps, rows, shared, families)
    if risk is not None:
        out.risk_rows = _add_risk(stacked, risk, p, arrays, maps)
    return out


def _only_shared(matrix, shared: np.ndarray) -> np.ndarray:
    """Which rows have entries and all of them on the shared columns."""
    csr = matrix.tocsr()
    is_shared = np.zeros(csr.shape[1], bool)
    is_shared[shared] = True
    counts = np.diff(csr.indptr)
    entry_row = np.repeat(np.arange(csr.shape[0]), counts)
    other = np.bincount(entry_row, weights=~is_shared[csr.indices], minlength=csr.shape[0])
    return (counts > 0) & (other == 0)


def _add_future_rows(stacked: LinearProgram, k: int, arrays, mapping: np.ndarray, shared: np.ndarray,
                     first_arrays, first_shared: np.ndarray) -> np.ndarray:
    """Add future k's rows; return the stacked row of each of them, −1 for a row on shared columns alone."""
    _, _, _, matrix, row_lower, row_upper = arrays
    matrix = matrix.tocsr()
    only = _only_shared(matrix, shared)
    keep = np.ones(matrix.shape[0], bool)
    if k > 0 and only.any():
        # Rows on the shared columns alone hold once where they are the first future's rows.
        _, _, _, matrix0, lower0, upper0 = first_arrays
        matrix0 = matrix0.tocsr()
        only0 = _only_shared(matrix0, first_shared)
        if only.sum() == only0.sum():
            here, there = matrix[only][:, shared], matrix0[only0][:, first_shared]
            if (np.array_equal(row_lower[only], lower0[only0]) and np.array_equal(row_upper[only], upper0[only0])
                    and (here != there).nnz == 0):
                keep[only] = False
    kept = np.nonzero(keep)[0]
    coo = matrix[kept].tocoo()
    block = stacked.add_rows(f"future{k}", kept.size, coo.row, mapping[coo.col], coo.data,
                             row_lower[kept], row_upper[kept])
    rows = np.full(matrix.shape[0], -1, np.int64)
    rows[kept] = block.start + np.arange(kept.size)
    # A row on fixed columns alone carries no dual in the future's own check.
    rows[only] = -1
    return rows


def _add_risk(stacked: LinearProgram, risk: Risk, p: np.ndarray, arrays, maps) -> np.ndarray:
    # η as the difference of two non-negative columns (PuLP takes no free column), u_f ≥ 0;
    # rows u_f + η − cost_f ≥ 0.
    eta = stacked.add_columns("cvar_eta", [risk.weight, -risk.weight], 0.0, INF)
    excess = stacked.add_columns("cvar_excess", risk.weight * p / (1.0 - risk.alpha), 0.0, INF)
    row_parts, col_parts, val_parts = [], [], []
    for k, (a, mapping) in enumerate(zip(arrays, maps, strict=True)):
        cost = a[0]
        nonzero = np.nonzero(cost)[0]
        row_parts.append(np.full(nonzero.size + 3, k))
        col_parts.append(np.concatenate([mapping[nonzero], [eta.start, eta.start + 1, excess.start + k]]))
        val_parts.append(np.concatenate([-cost[nonzero], [1.0, -1.0, 1.0]]))
    block = stacked.add_rows("cvar", p.size, np.concatenate(row_parts), np.concatenate(col_parts),
                             np.concatenate(val_parts), 0.0, INF)
    return np.arange(block.start, block.stop)


def fixed(lp: LinearProgram, positions: np.ndarray, values: np.ndarray) -> LinearProgram:
    """A copy of ``lp`` with the columns at ``positions`` fixed to ``values``."""
    out = lp.copy()
    _, lower, upper, _, _, _ = lp.arrays()
    lower, upper = lower.copy(), upper.copy()
    lower[positions] = upper[positions] = values
    out.col_lower, out.col_upper = [lower], [upper]
    return out


def _part_solution(lp: LinearProgram, values: np.ndarray, duals: np.ndarray, whole: Solution) -> Solution:
    arrays = lp.arrays()
    cost, _, _, matrix, _, _ = arrays
    reduced = cost - matrix.T @ duals
    return Solution(values=values, row_duals=duals, objective=float(cost @ values),
                    dual_objective=dual_objective(arrays, duals, reduced), backend=whole.backend,
                    model_status=whole.model_status, iterations=whole.iterations)


def solve_stochastic(
    futures: list[Future],
    risk: Risk | None = None,
    backend: str = "auto",
    time_limit_s: float = 600.0,
    tolerance: float = 1e-6,
    options: dict | None = None,
) -> StochasticPlan:
    """Build, solve and verify the stochastic plan of ``futures``.

    Raises
    ------
    PlanInfeasible
        Some future cannot be served by any plan shared with the others.
    PlanNotSolved
        No proven optimum, or a future's part fails its checks (status 'residual').
    StochasticRefused, ValueError
        As :func:`build_stochastic_lp`.
    """
    for future in futures:  # a future no plan can serve dooms the shared plan: name it, as a plan's solve would
        conflicts = precheck_conflicts(future.inputs)
        if conflicts:
            msg = f"future '{future.name}': {explain_conflicts(conflicts)}"
            raise PlanInfeasible(msg, diagnosis=conflicts)
    start = time.perf_counter()
    built = build_stochastic_lp(futures, risk)
    formulate_s = time.perf_counter() - start
    try:
        solution = solve_lp(built.lp, backend=backend, time_limit_s=time_limit_s, options=options)
    except PlanInfeasible:
        raise PlanInfeasible(_why_infeasible(futures, time_limit_s)) from None
    scale = max(abs(solution.objective), OBJECTIVE_FLOOR_CNY)
    if not abs(solution.objective - solution.dual_objective) / scale <= 1e-6:
        msg = "the stochastic LP's primal and dual objectives differ: the optimum is not proven"
        raise PlanNotSolved(msg, status=PlanStatus.RESIDUAL)
    p = np.array([future.probability for future in futures])
    weight = 0.0 if risk is None else risk.weight
    shared_values = solution.values[built.columns[0][built.shared[0]]]
    plans = []
    for k, (future, (lp, index)) in enumerate(zip(futures, built.parts, strict=True)):
        risk_dual = float(solution.row_duals[built.risk_rows[k]]) if risk is not None else 0.0
        share = (1.0 - weight) * p[k] + risk_dual  # the weight of this future's cost in the objective
        own = fixed(lp, built.shared[k], shared_values)
        rows = built.rows[k]
        duals = np.where(rows >= 0, solution.row_duals[np.maximum(rows, 0)], 0.0) / share
        part = _part_solution(own, solution.values[built.columns[k]], duals, solution)
        try:
            plans.append(tabulate(future.inputs, own, index, part, tolerance))
        except PlanNotSolved as exc:
            msg = f"future '{future.name}': {exc}"
            raise PlanNotSolved(msg, status=exc.status) from None
    costs = np.array([plan.summary.total_cost_cny for plan in plans])
    objective, cvar = risk_measure(costs, p, risk)
    if not abs(objective - solution.objective) / scale <= 1e-6:
        msg = (f"the futures' verified costs give {objective:.6e} CNY against the solver's {solution.objective:.6e}; "
               "the stochastic plan is not reported")
        raise PlanNotSolved(msg, status=PlanStatus.RESIDUAL)
    metadata = {
        "columns": built.lp.num_cols,
        "rows": built.lp.num_rows,
        "nonzeros": int(built.lp.arrays()[3].nnz),
        "futures": len(futures),
        "shared_families": built.shared_families,
        "simplex_iterations": solution.iterations,
        "objective_cny": solution.objective,
        "dual_objective_cny": solution.dual_objective,
        "max_violation": max(plan.metadata["max_violation"] for plan in plans),
        "timings_s": {"formulate_s": formulate_s, **solution.timings},
    }
    if cvar is not None:
        metadata["cvar_cny"] = cvar
    return StochasticPlan(plans, costs, float(solution.objective), shared_values, metadata)


def _why_infeasible(futures: list[Future], time_limit_s: float) -> str:
    """One line on a stochastic LP HiGHS proved infeasible: the first future with no plan of its own, if any."""
    for future in futures:
        lp, index = build_lp(future.inputs)
        try:
            solve_lp(lp, backend="highs", time_limit_s=time_limit_s)
        except PlanInfeasible:
            conflicts = diagnose_infeasible(future.inputs, lp, index, time_limit_s=time_limit_s)
            return f"future '{future.name}': {explain_conflicts(conflicts)}"
    return ("every future has a plan of its own, but no one plan of new capacity serves them all. "
            "Check the limits on new capacity and the rules on it that differ between the futures")


def solve_alone(inputs: PlanInputs, families: list[str], backend: str = "auto", time_limit_s: float = 600.0,
                tolerance: float = 1e-6, options: dict | None = None) -> tuple[OptimisedPlan, np.ndarray]:
    """The least-cost plan of one future, verified, and the values of its shared columns (``families``)."""
    lp, index = build_lp(inputs)
    solution = solve_lp(lp, backend=backend, time_limit_s=time_limit_s, options=options)
    plan = tabulate(inputs, lp, index, solution, tolerance)
    return plan, solution.values[_positions(lp.columns, families)]


def evaluate_fixed(inputs: PlanInputs, families: list[str], values: np.ndarray, penalty_cny_per_mwh: float,
                   backend: str = "auto", time_limit_s: float = 600.0, tolerance: float = 1e-6,
                   options: dict | None = None) -> tuple[float, float]:
    """(cost [CNY/yr], unserved energy [MWh/yr]) of one future with its year decisions fixed at ``values``.

    Demand the fixed capacity cannot serve is left unserved at ``penalty_cny_per_mwh``, as the year
    check's dispatch does (:func:`optimizer.dispatch.with_unserved`); the cost includes it.
    """
    lp, index = build_lp(inputs)
    elastic = with_unserved(fixed(lp, _positions(lp.columns, families), values), inputs, penalty_cny_per_mwh)
    solution = solve_lp(elastic, backend=backend, time_limit_s=time_limit_s, options=options)
    quantities: PlanQuantities
    quantities, _ = verify_solution(inputs, elastic, index, solution, tolerance, penalty_cny_per_mwh)
    unserved = float(quantities.unserved_mw.sum(axis=(0, 1)) @ inputs.hours)
    return float(solution.objective), unserved


@dataclass
class ValueFigures:
    """The stochastic plan against the mean-future plan and against perfect information.

    Attributes
    ----------
    mean_plan_costs_cny, mean_plan_unserved_mwh : numpy.ndarray (F,)
        The mean-future plan's year decisions fixed in each future: its cost (unserved demand at
        the penalty included) [CNY/yr] and the demand it leaves unserved [MWh/yr].
    perfect_costs_cny : numpy.ndarray (F,)
        Each future's own optimum. [CNY/yr]
    mean_plan_objective_cny, perfect_objective_cny : float
        Their objectives (:func:`risk_measure`). [CNY/yr]
    vss_cny : float
        Value of the stochastic solution: the mean-future plan's objective minus the stochastic optimum. [CNY/yr]
    evpi_cny : float
        Expected value of perfect information: the stochastic optimum minus the perfect-information objective. [CNY/yr]
    """

    mean_plan_costs_cny: np.ndarray
    mean_plan_unserved_mwh: np.ndarray
    perfect_costs_cny: np.ndarray
    mean_plan_objective_cny: float
    perfect_objective_cny: float
    vss_cny: float
    evpi_cny: float


def value_figures(futures: list[Future], mean_inputs: PlanInputs, plan: StochasticPlan, risk: Risk | None,
                  penalty_cny_per_mwh: float, **settings) -> ValueFigures:
    """VSS and EVPI of a stochastic plan (every solve verified; ``settings`` as :func:`solve_alone`).

    Parameters
    ----------
    mean_inputs : PlanInputs
        The mean future: the futures' uncertain numbers at their probability-weighted means.
    penalty_cny_per_mwh : float
        Price of demand the mean-future plan cannot serve in a future. [CNY/MWh]
    """
    families = plan.metadata["shared_families"]
    p = np.array([future.probability for future in futures])
    _, mean_values = solve_alone(mean_inputs, families, **settings)
    on_futures = np.array([evaluate_fixed(future.inputs, families, mean_values, penalty_cny_per_mwh, **settings)
                           for future in futures])
    perfect = np.array([solve_alone(future.inputs, families, **settings)[0].summary.total_cost_cny
                        for future in futures])
    mean_objective, _ = risk_measure(on_futures[:, 0], p, risk)
    perfect_objective, _ = risk_measure(perfect, p, risk)
    return ValueFigures(on_futures[:, 0], on_futures[:, 1], perfect, mean_objective, perfect_objective,
                        mean_objective - plan.objective_cny, plan.objective_cny - perfect_objective)
