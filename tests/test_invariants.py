"""Invariants of the planning LP, checked with Hypothesis on random small plans.

Every generated plan is feasible by construction: site 0 is a backbone cluster whose existing
capacity carries all demand, and every latency limit reaches it from every province. Local sites
(serving one province) and hub-share rules appear at random.
"""

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lp_cases import make_inputs, site

from optimizer.extract import extract_quantities
from optimizer.formulation import build_lp
from optimizer.plan import optimise
from optimizer.solve import solve_lp
from optimizer.status import PlanInfeasible
from optimizer.verify import constraint_violations

SETTINGS = settings(max_examples=35, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
REL = 1e-7  # objective comparisons; HiGHS's own tolerances are 1e-7


def _floats(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def _amounts(high):
    """A power in MW (or an emission factor): none, or at least a hundred-thousandth of ``high``.

    HiGHS's tolerances are absolute (1e-7): it may leave a demand or a bound smaller than that at
    zero, and verification, relative to the plan's own scale, then refuses the plan rather than
    call it served (test_status.py::test_a_plan_below_the_solvers_resolution_is_not_verified).
    Likewise HiGHS drops matrix coefficients below 1e-9: a carbon row of 1e-150 tCO2/MWh factors
    vanishes, and verification refuses the plan that ignored it.
    """
    return st.one_of(st.just(0.0), _floats(1e-5 * high, high))


@st.composite
def plans(draw):
    """PlanInputs of 2–4 provinces, 2–4 sites, 1–3 classes and 1–3 slices."""
    num_p, num_s = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    num_k, num_t = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    provinces = [f"p{i + 1}" for i in range(num_p)]
    demand = np.array(draw(st.lists(_amounts(50.0), min_size=num_p * num_k * num_t,
                                    max_size=num_p * num_k * num_t))).reshape(num_p, num_k, num_t)
    demand[0, 0, 0] = max(demand[0, 0, 0], 1.0)  # something to serve
    utilisation = draw(_floats(0.6, 1.0))
    need_mw = float(demand.sum(axis=(0, 1)).max()) / utilisation
    sites = []
    for j in range(num_s):
        # Site j ≥ 1 may be the local site of province j.
        local = j >= 1 and j <= num_p and draw(st.booleans())
        existing = need_mw * 1.01 if j == 0 else draw(_amounts(need_mw))
        sites.append(site(
            f"local_p{j}" if local else f"s{j}",
            kind="local" if local else "cluster",
            hub_class="local" if local else draw(st.sampled_from(["east", "west"])),
            serves=f"p{j}" if local else "",
            pue=draw(_floats(1.0, 1.6)), existing=existing, max_new=draw(_amounts(2 * need_mw)),
            price=draw(_floats(200.0, 800.0)), ef=draw(_amounts(1.0)), green=draw(_amounts(30.0)),
            premium=draw(_floats(0.0, 100.0)), green_new_share=draw(st.sampled_from([0.0, 0.5])),
            capex_annual=draw(_floats(0.0, 1e6)),
        ))
    latency = np.array(draw(st.lists(_floats(1.0, 20.0), min_size=num_p * num_s,
                                     max_size=num_p * num_s))).reshape(num_p, num_s)
    for j, row in enumerate(sites):
        if row["kind"] == "local":
            latency[:, j] = 1.0  # a province's own site is near; others may not use it anyway
    reach_backbone = float(latency[:, 0].max())
    limits = [np.inf] + [reach_backbone + draw(_floats(0.0, 10.0)) for _ in range(num_k - 1)]
    return make_inputs(
        sites, demand, latency,
        distance_km=np.array(draw(st.lists(_floats(0.0, 2000.0), min_size=num_p * num_s,
                                           max_size=num_p * num_s))).reshape(num_p, num_s),
        latency_max_ms=limits,
        data_intensity=[draw(_floats(0.0, 3e6)) for _ in range(num_k)],
        hours=[8760.0 / num_t] * num_t,
        utilisation_max=utilisation,
        carbon_price=draw(_floats(0.0, 300.0)),
        hub_share=draw(st.sampled_from([None, 0.3, 0.6])),
        latency_weight=draw(_floats(0.0, 5.0)),
        provinces=provinces,
    )


def _cost(inputs):
    return optimise(inputs, backend="highs").summary.total_cost_cny


def _with(inputs, **changes):
    return dataclasses.replace(inputs, **changes)


@SETTINGS
@given(plans(), st.lists(_floats(0.2, 1.0), min_size=2, max_size=4))
def test_tightening_the_carbon_cap_never_lowers_cost(inputs, fractions):
    free = optimise(inputs, backend="highs")
    previous_cost, feasible = free.summary.total_cost_cny, True
    for fraction in sorted(fractions, reverse=True):
        capped = _with(inputs, carbon_cap_tco2=fraction * free.summary.emissions_tco2)
        try:
            cost = _cost(capped)
        except PlanInfeasible:
            feasible = False  # a tighter cap cannot become feasible again
            continue
        assert feasible, "a tighter cap had a plan after a looser one had none"
        assert cost >= previous_cost * (1 - REL) - 1e-6
        previous_cost = cost


@SETTINGS
@given(plans(), st.data())
def test_loosening_a_latency_limit_never_raises_cost(inputs, data):
    base = _cost(inputs)
    limits = inputs.workloads["latency_max_ms"].to_numpy(float)
    k = data.draw(st.integers(0, len(limits) - 1))
    looser = limits.copy()
    looser[k] = data.draw(st.sampled_from([np.inf, limits[k] * 1.5, limits[k] + 3.0]))
    workloads = inputs.workloads.assign(latency_max_ms=looser)
    assert _cost(_with(inputs, workloads=workloads)) <= base * (1 + REL) + 1e-6


def _scaled(inputs, k):
    sites = inputs.sites.copy()
    for column in ("price_cny_per_mwh", "green_premium_cny_per_mwh", "capex_cny_per_mw", "capex_annual_cny_per_mw"):
        sites[column] = sites[column] * k
    workloads = inputs.workloads.copy()
    workloads["data_intensity_cny_per_mw_1000km"] = workloads["data_intensity_cny_per_mw_1000km"] * k
    return _with(inputs, sites=sites, workloads=workloads,
                 carbon_price_cny_per_tco2=inputs.carbon_price_cny_per_tco2 * k,
                 latency_weight_cny_per_mwh_ms=inputs.latency_weight_cny_per_mwh_ms * k)


@SETTINGS
@given(plans(), _floats(0.01, 100.0))
def test_scaling_every_cost_scales_the_objective_and_keeps_the_plan(inputs, k):
    scaled_inputs = _scaled(inputs, k)
    lp, index = build_lp(inputs)
    scaled_lp, scaled_index = build_lp(scaled_inputs)
    original = solve_lp(lp, backend="highs")
    scaled = solve_lp(scaled_lp, backend="highs")
    assert scaled.objective == pytest.approx(k * original.objective, rel=1e-6, abs=1e-6)
    # Ties are legitimate, so the plans may differ; but the scaled plan must be an optimal plan of
    # the original problem: feasible there and as cheap at the original prices.
    cost = lp.arrays()[0]
    assert float(cost @ scaled.values) == pytest.approx(original.objective, rel=1e-6, abs=1e-6)
    quantities = extract_quantities(inputs, lp, scaled_index, scaled)
    assert max(constraint_violations(inputs, index, quantities).values()) < 1e-7


def _permuted(inputs, site_order, province_order):
    return _with(
        inputs,
        sites=inputs.sites.iloc[site_order].reset_index(drop=True),
        provinces=inputs.provinces.iloc[province_order].reset_index(drop=True),
        demand_mw=inputs.demand_mw[province_order],
        latency_ms=inputs.latency_ms[np.ix_(province_order, site_order)],
        distance_km=inputs.distance_km[np.ix_(province_order, site_order)],
        green_profile=inputs.green_profile[site_order],
    )


@SETTINGS
@given(plans(), st.randoms(use_true_random=False))
def test_reordering_sites_or_provinces_changes_nothing(inputs, rng):
    site_order = list(range(len(inputs.sites)))
    province_order = list(range(len(inputs.provinces)))
    rng.shuffle(site_order)
    rng.shuffle(province_order)
    base = optimise(inputs, backend="highs").summary
    shuffled = optimise(_permuted(inputs, site_order, province_order), backend="highs").summary
    assert shuffled.total_cost_cny == pytest.approx(base.total_cost_cny, rel=REL, abs=1e-6)
    assert shuffled.mean_demand_mw == pytest.approx(base.mean_demand_mw, rel=1e-12)


@SETTINGS
@given(plans(), st.sampled_from(["pulp", "highs"]))
def test_strong_duality_and_residuals_hold(inputs, backend):
    plan = optimise(inputs, backend=backend)
    assert plan.metadata["status"] == "optimal"
    assert plan.metadata["duality_gap"] < 1e-7
    assert plan.metadata["dual_objective_cny"] == pytest.approx(plan.metadata["objective_cny"], rel=1e-7, abs=1e-6)
    assert plan.metadata["max_violation"] < 1e-7
    assert all(v < 1e-7 for v in plan.metadata["violations"].values())
