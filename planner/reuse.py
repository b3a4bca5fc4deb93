"""One plan LP kept in HiGHS across solves that change only the carbon price or a cap.

A sweep over carbon prices, or an ε-constraint frontier over emission caps, solves LPs that share
every coefficient but the objective's carbon term or one row's bound. Building the LP once and
changing only those numbers lets HiGHS start from the previous optimal basis (no presolve, a few
dozen simplex iterations instead of thousands). Every reported solution is checked as
:func:`optimizer.plan.optimise` checks its own: constraint residuals recomputed from the plan
quantities, the recomputed cost against the solver's objective, and strong duality.
benchmarks/README_study.md has the measured gain.
"""

from __future__ import annotations

import dataclasses
import json
import time
from types import SimpleNamespace

import highspy
import numpy as np

from optimizer.diagnose import explain_infeasible, precheck_conflicts
from optimizer.extract import build_tables, extract_quantities
from optimizer.formulation import build_lp, day_windows, emission_coefficients
from optimizer.inputs import PlanInputs
from optimizer.plan import OptimisedPlan, accept_solution
from optimizer.solve import (
    PlanInfeasible,
    PlanNotSolved,
    Solution,
    dual_objective,
    highs_lp,
    new_highs,
    solver_versions,
)
from optimizer.verify import constraint_violations

#: Scenario keys a reusable model may change between solves; everything else fixes its structure.
CHANGEABLE_KEYS = ("carbon.price_cny_per_tco2", "carbon.cap_tco2")


def structure_key(scenario_dict: dict) -> str:
    """Identity of a scenario's LP apart from the carbon price and the carbon cap's value.

    Two scenarios with the same key build the same matrix and bounds, except the objective's
    carbon term and the carbon row's right-hand side (the row exists in both or in neither).
    """
    document = json.loads(json.dumps(scenario_dict))
    carbon = document.get("carbon", {})
    carbon.pop("price_cny_per_tco2", None)
    carbon["cap_tco2"] = carbon.get("cap_tco2") is not None
    return json.dumps(document, sort_keys=True, ensure_ascii=False)


def can_reuse(scenario_dict: dict) -> bool:
    """Whether a scenario may be solved on a reused highspy model (its backend allows highspy)."""
    return scenario_dict.get("solver", {}).get("backend", "auto") in ("auto", "highs")


class ReusableLP:
    """The planning LP of ``inputs`` held in one HiGHS instance.

    Parameters
    ----------
    inputs : PlanInputs
        Inputs of the first solve; later solves may differ only in the carbon price and the
        carbon cap (see :func:`structure_key`).
    carbon_row : bool
        Build the carbon-cap row even when ``inputs`` sets no cap (it is then free), so caps
        can be set later with :meth:`set_carbon_cap`.
    latency_row : bool
        Add the row Σ latency·hours·load ≤ cap × annual IT energy, the ε-constraint on
        load-weighted latency (free until :meth:`set_latency_cap`).
    time_limit_s : float
        HiGHS time limit of each solve. [s]
    """

    def __init__(
        self, inputs: PlanInputs, carbon_row: bool = False, latency_row: bool = False, time_limit_s: float = 600.0
    ):
        start = time.perf_counter()
        self.inputs = inputs
        self.conflicts = precheck_conflicts(inputs)
        build_inputs = inputs
        if carbon_row and inputs.carbon_cap_tco2 is None:
            build_inputs = dataclasses.replace(inputs, carbon_cap_tco2=np.inf)
        self.lp, self.index = build_lp(build_inputs)
        cost, col_lower, col_upper, matrix, row_lower, row_upper = self.lp.arrays()
        cols, vals = emission_coefficients(self.lp, inputs, self.index)
        # Annual emissions as a linear function of the columns: the carbon price's part of the cost.
        self.emissions = np.zeros(self.lp.num_cols)
        np.add.at(self.emissions, cols, vals)
        self.price_built = inputs.carbon_price_cny_per_tco2
        self.cost_at_zero_price = cost - self.price_built * self.emissions
        self.cost = cost
        self.col_lower, self.col_upper = col_lower, col_upper
        self.row_lower, self.row_upper = row_lower.copy(), row_upper.copy()
        self.carbon_row = self.lp.rows["carbon"].start if "carbon" in self.lp.rows else None
        self.highs = new_highs()
        self.highs.setOptionValue("time_limit", float(time_limit_s))
        self.time_limit_s = time_limit_s
        self._pass_model(matrix)
        self.latency_row = None
        # Demand is met exactly, so the plan's annual IT energy is known before solving. [MWh/yr]
        self.it_energy_mwh = float(inputs.demand_mw.sum(axis=(0, 1)) @ inputs.hours)
        x = self.lp.columns["x"]
        index = self.index
        latency = inputs.latency_ms[index.triple_province, index.triple_site]
        num_x = index.num_x_triples
        # Latency-weighted MWh of each load column; their total over IT energy is the
        # load-weighted latency. Deferrable classes carry their energy on daily routes y
        # (mean MW over a day window: MWh = y × the window's hours).
        self.latency_mwh_ms = np.zeros(self.lp.num_cols)
        self.latency_mwh_ms[x.start : x.stop] = (latency[:num_x, None] * inputs.hours[None, :]).ravel()
        if "y" in self.lp.columns:
            window, _ = day_windows(inputs)
            day_hours = np.bincount(window, inputs.hours)
            y = self.lp.columns["y"]
            self.latency_mwh_ms[y.start : y.stop] = (latency[num_x:, None] * day_hours[None, :]).ravel()
        if latency_row:
            self.latency_row = self.lp.num_rows
            nonzero = np.nonzero(self.latency_mwh_ms)[0]
            self.highs.addRow(-np.inf, np.inf, nonzero.size, nonzero.astype(np.int32), self.latency_mwh_ms[nonzero])
            self.row_lower = np.append(self.row_lower, -np.inf)
            self.row_upper = np.append(self.row_upper, np.inf)
        self.latency_cap_ms: float | None = None
        self.solves = 0
        self.build_s = time.perf_counter() - start

    def _pass_model(self, matrix) -> None:
        self.highs.passModel(
            highs_lp(self.cost, self.col_lower, self.col_upper, matrix, self.row_lower, self.row_upper)
        )

    # ------------------------------------------------------------------ changes between solves

    def _set_cost(self, cost: np.ndarray) -> None:
        changed = np.nonzero(cost != self.cost)[0]
        if changed.size:
            self.highs.changeColsCost(changed.size, changed.astype(np.int32), cost[changed])
            self.cost = cost

    def set_carbon_price(self, price_cny_per_tco2: float) -> None:
        """Change the carbon price in the objective. [CNY/tCO2]"""
        self._set_cost(self.cost_at_zero_price + price_cny_per_tco2 * self.emissions)
        self.price = price_cny_per_tco2

    def _set_row_upper(self, row: int, upper: float) -> None:
        if self.row_upper[row] != upper:
            self.highs.changeRowBounds(row, -np.inf, upper)
            self.row_upper[row] = upper

    def set_carbon_cap(self, cap_tco2: float | None) -> None:
        """Change (or lift, with None) the cap on annual emissions. [tCO2/yr]"""
        if self.carbon_row is None:
            if cap_tco2 is None:
                return
            msg = "ReusableLP | no carbon row to cap. Build it with carbon_row=True."
            raise ValueError(msg)
        self._set_row_upper(self.carbon_row, np.inf if cap_tco2 is None else float(cap_tco2))

    def set_latency_cap(self, cap_ms: float | None) -> None:
        """Change (or lift, with None) the cap on load-weighted one-way latency. [ms]"""
        if self.latency_row is None:
            msg = "ReusableLP | no latency row to cap. Build it with latency_row=True."
            raise ValueError(msg)
        self._set_row_upper(self.latency_row, np.inf if cap_ms is None else cap_ms * self.it_energy_mwh)
        self.latency_cap_ms = cap_ms

    # ------------------------------------------------------------------ solves

    def _run(self) -> None:
        self.highs.run()
        self.solves += 1

    def _gate(self, inputs: PlanInputs) -> None:
        # The same reading of HiGHS's status as optimizer.solve.solve_lp.
        status = self.highs.getModelStatus()
        text = self.highs.modelStatusToString(status)
        feasible = self.highs.getInfo().primal_solution_status == 2
        if status == highspy.HighsModelStatus.kOptimal and feasible:
            return
        # A failed solve leaves no basis worth starting the next one from.
        self.highs.clearSolver()
        if status == highspy.HighsModelStatus.kInfeasible:
            raise PlanInfeasible(self._explain(inputs))
        if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            kind, msg = "unbounded", f"HiGHS reports the model {text.lower()}"
        elif status == highspy.HighsModelStatus.kTimeLimit:
            limit = self.time_limit_s
            kind = "time_limit"
            msg = f"HiGHS stopped at the {limit:g} s time limit before proving an optimum"
        else:
            kind = "not_solved"
            msg = f"HiGHS ended with status '{text}' and no proven-optimal solution"
        raise PlanNotSolved(status=kind, message=msg)

    def _explain(self, inputs: PlanInputs) -> str:
        reason = explain_infeasible(inputs)
        if self.latency_cap_ms is not None:
            reason += f" (with load-weighted latency capped at {self.latency_cap_ms:.3f} ms)"
        return reason

    def minimise(self, what: str) -> float:
        """Least achievable emissions [tCO2/yr] or load-weighted latency [ms] within the bounds.

        Solves the LP with that quantity as the objective, then restores the cost objective.
        The value only places ε-constraints; it is not reported as a plan.
        """
        vector = {"emissions": self.emissions, "latency": self.latency_mwh_ms}[what]
        saved = self.cost
        self._set_cost(vector)
        try:
            self._run()
            self._gate(self.inputs)
            value = float(self.highs.getInfo().objective_function_value)
        finally:
            self._set_cost(saved)
        return value / self.it_energy_mwh if what == "latency" else value

    def solve(self, inputs: PlanInputs, tolerance: float = 1e-6) -> OptimisedPlan:
        """Least-cost plan for ``inputs`` (same structure, any carbon price and cap), verified.

        Raises
        ------
        PlanInfeasible, PlanNotSolved
            As :func:`optimizer.plan.optimise`.
        """
        if self.conflicts:
            raise PlanInfeasible(self._explain(inputs), self.conflicts)
        start = time.perf_counter()
        self.set_carbon_price(inputs.carbon_price_cny_per_tco2)
        self.set_carbon_cap(inputs.carbon_cap_tco2)
        warm = self.solves > 0
        update_s = time.perf_counter() - start
        start = time.perf_counter()
        self._run()
        solve_s = time.perf_counter() - start
        self._gate(inputs)
        info = self.highs.getInfo()
        result = self.highs.getSolution()
        row_duals = np.asarray(result.row_dual)
        reduced_costs = np.asarray(result.col_dual)
        bounds = SimpleNamespace(
            arrays=lambda: (self.cost, self.col_lower, self.col_upper, None, self.row_lower, self.row_upper)
        )
        solution = Solution(
            values=np.asarray(result.col_value),
            row_duals=row_duals,
            objective=float(info.objective_function_value),
            dual_objective=dual_objective(bounds, row_duals, reduced_costs),
            backend="highs-reuse",
            model_status=self.highs.modelStatusToString(self.highs.getModelStatus()),
        )
        start = time.perf_counter()
        quantities = extract_quantities(inputs, self.lp, self.index, solution)
        violations = constraint_violations(inputs, self.index, quantities)
        flows, sites, provinces, summary = build_tables(inputs, self.index, quantities)
        if self.latency_row is not None:
            summary["latency_shadow_price_cny_per_ms"] = -float(row_duals[self.latency_row]) * self.it_energy_mwh
            if self.latency_cap_ms is not None:
                excess = summary["load_weighted_latency_ms"] - self.latency_cap_ms
                violations["latency_cap"] = max(excess, 0.0) / max(self.latency_cap_ms, 1.0)
        tabulate_s = time.perf_counter() - start
        try:
            trust = accept_solution(solution, summary, violations, tolerance)
        except PlanNotSolved:
            self.highs.clearSolver()  # the next solve of this LP must not warm-start from it
            raise
        summary["status"] = "optimal"
        metadata = {
            "status": "optimal",
            "model_status": solution.model_status,
            "backend": solution.backend,
            **solver_versions(),
            **trust,
            "columns": self.lp.num_cols,
            "rows": self.lp.num_rows + (self.latency_row is not None),
            "warm_start": warm,
            "simplex_iterations": int(info.simplex_iteration_count),
            "timings_s": {
                "formulate_s": 0.0 if warm else self.build_s,
                "update_s": update_s,
                "solver_s": solve_s,
                "tabulate_s": tabulate_s,
            },
        }
        return OptimisedPlan(flows, sites, provinces, summary, metadata)
