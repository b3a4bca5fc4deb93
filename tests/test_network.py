"""The backbone network as a decision: hand-solved micro-cases, residual checks, monotonicity, both solve paths."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from edwc_data.units import FIBRE_MS_PER_KM, HOURS_PER_YEAR
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lp_cases import make_inputs, site

from optimizer.extract import extract_quantities
from optimizer.formulation import build_lp
from optimizer.network import GB_PER_GBPS_HOUR, build_network, network_violations, placement_rules
from optimizer.plan import optimise
from optimizer.solve import solve_lp

#: Every node and province at the equator: lengths come from the links table, access legs are free.
H = HOURS_PER_YEAR


def node(name, kind="backbone", province="p1"):
    return {"node": name, "name_zh": name, "name_en": name, "kind": kind, "province": province, "lat": 0.0, "lon": 0.0}


def link(a, b, km, gbps, candidate=False):
    return {"link": f"{a}-{b}", "from": a, "to": b, "kind": "direct" if candidate else "access",
            "great_circle_km": km, "existing_gbps": gbps, "candidate": candidate}


def with_network(inputs, nodes, links, *, cost=0.0, kwh_per_gb=0.0, traffic=1.0, peak=1.0, hop_ms=0.0,
                 overhead_ms=0.0, price=50.0, ef=0.5):
    """``inputs`` with a network of the given nodes and links (route factors 1, one province price and factor)."""
    provinces = sorted(set(inputs.provinces["province"]) | {n["province"] for n in nodes})
    factors = pd.DataFrame({"price_cny_per_mwh": price, "ef_location_tco2_per_mwh": ef,
                            "ef_market_tco2_per_mwh": ef, "ef_marginal_tco2_per_mwh": ef}, index=provinces)
    workloads = inputs.workloads.assign(traffic_gbps_per_mw=traffic)
    network = build_network(
        pd.DataFrame(nodes), pd.DataFrame(links), inputs.provinces, inputs.sites, workloads, factors,
        route_factor=1.0, direct_route_factor=1.0, hop_ms=hop_ms, access_route_factor=1.0,
        access_overhead_ms=overhead_ms, existing_scale=1.0, link_existing_gbps={}, cost_cny_per_gbps_km_yr=cost,
        transfer_kwh_per_gb=kwh_per_gb, peak_factor=peak,
    )
    on_backbone = network.route_latency_ms(len(inputs.sites), direct=False)
    latency = np.where(np.isfinite(on_backbone), on_backbone, inputs.latency_ms)
    return dataclasses.replace(inputs, workloads=workloads, network=network, latency_ms=latency)


def congested(existing_gbps, cost):
    """10 MW from p1; 'near' at 100 CNY/MWh behind a 100 km link of ``existing_gbps``, 'far' at 200 on a wide link."""
    inputs = make_inputs([site("near", existing=20, price=100), site("far", existing=20, price=200)],
                         [[[10.0]]], [[1.0, 1.0]])
    nodes = [node("A"), node("near", "cluster"), node("far", "cluster")]
    links = [link("A", "near", 100.0, existing_gbps), link("A", "far", 100.0, 100.0)]
    return with_network(inputs, nodes, links, cost=cost)


def link_row(plan, name):
    return plan.links.set_index("link").loc[name]


def test_a_link_at_capacity_is_expanded_when_bandwidth_is_cheaper_than_the_other_site():
    # 4 Gbit/s reach 'near'; 6 more cost 6 × 100 km × 1,000 = 600,000 CNY/yr, against 6 MW × 100 CNY/MWh × 8,760 h
    # = 5.256 M CNY/yr more at 'far'.
    plan = optimise(congested(4.0, 1_000.0), backend="highs")
    assert plan.summary.total_cost_cny == pytest.approx(10 * 100 * H + 6 * 100 * 1_000)
    assert plan.summary.network_new_gbps == pytest.approx(6.0)
    assert plan.summary.network_capex_cny == pytest.approx(600_000)
    row = link_row(plan, "A-near")
    assert row.new_gbps == pytest.approx(6.0) and row.utilisation == pytest.approx(1.0)
    # The link's shadow price is what one more Gbit/s of existing capacity saves: its annualised cost.
    assert row.shadow_price == pytest.approx(100 * 1_000)


def test_a_link_at_capacity_sends_load_to_another_site_when_bandwidth_is_dearer():
    # 6 Gbit/s more would cost 6 × 100 km × 10,000 = 6 M CNY/yr > 5.256 M CNY/yr at 'far'.
    plan = optimise(congested(4.0, 10_000.0), backend="highs")
    assert plan.summary.total_cost_cny == pytest.approx(4 * 100 * H + 6 * 200 * H)
    assert plan.summary.network_new_gbps == pytest.approx(0.0, abs=1e-9)
    assert link_row(plan, "A-near").peak_flow_gbps == pytest.approx(4.0)
    # One Gbit/s more on the link moves 1 MW back to 'near': 100 CNY/MWh × 8,760 h.
    assert link_row(plan, "A-near").shadow_price == pytest.approx(100 * H)


def direct_case(with_candidate=True, limit=6.0):
    """10 MW of a class allowed 6 ms, from p1 at node A: 'east' beside A at 300 CNY/MWh; 'west' at 100, 2,000 km
    over B (9.8 ms) or 1,000 km over a candidate direct link (4.9 ms) costing 100 CNY per Gbit/s·km·yr."""
    inputs = make_inputs([site("east", existing=20, price=300), site("west", existing=20, price=100)],
                         [[[10.0]]], [[1.0, 1.0]], latency_max_ms=(limit,))
    nodes = [node("A"), node("B", province="p2"), node("east", "cluster"), node("west", "cluster")]
    links = [link("A", "east", 10.0, 100.0), link("A", "B", 1000.0, 100.0), link("B", "west", 1000.0, 100.0)]
    if with_candidate:
        links.append(link("A", "west", 1000.0, 0.0, candidate=True))
    return with_network(inputs, nodes, links, cost=100.0)


def test_a_new_direct_link_makes_a_site_eligible_for_a_stricter_class():
    existing_only = direct_case(with_candidate=False)
    assert existing_only.latency_ms[0, 1] == pytest.approx(2000 * FIBRE_MS_PER_KM)
    assert not existing_only.allowed()[0, 1, 0]
    plan = optimise(existing_only, backend="highs")
    assert plan.summary.total_cost_cny == pytest.approx(10 * 300 * H)

    inputs = direct_case()
    assert inputs.eligible_latency_ms[0, 1] == pytest.approx(1000 * FIBRE_MS_PER_KM)
    assert inputs.allowed()[0, 1, 0]
    plan = optimise(inputs, backend="highs")
    # 10 Gbit/s on the direct link: 10 × 1,000 km × 100 = 1 M CNY/yr, and 10 MW at 100 CNY/MWh.
    assert plan.summary.total_cost_cny == pytest.approx(10 * 100 * H + 10 * 1000 * 100)
    assert link_row(plan, "A-west").new_gbps == pytest.approx(10.0)
    assert link_row(plan, "A-B").peak_flow_gbps == pytest.approx(0.0, abs=1e-9)
    # The flow is counted at its path's latency.
    assert plan.flows["latency_ms"].to_numpy() == pytest.approx([1000 * FIBRE_MS_PER_KM])


def test_a_class_without_a_limit_keeps_to_the_existing_path_when_it_has_room():
    plan = optimise(direct_case(limit=np.inf), backend="highs")
    assert plan.summary.total_cost_cny == pytest.approx(10 * 100 * H)
    assert plan.summary.network_new_gbps == pytest.approx(0.0, abs=1e-9)
    assert link_row(plan, "B-west").peak_flow_gbps == pytest.approx(10.0)


def test_transfer_energy_is_counted_in_electricity_cost_and_emissions():
    inputs = congested(100.0, 0.0)
    inputs = with_network(inputs, [node("A"), node("near", "cluster"), node("far", "cluster")],
                          [link("A", "near", 100.0, 100.0), link("A", "far", 100.0, 100.0)], kwh_per_gb=0.01,
                          peak=2.0, price=50.0, ef=0.5)
    plan = optimise(inputs, backend="highs")
    # 10 MW × 1 Gbit/s per MW of mean traffic, 450 GB per Gbit/s·h, 0.01 kWh/GB (the peak factor sizes links only).
    mwh = 10 * 1.0 * H * GB_PER_GBPS_HOUR * 0.01 / 1000
    assert plan.summary.transfer_energy_mwh == pytest.approx(mwh)
    assert plan.summary.total_cost_cny == pytest.approx(10 * 100 * H + 50 * mwh)
    # Emissions: the facility's (market, factor 0.5, PUE 1) and the network's at 0.5 tCO2/MWh.
    assert plan.summary.emissions_tco2 == pytest.approx(0.5 * 10 * H + 0.5 * mwh)
    assert link_row(plan, "A-near").peak_flow_gbps == pytest.approx(20.0)


def test_residency_pins_a_class_to_its_province():
    base = make_inputs([site("home", existing=20, price=300), site("away", existing=20, price=100, serves="")],
                       [[[10.0]]], [[1.0, 1.0]])
    sites = base.sites.assign(host_province=["p1", "p2"])
    base = dataclasses.replace(base, sites=sites)
    assert optimise(base, backend="highs").summary.total_cost_cny == pytest.approx(10 * 100 * H)
    mask = placement_rules(np.array(["p1"]), np.array(["north"]), np.array(["p1", "p2"]),
                           np.array(["north", "north"]), np.array([[0.0, 500.0]]), np.array(["k1"]),
                           residency={"k1": "province"}, dr_min_separation_km={}, dr_other_grid_region=[])
    assert mask[:, :, 0].tolist() == [[True, False]]
    plan = optimise(dataclasses.replace(base, placement=mask), backend="highs")
    assert plan.summary.total_cost_cny == pytest.approx(10 * 300 * H)
    assert set(plan.flows["site"]) == {"home"}
    by_region = placement_rules(np.array(["p1"]), np.array(["north"]), np.array(["p1", "p2"]),
                                np.array(["north", "north"]), np.array([[0.0, 500.0]]), np.array(["k1"]),
                                residency={"k1": "grid_region"}, dr_min_separation_km={}, dr_other_grid_region=[])
    assert by_region.all()


def test_disaster_recovery_separation_forbids_the_nearest_site():
    base = make_inputs([site("nearest", existing=20, price=100), site("distant", existing=20, price=150)],
                       [[[10.0]]], [[1.0, 8.0]], distance_km=[[100.0, 1500.0]])
    sites = base.sites.assign(host_province=["p1", "p2"])
    base = dataclasses.replace(base, sites=sites)
    assert optimise(base, backend="highs").summary.total_cost_cny == pytest.approx(10 * 100 * H)
    rules = {"residency": {}, "dr_other_grid_region": []}
    mask = placement_rules(np.array(["p1"]), np.array(["north"]), np.array(["p1", "p2"]),
                           np.array(["north", "east"]), base.distance_km, np.array(["k1"]),
                           dr_min_separation_km={"k1": 500.0}, **rules)
    assert mask[0, :, 0].tolist() == [False, True]
    plan = optimise(dataclasses.replace(base, placement=mask), backend="highs")
    assert plan.summary.total_cost_cny == pytest.approx(10 * 150 * H)
    other_region = placement_rules(np.array(["p1"]), np.array(["north"]), np.array(["p1", "p2"]),
                                   np.array(["north", "east"]), base.distance_km, np.array(["k1"]),
                                   residency={}, dr_min_separation_km={}, dr_other_grid_region=["k1"])
    assert other_region[0, :, 0].tolist() == [False, True]


def solved(inputs):
    lp, index = build_lp(inputs)
    solution = solve_lp(lp, backend="highs")
    return index, extract_quantities(inputs, lp, index, solution)


def test_residual_checks_catch_a_link_over_capacity_and_a_flow_off_its_path():
    inputs = congested(4.0, 1_000.0)
    index, q = solved(inputs)
    clean = network_violations(inputs, index, q.load, q.network, 10.0)
    assert set(clean) == {"net_link", "net_bounds"} and max(clean.values()) <= 1e-9
    # Half the new capacity taken away: the link carries 10 Gbit/s on 7.
    short = dataclasses.replace(q.network, new_gbps=q.network.new_gbps / 2)
    assert network_violations(inputs, index, q.load, short, 10.0)["net_link"] == pytest.approx(3 / 7)

    inputs = direct_case()
    index, q = solved(inputs)
    assert max(network_violations(inputs, index, q.load, q.network, 10.0).values()) <= 1e-9
    # The class may not take the existing path (9.8 ms > 6 ms): moving the flow there is caught.
    off_path = dataclasses.replace(q.network, direct_gbps=q.network.direct_gbps * 0.0)
    assert network_violations(inputs, index, q.load, off_path, 10.0)["net_direct"] == pytest.approx(1.0)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(0.0, 12.0), st.floats(0.0, 12.0), st.sampled_from([500.0, 5_000.0, 20_000.0]))
def test_tightening_link_capacity_never_lowers_cost(first, second, cost):
    tight, loose = sorted([first, second])
    dear = optimise(congested(tight, cost), backend="highs").summary.total_cost_cny
    cheap = optimise(congested(loose, cost), backend="highs").summary.total_cost_cny
    assert dear >= cheap * (1 - 1e-9)


@pytest.mark.parametrize("case", [lambda: congested(4.0, 1_000.0), lambda: direct_case()])
def test_both_solve_paths_agree(case):
    by_pulp = optimise(case(), backend="pulp")
    by_highs = optimise(case(), backend="highs")
    assert by_pulp.summary.total_cost_cny == pytest.approx(by_highs.summary.total_cost_cny, rel=1e-9)
    assert by_pulp.links["new_gbps"].to_numpy() == pytest.approx(by_highs.links["new_gbps"].to_numpy(), abs=1e-6)


def test_the_default_backbone_reaches_every_cluster_and_direct_links_only_the_west(default_inputs):
    net = default_inputs.network
    clusters = np.nonzero((default_inputs.sites["kind"] == "cluster").to_numpy())[0]
    existing = net.route_latency_ms(len(default_inputs.sites), direct=False)
    direct = net.route_latency_ms(len(default_inputs.sites), direct=True)
    assert np.isfinite(existing[:, clusters]).all()
    west = (default_inputs.sites["hub_class"] == "west").to_numpy()
    assert np.isfinite(direct[:, west]).all() and not np.isfinite(direct[:, ~west]).any()
    # Guangdong to Zhongwei: the direct link cuts the existing path's latency.
    p = default_inputs.provinces["province"].tolist().index("guangdong")
    s = default_inputs.sites["site"].tolist().index("zhongwei")
    assert direct[p, s] < existing[p, s]
    # New link capacity is one column per link, whatever the number of slices (a year decision).
    lp, _ = build_lp(default_inputs)
    assert lp.columns["b"].stop - lp.columns["b"].start <= len(net.links)


def test_the_residual_check_catches_load_where_residency_forbids_it():
    from optimizer.verify import constraint_violations

    base = make_inputs([site("home", existing=20, price=300), site("away", existing=20, price=100)],
                       [[[10.0]]], [[1.0, 1.0]])
    index, q = solved(base)  # all 10 MW at 'away'
    pinned = dataclasses.replace(base, placement=np.array([[[True], [False]]]))
    # 10 MW where it may not run, over the plan's unit scale of power (20 MW of capacity).
    assert constraint_violations(pinned, index, q)["placement"] == pytest.approx(0.5)


def test_links_csv_round_trips_through_the_run_directory(tmp_path):
    from planner.run import run_scenario
    from planner.rundir import read_run_checked, write_run
    from planner.scenario import load_scenario

    results = run_scenario(load_scenario(None, ["time.representative=identical", "time.days=1",
                                                "time.hours_per_day=4", "network.existing_scale=0.2"]))
    links = results.links
    assert links["new_gbps"].sum() == pytest.approx(results.summary.network_new_gbps)
    assert links["cost_cny"].sum() == pytest.approx(results.summary.network_capex_cny)
    assert (links["utilisation"] <= 1 + 1e-9).all() and (links["shadow_price"] >= -1e-6).all()
    assert results.summary.network_new_gbps > 0  # a fifth of today's capacity does not carry the plan
    out = write_run(results, tmp_path / "run")
    back, _ = read_run_checked(out)
    pd.testing.assert_frame_equal(back.links, links, check_dtype=False)
