"""One plan LP kept in HiGHS across solves that change only the carbon price, the carbon cap or a latency cap.

A sweep over carbon prices, or an ε-constraint frontier over emission or latency caps, solves LPs
that share every coefficient but the objective's carbon term or one row's bound. Building the LP
once (:func:`optimizer.formulation.build_lp`) and changing only those numbers lets HiGHS start from
the previous optimal basis: a few dozen simplex iterations instead of thousands. The carbon term is
the formulation's own (:func:`optimizer.formulation.emission_vector`), so there is one objective;
and every solution goes through the same gate and verification as a cold solve
(:func:`optimizer.solve.read_highs_status`, :func:`optimizer.plan.tabulate`).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from optimizer.diagnose import explain_infeasible, precheck_conflicts
from optimizer.formulation import build_lp, emission_vector, latency_vector
from optimizer.inputs import PlanInputs
from optimizer.plan import OptimisedPlan, tabulate
from optimizer.solve import new_highs, pass_lp, read_highs_status, read_solution
from optimizer.status import PlanInfeasible, PlanNotSolved


class WarmLP:
    """The planning LP of ``inputs`` held in one HiGHS instance, re-solved from its last basis.

    Parameters
    ----------
    inputs : PlanInputs
        Inputs of the first solve; later solves may differ only in the carbon price, the carbon
        cap and the latency cap.
    carbon_row : bool
        Build the carbon-cap row even when ``inputs`` sets no cap (it is then free), so caps can
        be set later.
    latency_row : bool
        Build the load-weighted latency row even when ``inputs`` sets no latency cap.
    time_limit_s : float
        HiGHS time limit of each solve. [s]
    """

    def __init__(
        self, inputs: PlanInputs, carbon_row: bool = False, latency_row: bool = False, time_limit_s: float = 600.0
    ):
        start = time.perf_counter()
        self.inputs = inputs
        self.conflicts = precheck_conflicts(inputs)
        built = dataclasses.replace(
            inputs,
            carbon_cap_tco2=np.inf if carbon_row and inputs.carbon_cap_tco2 is None else inputs.carbon_cap_tco2,
            latency_cap_ms=np.inf if latency_row and inputs.latency_cap_ms is None else inputs.latency_cap_ms,
        )
        self.lp, self.index = build_lp(built)
        cost, col_lower, col_upper, matrix, row_lower, row_upper = self.lp.arrays()
        #: Annual emissions of each column: the objective's carbon-price term. [tCO2/yr]
        self.emissions = emission_vector(self.lp, inputs, self.index)
        #: Latency-weighted energy of each column. [MWh·ms/yr]
        self.latency_mwh_ms = latency_vector(self.lp, inputs, self.index)
        self.cost_at_zero_price = cost - inputs.carbon_price_cny_per_tco2 * self.emissions
        self.cost = cost.copy()
        self.col_lower, self.col_upper = col_lower, col_upper
        self.matrix = matrix
        self.row_lower, self.row_upper = row_lower.copy(), row_upper.copy()
        self.carbon_row = self.lp.rows["carbon"].start if "carbon" in self.lp.rows else None
        self.latency_row = self.lp.rows["latency_cap"].start if "latency_cap" in self.lp.rows else None
        self.time_limit_s = time_limit_s
        self.highs = new_highs(time_limit_s)
        pass_lp(self.highs, *self.arrays())
        self.solves = 0
        self.build_s = time.perf_counter() - start

    def arrays(self):
        """The LP's arrays as they stand now (costs and bounds of the next solve)."""
        return self.cost, self.col_lower, self.col_upper, self.matrix, self.row_lower, self.row_upper

    # ------------------------------------------------------------------ changes between solves

    def _set_cost(self, cost: np.ndarray) -> None:
        changed = np.nonzero(cost != self.cost)[0]
        if changed.size:
            self.highs.changeColsCost(changed.size, changed.astype(np.int32), cost[changed])
            self.cost = cost.copy()

    def _set_row_upper(self, row: int | None, upper: float, what: str) -> None:
        if row is None:
            if np.isinf(upper):
                return
            msg = f"WarmLP | no {what} row to cap. Build it with {what}_row=True."
            raise ValueError(msg)
        if self.row_upper[row] != upper:
            self.highs.changeRowBounds(row, -np.inf, upper)
            self.row_upper[row] = upper

    def set_carbon_price(self, price_cny_per_tco2: float) -> None:
        """Change the carbon price in the objective. [CNY/tCO2]"""
        self._set_cost(self.cost_at_zero_price + price_cny_per_tco2 * self.emissions)

    def set_carbon_cap(self, cap_tco2: float | None) -> None:
        """Change (or lift, with None) the cap on annual emissions. [tCO2/yr]"""
        self._set_row_upper(self.carbon_row, np.inf if cap_tco2 is None else float(cap_tco2), "carbon")

    def set_latency_cap(self, cap_ms: float | None) -> None:
        """Change (or lift, with None) the cap on load-weighted one-way latency. [ms]"""
        upper = np.inf if cap_ms is None or np.isinf(cap_ms) else cap_ms * self.inputs.it_energy_mwh
        self._set_row_upper(self.latency_row, upper, "latency")

    # ------------------------------------------------------------------ solves

    def _run(self, inputs: PlanInputs) -> str:
        self.highs.run()
        self.solves += 1
        try:
            return read_highs_status(self.highs, self.time_limit_s)
        except PlanInfeasible:
            self.highs.clearSolver()  # a failed solve leaves no basis worth starting the next one from
            raise PlanInfeasible(self._explain(inputs)) from None
        except PlanNotSolved:
            self.highs.clearSolver()
            raise

    def _explain(self, inputs: PlanInputs) -> str:
        reason = explain_infeasible(inputs)
        if inputs.latency_cap_ms is not None and np.isfinite(inputs.latency_cap_ms):
            reason += f" (with load-weighted latency capped at {inputs.latency_cap_ms:.3f} ms)"
        return reason

    def minimise(self, what: str) -> float:
        """Least achievable emissions [tCO2/yr] or load-weighted latency [ms] within the bounds.

        Solves the LP with that quantity (the formulation's own term) as the objective, then
        restores the cost. The value only places ε-constraints; it is not reported as a plan.
        """
        vector = {"emissions": self.emissions, "latency": self.latency_mwh_ms}[what]
        saved = self.cost
        self._set_cost(vector)
        try:
            self._run(self.inputs)
            value = float(self.highs.getInfo().objective_function_value)
        finally:
            self._set_cost(saved)
        return value / self.inputs.it_energy_mwh if what == "latency" else value

    def solve(self, inputs: PlanInputs, tolerance: float = 1e-6) -> OptimisedPlan:
        """Least-cost plan for ``inputs`` (same structure; any carbon price, carbon cap and latency cap), verified.

        Raises
        ------
        PlanInfeasible, PlanNotSolved
            As :func:`optimizer.plan.optimise`.
        """
        if self.conflicts:
            raise PlanInfeasible(self._explain(inputs), diagnosis=self.conflicts)
        start = time.perf_counter()
        self.set_carbon_price(inputs.carbon_price_cny_per_tco2)
        self.set_carbon_cap(inputs.carbon_cap_tco2)
        self.set_latency_cap(inputs.latency_cap_ms)
        warm = self.solves > 0
        update_s = time.perf_counter() - start
        start = time.perf_counter()
        status_text = self._run(inputs)
        solve_s = time.perf_counter() - start
        solution = read_solution(self.highs, self.arrays(), "highs-warm", status_text)
        solution.timings["solver_s"] = solve_s
        # The solved LP's structure with this solve's numbers: what the checks hold the plan to.
        solved = dataclasses.replace(
            inputs,
            carbon_cap_tco2=inputs.carbon_cap_tco2 if inputs.carbon_cap_tco2 is not None or self.carbon_row is None
            else np.inf,
            latency_cap_ms=inputs.latency_cap_ms if inputs.latency_cap_ms is not None or self.latency_row is None
            else np.inf,
        )
        try:
            return tabulate(solved, self.lp, self.index, solution, tolerance, {
                "warm_start": warm,
                "timings_s": {"formulate_s": 0.0 if warm else self.build_s, "update_s": update_s},
            })
        except PlanNotSolved:
            self.highs.clearSolver()  # the next solve of this LP must not warm-start from it
            raise
