"""Dispatch LPs for checking a plan: capacity fixed, unserved demand allowed at a penalty, days solved warm.

:mod:`planner.yearcheck` uses these to dispatch every day of a year with a plan's capacities. One day is
the plan's LP (:func:`optimizer.formulation.build_lp`) with no new build, no carbon cap and no build
rule, plus one 'unserved' column per demand row. Consecutive days of one worker share the LP's
matrix and differ only in costs and bounds (demand, green power), so :class:`DispatchSolver` keeps one
HiGHS instance and re-solves each day from the previous day's optimal basis: a few dozen dual simplex
iterations instead of thousands (benchmarks/README.md, "Full-year check").
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from optimizer.extract import PlanQuantities, cost_components, site_load
from optimizer.formulation import build_lp
from optimizer.index import PlanIndex, day_windows
from optimizer.inputs import PlanInputs
from optimizer.lp import INF, LinearProgram
from optimizer.network import fixed_links
from optimizer.plan import verify_solution
from optimizer.results import COST_PARTS
from optimizer.solve import Solution, new_highs, pass_lp, read_highs_status, read_solution
from optimizer.status import PlanInfeasible

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
    pue : numpy.ndarray, shape (S, T), optional
        Facility over IT power of each site in each slice (None: the sites' annual PUE). [-]
    peak_ratio : numpy.ndarray, shape (K, T), optional
        Peak hour over slice mean by class (None: 1, hourly slices). [-]
    """

    label: str
    hours: np.ndarray
    demand_mw: np.ndarray
    green_mw: np.ndarray
    pue: np.ndarray | None = None
    peak_ratio: np.ndarray | None = None


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
    green_mwh: float  # bundled green power and certificates [MWh]
    unserved_mwh: float
    unserved_hours: float
    site_peak_mw: np.ndarray
    unserved_by_pair_mwh: np.ndarray
    unserved_hours_by_pair: np.ndarray
    solve_s: float
    iterations: int


def dispatch_template(inputs: PlanInputs, capacity_mw: np.ndarray, carbon_price_cny_per_tco2: float,
                      link_capacity_gbps: np.ndarray | None = None) -> PlanInputs:
    """Inputs of a dispatch with capacity fixed: no new build or fit-out, no annual cap or rule, a given carbon price.

    ``capacity_mw`` is the capacity in use after the plan (fitted, fitted out and new). Green power
    on offer is given per day in MW (:class:`DayCase`), so each site's rating is set to 1 MW and a
    day's MW go into ``green_profile``. The plan's annual rules (caps on carbon, PUE and water, the
    policies on new capacity) constrain the year, not a day, and are left out. The least green share
    stays, day by day: certificates can be bought for any hour, so every day meeting the share costs
    what the year meeting it costs (without certificates a day's own green power may fall short, and
    the share is left out). With a network, each link's capacity is ``link_capacity_gbps`` (existing and
    new, [Gbit/s]; default: existing only) and none is added.
    """
    network = inputs.network
    if network is not None:
        capacity = network.links["existing_gbps"] if link_capacity_gbps is None else link_capacity_gbps
        network = fixed_links(network, capacity)
    sites = inputs.sites.copy()
    sites["existing_mw"] = np.asarray(capacity_mw, float)
    sites["occupancy"] = 1.0
    sites["max_new_mw"] = 0.0
    sites["green_new_share"] = 0.0
    sites["green_available_mw"] = 1.0
    return replace(
        inputs,
        sites=sites,
        network=network,
        carbon_price_cny_per_tco2=float(carbon_price_cny_per_tco2),
        carbon_cap_tco2=None,
        hub_new_share_min=None,
        latency_cap_ms=None,
        water_cap_m3=None,
        pue_cap_national=None,
        hub_pue_caps=False,
        hub_occupancy_min=None,
        hub_new_green_share_min=None,
        green_share_min=inputs.green_share_min if inputs.certificate_price_cny_per_mwh is not None else None,
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
    return replace(template, periods=periods, demand_mw=case.demand_mw, green_profile=case.green_mw,
                   pue_profile=case.pue, peak_ratio=case.peak_ratio)


def with_unserved(lp: LinearProgram, inputs: PlanInputs, penalty: float) -> LinearProgram:
    """A copy of ``lp`` whose demand may fall short, at ``penalty`` per MWh unserved.

    Column family 'unserved' has one column per 'demand' row (MW in a slice) and then one per
    'defer_energy' row (mean MW over a day window of a deferrable class).
    """
    hours = inputs.hours
    window, _ = day_windows(inputs)
    day_hours = np.bincount(window, hours)
    demand = lp.rows["demand"]
    slack_rows = [np.arange(demand.start, demand.stop)]
    slack_cost = [penalty * np.tile(hours, (demand.stop - demand.start) // max(hours.size, 1))]
    if "defer_energy" in lp.rows:
        energy = lp.rows["defer_energy"]
        slack_rows.append(np.arange(energy.start, energy.stop))
        slack_cost.append(penalty * np.tile(day_hours, (energy.stop - energy.start) // max(day_hours.size, 1)))
    rows = np.concatenate(slack_rows)
    return lp.with_slack("unserved", np.concatenate(slack_cost), INF, rows, np.arange(rows.size), np.ones(rows.size))


def basis_arrays(highs) -> tuple[np.ndarray, np.ndarray]:
    """The basis ``highs`` holds, as (column status, row status) integer arrays that pickle."""
    basis = highs.getBasis()
    return (np.fromiter((int(s) for s in basis.col_status), np.int8, len(basis.col_status)),
            np.fromiter((int(s) for s in basis.row_status), np.int8, len(basis.row_status)))


def set_basis(highs, arrays: tuple[np.ndarray, np.ndarray]) -> bool:
    """Start ``highs``'s next solve from a basis of :func:`basis_arrays`; False when it does not fit the model."""
    import highspy

    columns, rows = arrays
    if columns.size != highs.getNumCol() or rows.size != highs.getNumRow():
        return False
    basis = highspy.HighsBasis()
    statuses = list(highspy.HighsBasisStatus.__members__.values())
    by_value = {int(status): status for status in statuses}
    basis.col_status = [by_value[int(v)] for v in columns]
    basis.row_status = [by_value[int(v)] for v in rows]
    basis.valid = True
    return highs.setBasis(basis) != highspy.HighsStatus.kError


class DispatchSolver:
    """Solves a sequence of dispatch LPs, warm-starting each from the previous optimum.

    When an LP has the previous one's matrix, only its costs and bounds are changed in HiGHS and
    the dual simplex starts from the previous optimal basis; otherwise the model is passed anew,
    and starts from ``start_basis`` (:func:`basis_arrays` of a solved day of the same structure)
    where one is given: every worker of a year check starts warm from one day solved once.
    """

    def __init__(self, options: dict | None = None, time_limit_s: float = 600.0,
                 start_basis: tuple[np.ndarray, np.ndarray] | None = None):
        self.time_limit_s = time_limit_s
        self.highs = new_highs(time_limit_s, {**DISPATCH_OPTIONS, **(options or {})})
        self._matrix = None
        self._last: tuple[np.ndarray, ...] = ()
        self.start_basis = start_basis

    def solve(self, lp: LinearProgram) -> Solution:
        """Solve ``lp`` to a proven optimum; raises PlanNotSolved otherwise."""
        arrays = lp.arrays()
        cost, col_lower, col_upper, matrix, row_lower, row_upper = arrays
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
            pass_lp(highs, cost, col_lower, col_upper, csc, row_lower, row_upper)
            self._matrix = csc
            if self.start_basis is not None:
                set_basis(highs, self.start_basis)
        self._last = (cost, col_lower, col_upper, row_lower, row_upper)
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        highs.run()
        solve_s = time.perf_counter() - start
        try:
            status_text = read_highs_status(highs, self.time_limit_s)
        except PlanInfeasible:
            msg = "HiGHS proved the dispatch infeasible"
            raise PlanInfeasible(msg) from None
        solution = read_solution(highs, arrays, "highs", status_text, timings={"build_s": build_s})
        solution.timings["solver_s"] = solve_s
        return solution


def dispatch_day(
    template: PlanInputs,
    case: DayCase,
    report_carbon_price: float,
    unserved_penalty_cny_per_mwh: float,
    solver: DispatchSolver | None = None,
    tolerance: float = 1e-6,
) -> DayResult:
    """Dispatch one day with the capacity of ``template`` fixed (:func:`dispatch_template`).

    Parameters
    ----------
    template : PlanInputs
    case : DayCase
    report_carbon_price : float
        Carbon price of the reported carbon cost (the plan's own, which may differ from the price
        the dispatch runs at). [CNY/tCO2]
    unserved_penalty_cny_per_mwh : float
        Cost of unserved demand. [CNY/MWh]
    solver : DispatchSolver, optional
        Re-used across days for warm starts.
    tolerance : float
        Largest accepted constraint violation of the day's solution (relative). [-]
    """
    solver = solver or DispatchSolver()
    start = time.perf_counter()
    inputs = day_inputs(template, case)
    lp, index = build_lp(inputs)
    elastic = with_unserved(lp, inputs, unserved_penalty_cny_per_mwh)
    solution = solver.solve(elastic)
    q, _ = verify_solution(inputs, elastic, index, solution, tolerance, unserved_penalty_cny_per_mwh)
    return _day_result(inputs, case, elastic, index, solution, q, report_carbon_price, time.perf_counter() - start)


def _day_result(
    inputs: PlanInputs, case: DayCase, elastic: LinearProgram, index: PlanIndex, solution: Solution,
    q: PlanQuantities, report_carbon_price: float, solve_s: float,
) -> DayResult:
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
        green_mwh=float(costs["green_mwh"].sum() + costs["certificate_mwh"].sum()),  # bundled and certificates
        unserved_mwh=float(by_pair_mwh.sum()),
        unserved_hours=float(short_slices.sum()),
        site_peak_mw=load.max(axis=1, initial=0.0),
        unserved_by_pair_mwh=by_pair_mwh,
        unserved_hours_by_pair=by_pair_hours,
        solve_s=solve_s,
        iterations=solution.iterations,
    )
