"""Merging what the plan cannot tell apart gives the identical optimum and, mapped back, the identical tables."""

import numpy as np
import pytest
from lp_cases import make_inputs, site

from optimizer.aggregate import aggregate
from optimizer.formulation import build_lp
from optimizer.plan import optimise


def two_classes(data_intensity=(1000.0, 1000.0)):
    # p1's classes k1 (3 MW) and k2 (5 MW) reach both sites alike; the cheap site holds 6 MW.
    return make_inputs(
        [site("cheap", existing=6, price=100), site("dear", existing=20, price=300)],
        [[[3.0, 2.0], [5.0, 4.0]]], [[1.0, 2.0]], distance_km=[[100.0, 200.0]],
        latency_max_ms=(np.inf, np.inf), data_intensity=data_intensity, hours=(4380.0, 4380.0),
    )


def tables_equal(a, b, rel=1e-9):
    assert a.summary.total_cost_cny == pytest.approx(b.summary.total_cost_cny, rel=1e-12)
    for name in ("sites", "provinces"):
        x, y = getattr(a, name), getattr(b, name)
        numbers = x.select_dtypes("number").columns
        assert list(x.columns) == list(y.columns)
        for column in numbers:
            assert x[column].to_numpy() == pytest.approx(y[column].to_numpy(), rel=rel, abs=1e-6), column
    flows_a = a.flows.groupby(["province", "site", "period"])["load_mw"].sum()
    flows_b = b.flows.groupby(["province", "site", "period"])["load_mw"].sum()
    assert flows_a.to_numpy() == pytest.approx(flows_b.to_numpy(), rel=rel, abs=1e-9)


def test_two_classes_alike_merge_into_one_and_give_the_same_plan():
    inputs = two_classes()
    lp, _ = build_lp(inputs)
    merged = aggregate(lp)
    assert merged.merged_rows == 2  # one demand row per slice goes
    assert merged.removed_columns == 4  # k2's two routes in each slice
    direct, merged_plan = optimise(inputs, backend="highs"), optimise(inputs, backend="highs", aggregate=True)
    # 6 MW at the cheap site, the rest at the dear one, in each slice (hand-solved).
    energy = 4380 * (6 * 100 + 2 * 300) + 4380 * (6 * 100 + 0 * 300)
    network = 1000 * (4380 * (6 * 0.1 + 2 * 0.2) + 4380 * 6 * 0.1) / 8760
    assert direct.summary.total_cost_cny == pytest.approx(energy + network)
    tables_equal(direct, merged_plan)
    assert merged_plan.metadata["timings_s"]["aggregated_columns"] == 4


def test_classes_that_cost_differently_stay_apart():
    lp, _ = build_lp(two_classes(data_intensity=(1000.0, 2000.0)))
    assert aggregate(lp) is None


def test_two_provinces_alike_merge_and_give_the_same_plan():
    inputs = make_inputs(
        [site("a", existing=10, price=100), site("b", existing=30, price=200)],
        [[[4.0]], [[9.0]], [[2.0]]], [[1.0, 1.0], [1.0, 1.0], [3.0, 1.0]],
        distance_km=[[50.0, 80.0], [50.0, 80.0], [40.0, 80.0]], data_intensity=(500.0,),
    )
    lp, _ = build_lp(inputs)
    merged = aggregate(lp)
    assert merged.merged_rows == 1 and merged.removed_columns == 2  # p2 into p1; p3 differs
    direct, merged_plan = optimise(inputs, backend="highs"), optimise(inputs, backend="highs", aggregate=True)
    assert direct.summary.total_cost_cny == pytest.approx(merged_plan.summary.total_cost_cny, rel=1e-12)
    # Site a's 10 MW go to the provinces that save most by it: p3 first (shorter route), then p1 and p2 alike.
    assert merged_plan.sites.set_index("site").loc["a", "mean_load_mw"] == pytest.approx(10.0)


def test_the_default_scenario_merges_exactly(default_inputs):
    lp, _ = build_lp(default_inputs)
    merged = aggregate(lp)
    assert merged is not None and merged.removed_columns > 0
    direct = optimise(default_inputs, backend="highs")
    merged_plan = optimise(default_inputs, backend="highs", aggregate=True)
    tables_equal(direct, merged_plan)
    assert merged_plan.metadata["duality_gap"] <= 1e-9


def test_a_wrong_mapping_is_caught():
    inputs = two_classes()
    lp, _ = build_lp(inputs)
    merged = aggregate(lp)
    from optimizer.solve import solve_lp

    solution = solve_lp(merged.lp, backend="highs")
    merged.row_source[:] = 0  # every row priced like the first: not the original's duals
    with pytest.raises(ValueError, match="does not map back"):
        merged.map_back(solution, lp)
