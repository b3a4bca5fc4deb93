"""The national baseline: its year served hour by hour, carbon counted once, overrides reaching sites,
policies that bind at the price they report, and hand-solved water and PUE-by-season cases."""

from dataclasses import replace

import numpy as np
import pytest
from lp_cases import make_inputs, site

from optimizer.plan import optimise
from planner.preprocess import build_inputs
from planner.run import run_scenario
from planner.rundir import write_run
from planner.scenario import load_scenario
from planner.yearcheck import check_plan

# ------------------------------------------------------------------------------ the default year


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    return write_run(run_scenario(load_scenario()), tmp_path_factory.mktemp("runs") / "baseline")


def test_the_default_plan_serves_every_hour_of_its_year(default_run):
    checked = check_plan(default_run, year_hours=8760, executor="local")
    report, days = checked.report, checked.days
    assert report["days_checked"] == 365 and not report["annualised"]
    assert report["delivered"]["unserved_mwh"] == 0.0 and not report["shortfalls"]
    # What the plan promised on its representative days is what the year delivers, within 1 %.
    assert report["delivered"]["total_cost_cny"] == pytest.approx(report["promised"]["total_cost_cny"], rel=1e-2)
    # The year has seasons and weeks: days differ, and demand grows through the year.
    energy = days["it_energy_mwh"].to_numpy()
    assert energy.std() / energy.mean() > 0.03
    assert energy[-30:].mean() > 1.1 * energy[:30].mean()


def test_the_default_days_include_the_peak_days_and_vary():
    inputs = build_inputs(load_scenario())
    daily = inputs.periods.groupby("day")["hours"].sum() / 24.0
    assert (daily.round(9) == 1.0).sum() >= 1  # the peak days weigh one day each
    national = inputs.demand_mw.sum(axis=(0, 1))
    assert national.max() / national.min() > 1.2


# --------------------------------------------------------------------------------- carbon, counted once


def _one_site_plan(accounting, certificate_price=5.0, green_share=0.3):
    s = site("a", existing=10.0, pue=1.2, ef=0.5)
    s["ef_market_tco2_per_mwh"] = 0.5 * 1.2  # residual mix: the grid average without the green sold
    s["ef_marginal_tco2_per_mwh"] = 0.8
    inputs = make_inputs([s], [[[5.0]]], [[1.0]], carbon_accounting=accounting)
    return optimise(replace(inputs, certificate_price_cny_per_mwh=certificate_price, green_share_min=green_share))


def test_location_and_market_emissions_differ_by_the_green_power_counted_once():
    plan = _one_site_plan("location")
    facility = 5.0 * 1.2 * 8760.0  # [MWh]
    bought = 0.3 * facility  # certificates the green share needs
    s = plan.summary
    assert s.certificate_mwh == pytest.approx(bought)
    assert s.certificate_cost_cny == pytest.approx(5.0 * bought)
    # Location-based: the grid average on every MWh; the certificates change nothing.
    assert s.emissions_location_tco2 == pytest.approx(0.5 * facility)
    # Market-based: what is bought green counts zero, the rest at the residual mix, never netted twice.
    assert s.emissions_market_tco2 == pytest.approx(0.6 * (facility - bought))
    # Marginal: certificates displace no generation.
    assert s.emissions_marginal_tco2 == pytest.approx(0.8 * facility)
    assert s.emissions_tco2 == s.emissions_location_tco2


def test_a_carbon_price_on_market_emissions_buys_certificates_location_does_not():
    facility = 5.0 * 1.2 * 8760.0
    assert _priced_plan("market").summary.certificate_mwh == pytest.approx(facility)
    assert _priced_plan("location").summary.certificate_mwh == pytest.approx(0.3 * facility)


def _priced_plan(accounting):
    s = site("a", existing=10.0, pue=1.2, ef=0.5)
    s["ef_market_tco2_per_mwh"] = 0.6
    s["ef_marginal_tco2_per_mwh"] = 0.8
    # 100 CNY/t on 0.6 t/MWh is worth more than a 5 CNY certificate: market accounting buys all.
    inputs = make_inputs([s], [[[5.0]]], [[1.0]], carbon_accounting=accounting, carbon_price=100.0)
    return optimise(replace(inputs, certificate_price_cny_per_mwh=5.0, green_share_min=0.3))


def test_a_province_emission_factor_reaches_every_site_in_it():
    base = build_inputs(load_scenario()).sites.set_index("site")
    changed = build_inputs(load_scenario(None, ["provinces.sichuan.ef_tco2_per_mwh=0.9"])).sites.set_index("site")
    for name in ("tianfu", "local_sichuan"):
        assert changed.loc[name, "ef_tco2_per_mwh"] == 0.9
        ratio = base.loc[name, "ef_market_tco2_per_mwh"] / base.loc[name, "ef_tco2_per_mwh"]
        assert changed.loc[name, "ef_market_tco2_per_mwh"] == pytest.approx(0.9 * ratio)
    others = base.index[base["host_province"] != "sichuan"]
    assert changed.loc[others, "ef_tco2_per_mwh"].equals(base.loc[others, "ef_tco2_per_mwh"])


# ----------------------------------------------------------------- policies bind at the price they report

def _cost(settings):
    return run_scenario(load_scenario(None, settings)).summary.total_cost_cny


# (settings that make the policy bind, its shadow-price key, the setting, its value, a step that
# tightens it, the step in the shadow price's unit: per cent or hundredth)
POLICIES = [
    (["policy.green_share_min=0.15"], "green_share_min_cny_per_pct", "policy.green_share_min", 0.15, 0.001, 0.1),
    (["policy.hub_occupancy_min=0.77"], "hub_occupancy_min_cny_per_pct", "policy.hub_occupancy_min", 0.77,
     0.0001, 0.01),
    (["policy.pue_cap_national=1.43"], "pue_cap_national_cny_per_hundredth", "policy.pue_cap_national", 1.43,
     -0.0001, 0.01),
    # Gui'an's design PUE equals its cap; its summers lift the year's above it unless load moves.
    (["policy.hub_pue_caps=true"], "pue_cap.guian_cny_per_hundredth", "sites.guian.pue_cap", 1.2, -0.0001, 0.01),
    (["policy.green_share_min=null", "policy.hub_new_green_share_min=0.9"], "hub_new_green_share_min_cny_per_pct",
     "policy.hub_new_green_share_min", 0.9, 0.001, 0.1),
]


@pytest.mark.parametrize(("settings", "key", "field", "value", "step", "units"), POLICIES,
                         ids=[p[1] for p in POLICIES])
def test_each_policy_binds_and_its_shadow_price_is_the_finite_difference(settings, key, field, value, step, units):
    results = run_scenario(load_scenario(None, settings))
    cost, price = results.summary.total_cost_cny, results.summary.policy_shadow_prices[key]
    assert price > 0, results.summary.policy_shadow_prices
    # An LP's cost is convex and piecewise linear in the setting: its dual lies between the
    # one-sided differences (equal to both away from a kink).
    tighter = (_cost([*settings, f"{field}={value + step}"]) - cost) / units
    looser = (cost - _cost([*settings, f"{field}={value - step}"])) / units
    assert looser * (1 - 1e-3) <= price <= tighter * (1 + 1e-3)
    assert tighter > 0


def test_the_green_share_price_is_exact_away_from_a_kink():
    # Certificates at a fixed price make the cost linear in the share: one point is as good as another.
    results = run_scenario(load_scenario(None, ["policy.green_share_min=0.15"]))
    price = results.summary.policy_shadow_prices["green_share_min_cny_per_pct"]
    assert price == pytest.approx(5.0 * results.summary.facility_energy_mwh / 100, rel=1e-9)
    assert _cost(["policy.green_share_min=0.16"]) - results.summary.total_cost_cny == pytest.approx(price, rel=1e-3)


def test_a_provincial_water_cap_binds_at_its_price():
    base = run_scenario(load_scenario())
    used = base.sites.groupby("host_province")["water_m3"].sum()["ningxia"]
    cap = 0.5 * used
    capped = run_scenario(load_scenario(None, [f"provinces.ningxia.water_cap_m3={cap}"]))
    hosted = capped.sites.groupby("host_province")["water_m3"].sum()["ningxia"]
    assert hosted == pytest.approx(cap, rel=1e-6)
    price = capped.summary.policy_shadow_prices["water_cap.ningxia_cny_per_m3"]
    assert price > 0
    looser = _cost([f"provinces.ningxia.water_cap_m3={cap + 1000.0}"])
    assert capped.summary.total_cost_cny - looser == pytest.approx(1000.0 * price, rel=2e-2)


# --------------------------------------------------------------------------------- hand-solved cases


def test_water_cap_by_hand():
    # Site a (price 100, 2 L/kWh) is in p1, whose cap is half a's water at full load; b (110, dry) in p2.
    a = site("a", existing=10.0, price=100.0)
    a["wue_l_per_kwh"] = 2.0
    b = site("b", existing=10.0, price=110.0)
    b["host_province"] = "p2"
    b["wue_l_per_kwh"] = 0.0
    inputs = make_inputs([a, b], [[[10.0]], [[0.0]]], [[1.0, 1.0], [1.0, 1.0]])
    plan = optimise(replace(inputs, water_cap_m3=np.array([2.0 * 5.0 * 8760.0, np.inf])))  # [m³]: 5 MW of a's
    load = plan.sites.set_index("site")["mean_load_mw"]
    assert load["a"] == pytest.approx(5.0) and load["b"] == pytest.approx(5.0)
    assert plan.summary.total_cost_cny == pytest.approx((100.0 + 110.0) * 5.0 * 8760.0)
    assert plan.summary.water_m3 == pytest.approx(2.0 * 5.0 * 8760.0)
    # One more m³ lets 0.5 MWh move from b to a, saving 10 CNY/MWh.
    assert plan.summary.policy_shadow_prices["water_cap.p1_cny_per_m3"] == pytest.approx(5.0)


def test_water_price_by_hand():
    a = site("a", existing=10.0, price=100.0)
    a["wue_l_per_kwh"] = 2.0
    b = site("b", existing=10.0, price=110.0)
    b["wue_l_per_kwh"] = 0.0
    inputs = make_inputs([a, b], [[[10.0]]], [[1.0, 1.0]])
    plan = optimise(replace(inputs, water_price_cny_per_m3=6.0))  # a then costs 100 + 12 CNY/MWh: b is cheaper
    load = plan.sites.set_index("site")["mean_load_mw"]
    assert load["a"] == pytest.approx(0.0, abs=1e-9) and load["b"] == pytest.approx(10.0)
    assert plan.summary.water_cost_cny == pytest.approx(0.0, abs=1e-6)


def test_pue_by_season_by_hand():
    # Two seasons of 4,380 h; a is the better site in winter (PUE 1.1 against 1.2), b in summer
    # (1.2 against 1.3). Each site holds the whole load, at the same power price.
    a, b = site("a", existing=10.0), site("b", existing=10.0)
    inputs = make_inputs([a, b], [[[10.0, 10.0]]], [[1.0, 1.0]], hours=(4380.0, 4380.0))
    plan = optimise(replace(inputs, pue_profile=np.array([[1.1, 1.3], [1.2, 1.2]])))
    flows = plan.flows.pivot_table(index="site", columns="period", values="load_mw", aggfunc="sum").fillna(0.0)
    assert flows.loc["a", "t0"] == pytest.approx(10.0) and flows.loc["b", "t1"] == pytest.approx(10.0)
    assert plan.summary.facility_energy_mwh == pytest.approx(10.0 * 4380.0 * (1.1 + 1.2))
    assert plan.summary.total_cost_cny == pytest.approx(100.0 * 10.0 * 4380.0 * (1.1 + 1.2))
    assert plan.summary.pue_average == pytest.approx((1.1 + 1.2) / 2)
