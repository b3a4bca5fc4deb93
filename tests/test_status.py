"""Solver outcomes are reported as what they are, never as optimal; doubtful solutions are refused."""

from types import SimpleNamespace

import highspy
import numpy as np
import pytest
from click.testing import CliRunner
from lp_cases import make_inputs, site

import optimizer.plan
import optimizer.solve
from optimizer.formulation import build_lp
from optimizer.lp import LinearProgram
from optimizer.plan import optimise
from optimizer.solve import new_highs, solve_lp
from optimizer.status import PlanInfeasible, PlanNotSolved, PlanStatus
from planner.cli import main
from planner.preprocess import build_inputs
from planner.scenario import resolve_scenario

BACKENDS = ["pulp", "highs"]
Status = highspy.HighsModelStatus


@pytest.fixture(scope="module")
def small_national():
    """The default dataset at 4 slices a day: big enough that HiGHS needs many iterations."""
    return build_inputs(resolve_scenario({}, ["time.hours_per_day=4"]))


def unbounded_lp() -> LinearProgram:
    # min x0 − x1 s.t. x0 − x1 ≤ 5, x ≥ 0: x1 may grow without end and the cost with it fall.
    lp = LinearProgram()
    lp.add_columns("x", [1.0, -1.0], 0.0, np.inf)
    lp.add_rows("r", 1, [0, 0], [0, 1], [1.0, -1.0], -np.inf, 5.0)
    return lp


@pytest.mark.parametrize("backend", BACKENDS)
def test_unbounded_is_reported_as_unbounded(backend):
    with pytest.raises(PlanNotSolved) as info:
        solve_lp(unbounded_lp(), backend=backend)
    assert info.value.status == "unbounded"
    assert not isinstance(info.value, PlanInfeasible)


@pytest.mark.parametrize("backend", BACKENDS)
def test_time_limit_is_reported_as_time_limit(backend, small_national):
    with pytest.raises(PlanNotSolved) as info:
        optimise(small_national, backend=backend, time_limit_s=1e-4)
    assert info.value.status == "time_limit"
    assert "time limit" in str(info.value)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("options", [
    {"simplex_iteration_limit": 1},
    {"solver": "ipm", "ipm_iteration_limit": 1},
], ids=["simplex", "ipm"])
def test_iteration_limit_is_not_solved(backend, options, small_national):
    with pytest.raises(PlanNotSolved) as info:
        optimise(small_national, backend=backend, options=options)
    assert info.value.status == "not_solved"
    assert "Iteration limit" in str(info.value)


def test_infeasible_is_reported_as_infeasible():
    inputs = make_inputs([site("s", existing=5)], [[[10.0]]], [[1.0]])
    lp, _ = build_lp(inputs)
    with pytest.raises(PlanInfeasible) as info:
        solve_lp(lp, backend="highs")
    assert info.value.status == "infeasible"


class FakeHighs:
    """Stands in for highspy.Highs after a run that ended with ``status``."""

    def __init__(self, status, primal_solution_status=2, objective=1.0, num_cols=1):
        self.status, self.num_cols = status, num_cols
        self.info = SimpleNamespace(primal_solution_status=primal_solution_status,
                                    objective_function_value=objective, simplex_iteration_count=0)
        self.real = new_highs()

    def getModelStatus(self):  # noqa: N802 - highspy's name
        return self.status

    def modelStatusToString(self, status):  # noqa: N802
        return self.real.modelStatusToString(status)

    def getInfo(self):  # noqa: N802
        return self.info

    def getSolution(self):  # noqa: N802
        return SimpleNamespace(col_value=[0.0] * self.num_cols, row_dual=[0.0], col_dual=[0.0] * self.num_cols)

    def getRunTime(self):  # noqa: N802
        return 0.0


def _tiny_lp():
    lp = LinearProgram()
    lp.add_columns("x", [1.0], 0.0, np.inf)
    lp.add_rows("r", 1, [0], [0], [1.0], 0.0, np.inf)
    return lp


EXPECTED_STATUS = {Status.kInfeasible: "infeasible", Status.kUnbounded: "unbounded",
                   Status.kUnboundedOrInfeasible: "unbounded", Status.kTimeLimit: "time_limit"}
NOT_OPTIMAL = [getattr(Status, name) for name in dir(Status) if name.startswith("k") and name != "kOptimal"]


@pytest.mark.parametrize("status", NOT_OPTIMAL, ids=lambda s: s.name)
def test_every_other_highs_status_is_refused(monkeypatch, status):
    # Solver errors, numerical trouble, interrupts and limits: whatever HiGHS ends with, only a
    # proven optimum becomes a plan.
    fake = FakeHighs(status)
    monkeypatch.setattr(optimizer.solve, "_solve_highs", lambda lp, t, o: (fake, np.arange(1), {}))
    with pytest.raises(PlanNotSolved) as info:
        solve_lp(_tiny_lp(), backend="highs")
    assert info.value.status == EXPECTED_STATUS.get(status, "not_solved")
    assert info.value.status != "optimal"


@pytest.mark.parametrize("primal_solution_status", [0, 1], ids=["no-solution", "infeasible-point"])
def test_optimal_status_without_a_feasible_point_is_refused(monkeypatch, primal_solution_status):
    fake = FakeHighs(Status.kOptimal, primal_solution_status=primal_solution_status)
    monkeypatch.setattr(optimizer.solve, "_solve_highs", lambda lp, t, o: (fake, np.arange(1), {}))
    with pytest.raises(PlanNotSolved) as info:
        solve_lp(_tiny_lp(), backend="highs")
    assert info.value.status == "not_solved"


def test_a_proven_optimum_passes_the_gate(monkeypatch):
    fake = FakeHighs(Status.kOptimal)
    monkeypatch.setattr(optimizer.solve, "_solve_highs", lambda lp, t, o: (fake, np.arange(1), {}))
    assert solve_lp(_tiny_lp(), backend="highs").model_status == "Optimal"


@pytest.mark.parametrize("backend", BACKENDS)
def test_nan_in_the_model_is_never_optimal(backend):
    # A NaN price (from a hand-built table) makes the LP meaningless; HiGHS still says 'Optimal'.
    inputs = make_inputs([site("s", existing=100, price=float("nan"))], [[[10.0]]], [[1.0]])
    with pytest.raises(PlanNotSolved) as info:
        optimise(inputs, backend=backend)
    assert info.value.status != "optimal"


def test_nan_capacity_is_never_optimal():
    inputs = make_inputs([site("s", existing=float("nan"))], [[[10.0]]], [[1.0]])
    with pytest.raises(PlanNotSolved):
        optimise(inputs, backend="highs")


# ---------------------------------------------------------------------------------------------
# Residual checks: a solution that does not meet the constraints is refused.
# ---------------------------------------------------------------------------------------------

def _tampered(monkeypatch, change):
    real = optimizer.plan.solve_lp

    def solve_and_tamper(lp, **kwargs):
        solution = real(lp, **kwargs)
        change(lp, solution)
        return solution

    monkeypatch.setattr(optimizer.plan, "solve_lp", solve_and_tamper)


def _two_site_inputs():
    return make_inputs([site("a", existing=10, max_new=20, price=100, capex_annual=1e5),
                        site("b", existing=10, price=200)], [[[15.0]]], [[1.0, 1.0]])


def test_solution_serving_too_much_is_refused(monkeypatch):
    def serve_twice(lp, solution):
        solution.values[lp.columns["x"].start] += 5.0

    _tampered(monkeypatch, serve_twice)
    with pytest.raises(PlanNotSolved) as info:
        optimise(_two_site_inputs(), backend="highs")
    assert info.value.status == "residual"
    assert "demand" in str(info.value)


def test_solution_over_capacity_is_refused(monkeypatch):
    def shift_to_b(lp, solution):
        x = lp.columns["x"]
        load = solution.values[x.start:x.stop]
        load[1] += load[0]  # everything at b, far above its 10 MW
        load[0] = 0.0

    _tampered(monkeypatch, shift_to_b)
    with pytest.raises(PlanNotSolved) as info:
        optimise(_two_site_inputs(), backend="highs")
    assert info.value.status == "residual"
    assert "capacity" in str(info.value)


def test_solution_beyond_expansion_limit_is_refused(monkeypatch):
    def overbuild(lp, solution):
        solution.values[lp.columns["n"].start] = 1e3

    _tampered(monkeypatch, overbuild)
    with pytest.raises(PlanNotSolved) as info:
        optimise(_two_site_inputs(), backend="highs")
    assert info.value.status == "residual"


def test_objective_that_does_not_match_the_plan_is_refused(monkeypatch):
    def misreport(lp, solution):
        solution.objective *= 1.01
        solution.dual_objective = solution.objective

    _tampered(monkeypatch, misreport)
    with pytest.raises(PlanNotSolved) as info:
        optimise(_two_site_inputs(), backend="highs")
    assert info.value.status == "residual" and "objective" in str(info.value)


def test_duality_gap_is_refused(monkeypatch):
    def unproven(lp, solution):
        solution.dual_objective = solution.objective * 0.99

    _tampered(monkeypatch, unproven)
    with pytest.raises(PlanNotSolved) as info:
        optimise(_two_site_inputs(), backend="highs")
    assert info.value.status == "residual" and "dual" in str(info.value)


def test_untampered_solution_passes():
    plan = optimise(_two_site_inputs(), backend="highs")
    assert plan.metadata["status"] == "optimal" and plan.metadata["max_violation"] < 1e-9


def test_cli_reports_a_time_limit_and_exits_1(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", "--no-map", "--backend", "highs", "--out", str(out),
                                       "--set", "time.hours_per_day=4", "--set", "solver.time_limit_s=0.0001"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "scenario 'baseline' | time_limit: HiGHS stopped at the 0.0001 s time limit before proving an optimum."
    ]
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# Relative to the plan's own scale: no absolute floor lets a wrong plan pass
# ---------------------------------------------------------------------------------------------

def _scaled_inputs(scale: float, small_demand: float | None = None):
    demand = [[[scale]], [[scale if small_demand is None else small_demand]]]
    return make_inputs([site("a", existing=2 * scale), site("b", existing=2 * scale, price=50)], demand,
                       [[1.0, 1.0], [1.0, 1.0]])


@pytest.mark.parametrize("backend", ["highs", "pulp"])
def test_a_plan_below_the_solvers_resolution_is_not_verified(backend):
    # 1e-318 MW of demand: HiGHS serves none of it (its tolerances are absolute, 1e-7). With a floor
    # of 1 MW under every scale, serving nothing passed as 'verified' at a cost of 0.
    with pytest.raises(PlanNotSolved) as caught:
        optimise(_scaled_inputs(1e-318), backend=backend)
    assert caught.value.status == PlanStatus.RESIDUAL and "demand" in str(caught.value)
    # The same plan at a scale the solver resolves is verified, to rounding.
    plan = optimise(_scaled_inputs(1.0), backend=backend)
    assert plan.metadata["max_violation"] < 1e-12


def test_a_row_far_below_its_family_is_checked_against_the_family_not_against_one_mw():
    from optimizer.extract import PlanQuantities
    from optimizer.formulation import build_lp
    from optimizer.verify import RELATIVE_FLOOR, constraint_violations

    inputs = _scaled_inputs(1e-3, small_demand=1e-12)  # a 1 kW plan with a 1 mW row
    _, index = build_lp(inputs)
    load = np.zeros((index.triple_site.size, 1))
    load[index.triple_province == 0] = 1e-3 / np.sum(index.triple_province == 0)  # serve the large row only
    quantities = PlanQuantities(load=load, new_mw=np.zeros(2), green_mw=np.zeros((2, 1)), capacity_duals=np.zeros(2),
                                carbon_dual=None, hub_share_dual=None)
    violations = constraint_violations(inputs, index, quantities)
    # 1e-12 MW missing, against a floor of RELATIVE_FLOOR × the plan's largest power (a site's 2e-3 MW),
    # not against 1 MW (which gave 1e-12, 'verified').
    assert violations["demand"] == pytest.approx(1e-12 / (RELATIVE_FLOOR * 2e-3))
    assert violations["demand"] > 1e-6
