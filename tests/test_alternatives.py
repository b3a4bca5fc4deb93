"""Near-optimal alternatives: hand-solved ranges, verified plans within the slack, nested ranges, the command."""

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from lp_cases import make_inputs, site

from optimizer.nearoptimal import CapacityObjective, NearOptimalLP
from optimizer.status import PlanNotSolved, PlanStatus
from planner.alternatives import PLANS, check_slack, herfindahl, spread_weights
from planner.cli import main
from planner.errors import ScenarioError
from planner.run import run_scenario
from planner.rundir import read_run_checked, write_run
from planner.scenario import load_scenario

# Two clusters serve 100 MW all year: east A costs 1,000 CNY/MW·yr to build, west B 1,100; power is
# free. The optimum builds 100 MW at A for 100,000 CNY/yr. Within a slack s the cost may reach
# 100,000·(1+s): B can take over 1000·s MW of A's share (each MW moved costs 100 more), or, from
# s = 0.1, all of it, and then B alone can be built up to 100,000·(1+s)/1,100. A can be overbuilt to
# 100·(1+s) MW. Both are capped at 200 MW.
CAPEX_A, CAPEX_B, DEMAND, MAX_NEW = 1000.0, 1100.0, 100.0, 200.0


def paper_ranges(slack):
    """(min A, max A, min B, max B) of the two-cluster case, worked out by hand. [MW]"""
    cap = CAPEX_A * DEMAND * (1 + slack)
    shift = min(DEMAND, DEMAND * CAPEX_A * slack / (CAPEX_B - CAPEX_A))
    max_b = min(MAX_NEW, cap / CAPEX_B) if shift >= DEMAND else shift
    return DEMAND - shift, min(MAX_NEW, cap / CAPEX_A), 0.0, max_b


def two_clusters():
    return make_inputs(
        [site("a", max_new=MAX_NEW, capex_annual=CAPEX_A, price=0.0, ef=0.0),
         site("b", hub_class="west", max_new=MAX_NEW, capex_annual=CAPEX_B, price=0.0, ef=0.0)],
        [[[DEMAND]]], [[0.0, 0.0]],
    )


@pytest.fixture(scope="module")
def two_cluster_lp():
    return NearOptimalLP(two_clusters())


def _ranges(lp, slack):
    lp.set_slack(slack)
    values = []
    for position in range(2):
        weight = np.eye(2)[position]
        for maximise in (False, True):
            plan, value = lp.solve(CapacityObjective("range", weight, np.zeros(2), maximise))
            # Verified by the one path, and within the slack.
            assert plan.metadata["max_violation"] <= 1e-6
            assert plan.summary.total_cost_cny <= lp.cost_cap_cny * (1 + 1e-9)
            assert plan.metadata["alternative"]["cost_cap_cny"] == pytest.approx(1e5 * (1 + slack))
            assert plan.sites["new_mw"].iloc[position] == pytest.approx(value, abs=1e-6)
            values.append(value)
    return values


def test_the_optimum_is_the_hand_solved_one(two_cluster_lp):
    assert two_cluster_lp.optimal_cost_cny == pytest.approx(1e5)
    assert two_cluster_lp.optimum.sites["new_mw"].to_numpy() == pytest.approx([100.0, 0.0], abs=1e-9)


@pytest.mark.parametrize("slack", [0.02, 0.05, 0.1, 0.2, 1.0])
def test_ranges_match_the_hand_solved_ones(two_cluster_lp, slack):
    assert _ranges(two_cluster_lp, slack) == pytest.approx(paper_ranges(slack), abs=1e-6)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(st.floats(0.005, 0.5), st.floats(0.1, 1.0))
def test_ranges_shrink_as_the_slack_shrinks_and_hold_the_optimum(slack, fraction):
    lp = NearOptimalLP(two_clusters())
    wide = _ranges(lp, slack)
    narrow = _ranges(lp, slack * fraction)
    optimum = lp.optimum.sites["new_mw"].to_numpy()
    for position in range(2):
        low_wide, high_wide = wide[2 * position], wide[2 * position + 1]
        low, high = narrow[2 * position], narrow[2 * position + 1]
        assert low_wide <= low + 1e-6 and high <= high_wide + 1e-6
        assert low - 1e-6 <= optimum[position] <= high + 1e-6


def test_slack_is_refused_outside_zero_to_one():
    assert check_slack("0.02") == 0.02
    assert check_slack(1) == 1.0
    for bad in ("0", "-0.1", "1.5", "nan", "inf", "two per cent", ""):
        with pytest.raises(ScenarioError, match="--slack"):
            check_slack(bad)
    with pytest.raises(ValueError, match="slack"):
        NearOptimalLP(two_clusters()).set_slack(0.0)


def test_spread_weights_are_the_linearised_herfindahl_index():
    sites = pd.DataFrame({"kind": ["cluster", "cluster", "cluster", "local"], "max_new_mw": [1.0, 1.0, 1.0, 1.0]})
    new = np.array([30.0, 10.0, 0.0, 50.0])  # cluster shares 0.75, 0.25, 0: H = 0.625
    assert herfindahl(sites, new) == pytest.approx(0.625)
    assert spread_weights(sites, new) == pytest.approx([0.125, -0.375, -0.625, 0.0])
    # Moving a little build from the first cluster to the third lowers H at the rate the weights give.
    step = np.array([-1.0, 0.0, 1.0, 0.0]) * 1e-4
    slope = (herfindahl(sites, new + step) - herfindahl(sites, new)) / 1e-4
    assert slope == pytest.approx(float(spread_weights(sites, new) @ step / 1e-4) * 2 / 40, rel=1e-3)


# ---------------------------------------------------------------------------------------------
# The workflow and the command, on a small default scenario
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    scenario = load_scenario(None, ["time.days=2", "time.hours_per_day=4"])
    return write_run(run_scenario(scenario), tmp_path_factory.mktemp("runs") / "small")


@pytest.fixture(scope="module")
def alternatives_out(small_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("alt") / "out"
    result = CliRunner().invoke(main, ["alternatives", str(small_run), "--slack", "0.02", "--out", str(out),
                                       "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "west hubs" in result.output and "max-spread" in result.output
    return out


def test_every_range_holds_the_optimum_and_every_plan_is_a_verified_run_within_the_slack(small_run,
                                                                                            alternatives_out):
    ranges = pd.read_csv(alternatives_out / "alternatives.csv")
    assert set(ranges["scope"]) == {"cluster", "region"}
    assert set(ranges.loc[ranges["scope"] == "region", "name"]) == {"east", "west", "local"}
    assert (ranges["min_mw"] <= ranges["optimum_mw"] + 1e-6).all()
    assert (ranges["optimum_mw"] <= ranges["max_mw"] + 1e-6).all()
    document = json.loads((alternatives_out / "alternatives.json").read_text())
    optimum, _ = read_run_checked(small_run)
    assert document["optimal_cost_cny"] == pytest.approx(optimum.summary.total_cost_cny, rel=1e-6)
    west = ranges.set_index(["scope", "name", "quantity"]).loc[("region", "west", "new_mw")]
    for name in PLANS:
        results, _ = read_run_checked(alternatives_out / name)  # the one read-back path: nothing trusted
        assert results.summary.total_cost_cny <= document["cost_cap_cny"] * (1 + 1e-9)
        assert results.metadata["max_violation"] <= 1e-6
        assert results.metadata["alternative"]["plan"] == name
    max_west, _ = read_run_checked(alternatives_out / "max-west")
    min_west, _ = read_run_checked(alternatives_out / "min-west")
    assert max_west.summary.new_capacity_west_mw == pytest.approx(west["max_mw"], abs=1e-3)
    assert min_west.summary.new_capacity_west_mw == pytest.approx(west["min_mw"], abs=1e-3)


def _invoke(*args):
    return CliRunner().invoke(main, ["alternatives", *map(str, args), "--no-progress"])


def _one_line_error(result, code):
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_bad_slack_and_bad_run_directories_exit_2(small_run, tmp_path):
    for slack in ("0", "1.01", "x"):
        result = _invoke(small_run, "--slack", slack, "--out", tmp_path / "a")
        _one_line_error(result, 2)
        assert "--slack" in result.output
    _one_line_error(_invoke(tmp_path / "missing", "--out", tmp_path / "b"), 2)
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    for path in small_run.iterdir():
        (tampered / path.name).write_bytes(path.read_bytes())
    scenario = (tampered / "scenario.yaml").read_text()
    (tampered / "scenario.yaml").write_text(scenario.replace("name: baseline", "name: baseline2"))
    result = _invoke(tampered, "--out", tmp_path / "c")
    _one_line_error(result, 2)
    assert "input hash" in result.output
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    _one_line_error(_invoke(small_run, "--out", foreign), 2)
    assert (foreign / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "a").exists() and not (tmp_path / "c").exists()


def test_a_solve_not_proven_exits_1(small_run, tmp_path, monkeypatch):
    def not_proven(self, objective):
        msg = "HiGHS stopped at the 1 s time limit before proving an optimum"
        raise PlanNotSolved(msg, status=PlanStatus.TIME_LIMIT)

    monkeypatch.setattr(NearOptimalLP, "solve", not_proven)
    result = _invoke(small_run, "--out", tmp_path / "out")
    _one_line_error(result, 1)
    assert "time_limit" in result.output


def test_a_run_whose_cost_is_not_its_scenarios_optimum_is_refused_before_any_alternative(small_run, tmp_path):
    changed = tmp_path / "changed"
    changed.mkdir()
    for path in small_run.iterdir():
        (changed / path.name).write_bytes(path.read_bytes())
    summary = json.loads((changed / "summary.json").read_text())
    summary["total_cost_cny"] *= 0.99
    (changed / "summary.json").write_text(json.dumps(summary))
    result = _invoke(changed, "--out", tmp_path / "out")
    _one_line_error(result, 2)
    assert "not the optimum" in result.output
    assert not (tmp_path / "out").exists()


def test_a_pathway_scenario_has_no_alternatives():
    from planner.alternatives import find_alternatives

    with pytest.raises(ScenarioError, match="horizon.end_year"):
        find_alternatives(load_scenario("pathway-2035"), 0.02)
