"""Every shipped scenario solves with verified residuals, pinned totals, and moves the way economics says."""

import pytest

from planner.run import run_scenario
from planner.scenario import load_scenario, shipped_scenarios

# (total annual cost CNY, emissions tCO2, new capacity MW), from the default dataset.
PINNED = {
    "baseline": (294515593286.26196, 165552117.1134774, 15623.937389705883),
    "policy-2025": (294515593286.26196, 165552117.1134774, 15623.937389705883),
    "low-carbon": (297180105706.88025, 119999999.99999978, 15623.937389705885),
    "no-west": (333950413029.17365, 170039137.87116426, 17083.937389705883),
    "hourly-2025": (285426224789.43506, 109638054.03557016, 11661.922234170273),
}


@pytest.fixture(scope="module")
def solved():
    return {name: run_scenario(load_scenario(name)) for name in single_year_scenarios()}


def single_year_scenarios():
    return [name for name in shipped_scenarios() if load_scenario(name).horizon.end_year is None]


def test_every_shipped_scenario_is_pinned():
    # Scenarios with a horizon are pinned year by year in tests/test_pathway.py.
    assert sorted(PINNED) == single_year_scenarios()


@pytest.mark.parametrize("name", sorted(PINNED))
def test_shipped_scenario_solves_with_verified_residuals(solved, name):
    results = solved[name]
    assert results.metadata["status"] == "optimal"
    assert results.metadata["max_violation"] < 1e-7
    cost, emissions, new_mw = PINNED[name]
    # The optimum's cost is unique; emissions and capacity may differ between tied optima.
    assert results.summary.total_cost_cny == pytest.approx(cost, rel=1e-6)
    assert results.summary.emissions_tco2 == pytest.approx(emissions, rel=1e-3)
    assert results.summary.new_capacity_mw == pytest.approx(new_mw, rel=1e-3)


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
    for cap in (160e6, 140e6, 120e6, 100e6):
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
