"""Representative days keep the year's energy; deferrable load moves within a day and keeps its energy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lp_cases import make_inputs, site

from optimizer.extract import extract_quantities, site_load
from optimizer.formulation import build_lp
from optimizer.plan import optimise
from optimizer.solve import solve_lp
from optimizer.verify import constraint_violations
from planner.periods import cluster_days, periods_table, to_slices
from planner.preprocess import build_inputs
from planner.profiles import year_profiles
from planner.scenario import ScenarioError, load_scenario


@pytest.fixture(scope="module")
def clustered_inputs():
    return build_inputs(load_scenario(None, ["time.representative=clustered", "time.days=6",
                                             "time.extreme_days=false"]))


def test_clustering_conserves_green_energy_and_demand(default_inputs):
    profiles = year_profiles(default_inputs.sites, default_inputs.workloads, 2025)
    days = cluster_days(profiles, 5, green_weight=default_inputs.sites["green_available_mw"].to_numpy())
    assert days.weight_days.sum() == 365
    assert np.array_equal(np.bincount(days.assignment, minlength=5), days.weight_days)
    represented_green = np.einsum("snh,n->s", days.green, days.weight_days)
    represented_demand = np.einsum("knh,n->k", days.demand, days.weight_days)
    assert represented_green == pytest.approx(profiles.green.sum(axis=1), rel=1e-12)
    assert represented_demand == pytest.approx(profiles.demand.sum(axis=1), rel=1e-12)
    # Slices of several hours keep the energy too.
    periods = periods_table(days, 6)
    assert periods["hours"].sum() == pytest.approx(8760.0)
    assert to_slices(days.demand, 6) @ periods["hours"].to_numpy() == pytest.approx(represented_demand, rel=1e-12)


def test_clustered_plan_inputs_keep_annual_demand_and_green_energy(default_inputs, clustered_inputs):
    assert clustered_inputs.hours.sum() == pytest.approx(8760.0)
    assert clustered_inputs.periods["day"].nunique() == 6
    annual = default_inputs.demand_mw @ default_inputs.hours
    assert clustered_inputs.demand_mw @ clustered_inputs.hours == pytest.approx(annual, rel=1e-12)
    green_hours = clustered_inputs.green_profile @ clustered_inputs.hours
    assert green_hours == pytest.approx(np.full(len(clustered_inputs.sites), 8760.0), rel=1e-12)


def test_clustered_days_and_the_peak_days_are_the_default(default_inputs):
    scenario = load_scenario()
    assert scenario.time.representative == "clustered" and scenario.time.extreme_days
    assert scenario.time.defer_within_day is False and not default_inputs.deferrable_classes.any()
    # The year's peak-demand days come on top of the clustered ones, each weighing one day.
    days = default_inputs.periods.groupby("day")["hours"].sum() / 24.0
    assert len(days) > scenario.time.days
    assert (days.round(9) == 1.0).sum() >= len(days) - scenario.time.days
    # Green output and PUE vary over the year, so the plan sees their seasons.
    assert default_inputs.green_profile.std(axis=1).max() > 0.05
    assert np.ptp(default_inputs.pue, axis=1).max() > 0.02


def test_more_clustered_days_than_the_year_is_refused():
    with pytest.raises(ScenarioError, match="time.representative"):
        load_scenario(None, ["time.representative=clustered", "time.days=366"])


def _shifting_case(demand, green, peak_factor=None):
    # One province, one deferrable class, a grid site and a green site with limited capacity.
    inputs = make_inputs(
        [site("grid", existing=10.0, price=100.0, ef=0.8),
         site("sun", existing=10.0, price=100.0, ef=0.8, green=1.0, premium=1.0)],
        [[demand]],
        [[1.0, 1.0]],
        hours=(1.0,) * len(demand),
        carbon_price=100.0,
    )
    inputs.green_profile = np.array([np.zeros(len(demand)), green])
    inputs.deferrable = np.array([True])
    inputs.defer_peak_factor = peak_factor
    return inputs


def test_deferrable_load_follows_green_power_and_keeps_its_energy():
    demand = [4.0, 4.0, 4.0, 4.0]
    inputs = _shifting_case(demand, [0.0, 0.0, 8.0, 8.0])
    plan = optimise(inputs, backend="highs")
    served = plan.flows.groupby("period")["load_mw"].sum().reindex(inputs.periods["period"], fill_value=0.0)
    assert served.sum() == pytest.approx(sum(demand))
    # All load moves into the green hours, as far as the sites' capacity (10 MW each) allows.
    assert served.iloc[2:].sum() == pytest.approx(16.0)
    assert plan.summary.shifted_mwh == pytest.approx(8.0)
    # With a peak factor, no site runs more than 1.5 × its mean deferrable load of the day.
    capped = optimise(_shifting_case(demand, [0.0, 0.0, 8.0, 8.0], peak_factor=1.5), backend="highs")
    by_site = capped.flows.pivot_table(index="site", columns="period", values="load_mw", aggfunc="sum", fill_value=0.0)
    by_site = by_site.reindex(columns=inputs.periods["period"], fill_value=0.0)
    assert (by_site.max(axis=1) <= 1.5 * by_site.mean(axis=1) + 1e-9).all()
    assert by_site.to_numpy().sum() == pytest.approx(16.0)


def test_both_solve_paths_agree_with_deferral():
    inputs = _shifting_case([3.0, 1.0, 5.0, 2.0], [1.0, 6.0, 0.0, 4.0], peak_factor=2.0)
    objectives = [optimise(inputs, backend=backend).metadata["objective_cny"] for backend in ("pulp", "highs")]
    assert objectives[0] == pytest.approx(objectives[1], rel=1e-9)


@settings(max_examples=15, deadline=None)
@given(
    demand=st.lists(st.floats(0.0, 6.0), min_size=4, max_size=4),
    # Green power none or above HiGHS's resolution: 1e-12 MW is below what any solver tells from zero.
    green=st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 10.0)), min_size=4, max_size=4),
    peak_factor=st.sampled_from([None, 1.0, 1.5, 3.0]),
)
def test_shifting_within_a_day_never_changes_the_energy_served(demand, green, peak_factor):
    demand = [d if d > 1e-3 else 0.0 for d in demand]
    if sum(demand) == 0:
        demand[0] = 1.0
    # Two days of two slices each: energy is kept per day, not just over the two days.
    inputs = _shifting_case(demand, green, peak_factor)
    inputs.periods["day"] = [1, 1, 2, 2]
    lp, index = build_lp(inputs)
    solution = solve_lp(lp, backend="highs")
    q = extract_quantities(inputs, lp, index, solution)
    served = site_load(inputs, index, q.load).sum(axis=0)
    assert served[:2].sum() == pytest.approx(sum(demand[:2]), abs=1e-7)
    assert served[2:].sum() == pytest.approx(sum(demand[2:]), abs=1e-7)
    assert max(constraint_violations(inputs, index, q).values()) < 1e-7
