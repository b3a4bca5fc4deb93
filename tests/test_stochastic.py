"""Two-stage stochastic plans: hand-solved futures, VSS and EVPI, CVaR, refused probabilities, edwc run robust-2030."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from lp_cases import make_inputs, site

from optimizer.stochastic import (
    Future,
    Risk,
    build_stochastic_lp,
    check_probabilities,
    evaluate_fixed,
    solve_alone,
    solve_stochastic,
    value_figures,
)
from planner.cli import main
from planner.errors import ScenarioError
from planner.robust import FUTURE_COLUMNS, future_cases, mean_future
from planner.rundir import RUN_FILES, read_run
from planner.scenario import load_scenario

H = 8760.0
PENALTY = 1e5  # unserved demand [CNY/MWh]; no plan below leaves any


def one_year(demand_mw, price_b=300.0, hub_share=None):
    """Site a: new capacity at 1e6 CNY/MW/yr, power 100 CNY/MWh; site b: 100 MW built, power ``price_b``."""
    return make_inputs(
        [site("a", max_new=100, price=100, capex_annual=1e6), site("b", existing=100, price=price_b)],
        [[[demand_mw]]], [[1.0, 1.0]], hub_share=hub_share,
    )


def two_futures(low=10.0, high=30.0):
    return [Future("low", 0.5, one_year(low)), Future("high", 0.5, one_year(high))]


def test_hand_solved_two_futures():
    # An MW built at a saves 200 CNY/MWh × 8760 h = 1.752e6 CNY/yr against b in every future
    # that uses it, and costs 1e6 CNY/yr. The first 10 MW serve both futures: built. The next 20
    # serve only the high future (p = 0.5): expected saving 0.876e6 < 1e6, not built.
    futures = two_futures()
    plan = solve_stochastic(futures)
    assert plan.shared_values.sum() == pytest.approx(10.0, rel=1e-9)
    low = 10e6 + 10 * H * 100
    high = 10e6 + 10 * H * 100 + 20 * H * 300
    assert plan.costs_cny == pytest.approx([low, high], rel=1e-9)
    assert plan.objective_cny == pytest.approx(0.5 * (low + high), rel=1e-9)  # 45.04e6
    # The mean future (20 MW) builds 20 MW; on the futures it costs 28.76e6 and 63.8e6.
    figures = value_figures(futures, one_year(20.0), plan, None, PENALTY)
    assert figures.mean_plan_costs_cny == pytest.approx([28.76e6, 63.8e6], rel=1e-9)
    assert figures.mean_plan_unserved_mwh == pytest.approx([0.0, 0.0], abs=1e-6)
    # VSS = 10 MW × (1e6 − 0.5 × 1.752e6) = 1.24e6 CNY/yr.
    assert figures.vss_cny == pytest.approx(1.24e6, rel=1e-6)
    # Perfect information: 18.76e6 (build 10) and 30e6 + 30 × 876,000 = 56.28e6 (build 30).
    assert figures.perfect_costs_cny == pytest.approx([18.76e6, 56.28e6], rel=1e-9)
    assert figures.evpi_cny == pytest.approx(45.04e6 - 37.52e6, rel=1e-6)


def test_coinciding_futures_have_no_value_of_the_stochastic_solution_or_information():
    futures = two_futures(20.0, 20.0)
    plan = solve_stochastic(futures)
    figures = value_figures(futures, one_year(20.0), plan, None, PENALTY)
    assert figures.vss_cny == pytest.approx(0.0, abs=1e-6 * plan.objective_cny)
    assert figures.evpi_cny == pytest.approx(0.0, abs=1e-6 * plan.objective_cny)


def test_unserved_demand_is_priced_when_the_mean_plan_cannot_serve_a_future():
    # b has 5 MW only. The plan for 30 MW builds 30 MW at a (cheaper than b's power); the 40 MW
    # future then finds 30 MW at a and 5 MW at b, and 5 MW unserved.
    def inputs(demand):
        return make_inputs([site("a", max_new=100, price=100, capex_annual=1e6), site("b", existing=5, price=300)],
                           [[[demand]]], [[1.0, 1.0]])

    families = solve_stochastic([Future("x", 1.0, inputs(30.0))]).metadata["shared_families"]
    _, mean_values = solve_alone(inputs(30.0), families)
    assert mean_values.sum() == pytest.approx(30.0, rel=1e-9)
    cost, unserved = evaluate_fixed(inputs(40.0), families, mean_values, PENALTY)
    assert unserved == pytest.approx(5 * H, rel=1e-9)
    assert cost == pytest.approx(30e6 + 30 * H * 100 + 5 * H * 300 + 5 * H * PENALTY, rel=1e-9)


@pytest.mark.parametrize("prices", [(300.0, 300.0, 300.0), (250.0, 300.0, 500.0)])
def test_stochastic_plan_beats_every_single_future_plan_on_the_futures(prices):
    futures = [Future(f"f{i}", p, one_year(d, price_b=price))
               for i, (p, d, price) in enumerate(zip((0.3, 0.5, 0.2), (8.0, 18.0, 35.0), prices, strict=True))]
    plan = solve_stochastic(futures)
    probabilities = np.array([f.probability for f in futures])
    families = plan.metadata["shared_families"]
    for future in futures:
        _, values = solve_alone(future.inputs, families)
        costs = [evaluate_fixed(other.inputs, families, values, PENALTY)[0] for other in futures]
        assert plan.objective_cny <= probabilities @ costs * (1 + 1e-9)


def test_cvar_with_weight_zero_is_the_risk_neutral_optimum():
    neutral = solve_stochastic(two_futures())
    weightless = solve_stochastic(two_futures(), Risk(alpha=0.5, weight=0.0))
    assert weightless.objective_cny == pytest.approx(neutral.objective_cny, rel=1e-9)
    assert weightless.shared_values == pytest.approx(neutral.shared_values, rel=1e-9)


def test_cvar_hedges_the_dear_future():
    # α = 0.5: CVaR is the high future's cost. ω = 0.5: each MW above 10 saves 1.752e6 × (0.5 × 0.5 + 0.5)
    # = 1.314e6 > 1e6 CNY/yr, so the plan builds for the high future: 30 MW.
    plan = solve_stochastic(two_futures(), Risk(alpha=0.5, weight=0.5))
    assert plan.shared_values.sum() == pytest.approx(30.0, rel=1e-9)
    low, high = 30e6 + 10 * H * 100, 30e6 + 30 * H * 100
    assert plan.metadata["cvar_cny"] == pytest.approx(high, rel=1e-9)
    assert plan.objective_cny == pytest.approx(0.5 * 0.5 * (low + high) + 0.5 * high, rel=1e-9)


def test_rows_on_shared_columns_alone_are_stated_once():
    # The hub rule (new capacity in hubs ≥ a share) holds on new capacity alone.
    futures = [Future("low", 0.5, one_year(10.0, hub_share=0.5)), Future("high", 0.5, one_year(30.0, hub_share=0.5))]
    built = build_stochastic_lp(futures)
    each = [lp.num_rows for lp, _ in built.parts]
    assert built.lp.num_rows == sum(each) - 1
    assert solve_stochastic(futures).shared_values.sum() == pytest.approx(10.0, rel=1e-9)


@pytest.mark.parametrize("probabilities", [[0.5, 0.4], [0.0, 1.0], [1.2, -0.2]])
def test_bad_probabilities_are_refused(probabilities):
    with pytest.raises(ValueError, match="probabilit"):
        check_probabilities(probabilities)


def test_scenario_probabilities_must_add_up_to_one(tmp_path):
    path = tmp_path / "futures.yaml"
    path.write_text("futures:\n  - {name: a, probability: 0.5, set: {demand.scale: 0.9}}\n"
                    "  - {name: b, probability: 0.4, set: {demand.scale: 1.1}}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == ("futures.yaml: futures.probability | the futures' probabilities add up to 0.9, "
                                 "not 1. Rescale them.")
    path.write_text("futures:\n  - {name: a, probability: 0, set: {}}\n")
    with pytest.raises(ScenarioError, match="futures.yaml: futures.0.probability"):
        load_scenario(path)


def test_a_future_edit_the_schema_refuses_names_the_future(tmp_path):
    path = tmp_path / "futures.yaml"
    path.write_text("futures:\n  - {name: a, probability: 1, set: {demand.scale: -1}}\n")
    with pytest.raises(ScenarioError, match=r"futures.0.set.demand.scale \| future 'a': "):
        future_cases(load_scenario(path), "futures.yaml")


def test_edwc_run_robust_2030(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", "robust-2030", "--no-map", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Value of the stochastic solution (VSS)" in result.output
    for name in (*RUN_FILES, "futures.csv"):
        assert (out / name).exists(), name
    results = read_run(out)
    figures = results.summary.stochastic
    rows = figures["futures"]
    assert [row["future"] for row in rows] == ["slow", "base", "fast", "dear-west"]
    expected = sum(row["probability"] * row["cost_cny"] for row in rows)
    assert figures["expected_cost_cny"] == pytest.approx(expected, rel=1e-9)
    assert figures["objective_cny"] == pytest.approx(expected, rel=1e-6)
    # Regression: the stochastic optimum is unique in cost (the plan's MW may tie); with the backbone network.
    assert expected == pytest.approx(361_616_401_980.74, rel=1e-6)
    assert (out / "futures.csv").read_text().splitlines()[0] == ",".join(FUTURE_COLUMNS)
    assert figures["vss_cny"] >= -1e-6 * expected and figures["evpi_cny"] >= -1e-6 * expected
    # Every future's own optimum is at most what the stochastic plan costs there.
    assert all(row["perfect_cost_cny"] <= row["cost_cny"] * (1 + 1e-9) for row in rows)
    assert json.loads((out / "summary.json").read_text())["stochastic"]["shown_future"] == "base"
    assert results.metadata["max_violation"] < 1e-6


def test_futures_sampled_from_a_study_and_their_mean(tmp_path):
    path = tmp_path / "sampled.yaml"
    path.write_text("futures: {sample: 3, study: monte-carlo, seed: 7}\n")
    scenario = load_scenario(path)
    cases = future_cases(scenario)
    assert [case.probability for case in cases] == pytest.approx([1 / 3] * 3)
    # The study's factor scales this scenario's western prices; its other keys are set as drawn.
    base_price = 350.0  # sites.csv, horinger
    for case in cases:
        assert set(case.edits) >= {"demand.scale", "costs.capex_usd_per_mw", "sites.horinger.price_cny_per_mwh"}
        assert case.edits["sites.horinger.price_cny_per_mwh"] / base_price == pytest.approx(
            case.edits["sites.guian.price_cny_per_mwh"] / 340.0, rel=1e-9)
    mean = mean_future(scenario, cases)
    assert mean.demand.scale == pytest.approx(np.mean([case.edits["demand.scale"] for case in cases]), rel=1e-12)


def test_plan_page_shows_the_futures_of_a_stochastic_run(monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from ui import state as ui_state

    monkeypatch.setenv("EDWC_UI_INLINE", "1")  # solve on the script thread
    at = AppTest.from_file(str(Path(__file__).parents[1] / "ui" / "app.py"), default_timeout=300)
    at.session_state["base"] = ui_state.shipped_base("robust-2030")
    at.session_state["overrides"] = {"time.hours_per_day": 4}
    at.run()
    at.switch_page("app_pages/plan.py").run()
    at.button(key="solve_plan").click().run()
    assert not at.exception, [e.value for e in at.exception]
    labels = [metric.label for metric in at.metric]
    for label in ("Expected cost", "Value of the stochastic solution (VSS)",
                  "Expected value of perfect information (EVPI)"):
        assert label in labels
    futures = next(frame.value for frame in at.dataframe if "future" in frame.value.columns)
    assert list(futures["future"]) == ["slow", "base", "fast", "dear-west"]
    assert futures["probability"].sum() == pytest.approx(1.0)


def test_a_stochastic_lp_over_the_memory_budget_is_refused_before_it_is_built():
    from planner.errors import PlanTooLarge
    from planner.robust import check_robust_size

    # The process's 0.4 GB and about 0.41 GB a future of the default size (its backbone included):
    # four futures about 2.0 GB, two about 1.2 GB.
    scenario = load_scenario("robust-2030", ["solver.memory_budget_gb=1.3"])
    with pytest.raises(PlanTooLarge) as caught:
        check_robust_size(scenario, future_cases(scenario))
    message = str(caught.value)
    assert message.startswith("scenario 'robust-2030': futures | 4 futures give a stochastic LP of ")
    assert "2 futures of this size fit" in message and "\n" not in message
    assert check_robust_size(load_scenario("robust-2030", ["solver.memory_budget_gb=2.5"]),
                             future_cases(scenario)).columns > 4 * 64_000


@pytest.mark.parametrize(("args", "message"), [
    (["robust-2030", "--year"], "a stochastic plan (futures) plans on representative days; run it without --year."),
    (["uneven.yaml"], "uneven.yaml: futures.probability | the futures' probabilities add up to 1.1, not 1."),
])
def test_edwc_run_refuses_in_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "uneven.yaml").write_text("futures:\n  - {name: a, probability: 0.6}\n"
                                          "  - {name: b, probability: 0.5}\n")
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", *args, "--no-map", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and message in result.output
    assert not out.exists()


def test_a_future_no_plan_can_serve_is_named():
    from optimizer.status import PlanInfeasible

    # 300 MW against at most 100 MW new at a and 100 MW at b.
    with pytest.raises(PlanInfeasible, match="^future 'huge': "):
        solve_stochastic([Future("low", 0.5, one_year(10.0)), Future("huge", 0.5, one_year(300.0))])
