"""Infeasibility, explained: planted conflicts must be named by family, place and amount.

Each case plants exactly one conflict, on the real default dataset (through ``--set``-style
overrides, at 4 slices a day to keep the solves short) or in a hand-made LP. The diagnosis must
name the planted constraint family and its place, in the structured Conflict and in the words.
"""

import re

import numpy as np
import pytest
from click.testing import CliRunner
from lp_cases import make_inputs, site

from optimizer.diagnose import (
    Conflict,
    build_elastic_lp,
    diagnose_infeasible,
    explain_conflicts,
    explain_infeasible,
    precheck_conflicts,
)
from optimizer.formulation import build_lp
from optimizer.plan import optimise
from optimizer.solve import solve_lp
from optimizer.status import PlanInfeasible
from planner.cli import main
from planner.preprocess import build_inputs
from planner.scenario import resolve_scenario

H = 8760.0
CLUSTERS = ("zhangjiakou", "yangtze_delta", "wuhu", "shaoguan", "tianfu", "chongqing",
            "horinger", "guian", "qingyang", "zhongwei")

#: Words that name each constraint family in a message.
FAMILY_WORDS = {
    "latency": r"within its [\d.]+ ms limit",
    "capacity": r"capacity",
    "carbon": r"carbon cap",
    "hub_share": r"hub clusters",
}


def national(*overrides):
    """PlanInputs of the default dataset with overrides, on one mean day of 4 slices."""
    return lambda: build_inputs(resolve_scenario(
        {}, ["time.representative=identical", "time.days=1", "time.hours_per_day=4", *overrides]))


def tiny_latency():
    # 120 MW of a 5 ms class; the only site is 14.2 ms away.
    return make_inputs([site("zhongwei", existing=1000)], [[[120.0]]], [[14.2]], latency_max_ms=[5.0],
                       provinces=["xinjiang"])


def tiny_regional_capacity():
    # p1's 5 ms work can reach only 'near' (8 MW, no expansion); 'far' has room but is 9 ms away.
    sites = [site("near", existing=8), site("far", existing=100)]
    return make_inputs(sites, [[[10.0], [0.0]], [[0.0], [10.0]]], [[1.0, 9.0], [9.0, 1.0]],
                       latency_max_ms=[5.0, np.inf], data_intensity=[0.0, 0.0], provinces=["p1", "p2"])


def tiny_national_capacity():
    return make_inputs([site("a", existing=5, max_new=2), site("b", existing=3)], [[[12.0]]], [[1.0, 1.0]])


def tiny_peak_slice_capacity():
    # The mean (6 MW) fits 'only' (8 MW), the evening peak (11 MW) does not, and p1's 2 ms
    # work cannot leave.
    return make_inputs([site("only", existing=8), site("far", existing=50)], [[[1.0, 11.0]]], [[1.0, 3.0]],
                       latency_max_ms=[2.0], hours=(4380.0, 4380.0))


def tiny_carbon():
    # 10 MW at 0.5 t/MWh with 4 MW of green power: least 6 × 0.5 × 8760 = 26,280 t.
    return make_inputs([site("s", existing=100, ef=0.5, green=4.0, premium=10.0)], [[[10.0]]], [[1.0]],
                       carbon_cap=1_000.0)


def tiny_hub():
    sites = [site("hub", existing=0, max_new=0),
             site("local_p1", kind="local", hub_class="local", serves="p1", existing=2, max_new=50)]
    return make_inputs(sites, [[[10.0]]], [[5.0, 1.0]], hub_share=0.6)


def tiny_carbon_with_hub():
    # Each rule alone has a plan; together they do not. The cap (8,760 t) allows at most 1 MW
    # in the dirty hub (1 t/MWh), so at least 9 MW new locally; 60 % in the hub then needs
    # 13.5 MW new there, but the hub may add only 12 MW: at best 8 MW local, 17,520 t.
    sites = [site("hub", max_new=12, ef=1.0),
             site("local_p1", kind="local", hub_class="local", serves="p1", max_new=100, ef=0.0)]
    return make_inputs(sites, [[[10.0]]], [[5.0, 1.0]], hub_share=0.6, carbon_cap=8_760.0)


# id: (inputs builder, constraint family, place id in Conflict.where, words naming the place)
CASES = {
    # Latency limits too tight for particular classes or provinces.
    "finance-0.5ms": (national("workloads.finance.latency_max_ms=0.5"), "latency", "/finance", ["Finance"]),
    "industrial-0.9ms": (national("workloads.industrial_control.latency_max_ms=0.9"), "latency",
                         "/industrial_control", ["Industrial control"]),
    "inference-0.9ms": (national("workloads.ai_inference.latency_max_ms=0.9"), "latency", "/ai_inference",
                        ["AI inference"]),
    "web-0.8ms": (national("workloads.web_interactive.latency_max_ms=0.8"), "latency", "/web_interactive",
                  ["Web and interactive"]),
    "overhead-2.5ms": (national("latency.overhead_ms=2.5"), "latency", "/industrial_control",
                       ["Industrial control"]),
    "xinjiang-measured": (national("latency.measured=[{province: xinjiang, site: local_xinjiang, one_way_ms: 50}]"),
                          "latency", "xinjiang/", ["Xinjiang"]),
    "tibet-local-off": (national("sites.local_tibet.enabled=false"), "latency", "tibet/", ["Tibet"]),
    "hainan-local-off": (national("sites.local_hainan.enabled=false"), "latency", "hainan/", ["Hainan"]),
    "tiny-latency": (tiny_latency, "latency", "xinjiang/k1", ["xinjiang", "nearest is zhongwei at 14.2 ms"]),
    # Capacity too small where latency-bound demand cannot go elsewhere, or nationally.
    "guangdong-local-0": (national("provinces.guangdong.local_existing_mw=0"), "capacity", "local_guangdong",
                          ["Guangdong local"]),
    "xinjiang-local-0": (national("provinces.xinjiang.local_existing_mw=0"), "capacity", "local_xinjiang",
                         ["Xinjiang local"]),
    "heilongjiang-local-5": (national("provinces.heilongjiang.local_existing_mw=5"), "capacity",
                             "local_heilongjiang", ["Heilongjiang local"]),
    "sichuan-region": (national("provinces.sichuan.local_existing_mw=0", "sites.tianfu.existing_mw=0",
                                "sites.tianfu.max_new_mw=0"), "capacity", "", ["Sichuan"]),
    "national-scale-3": (national("demand.scale=3"), "capacity", "national", ["national"]),
    "national-utilisation": (national("policy.utilisation_max=0.2"), "capacity", "national", ["national"]),
    "national-no-cluster-growth": (national("demand.scale=2", *(f"sites.{s}.max_new_mw=0" for s in CLUSTERS)),
                                   "capacity", "national", ["national"]),
    "tiny-regional": (tiny_regional_capacity, "capacity", "near", ["near", "k1 of p1"]),
    "tiny-national": (tiny_national_capacity, "capacity", "national", ["national"]),
    "tiny-peak-slice": (tiny_peak_slice_capacity, "capacity", "only", ["only"]),
    # Carbon caps below reach.
    "carbon-1Mt": (national("carbon.cap_tco2=1e6"), "carbon", "national", ["national", "1 MtCO2"]),
    "carbon-50Mt": (national("carbon.cap_tco2=50e6"), "carbon", "national", ["national", "50 MtCO2"]),
    "carbon-policy-50Mt": (national("carbon.cap_tco2=50e6", "policy.hub_new_share_min=0.6",
                                    "policy.hub_new_green_share_min=0.8"), "carbon", "national",
                           ["national", "hub share in force"]),
    "carbon-no-green": (national("carbon.cap_tco2=60e6", *(f"sites.{s}.green_available_mw=0" for s in CLUSTERS)),
                        "carbon", "national", ["national", "60 MtCO2"]),
    "tiny-carbon": (tiny_carbon, "carbon", "national", ["national", "least achievable 26,280 tCO2"]),
    "tiny-carbon-with-hub": (tiny_carbon_with_hub, "carbon", "national",
                             ["national", "least achievable 17,520 tCO2", "hub share in force"]),
    # Hub-share minimum impossible.
    # The built stock carries the default year's demand; twice that needs new capacity.
    "hub-clusters-frozen": (national("demand.scale=2", "policy.hub_new_share_min=0.6", "policy.local_max_new_share=1.0",
                                     *(f"sites.{s}.max_new_mw=0" for s in CLUSTERS)), "hub_share", "national",
                            ["national", "60%"]),
    "hub-clusters-capped": (national("demand.scale=2", "policy.hub_new_share_min=0.6", "policy.local_max_new_share=1.0",
                                     *(f"sites.{s}.max_new_mw=100" for s in CLUSTERS)), "hub_share", "national",
                            ["national", "1,000 MW"]),
    "tiny-hub": (tiny_hub, "hub_share", "national", ["national", "60%"]),
}


@pytest.fixture(scope="module")
def outcomes():
    """Run every case once: the PlanInfeasible raised (or None) and the structured diagnosis."""
    results = {}
    for case, (builder, *_) in CASES.items():
        inputs = builder()
        try:
            optimise(inputs, backend="highs")
            error = None
        except PlanInfeasible as exc:
            error = exc
        diagnosis = error.diagnosis if error is not None and error.diagnosis is not None else None
        results[case] = (error, diagnosis if diagnosis is not None else diagnose_infeasible(inputs))
    return results


def test_there_are_at_least_20_planted_conflicts():
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", list(CASES))
def test_planted_conflict_is_named_with_its_place(outcomes, case):
    _, family, where, words = CASES[case]
    error, conflicts = outcomes[case]
    assert error is not None, f"{case}: expected infeasible"
    message = str(error)
    assert "\n" not in message
    first = conflicts[0]
    assert isinstance(first, Conflict)
    assert first.constraint == family, first
    assert where in first.where, first
    assert first.amount > 0 and first.fix
    # The words: the planted family and its place, and a fix, in the one line the user sees.
    assert re.search(FAMILY_WORDS[family], message), message
    for word in words:
        assert word in message, message
    assert message.startswith(first.message)


def test_at_least_19_messages_name_family_and_place(outcomes):
    named = 0
    for case, (_, family, _where, words) in CASES.items():
        error, _ = outcomes[case]
        message = str(error) if error else ""
        named += bool(re.search(FAMILY_WORDS[family], message)) and all(w in message for w in words)
    assert named >= 19


def test_message_says_by_how_much():
    # Worked by hand: 10 MW over the peak slice minus 0.85 × 0 MW: 'only' carries 8 of 11 MW.
    conflicts = diagnose_infeasible(tiny_peak_slice_capacity())
    assert conflicts[0].amount == pytest.approx(3.0, rel=1e-6)
    assert "falls 3 MW short" in conflicts[0].message and "peaks at 11 MW" in conflicts[0].message
    carbon = diagnose_infeasible(tiny_carbon())[0]
    assert carbon.amount == pytest.approx(26_280.0 - 1_000.0, rel=1e-9)
    hub = diagnose_infeasible(tiny_hub())[0]
    # 8 MW new is needed, all local: 60 % of it, 4.8 MW, is missing in the hub.
    assert hub.amount == pytest.approx(4.8, rel=1e-6)


def test_the_example_of_the_issue():
    message = explain_infeasible(tiny_latency())
    assert message.startswith("k1 demand of xinjiang (120 MW) has no site within its 5 ms limit; "
                              "nearest is zhongwei at 14.2 ms")


def test_feasible_inputs_have_no_conflict():
    inputs = make_inputs([site("s", existing=100)], [[[10.0]]], [[1.0]], carbon_cap=1e9, hub_share=0.5)
    assert precheck_conflicts(inputs) == []
    assert diagnose_infeasible(inputs)[0].constraint == "unknown"  # nothing fails when relaxed


def test_elastic_lp_keeps_a_feasible_optimum():
    # With penalties far above any cost the slack stays unused and the optimum is unchanged.
    inputs = tiny_carbon_with_hub()
    inputs.carbon_cap_tco2 = 1e9
    lp, _ = build_lp(inputs)
    cost = lp.arrays()[0]
    elastic = build_elastic_lp(lp, inputs, cost, {"unserved": 1e9, "shortfall": 1e9, "carbon_excess": 1e9,
                                                  "hub_shortfall": 1e9})
    assert elastic.num_rows == lp.num_rows
    assert set(elastic.columns) == {"x", "n", "g", "unserved", "shortfall", "carbon_excess", "hub_shortfall"}
    original = solve_lp(lp, backend="highs")
    relaxed = solve_lp(elastic, backend="highs")
    assert relaxed.objective == pytest.approx(original.objective, rel=1e-9)


def test_several_conflicts_are_counted_in_one_line():
    conflicts = diagnose_infeasible(national("provinces.guangdong.local_existing_mw=0", "carbon.cap_tco2=1e6")())
    assert [c.constraint for c in conflicts] == ["capacity", "carbon"]
    line = explain_conflicts(conflicts)
    assert "\n" not in line and line.endswith("(and 1 more conflict: carbon at national)")


def test_optimise_attaches_the_structured_diagnosis():
    with pytest.raises(PlanInfeasible) as info:
        optimise(tiny_carbon(), backend="highs")
    assert isinstance(info.value.diagnosis, list) and info.value.diagnosis[0].constraint == "carbon"
    with pytest.raises(PlanInfeasible) as info:
        optimise(tiny_latency(), backend="highs")
    assert info.value.diagnosis[0].constraint == "latency"


def test_cli_prints_the_reason_and_exits_1(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", "--no-map", "--out", str(out), "--set", "time.hours_per_day=4",
                                       "--set", "provinces.xinjiang.local_existing_mw=0"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("scenario 'baseline' | infeasible: capacity of Xinjiang local falls")
    assert not out.exists()


@pytest.mark.parametrize(("settings", "family", "words"), [
    (["policy.pue_cap_national=1.1"], "pue_national", "least average PUE any plan reaches"),
    (["policy.hub_occupancy_min=0.95"], "hub_occupancy", "上架率 of at least 95%"),
    (["provinces.ningxia.water_cap_m3=0"], "water_cap", "water cap of 0 m³/yr in Ningxia"),
    (["costs.certificate_price_cny_per_mwh=null", "policy.green_share_min=0.9"], "green_share",
     "no certificates on offer"),
])
def test_a_policy_no_plan_can_meet_is_named_with_its_amount(settings, family, words):
    from planner.run import run_scenario
    from planner.scenario import load_scenario

    with pytest.raises(PlanInfeasible) as caught:
        run_scenario(load_scenario(None, [*settings, "time.days=2"]))
    first = caught.value.diagnosis[0]
    assert first.constraint == family and first.amount > 0
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_the_least_average_pue_reported_is_the_edge_of_feasibility():
    from planner.run import run_scenario
    from planner.scenario import load_scenario

    with pytest.raises(PlanInfeasible) as caught:
        run_scenario(load_scenario(None, ["policy.pue_cap_national=1.1", "time.days=2"]))
    least = 1.1 + caught.value.diagnosis[0].amount
    assert run_scenario(load_scenario(None, [f"policy.pue_cap_national={least + 1e-4}", "time.days=2"]))
    with pytest.raises(PlanInfeasible):
        run_scenario(load_scenario(None, [f"policy.pue_cap_national={least - 1e-4}", "time.days=2"]))
