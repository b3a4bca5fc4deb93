"""Dispatch LPs for checking a plan: capacity fixed, unserved demand allowed at a penalty, days solved warm.

:mod:`planner.check` uses these to dispatch every day of a year with a plan's capacities. One day is
the plan's LP (:func:`optimizer.formulation.build_lp`) with no new build, no carbon cap and no build
rule, plus one 'unserved' column per demand row. Consecutive days of one worker share the LP's
matrix and differ only in costs and bounds (demand, green power), so :class:`DispatchSolver` keeps one
HiGHS instance and re-solves each day from the previous day's optimal basis: a few dozen dual simplex
iterations instead of thousands (benchmarks/README.md, "Full-year check").
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import highspy
import numpy as np
import pandas as pd

from optimizer.extract import COST_PARTS, cost_components, extract_quantities, site_load
from optimizer.formulation import INF, LinearProgram, PlanIndex, build_lp, day_windows
from optimizer.inputs import PlanInputs
from optimizer.solve import PlanInfeasible, PlanNotSolved, Solution, new_highs

#: Unserved load below this is solver noise. [MW]
UNSERVED_EPSILON_MW = 1e-6

#: HiGHS options of the dispatch solves. Presolve off: measured twice as fast on a cold dispatch
#: day, and a warm start re-uses the previous basis directly.
DISPATCH_OPTIONS = {"presolve": "off"}


@dataclass
class DayCase:
    """One day to dispatch.

    Attributes
    ----------
    label : str
        The date ('2025-01-31') or the representative day ('d003').
    hours : numpy.ndarray, shape (T,)
        Weight of each slice in the year's totals. [h]
    demand_mw : numpy.ndarray, shape (P, K, T)
        Load to serve. [MW]
    green_mw : numpy.ndarray, shape (S, T)
        Green power on offer at each site. [MW]
    """

    label: str
    hours: np.ndarray
    demand_mw: np.ndarray
    green_mw: np.ndarray


@dataclass
class DayResult:
    """What one day's dispatch delivered; energy and cost weighted by the slices' hours.

    Attributes
    ----------
    costs_cny : dict
        Operating cost parts (``COST_PARTS`` less capex). [CNY]
    site_peak_mw : numpy.ndarray, shape (S,)
        Largest IT load of each site in the day. [MW]
    unserved_by_pair_mwh, unserved_hours_by_pair : numpy.ndarray, shape (P, K)
        Unserved energy [MWh] and slices with unserved load [-] by province and class.
    unserved_hours : float
        Slices of the day with any unserved load. [-]
    """

    label: str
    costs_cny: dict[str, float]
    emissions_tco2: float
    it_energy_mwh: float
    facility_energy_mwh: float
    green_mwh: float
    unserved_mwh: float
    unserved_hours: float
    site_peak_mw: np.ndarray
    unserved_by_pair_mwh: np.ndarray
    unserved_hours_by_pair: np.ndarray
    solve_s: float
    iterations: int


def dispatch_template(inputs: PlanInputs, capacity_mw: np.ndarray, carbon_price_cny_per_tco2: float) -> PlanInputs:
    """Inputs of a dispatch with capacity fixed: no new build, no cap or build rule, a given carbon price.

    Green power on offer is given per day in MW (:class:`DayCase`), so each site's rating is set to
    1 MW and a day's MW go into ``green_profile``.
    """
    sites = inputs.sites.copy()
    sites["existing_mw"] = np.asarray(capacity_mw, float)
    sites["max_new_mw"] = 0.0
    sites["green_new_share"] = 0.0
    sites["green_available_mw"] = 1.0
    return replace(
        inputs,
        sites=sites,
        carbon_price_cny_per_tco2=float(carbon_price_cny_per_tco2),
        carbon_cap_tco2=None,
        hub_new_share_min=None,
    )


def day_inputs(template: PlanInputs, case: DayCase) -> PlanInputs:
    """The template with one day's slices, demand and green power (one deferral window)."""
    num_t = case.hours.size
    periods = pd.DataFrame({
        "period": [f"{case.label}h{t:02d}" for t in range(num_t)],
        "day": 1,
        "hour": np.arange(num_t) * (24 // num_t),
        "hours": case.hours,
    })
    return replace(template, periods=periods, demand_mw=case.demand_mw, green_profile=case.green_mw)


def with_unserved(lp: LinearProgram, inputs: PlanInputs, penalty: float) -> LinearProgram:
    """A copy of ``lp`` whose demand may fall short, at ``penalty`` per MWh unserved.

    Column family 'unserved' has one column per 'demand' row (MW in a slice) and then one per
    'defer_energy' row (mean MW over a day window of a deferrable class).
    """
    cost, col_lower, col_upper, matrix, row_lower, row_upper = lp.arrays()
    hours = inputs.hours
    window, _ = day_windows(inputs)
    day_hours = np.bincount(window, hours)
    slack_rows, slack_cost = [], []
    demand = lp.rows["demand"]
    count = demand.stop - demand.start
    slack_rows.append(np.arange(demand.start, demand.stop))
    slack_cost.append(penalty * np.tile(hours, count // max(hours.size, 1)))
    if "defer_energy" in lp.rows:
        energy = lp.rows["defer_energy"]
        count = energy.stop - energy.start
        slack_rows.append(np.arange(energy.start, energy.stop))
        slack_cost.append(penalty * np.tile(day_hours, count // max(day_hours.size, 1)))
    slack_rows = np.concatenate(slack_rows)
    out = LinearProgram()
    for family, block in lp.columns.items():
        span = slice(block.start, block.stop)
        out.add_columns(family, cost[span], col_lower[span], col_upper[span])
    out.add_columns("unserved", np.concatenate(slack_cost), 0.0, INF)
    coo = matrix.tocoo()
    for family, block in lp.rows.items():
        inside = (coo.row >= block.start) & (coo.row < block.stop)
        rows, cols, vals = [coo.row[inside] - block.start], [coo.col[inside]], [coo.data[inside]]
        mine = np.nonzero((slack_rows >= block.start) & (slack_rows < block.stop))[0]
        rows.append(slack_rows[mine] - block.start)
        cols.append(lp.num_cols + mine)
        vals.append(np.ones(mine.size))
        span = slice(block.start, block.stop)
        out.add_rows(family, block.stop - block.start, np.concatenate(rows), np.concatenate(cols),
                     np.concatenate(vals), row_lower[span], row_upper[span])
    return out


class DispatchSolver:
    """Solves a sequence of dispatch LPs, warm-starting each from the previous optimum.

    When an LP has the previous one's matrix, only its costs and bounds are changed in HiGHS and
    the dual simplex starts from the previous optimal basis; otherwise the model is passed anew.
    """

    def __init__(self, options: dict | None = None, time_limit_s: float = 600.0):
        self.highs = new_highs()
        self.highs.setOptionValue("time_limit", float(time_limit_s))
        for key, value in {**DISPATCH_OPTIONS, **(options or {})}.items():
            self.highs.setOptionValue(key, value)
        self._matrix = None
        self._last: tuple[np.ndarray, ...] = ()

    def solve(self, lp: LinearProgram) -> Solution:
        """Solve ``lp`` to a proven optimum; raises PlanNotSolved otherwise."""
        cost, col_lower, col_upper, matrix, row_lower, row_upper = lp.arrays()
        csc = matrix.tocsc()
        start = time.perf_counter()
        same = (
            self._matrix is not None
            and self._matrix.shape == csc.shape
            and np.array_equal(self._matrix.indptr, csc.indptr)
            and np.array_equal(self._matrix.indices, csc.indices)
            and np.array_equal(self._matrix.data, csc.data)
        )
        highs = self.highs
        if same:
            # Only what changed is handed over: HiGHS's per-entry updates cost more than the comparison.
            last_cost, last_lower, last_upper, last_row_lower, last_row_upper = self._last
            changed = np.nonzero(cost != last_cost)[0].astype(np.int32)
            if changed.size:
                highs.changeColsCost(changed.size, changed, cost[changed])
            changed = np.nonzero((col_lower != last_lower) | (col_upper != last_upper))[0].astype(np.int32)
            if changed.size:
                highs.changeColsBounds(changed.size, changed, col_lower[changed], col_upper[changed])
            changed = np.nonzero((row_lower != last_row_lower) | (row_upper != last_row_upper))[0].astype(np.int32)
            if changed.size:
                highs.changeRowsBounds(changed.size, changed, row_lower[changed], row_upper[changed])
        else:
            model = highspy.HighsLp()
            model.num_col_, model.num_row_ = lp.num_cols, lp.num_rows
            model.col_cost_, model.col_lower_, model.col_upper_ = cost, col_lower, col_upper
            model.row_lower_, model.row_upper_ = row_lower, row_upper
            model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            model.a_matrix_.start_ = csc.indptr.astype(np.int32)
            model.a_matrix_.index_ = csc.indices.astype(np.int32)
            model.a_matrix_.value_ = csc.data
            highs.passModel(model)
            self._matrix = csc
        self._last = (cost, col_lower, col_upper, row_lower, row_upper)
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        highs.run()
        solve_s = time.perf_counter() - start
        status = highs.getModelStatus()
        info = highs.getInfo()
        if status == highspy.HighsModelStatus.kInfeasible:
            msg = "HiGHS proved the dispatch infeasible"
            raise PlanInfeasible(msg)
        if status != highspy.HighsModelStatus.kOptimal or info.primal_solution_status != 2:
            msg = f"HiGHS ended the dispatch with status '{highs.modelStatusToString(status)}'"
            raise PlanNotSolved(status="not_solved", message=msg)
        solution = highs.getSolution()
        return Solution(
            values=np.asarray(solution.col_value),
            row_duals=np.asarray(solution.row_dual),
            objective=float(info.objective_function_value),
            dual_objective=float("nan"),
            backend="highs",
            model_status=highs.modelStatusToString(status),
            timings={"build_s": build_s, "solver_s": solve_s, "iterations": float(info.simplex_iteration_count)},
        )


def dispatch_day(
    template: PlanInputs,
    case: DayCase,
    report_carbon_price: float,
    penalty_cny_per_mwh: float,
    solver: DispatchSolver | None = None,
) -> DayResult:
    """Dispatch one day with the capacity of ``template`` fixed (:func:`dispatch_template`).

    Parameters
    ----------
    template : PlanInputs
    case : DayCase
    report_carbon_price : float
        Carbon price of the reported carbon cost (the plan's own, which may differ from the price
        the dispatch runs at). [CNY/tCO2]
    penalty_cny_per_mwh : float
        Cost of unserved demand. [CNY/MWh]
    solver : DispatchSolver, optional
        Re-used across days for warm starts.
    """
    solver = solver or DispatchSolver()
    start = time.perf_counter()
    inputs = day_inputs(template, case)
    lp, index = build_lp(inputs)
    elastic = with_unserved(lp, inputs, penalty_cny_per_mwh)
    solution = solver.solve(elastic)
    return _day_result(inputs, case, elastic, index, solution, report_carbon_price, time.perf_counter() - start)


def _day_result(
    inputs: PlanInputs, case: DayCase, elastic: LinearProgram, index: PlanIndex, solution: Solution,
    report_carbon_price: float, solve_s: float,
) -> DayResult:
    q = extract_quantities(inputs, elastic, index, solution)
    block = elastic.columns["unserved"]
    slack = solution.values[block.start:block.stop]
    slack = np.where(slack > UNSERVED_EPSILON_MW, slack, 0.0)
    num_t = case.hours.size
    pairs = index.demand_pairs
    unserved = slack[: len(pairs) * num_t].reshape(-1, num_t)  # (pairs, T) [MW]
    costs = cost_components(replace(inputs, carbon_price_cny_per_tco2=report_carbon_price), index, q)
    num_p, num_k = case.demand_mw.shape[:2]
    by_pair_mwh = np.zeros((num_p, num_k))
    by_pair_hours = np.zeros((num_p, num_k))
    by_pair_mwh[pairs[:, 0], pairs[:, 1]] = unserved @ case.hours
    by_pair_hours[pairs[:, 0], pairs[:, 1]] = (unserved > 0).sum(axis=1)
    short_slices = unserved.sum(axis=0) > 0
    if len(index.defer_pairs):
        # Deferrable classes fall short by the day (one window per dispatched day): the shortfall
        # counts for every slice of the day.
        deferred = slack[len(pairs) * num_t:]
        by_pair_mwh[index.defer_pairs[:, 0], index.defer_pairs[:, 1]] += deferred * case.hours.sum()
        by_pair_hours[index.defer_pairs[:, 0], index.defer_pairs[:, 1]] += (deferred > 0) * num_t
        if (deferred > 0).any():
            short_slices[:] = True
    load = site_load(inputs, index, q.load)
    return DayResult(
        label=case.label,
        costs_cny={part: float(costs[part].sum()) for part in COST_PARTS if part != "capex_cny"},
        emissions_tco2=float(costs["emissions_tco2"].sum()),
        it_energy_mwh=float(load.sum(axis=0) @ case.hours),
        facility_energy_mwh=float(costs["facility_mwh"].sum()),
        green_mwh=float(costs["green_mwh"].sum()),
        unserved_mwh=float(by_pair_mwh.sum()),
        unserved_hours=float(short_slices.sum()),
        site_peak_mw=load.max(axis=1, initial=0.0),
        unserved_by_pair_mwh=by_pair_mwh,
        unserved_hours_by_pair=by_pair_hours,
        solve_s=solve_s,
        iterations=int(solution.timings.get("iterations", 0)),
    )
