"""Near-optimal alternatives: the plan LP with its cost held within a slack of the optimum, under other objectives.

Modelling to generate alternatives (MGA): once the least-cost plan is known, a row
``cost · x ≤ (1 + slack) · optimum`` is added to the same LP, held in HiGHS
(:class:`optimizer.warm.WarmLP`), and the objective is swapped for a linear expression of the
capacity columns (new capacity ``n``, fit-out ``f``), minimised or maximised. Every such solve starts
from the optimum's basis, which stays primal feasible under the new row, so it takes a few simplex
iterations. Each solution goes through the one verify path (:func:`optimizer.plan.tabulate`): every
constraint family recomputed, the cost checked against the cap as its own family, the objective
recomputed from the plan quantities, and strong duality of the LP as solved.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimizer.extract import PlanQuantities
from optimizer.inputs import PlanInputs
from optimizer.plan import OptimisedPlan, tabulate
from optimizer.solve import read_solution
from optimizer.warm import WarmLP

#: HiGHS's simplex_strategy of primal simplex.
PRIMAL_SIMPLEX = 4
#: Least coefficient of the cost row after scaling: far above HiGHS's small_matrix_value (1e-9). [-]
ROW_MIN_COEFFICIENT = 1e-4


@dataclass(frozen=True)
class CapacityObjective:
    """A linear expression of the plan's capacity, to minimise or maximise.

    Attributes
    ----------
    name : str
        A label (for metadata), e.g. ``'max west new'``.
    new_weight, fitout_weight : numpy.ndarray, shape (S,)
        Weight of each site's new capacity and fit-out. [1/MW of the objective's unit]
    maximise : bool
        Maximise instead of minimise.
    """

    name: str
    new_weight: np.ndarray
    fitout_weight: np.ndarray
    maximise: bool = False

    def value(self, new_mw: np.ndarray, fitout_mw: np.ndarray | None) -> float:
        """The expression at a plan's new capacity and fit-out by site [MW]."""
        fitout = np.zeros_like(new_mw) if fitout_mw is None else fitout_mw
        return float(self.new_weight @ new_mw + self.fitout_weight @ fitout)


class NearOptimalLP:
    """The plan LP of ``inputs`` solved to its optimum, then re-solved within a cost slack under other objectives.

    Parameters
    ----------
    inputs : PlanInputs
    tolerance : float
        Relative tolerance of the verification of every solve. [-]
    time_limit_s : float
        HiGHS time limit of each solve. [s]

    Attributes
    ----------
    optimum : OptimisedPlan
        The verified least-cost plan.
    optimal_cost_cny : float
        Its cost: the LP's objective. [CNY/yr]
    """

    def __init__(self, inputs: PlanInputs, tolerance: float = 1e-6, time_limit_s: float = 600.0):
        self.inputs = inputs
        self.tolerance = tolerance
        self.warm = WarmLP(inputs, time_limit_s=time_limit_s)
        self.optimum = self.warm.solve(inputs, tolerance)
        self.optimal_cost_cny = float(self.optimum.metadata["objective_cny"])
        self.cost_vector = self.warm.cost.copy()
        self._cost_row: int | None = None
        self._start_basis = None
        self.slack: float | None = None
        self.cost_cap_cny: float | None = None
        self.solves = 0

    @property
    def index(self):
        """The LP's :class:`optimizer.index.PlanIndex`."""
        return self.warm.index

    def column_vector(self, objective: CapacityObjective) -> np.ndarray:
        """The objective as LP costs: its weights on the ``n`` and ``f`` columns, negated to maximise."""
        lp, index = self.warm.lp, self.warm.index
        vector = np.zeros(lp.num_cols)
        n = lp.columns["n"]
        vector[n.start:n.stop] = objective.new_weight[index.new_sites]
        if "f" in lp.columns:
            f = lp.columns["f"]
            vector[f.start:f.stop] = objective.fitout_weight[index.fitout_sites]
        return -vector if objective.maximise else vector

    def set_slack(self, slack: float) -> None:
        """Hold the cost within ``slack`` of the optimum: add the cost row, or move its bound. [-]

        The row is the cost divided by a scale, so that its dual is not a millionth of the
        objective's size (duals below 1e-9 count as zero in the dual objective), but never by so
        much that its least coefficient falls near the 1e-9 below which HiGHS drops an entry
        (certificate columns cost a few CNY per MWh): at most ``ROW_MIN_COEFFICIENT`` of it.
        """
        if not 0.0 < slack <= 1.0:
            msg = f"NearOptimalLP | slack must be in (0, 1], got {slack!r}"
            raise ValueError(msg)
        magnitudes = np.abs(self.cost_vector[self.cost_vector != 0])
        least = float(magnitudes.min()) if magnitudes.size else 1.0
        scale = max(min(abs(self.optimal_cost_cny), least / ROW_MIN_COEFFICIENT), 1.0)
        self.cost_cap_cny = self.optimal_cost_cny + slack * abs(self.optimal_cost_cny)
        upper = self.cost_cap_cny / scale
        highs = self.warm.highs
        if self._cost_row is None:
            nonzero = np.nonzero(self.cost_vector)[0]
            highs.addRow(-np.inf, upper, nonzero.size, nonzero.astype(np.int32), self.cost_vector[nonzero] / scale)
            self._cost_row = self.warm.lp.num_rows
            self._row_coefficients = sp.csr_matrix(self.cost_vector / scale)
            # The optimum's basis with the new row's slack basic: feasible, and the start of every solve.
            self._start_basis = highs.getBasis()
            # A new objective leaves that basis primal feasible but not dual feasible: primal simplex
            # goes on from it in a few hundred iterations, where dual simplex (HiGHS's default)
            # exceeded 600 s on the 2-day default scenario (the capacity objectives are very degenerate).
            highs.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
        else:
            highs.changeRowBounds(self._cost_row, -np.inf, upper)
        self.slack = float(slack)
        self._row_upper = upper

    def _arrays(self, vector: np.ndarray):
        """The LP as solved now: the objective's costs, the cost row appended (for the dual objective)."""
        _, col_lower, col_upper, matrix, row_lower, row_upper = self.warm.arrays()
        return (vector, col_lower, col_upper, sp.vstack([matrix, self._row_coefficients], format="csr"),
                np.append(row_lower, -np.inf), np.append(row_upper, self._row_upper))

    def solve(self, objective: CapacityObjective) -> tuple[OptimisedPlan, float]:
        """The plan that minimises (or maximises) ``objective`` with the cost within the slack, verified.

        Returns
        -------
        (OptimisedPlan, float)
            The plan (its metadata's ``alternative`` says what was optimised, at which slack) and the
            objective's value at it [MW for capacity weights of 1].

        Raises
        ------
        PlanInfeasible, PlanNotSolved
            As :meth:`optimizer.warm.WarmLP.solve`; ``residual`` when the plan breaks a constraint,
            costs more than the cap, or its objective or duality does not check out.
        """
        if self._cost_row is None:
            msg = "NearOptimalLP | set the slack (set_slack) before solving an alternative"
            raise ValueError(msg)
        vector = self.column_vector(objective)
        self.warm._set_cost(vector)
        self.warm.highs.setBasis(self._start_basis)
        start = time.perf_counter()
        status_text = self.warm._run(self.inputs)
        solve_s = time.perf_counter() - start
        self.solves += 1
        solution = read_solution(self.warm.highs, self._arrays(vector), "highs-warm", status_text)
        solution.timings["solver_s"] = solve_s  # HiGHS's own run time counts every solve of the instance
        sign = -1.0 if objective.maximise else 1.0

        def objective_of(quantities: PlanQuantities) -> float:
            return sign * objective.value(quantities.new_mw, quantities.fitout_mw)

        plan = tabulate(self.inputs, self.warm.lp, self.warm.index, solution, self.tolerance,
                        {"warm_start": True}, objective_of=objective_of, cost_cap_cny=self.cost_cap_cny)
        value = sign * solution.objective
        return _as_alternative(plan, objective, value, self), value


def _as_alternative(plan: OptimisedPlan, objective: CapacityObjective, value: float,
                    lp: NearOptimalLP) -> OptimisedPlan:
    """The plan with what it optimised in its metadata, and without cost shadow prices.

    Its duals price the objective (capacity), not cost, so no shadow price of the plan is
    reported: the site table's column is zero and the summary's are absent.
    """
    metadata = dict(plan.metadata)
    metadata["alternative"] = {
        "objective": objective.name,
        "sense": "max" if objective.maximise else "min",
        "value": value,
        "solver_objective": metadata.pop("objective_cny"),
        "dual_objective": metadata.pop("dual_objective_cny"),
        "slack": lp.slack,
        "optimal_cost_cny": lp.optimal_cost_cny,
        "cost_cap_cny": lp.cost_cap_cny,
        "cost_cny": plan.summary.total_cost_cny,
        "shadow_prices": "not reported: the duals price the objective, not cost",
    }
    metadata["objective_cny"] = plan.summary.total_cost_cny
    summary = dataclasses.replace(
        plan.summary, carbon_shadow_price_cny_per_tco2=None, latency_shadow_price_cny_per_ms=None,
        site_capacity_shadow_prices_cny_per_mw={}, policy_shadow_prices={},
    )
    sites = plan.sites.copy()
    sites["capacity_shadow_price_cny_per_mw"] = 0.0
    return OptimisedPlan(plan.flows, sites, plan.provinces, summary, metadata)
