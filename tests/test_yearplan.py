"""The year plan by decomposition equals the monolithic LP's optimum within its gap, and its bounds bracket it.

Reduced years small enough to solve as one LP: a hand case of three days, the default scenario on 28
clustered days of 4 slices, and the 2025 policy scenario (hub-share rule, green supply with new
build, deferrable load, a carbon price) on 8 days. The decomposed plan is checked against every day
(optimizer.plan.verify_solution inside), and its tables add up to its cost.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from lp_cases import make_inputs, site

from optimizer.decompose import YearPlanRefused, day_slices, first_stage_values, plan_year, restrict, year_structure
from optimizer.plan import optimise
from optimizer.status import PlanInfeasible
from planner.preprocess import build_inputs
from planner.scenario import ScenarioError, load_scenario
from planner.yearplan import plan_scenario_year

GAP = 1e-3


def three_days():
    """p1 needs 10, 14 and 6 MW on three days of two hours; a cheap site to build, a dear one existing."""
    demand = np.array([[[8.0, 10.0, 14.0, 12.0, 5.0, 6.0]]])
    inputs = make_inputs(
        [site("build", max_new=50, price=100, capex_annual=200_000), site("old", existing=9, price=400)],
        demand, [[1.0, 1.0]], hours=(500.0,) * 6,
    )
    periods = inputs.periods.assign(day=[1, 1, 2, 2, 3, 3])
    return dataclasses.replace(inputs, periods=periods)


def bracketed(inputs, **options):
    monolithic = optimise(inputs, backend="highs").summary.total_cost_cny
    plan = plan_year(inputs, **options)
    assert plan.lower_bound_cny <= monolithic * (1 + 1e-9)
    assert plan.upper_bound_cny >= monolithic * (1 - 1e-9)
    gap = options.get("gap", GAP)
    assert plan.gap <= gap
    assert plan.upper_bound_cny == pytest.approx(monolithic, rel=gap)
    return plan, monolithic


def test_the_structure_is_read_off_the_formulation(default_inputs):
    structure = year_structure(clustered(28, 4))
    # New capacity, fit-out and new link capacity (b) are the year's; certificates are bought per day
    # window, with each day's rows.
    assert structure.first_stage == ["n", "f", "b"]
    assert structure.master_rows == []
    # The green-power share (15 %) holds for the year: its one row is split between the days.
    assert structure.coupling.families == ["green_share"]
    assert structure.coupling.sense.tolist() == [1.0] and structure.coupling.bound.tolist() == [0.0]
    policy = year_structure(clustered(2, 4, "hourly-2025"))
    assert policy.master_rows == ["hub_share", "hub_occupancy"]
    assert set(policy.coupling.families) >= {"green_share", "hub_green", "pue_national"}


def test_hand_case_matches_the_monolithic_lp():
    # Each MW built costs 200,000 CNY/yr and saves 500 h × 300 CNY/MWh = 150,000 in every slice whose
    # demand exceeds it: worth building while two slices do (up to 12 MW), not for the 14 MW slice alone.
    plan, monolithic = bracketed(three_days(), gap=1e-6)
    assert plan.point == pytest.approx([12.0], abs=1e-3)
    assert monolithic == pytest.approx(200_000 * 12 + 500 * (100 * 53 + 400 * 2))
    assert plan.upper_bound_cny == pytest.approx(monolithic, rel=1e-6)


def test_hand_case_builds_for_the_peak_when_it_pays():
    inputs = three_days()
    sites = inputs.sites.copy()
    sites.loc[0, "capex_annual_cny_per_mw"] = 50_000.0  # less than one slice's saving
    plan, monolithic = bracketed(dataclasses.replace(inputs, sites=sites), gap=1e-6)
    assert plan.point == pytest.approx([14.0], abs=1e-3)
    assert monolithic == pytest.approx(50_000 * 14 + 500 * 100 * 55)


def clustered(days, hours_per_day, name=None):
    return build_inputs(load_scenario(name, ["time.representative=clustered", f"time.days={days}",
                                             f"time.hours_per_day={hours_per_day}"]))


def test_default_scenario_on_a_reduced_year():
    inputs = clustered(28, 4)
    start = first_stage_values(build_inputs(load_scenario(None, ["time.hours_per_day=4"])), year_structure(inputs))
    plan, monolithic = bracketed(inputs, start=start, gap=GAP)
    assert all(day["unserved_mwh"] <= 1e-3 for day in plan.days)
    assert plan.metadata["max_violation"] <= 1e-6


def test_policy_scenario_with_deferral_on_a_reduced_year():
    inputs = clustered(8, 4, "hourly-2025")
    plan, _ = bracketed(inputs, gap=GAP, workers=2)
    assert plan.structure.master_rows == ["hub_share", "hub_occupancy"]
    # The annual rules of the 2025 policies hold over the year, checked on its totals (the new hubs'
    # green share only where the plan builds: with the network, its optimum builds nothing here).
    builds = {"hub_green"} if plan.days[0]["new_mw"].any() else set()
    assert set(plan.metadata["annual_violations"]) >= {"green_share", "pue_national", "pue_hub"} | builds
    assert max(plan.metadata["annual_violations"].values()) <= 1e-6


def test_year_plan_tables_add_up_and_sites_peak_by_the_hour():
    scenario = load_scenario(None, ["time.hours_per_day=4"])
    inputs = clustered(28, 4)
    results = plan_scenario_year(scenario, inputs=inputs, executor="serial")
    year = results.metadata["year_plan"]
    assert results.summary.total_cost_cny == pytest.approx(year["upper_bound_cny"], rel=1e-9)
    assert year["lower_bound_cny"] <= year["upper_bound_cny"] and year["gap"] <= GAP
    # One table period per day window: the 28 representative days and the peak days.
    assert len(results.flows["period"].unique()) == len(day_slices(inputs)) == 28 + 2
    monolithic = optimise(inputs, backend="highs")
    # Peaks are the slices', so the plan's utilisation never exceeds the limit and reaches it somewhere.
    assert results.sites["utilisation"].max() == pytest.approx(inputs.utilisation_max, rel=1e-6)
    assert results.summary.it_energy_mwh == pytest.approx(monolithic.summary.it_energy_mwh, rel=1e-9)
    assert results.summary.peak_demand_mw == pytest.approx(monolithic.summary.peak_demand_mw, rel=1e-12)


def test_days_are_cut_from_the_inputs_by_their_window():
    inputs = three_days()
    day = restrict(inputs, np.array([2, 3]), day=1)
    assert day.demand_mw[0, 0].tolist() == [14.0, 12.0]
    assert day.periods["day"].tolist() == [1, 1]
    assert isinstance(day.periods, pd.DataFrame)


def test_a_cap_on_annual_emissions_is_split_between_the_days():
    inputs = clustered(6, 4)
    free = optimise(inputs, backend="highs").summary.emissions_tco2
    capped = dataclasses.replace(inputs, carbon_cap_tco2=0.97 * free)  # binds: 3 % below the uncapped plan
    structure = year_structure(capped)
    assert "carbon" in structure.coupling.families
    carbon = structure.coupling.row_family.index("carbon")
    assert not structure.coupling.additive[carbon]  # the cap is the year's, not a day's
    plan, _ = bracketed(capped, gap=GAP)
    year = optimise(capped, backend="highs")
    assert year.summary.emissions_tco2 == pytest.approx(0.97 * free, rel=1e-6)
    assert plan.metadata["annual_violations"]["carbon"] <= 1e-6
    # Each day's part of the cap sums to the cap: days trade emissions, the year meets it.
    assert plan.allocation[:, carbon].sum() == pytest.approx(0.97 * free, rel=1e-6)


def test_a_year_that_cannot_meet_an_annual_cap_is_infeasible_with_the_constraint_named():
    inputs = clustered(2, 4)
    impossible = dataclasses.replace(inputs, carbon_cap_tco2=1.0)  # one tonne a year
    with pytest.raises(PlanInfeasible, match="carbon|unserved"):
        plan_year(impossible)


def test_an_annual_row_bounded_on_both_sides_is_refused_in_one_line(monkeypatch):
    from optimizer import decompose
    from optimizer.formulation import build_lp

    def with_band(inputs):
        lp, index = build_lp(inputs)
        g = lp.columns["g"]
        cols = np.arange(g.start, g.stop)
        lp.add_rows("green_band", 1, np.zeros(cols.size, np.int64), cols, np.ones(cols.size), 1.0, 2.0)
        return lp, index

    monkeypatch.setattr(decompose, "build_lp", with_band)
    with pytest.raises(YearPlanRefused) as info:
        year_structure(clustered(2, 4))
    message = str(info.value)
    assert "\n" not in message and "green_band" in message and message.startswith("year plan | ")


def test_a_pathway_is_refused_as_bad_input():
    with pytest.raises(ScenarioError, match="horizon.end_year"):
        plan_scenario_year(load_scenario("pathway-2035"))


def test_a_year_that_cannot_be_served_is_infeasible():
    inputs = three_days()
    sites = inputs.sites.copy()
    sites.loc[0, "max_new_mw"] = 2.0  # 9 + 2 MW against a 14 MW hour
    with pytest.raises(PlanInfeasible, match="unserved"):
        plan_year(dataclasses.replace(inputs, sites=sites))


def test_a_worker_without_the_days_asks_for_them():
    from optimizer.daycuts import DayTask, MissingDays, solve_days

    structure = year_structure(three_days())
    task = DayTask("never-seen", [0, 1], None, np.array([5.0]), structure.columns,
                   structure.master_row_positions, 1e6, 1e-6)
    assert solve_days(task) == MissingDays([0, 1])


@pytest.fixture
def small_year(monkeypatch):
    """`edwc run --year` on 6 clustered days of 4 slices instead of 365 × 24 (the same code path)."""
    from planner import yearplan

    def reduced(scenario):
        document = scenario.to_dict()
        document["time"] = {**document["time"], "representative": "clustered", "days": 6, "hours_per_day": 4}
        from planner.scenario import resolve_scenario

        return resolve_scenario(document, (), name=scenario.name)

    monkeypatch.setattr(yearplan, "year_scenario", reduced)
    monkeypatch.setattr(yearplan, "month_labels", lambda scenario: None)


def test_cli_year_plan_on_a_pool_writes_a_verified_run(tmp_path, small_year):
    import json

    from click.testing import CliRunner

    from planner.cli import main

    out = tmp_path / "year"
    result = CliRunner().invoke(main, ["run", "--year", "--workers", "2", "--no-map", "--out", str(out),
                                       "--set", "time.hours_per_day=4"])
    assert result.exit_code == 0, result.output
    metadata = json.loads((out / "metadata.json").read_text())
    year = metadata["year_plan"]
    assert year["workers"] == 2 and year["days"] == 6 + 2 and year["gap"] <= GAP  # with the two peak days
    assert year["lower_bound_cny"] <= year["upper_bound_cny"]
    monolithic = optimise(clustered(6, 4), backend="highs").summary.total_cost_cny
    assert year["lower_bound_cny"] <= monolithic * (1 + 1e-9) <= year["upper_bound_cny"] * (1 + 2e-9)
    assert json.loads((out / "summary.json").read_text())["total_cost_cny"] == pytest.approx(
        year["upper_bound_cny"], rel=1e-9)


def test_cli_year_plan_of_a_capped_scenario_meets_its_cap_over_the_year(tmp_path, small_year):
    import json

    from click.testing import CliRunner

    from planner.cli import main

    out = tmp_path / "y"
    cap = 7.9e7  # below the uncapped reduced year's emissions: it binds
    result = CliRunner().invoke(main, ["run", "--year", "--no-map", "--out", str(out), "--set", "time.hours_per_day=4",
                                       "--set", f"carbon.cap_tco2={cap}"])
    assert result.exit_code == 0, result.output
    metadata = json.loads((out / "metadata.json").read_text())
    assert "carbon" in metadata["year_plan"]["coupling_rows"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["emissions_tco2"] == pytest.approx(cap, rel=1e-6)


def test_the_trust_region_widens_after_a_good_step_at_its_edge_and_narrows_after_a_bad_one():
    from optimizer.decompose import BOX_MAX, BOX_MIN, _next_radius, _Step

    promised = _Step(value=100.0, predicted=90.0, width=0.2)  # the cuts promised a gain of 10
    assert _next_radius(0.2, 95.0, promised) == 0.4  # gained half of it at the box's edge: wider
    assert _next_radius(0.2, 95.0, _Step(value=100.0, predicted=90.0, width=0.05)) == 0.2  # inside: kept
    assert _next_radius(0.2, 99.5, promised) == 0.2  # a small gain: the new cuts fix the model, same box
    assert _next_radius(0.2, 120.0, promised) == 0.1  # dearer than the incumbent: narrower
    assert _next_radius(BOX_MAX, 95.0, _Step(value=100.0, predicted=90.0, width=BOX_MAX)) == BOX_MAX
    assert _next_radius(BOX_MIN, 120.0, promised) == BOX_MIN
    assert _next_radius(0.3, 95.0, None) == 0.3  # no step yet


def test_the_masters_next_point_stays_in_the_box_around_the_incumbent():
    # The hand case's master with a flat cut per day (θ_d ≥ 0): capacity costs, so the cheapest point in
    # the box is the centre moved down by the box's half-width, and the lower bound is at the bounds.
    from optimizer.daycuts import DayCut
    from optimizer.master import Master, master_problem

    structure = year_structure(three_days())
    problem = master_problem(structure, 3, np.ones(0))
    master = Master(problem, 3, scale=1.0)
    num_m = structure.columns.size
    centre = structure.lower + 0.5 * (np.minimum(structure.upper, 100.0) - structure.lower)
    master.add_cuts(centre, [DayCut(d, 0.0, np.zeros(num_m), 0.0, 0, 0.0) for d in range(3)])
    value, point = master.box_point(centre, 0.1)
    assert np.allclose(master.scaled(point), np.maximum(master.z_lower, master.scaled(centre) - 0.1))
    assert value == pytest.approx(float(structure.cost @ point))
    lower, free = master.lower_bound()
    assert np.allclose(free, structure.lower) and lower == pytest.approx(float(structure.cost @ structure.lower))
