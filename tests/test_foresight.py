"""Perfect-foresight pathways: never dearer than myopic, equal where hindsight cannot help, cheaper or
feasible where a build limit binds late; discounting by hand; the size refusal; the CLI."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import planner.pathway_foresight as foresight_module
from optimizer.foresight import discounted_cost, year_weights
from optimizer.status import PlanInfeasible
from planner.errors import PlanTooLarge
from planner.pathway import run_pathway
from planner.pathway_foresight import compare_with_myopic, plan_pathway, run_foresight
from planner.scenario import load_scenario

# The brief's case: the default scenario, 2025 → 2029 every second year, few representative days.
DEFAULT = ["horizon.end_year=2029", "horizon.step_years=2", "time.days=2"]
# Smaller blocks for the hand-made cases: one day of four slices.
SMALL = ["horizon.end_year=2029", "horizon.step_years=2", "time.days=1", "time.hours_per_day=4"]
# Limits frozen at the first year's, and three classes growing fast: the 2029 limit binds.
FROZEN = [*SMALL, "horizon.build_limit_growth=0"]


def fast_growth(rate):
    return [f"horizon.demand_growth.{k}={rate}" for k in ("ai_inference", "ai_training", "web_interactive")]


@pytest.fixture(scope="module")
def default_pair():
    scenario = load_scenario(None, DEFAULT)
    return run_pathway(scenario), run_foresight(scenario)


def test_year_weights_and_discounted_cost_by_hand():
    weights, spends = year_weights([2025, 2027, 2029], [2025, 2026, 2028], 0.1)
    assert weights == pytest.approx([1.0, 1 / 1.1 + 1 / 1.21, 1 / 1.331 + 1 / 1.4641])
    assert spends == pytest.approx([1.0, (1 / 1.1 + 1 / 1.21) / 2, (1 / 1.331 + 1 / 1.4641) / 2])
    operating, annuity, overnight = np.array([10.0, 20.0, 30.0]), np.array([1.0, 2.0, 3.0]), np.array([5.0, 0, 7])
    annual = discounted_cost(weights, spends, operating, annuity, overnight, "annuity")
    assert annual == pytest.approx(weights * np.array([11.0, 22.0, 33.0]))
    upfront = discounted_cost(weights, spends, operating, annuity, overnight, "none")
    assert upfront == pytest.approx(weights * operating + spends * overnight)


def test_foresight_costs_no_more_than_myopic_on_the_default_scenario(default_pair):
    myopic, foresight = default_pair
    assert foresight.mode == "foresight" and myopic.mode == "myopic"
    assert foresight.years == myopic.years == [2025, 2027, 2029]
    compare = compare_with_myopic(myopic, foresight)
    assert compare["discounted_cost_foresight_cny"] <= compare["discounted_cost_myopic_cny"] * (1 + 1e-9)
    assert compare["saving_cny"] >= -1e-9 * compare["discounted_cost_myopic_cny"]
    # The table's discounted costs add up to the LP's objective, and every year serves its demand.
    assert foresight.table["discounted_cost_cny"].sum() == pytest.approx(foresight.solve["objective_cny"], rel=1e-9)
    assert foresight.table["demand_mw"].to_numpy() == pytest.approx(myopic.table["demand_mw"].to_numpy())
    assert foresight.solve["duality_gap"] <= 1e-6 and foresight.solve["link_violation"] <= 1e-6


def test_foresight_reads_back_as_a_pathway(default_pair):
    _, foresight = default_pair
    table, sites = foresight.table, foresight.sites
    # Capacity carried: a year's existing stock is the previous year's capacity (nothing retires in 4 years).
    for before, after in zip(foresight.years, foresight.years[1:], strict=False):
        prior = sites[sites["year"] == before].set_index("site")
        later = sites[sites["year"] == after].set_index("site")
        assert later["existing_mw"].to_numpy() == pytest.approx(prior["capacity_mw"].to_numpy(), abs=1e-6)
        assert (later["new_mw"] <= later["max_new_mw"] + 1e-6).all()
    assert table["annual_cost_cny"].to_numpy() == pytest.approx(
        (table["total_cost_cny"] + table["carried_capex_annual_cny"]).to_numpy())
    assert (table["mode"] == "foresight").all()
    assert ((table["tau"] > 0) & (table["tau"] < 1)).all()
    assert foresight.growth_summary["growth_rate_plan"] is not None
    final = foresight.final
    assert final.metadata["pathway"]["mode"] == "foresight"
    assert final.metadata["pathway"]["discounted_cost_cny"] == pytest.approx(table["discounted_cost_cny"].sum())
    # Each year's Results says what the year built, as a myopic year's does.
    last = foresight.results[2029].sites.set_index("site")
    assert last["new_mw"].sum() == pytest.approx(table.iloc[-1]["new_mw"])


def test_equal_where_foresight_cannot_help():
    # Demand grows, the build limits double every year (never binding) and vacant racks may be
    # fitted out whenever needed: building ahead buys nothing, so the plans are the same.
    scenario = load_scenario(None, [*SMALL, "horizon.build_limit_growth=1.0", "policy.fitout_max_share=null",
                                    "horizon.demand_growth.ai_inference=0.1", "horizon.demand_growth.ai_training=0.1"])
    myopic, foresight = run_pathway(scenario), run_foresight(scenario)
    compare = compare_with_myopic(myopic, foresight)
    assert compare["discounted_cost_foresight_cny"] == pytest.approx(compare["discounted_cost_myopic_cny"], rel=1e-9)
    assert myopic.table["new_mw"].sum() > 1000.0  # it does build: the case is not empty
    for column in ("capacity_mw", "new_mw", "annual_cost_cny"):
        assert foresight.table[column].to_numpy() == pytest.approx(myopic.table[column].to_numpy(), rel=1e-7, abs=1e-3)
    new_by_site = [p.sites.pivot(index="site", columns="year", values="new_mw") for p in (myopic, foresight)]
    assert new_by_site[1].to_numpy() == pytest.approx(new_by_site[0].to_numpy(), abs=1e-3)


def test_strictly_cheaper_where_a_build_limit_binds_late():
    scenario = load_scenario(None, [*FROZEN, *fast_growth(0.4)])
    myopic, foresight = run_pathway(scenario), run_foresight(scenario)
    late = myopic.sites[myopic.sites["year"] == 2029]
    assert (late["new_mw"] >= late["max_new_mw"] - 1e-6)[late["max_new_mw"] > 0].any()  # the limit binds
    compare = compare_with_myopic(myopic, foresight)
    assert compare["saving_cny"] > 1e-4 * compare["discounted_cost_myopic_cny"]
    # Hindsight costs something early (2025 dearer) to save more when the limit binds (2029 cheaper).
    cost = pd.DataFrame(compare["by_year"]).set_index("year")
    assert cost.loc[2025, "annual_cost_foresight_cny"] > cost.loc[2025, "annual_cost_myopic_cny"]
    assert cost.loc[2029, "annual_cost_foresight_cny"] < cost.loc[2029, "annual_cost_myopic_cny"]


def test_a_pathway_only_foresight_can_plan():
    scenario = load_scenario(None, [*FROZEN, *fast_growth(0.5), "horizon.mode=foresight"])
    with pytest.raises(PlanInfeasible, match=r"pathway year 2029 \| infeasible.*short by .* GW"):
        run_pathway(scenario)
    pathway = plan_pathway(scenario)
    assert pathway.mode == "foresight" and pathway.years[-1] == 2029
    assert pathway.solve["myopic"]["status"] == "infeasible"
    assert "pathway year 2029" in pathway.solve["myopic"]["message"]
    from planner.pathway_files import format_pathway

    text = format_pathway(pathway)
    assert "Pathway (foresight)" in text and "Myopic on the same inputs: infeasible" in text


def test_salvage_none_charges_overnight_capex_and_stays_no_dearer():
    scenario = load_scenario(None, [*FROZEN, *fast_growth(0.4), "horizon.salvage=none"])
    myopic, foresight = run_pathway(scenario), run_foresight(scenario)
    assert foresight.table["discounted_cost_cny"].sum() == pytest.approx(foresight.solve["objective_cny"], rel=1e-9)
    compare = compare_with_myopic(myopic, foresight)
    assert compare["saving_cny"] >= -1e-9 * compare["discounted_cost_myopic_cny"]
    # Without salvage the whole overnight capex counts: dearer than paying annuities within the horizon.
    annuity = run_foresight(load_scenario(None, [*FROZEN, *fast_growth(0.4)]))
    assert foresight.solve["objective_cny"] > annuity.solve["objective_cny"]


def test_a_foresight_lp_over_the_budget_is_refused_before_building(monkeypatch):
    def no_build(*_args, **_kwargs):
        msg = "built the foresight LP although its size is over the budget"
        raise AssertionError(msg)

    monkeypatch.setattr(foresight_module, "optimise_foresight", no_build)
    scenario = load_scenario(None, [*SMALL, "solver.memory_budget_gb=0.2"])
    with pytest.raises(PlanTooLarge, match=r"foresight LP over 3 planned years .* columns.*horizon.step_years"):
        run_foresight(scenario)


def test_edwc_run_foresight_prints_both_modes(tmp_path):
    from planner.cli import main

    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", "--no-map", "--out", str(out), "--set", "horizon.end_year=2027",
                                       "--set", "horizon.mode=foresight", "--set", "time.days=1",
                                       "--set", "time.hours_per_day=4"])
    assert result.exit_code == 0, result.output
    assert "Pathway (foresight), 2025–2027" in result.output
    assert "Myopic on the same inputs: discounted total cost" in result.output
    table = pd.read_csv(out / "pathway.csv")
    assert (table["mode"] == "foresight").all() and "discounted_cost_cny" in table


def test_no_dearer_when_capacity_retires_within_the_horizon():
    # pathway-2035: the 2025 build and fit-outs reach their 10-year life in 2035. Its fitted racks
    # leave with it (myopic), and fit-outs pay their annuity for the lifetime in both modes.
    scenario = load_scenario("pathway-2035", ["time.days=1", "time.hours_per_day=4"])
    myopic, foresight = run_pathway(scenario), run_foresight(scenario)
    assert foresight.table.set_index("year").loc[2035, "retired_mw"] > 0
    compare = compare_with_myopic(myopic, foresight)
    assert compare["saving_cny"] >= -1e-9 * compare["discounted_cost_myopic_cny"]
    assert foresight.table["discounted_cost_cny"].sum() == pytest.approx(foresight.solve["objective_cny"], rel=1e-9)


def test_foresight_refuses_a_stochastic_scenario():
    from planner.scenario import ScenarioError

    scenario = load_scenario("robust-2030", ["horizon.end_year=2032", "horizon.mode=foresight"])
    with pytest.raises(ScenarioError, match=r"horizon.mode \| a foresight pathway plans one future"):
        run_foresight(scenario)
