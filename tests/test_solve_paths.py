"""Every solve path (cold through PuLP or highspy, warm, dispatch, diagnosis) refuses what HiGHS did not prove.

Each path reads HiGHS's status through optimizer.solve.read_highs_status; here HiGHS is made to end
with a time limit or with numerical trouble after a real run, and no path may report a plan (or, for
the diagnosis, a conflict) from that solve.
"""

import highspy
import numpy as np
import pytest
from lp_cases import make_inputs, site

from optimizer.diagnose import diagnose_infeasible
from optimizer.dispatch import DayCase, DispatchSolver, dispatch_day, dispatch_template
from optimizer.plan import optimise
from optimizer.status import PlanInfeasible, PlanNotSolved, PlanStatus
from optimizer.warm import WarmLP

Status = highspy.HighsModelStatus
TROUBLES = {Status.kTimeLimit: PlanStatus.TIME_LIMIT, Status.kSolveError: PlanStatus.NOT_SOLVED,
            Status.kUnknown: PlanStatus.NOT_SOLVED, Status.kIterationLimit: PlanStatus.NOT_SOLVED}


def two_sites():
    # 10 MW of demand; the cheap site holds 6 MW, the dear one the rest.
    return make_inputs([site("cheap", existing=6, price=100), site("dear", existing=10, price=200)],
                       [[[10.0]]], [[1.0, 1.0]])


@pytest.fixture(params=list(TROUBLES), ids=lambda s: s.name)
def trouble(request, monkeypatch):
    """HiGHS runs for real, then reports ``status`` as its outcome."""
    status = request.param
    monkeypatch.setattr(highspy.Highs, "getModelStatus", lambda self: status)
    return status


@pytest.mark.parametrize("backend", ["pulp", "highs"])
def test_cold_solves_refuse(trouble, backend):
    with pytest.raises(PlanNotSolved) as info:
        optimise(two_sites(), backend=backend)
    assert info.value.status == TROUBLES[trouble] and not isinstance(info.value, PlanInfeasible)


def test_warm_solves_refuse(trouble):
    with pytest.raises(PlanNotSolved) as info:
        WarmLP(two_sites(), carbon_row=True).solve(two_sites())
    assert info.value.status == TROUBLES[trouble]


def test_dispatch_refuses(trouble):
    inputs = two_sites()
    template = dispatch_template(inputs, np.array([6.0, 10.0]), 0.0)
    case = DayCase("d001", np.array([8760.0]), inputs.demand_mw, np.zeros((2, 1)))
    with pytest.raises(PlanNotSolved) as info:
        dispatch_day(template, case, 0.0, 1e5, DispatchSolver())
    assert info.value.status == TROUBLES[trouble]


def test_diagnosis_reports_no_conflict_from_an_unproven_solve(trouble):
    # Too little capacity: 10 MW of demand, 8 MW at one site.
    inputs = make_inputs([site("only", existing=8)], [[[10.0]]], [[1.0]])
    conflicts = diagnose_infeasible(inputs)
    assert [c.constraint for c in conflicts] == ["capacity"]  # found without solving (precheck)
    # A conflict the precheck cannot see needs the elastic solves, which HiGHS now fails.
    # p1 reaches only site a (8 MW) for its 10 MW; enough capacity nationally.
    inputs = make_inputs([site("a", existing=8), site("b", existing=20)], [[[10.0]], [[10.0]]],
                         [[1.0, 99.0], [1.0, 1.0]], latency_max_ms=(5.0,))
    conflicts = diagnose_infeasible(inputs)
    assert [c.constraint for c in conflicts] == ["unknown"]
    assert "could not be solved" in conflicts[0].message


def test_without_trouble_every_path_solves():
    inputs = two_sites()
    assert optimise(inputs, backend="highs").summary.total_cost_cny == pytest.approx(8760 * (6 * 100 + 4 * 200))
    assert WarmLP(inputs).solve(inputs).summary.total_cost_cny == pytest.approx(8760 * (6 * 100 + 4 * 200))
    template = dispatch_template(inputs, np.array([6.0, 10.0]), 0.0)
    day = dispatch_day(template, DayCase("d001", np.array([8760.0]), inputs.demand_mw, np.zeros((2, 1))),
                       0.0, 1e5, DispatchSolver())
    assert day.unserved_mwh == 0.0
    assert day.costs_cny["energy_cost_cny"] == pytest.approx(8760 * (6 * 100 + 4 * 200))
    inputs = make_inputs([site("a", existing=8), site("b", existing=20)], [[[10.0]], [[10.0]]],
                         [[1.0, 99.0], [1.0, 1.0]], latency_max_ms=(5.0,))
    assert [(c.constraint, c.where) for c in diagnose_infeasible(inputs)] == [("capacity", "a")]
