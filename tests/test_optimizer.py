"""Hand-solved micro LPs: each optimum is worked out on paper in the test, on both solve paths."""

import numpy as np
import pytest
from lp_cases import make_inputs, site

from optimizer.extract import extract_quantities
from optimizer.formulation import build_lp
from optimizer.plan import optimise
from optimizer.solve import solve_lp
from optimizer.status import PlanInfeasible, PlanNotSolved
from optimizer.verify import constraint_violations

H = 8760.0
BACKENDS = ["pulp", "highs"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_latency_forces_the_expensive_near_site(backend):
    # 10 MW of a 5 ms class; the cheap site is 12 ms away, the dear one 2 ms.
    inputs = make_inputs(
        [site("near", existing=100, price=600), site("far", existing=100, price=300)],
        demand_mw=[[[10.0]]],
        latency_ms=[[2.0, 12.0]],
        latency_max_ms=[5.0],
    )
    plan = optimise(inputs, backend=backend)
    # All 10 MW at the near site: 10 MW × 8760 h × 600 CNY/MWh.
    assert plan.summary.total_cost_cny == pytest.approx(10 * H * 600, rel=1e-9)
    assert plan.sites.set_index("site").loc["far", "mean_load_mw"] == pytest.approx(0.0, abs=1e-9)
    # Without the limit the cheap far site takes everything: 10 × 8760 × 300.
    relaxed = optimise(
        make_inputs(
            [site("near", existing=100, price=600), site("far", existing=100, price=300)],
            demand_mw=[[[10.0]]],
            latency_ms=[[2.0, 12.0]],
        ),
        backend=backend,
    )
    assert relaxed.summary.total_cost_cny == pytest.approx(10 * H * 300, rel=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_carbon_cap_moves_load_to_the_cleaner_site(backend):
    # dirty: 100 CNY/MWh, 1 t/MWh; clean: 150 CNY/MWh, 0 t/MWh; 10 MW for a year.
    # Uncapped: all dirty, 87,600 t. Cap 43,800 t: dirty ≤ 5 MW, so 5 MW each.
    sites = [site("dirty", existing=100, price=100, ef=1.0), site("clean", existing=100, price=150, ef=0.0)]
    capped = optimise(make_inputs(sites, [[[10.0]]], [[1.0, 1.0]], carbon_cap=43_800.0), backend=backend)
    assert capped.summary.emissions_tco2 == pytest.approx(43_800.0, rel=1e-9)
    assert capped.summary.total_cost_cny == pytest.approx(5 * H * 100 + 5 * H * 150, rel=1e-9)
    # Each tonne avoided costs 150 − 100 = 50 CNY: the cap's shadow price.
    assert capped.summary.carbon_shadow_price_cny_per_tco2 == pytest.approx(50.0, rel=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_carbon_cap_buys_green_power(backend):
    # One site, 0.5 t/MWh, 4 MW green at 10 CNY/MWh premium. Uncapped emissions 43,800 t.
    # Cap 35,040 t needs 8,760 t less: 8,760 / (0.5 × 8760 h) = 2 MW of green power.
    inputs = make_inputs(
        [site("s", existing=100, price=100, ef=0.5, green=4.0, premium=10.0)], [[[10.0]]], [[1.0]], carbon_cap=35_040.0
    )
    plan = optimise(inputs, backend=backend)
    assert plan.summary.green_mwh == pytest.approx(2 * H, rel=1e-9)
    assert plan.summary.total_cost_cny == pytest.approx(10 * H * 100 + 2 * H * 10, rel=1e-9)
    # 10 CNY premium per MWh avoids 0.5 t: 20 CNY/tCO2.
    assert plan.summary.carbon_shadow_price_cny_per_tco2 == pytest.approx(20.0, rel=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_binding_capacity_forces_expansion(backend):
    # 15 MW of demand, 10 MW existing at 100 % utilisation: build 5 MW at 1e6 CNY/MW/yr.
    inputs = make_inputs([site("s", existing=10, max_new=20, price=100, capex_annual=1e6)], [[[15.0]]], [[1.0]])
    plan = optimise(inputs, backend=backend)
    assert plan.summary.new_capacity_mw == pytest.approx(5.0, rel=1e-9)
    assert plan.summary.total_cost_cny == pytest.approx(5 * 1e6 + 15 * H * 100, rel=1e-9)
    # At 80 % utilisation, 15 MW needs 18.75 MW: 8.75 MW new.
    tight = optimise(
        make_inputs([site("s", existing=10, max_new=20, capex_annual=1e6)], [[[15.0]]], [[1.0]], utilisation_max=0.8),
        backend=backend,
    )
    assert tight.summary.new_capacity_mw == pytest.approx(8.75, rel=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_peak_slice_sets_the_capacity(backend):
    # Two slices of 4,380 h with 6 and 14 MW: capacity must cover the 14 MW peak.
    inputs = make_inputs(
        [site("s", existing=0, max_new=50, price=100, capex_annual=1e5)],
        [[[6.0, 14.0]]],
        [[1.0]],
        hours=(4380.0, 4380.0),
    )
    plan = optimise(inputs, backend=backend)
    assert plan.summary.new_capacity_mw == pytest.approx(14.0, rel=1e-9)
    assert plan.summary.total_cost_cny == pytest.approx(14 * 1e5 + (6 + 14) * 4380 * 100, rel=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_hub_share_policy_forces_building_in_the_hub(backend):
    # Local site builds at 1e5, hub at 3e5 CNY/MW/yr; 10 MW needed; ≥ 60 % of new in the hub.
    sites = [
        site("hub", max_new=100, capex_annual=3e5),
        site("local_p1", kind="local", hub_class="local", serves="p1", max_new=100, capex_annual=1e5),
    ]
    plan = optimise(make_inputs(sites, [[[10.0]]], [[5.0, 1.0]], hub_share=0.6), backend=backend)
    new = plan.sites.set_index("site")["new_mw"]
    assert new["hub"] == pytest.approx(6.0, rel=1e-9)
    assert new["local_p1"] == pytest.approx(4.0, rel=1e-9)
    assert plan.summary.capex_cny == pytest.approx(6 * 3e5 + 4 * 1e5, rel=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_network_cost_keeps_data_heavy_work_near(backend):
    # Far site is 50 CNY/MWh cheaper (438,000 CNY per MW-year) but 1,000 km away at
    # 500,000 CNY per MW per 1,000 km: staying near is cheaper by 62,000 CNY per MW-year.
    sites = [site("near", existing=100, price=150), site("far", existing=100, price=100)]
    plan = optimise(
        make_inputs(sites, [[[1.0]]], [[1.0, 6.0]], distance_km=[[0.0, 1000.0]], data_intensity=[5e5]), backend=backend
    )
    assert plan.summary.network_cost_cny == pytest.approx(0.0, abs=1e-6)
    assert plan.summary.total_cost_cny == pytest.approx(H * 150, rel=1e-9)


def test_no_site_within_latency_is_infeasible_with_reason():
    inputs = make_inputs([site("far", existing=100)], [[[120.0]]], [[14.2]], latency_max_ms=[5.0])
    with pytest.raises(
        PlanInfeasible, match=r"k1 demand of p1 \(120 MW\) has no site within its 5 ms limit; nearest is far at 14.2 ms"
    ):
        optimise(inputs)


def test_carbon_cap_below_reach_is_infeasible():
    inputs = make_inputs([site("s", existing=100, ef=0.5)], [[[10.0]]], [[1.0]], carbon_cap=1_000.0)
    with pytest.raises(PlanInfeasible, match="carbon cap"):
        optimise(inputs)


def test_time_limit_is_not_reported_as_optimal(default_inputs):
    # PuLP calls a time-limited HiGHS run "optimal"; the gate must read HiGHS's own status.
    lp, _ = build_lp(default_inputs)
    with pytest.raises(PlanNotSolved) as info:
        solve_lp(lp, backend="pulp", time_limit_s=1e-4)
    assert info.value.status == "time_limit"


def test_residual_check_catches_a_tampered_plan(default_inputs):
    lp, index = build_lp(default_inputs)
    solution = solve_lp(lp, backend="highs")
    quantities = extract_quantities(default_inputs, lp, index, solution)
    assert max(constraint_violations(default_inputs, index, quantities).values()) < 1e-7
    quantities.load[0, 0] += 5.0  # 5 MW of demand served twice
    violations = constraint_violations(default_inputs, index, quantities)
    assert violations["demand"] > 1e-3


def test_both_paths_agree_on_the_default_scenario(default_inputs):
    by_pulp = optimise(default_inputs, backend="pulp")
    by_highs = optimise(default_inputs, backend="highs")
    assert by_pulp.summary.total_cost_cny == pytest.approx(by_highs.summary.total_cost_cny, rel=1e-9)
    assert by_pulp.summary.emissions_tco2 == pytest.approx(by_highs.summary.emissions_tco2, rel=1e-6)
    assert by_pulp.metadata["max_violation"] < 1e-7


def test_auto_backend_and_strong_duality(default_inputs):
    plan = optimise(default_inputs)  # 'auto'
    assert plan.metadata["backend"] == ("pulp" if plan.metadata["columns"] <= 20_000 else "highs")
    assert plan.metadata["duality_gap"] < 1e-9
    assert plan.metadata["dual_objective_cny"] == pytest.approx(plan.summary.total_cost_cny, rel=1e-9)


def test_load_only_where_latency_allows(default_inputs):
    allowed = default_inputs.allowed()
    limits = default_inputs.workloads["latency_max_ms"].to_numpy()
    p, s, k = np.nonzero(allowed)
    # Within the limit on the connection's fastest path (a candidate direct link's included).
    assert np.all(default_inputs.eligible_latency_ms[p, s] <= limits[k])
    # Local sites serve only their own province.
    local = (default_inputs.sites["kind"] == "local").to_numpy()
    serves = default_inputs.sites["serves"].to_numpy()
    provinces = default_inputs.provinces["province"].to_numpy()
    assert np.all(serves[s[local[s]]] == provinces[p[local[s]]])
