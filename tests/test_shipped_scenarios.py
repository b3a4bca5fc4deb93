"""Every shipped scenario solves with verified residuals, pinned totals, and moves the way economics says."""

import pytest

from planner.run import run_scenario
from planner.scenario import load_scenario, shipped_scenarios

# (total annual cost CNY, emissions tCO2, new capacity MW), from the default dataset.
PINNED = {
    # With the backbone network in the LP (new link capacity, transfer energy, recalibrated route charge).
    "baseline": (97555649607.71953, 82646935.14884655, 240.9446383165187),
    "policy-2025": (97631207951.44032, 82645136.73476598, 240.94463831651862),
    "low-carbon": (107974205108.53761, 72000000.00000015, 2276.2803935711936),
    "no-west": (106836912093.69463, 79276722.16934231, 1217.3546383165183),
    "hourly-2025": (107384959827.4518, 129500491.46560107, 0.0),
}


@pytest.fixture(scope="module")
def solved():
    return {name: run_scenario(load_scenario(name)) for name in single_year_scenarios()}


def single_year_scenarios():
    # Stochastic plans (futures) are pinned in tests/test_stochastic.py.
    return [name for name in shipped_scenarios()
            if load_scenario(name).horizon.end_year is None and load_scenario(name).futures is None]


def test_every_shipped_scenario_is_pinned():
    # Scenarios with a horizon are pinned year by year in tests/test_pathway.py.
    assert sorted(PINNED) == single_year_scenarios()


@pytest.mark.parametrize("name", sorted(PINNED))
def test_shipped_scenario_solves_with_verified_residuals(solved, name):
    results = solved[name]
    assert results.metadata["status"] == "optimal"
    # HiGHS leaves loads of -1e-8 MW and the like: within its own tolerance, a few 1e-7 of the
    # smallest scale verify.py measures against (1e-6 of the largest demand).
    assert results.metadata["max_violation"] < 1e-6
    cost, emissions, new_mw = PINNED[name]
    # The optimum's cost is unique; emissions and capacity may differ between tied optima.
    assert results.summary.total_cost_cny == pytest.approx(cost, rel=1e-6)
    assert results.summary.emissions_tco2 == pytest.approx(emissions, rel=1e-3)
    # Today's vacant halls carry most of the load: little or no new building, exact within a kilowatt.
    assert results.summary.new_capacity_mw == pytest.approx(new_mw, rel=1e-3, abs=1e-3)


def test_tables_add_up(solved):
    results = solved["baseline"]
    flows, sites, provinces = results.flows, results.sites, results.provinces
    flow_mwh = (flows["load_mw"] * flows["hours"]).sum()
    assert flow_mwh == pytest.approx(results.summary.it_energy_mwh, rel=1e-9)
    assert provinces["demand_mwh"].sum() == pytest.approx(flow_mwh, rel=1e-9)
    assert sites["total_cost_cny"].sum() == pytest.approx(results.summary.total_cost_cny, rel=1e-9)
    assert sites["emissions_tco2"].sum() == pytest.approx(results.summary.emissions_tco2, rel=1e-9)
    assert provinces["emissions_tco2"].sum() == pytest.approx(results.summary.emissions_tco2, rel=1e-9)
    shares = provinces["hub_share"] + provinces["local_share"]
    assert shares.to_numpy() == pytest.approx(1.0, abs=1e-9)
    assert (sites["utilisation"] <= results.scenario["policy"]["utilisation_max"] + 1e-9).all()


def test_no_west_costs_more_and_serves_nothing_west(solved):
    assert solved["no-west"].summary.total_cost_cny > solved["baseline"].summary.total_cost_cny
    assert solved["no-west"].summary.west_share == 0.0


def test_low_carbon_meets_its_cap_at_a_price(solved):
    summary = solved["low-carbon"].summary
    assert summary.emissions_tco2 <= solved["low-carbon"].scenario["carbon"]["cap_tco2"] * (1 + 1e-9)
    assert summary.carbon_shadow_price_cny_per_tco2 > 0


def test_tighter_carbon_cap_never_costs_less():
    costs = []
    for cap in (80e6, 75e6, 70e6, 67e6):  # the plan emits 83 Mt uncapped, 65.3 Mt at the least
        costs.append(run_scenario(load_scenario("policy-2025", [f"carbon.cap_tco2={cap}"])).summary.total_cost_cny)
    assert all(later >= earlier * (1 - 1e-9) for earlier, later in zip(costs, costs[1:], strict=False))
    assert costs[-1] > costs[0]


def test_higher_carbon_price_never_raises_emissions():
    emissions = [
        run_scenario(load_scenario("policy-2025", [f"carbon.price_cny_per_tco2={price}"])).summary.emissions_tco2
        for price in (0, 100, 300)
    ]
    assert all(later <= earlier * (1 + 1e-9) for earlier, later in zip(emissions, emissions[1:], strict=False))
    assert emissions[-1] < emissions[0]


def test_same_scenario_twice_gives_identical_results():
    first = run_scenario(load_scenario("baseline"))
    second = run_scenario(load_scenario("baseline"))
    assert first.metadata["input_hash"] == second.metadata["input_hash"]
    assert first.summary == second.summary
    assert first.flows.equals(second.flows)


def test_the_readme_table_of_scenarios_is_current(solved):
    from pathlib import Path

    from planner.calibration import render_scenarios_block

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    stale = "README.md's scenario table is stale: run python -m planner.calibration"
    assert render_scenarios_block(solved) in readme, stale


def test_the_scenarios_tell_different_stories(solved):
    base = solved["baseline"].summary
    policy = solved["policy-2025"].summary
    # The 2025 targets bind (their shadow prices are positive) and cost something, if little.
    assert policy.total_cost_cny > base.total_cost_cny * (1 + 1e-4)
    assert policy.green_share == pytest.approx(0.25) and base.green_share == pytest.approx(0.15)
    assert any(price > 0 for price in policy.policy_shadow_prices.values())
    # Capping location-based emissions moves load west and builds there; without the west, more is built locally.
    low = solved["low-carbon"].summary
    assert low.west_share > base.west_share + 0.03 and low.new_capacity_mw > base.new_capacity_mw
    assert solved["no-west"].summary.new_capacity_mw > base.new_capacity_mw
