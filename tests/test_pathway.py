"""Pathways: capacity carried and retired, demand by class, τ by hand, growth files, CLI."""

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from edwc_data.tables import load_tables

from optimizer.status import PlanInfeasible
from planner.cli.growth_command import growth
from planner.pathway import (
    PATHWAY_FILES,
    REGIONS,
    planned_years,
    province_regions,
    run_pathway,
    write_pathway,
)
from planner.pathway_files import read_growth
from planner.run import run_scenario
from planner.rundir import RUN_FILES, read_run, write_run
from planner.scenario import ScenarioError, load_scenario

GROWTH = {"ai_inference": 0.10, "ai_training": 0.10, "finance": 0.03, "web_interactive": 0.03,
          "industrial_control": 0.03, "offline_analytics": 0.03, "backup": 0.0}
# Three yearly plans of four slices a day; a two-year life makes the 2025 build retire in 2027.
# 20 GW of IT load is more than today's fitted and vacant halls hold, so the first year builds.
SMALL = ["horizon.end_year=2027", "time.hours_per_day=4", "costs.lifetime_years=2", "horizon.build_limit_growth=0",
         "demand.national_it_load_mw=20000",
         *(f"horizon.demand_growth.{k}={v}" for k, v in GROWTH.items())]
EAST_HOSTS = {"hebei", "shanghai", "anhui", "guangdong", "sichuan", "chongqing"}
WEST_HOSTS = {"inner_mongolia", "guizhou", "gansu", "ningxia"}


@pytest.fixture(scope="module")
def pathway():
    return run_pathway(load_scenario(None, SMALL))


@pytest.fixture(scope="module")
def shipped():
    return run_pathway(load_scenario("pathway-2035"))


@pytest.fixture(scope="module")
def run_dir(pathway, tmp_path_factory):
    return write_pathway(pathway, tmp_path_factory.mktemp("pathway") / "run")


def site_table(pathway, year):
    return pathway.sites[pathway.sites["year"] == year].set_index("site")


def test_planned_years():
    assert planned_years(load_scenario()) == [2025]
    stepped = load_scenario(None, ["horizon.end_year=2030", "horizon.step_years=2"])
    assert planned_years(stepped) == [2025, 2027, 2029, 2030]
    assert planned_years(load_scenario("pathway-2035")) == [2025, 2027, 2029, 2031, 2033, 2035]


def test_regions_follow_the_hub_hosts():
    region = province_regions()
    assert set(region[region == "east_hubs"].index) == EAST_HOSTS
    assert set(region[region == "west_hubs"].index) == WEST_HOSTS
    assert (region == "rest").sum() == 31 - len(EAST_HOSTS) - len(WEST_HOSTS)


def test_capacity_is_carried_forward_and_retires(pathway):
    assert pathway.years == [2025, 2026, 2027]
    first, second, third = (site_table(pathway, y) for y in pathway.years)
    existing0 = first["existing_mw"]
    assert first["new_mw"].sum() > 1000
    # 2026 starts with 2025's stock plus 2025's build; 2027 has lost the 2025 build (2-year life).
    assert np.allclose(second["existing_mw"], existing0 + first["new_mw"])
    assert np.allclose(third["existing_mw"], existing0 + second["new_mw"])
    assert np.allclose(third["retired_mw"], first["new_mw"])
    assert (second["retired_mw"] == 0).all()
    # The solved plan of each year saw that capacity: the derived scenario's existing_mw.
    for year, table in ((2026, second), (2027, third)):
        solved = pathway.results[year].sites.set_index("site")
        assert np.allclose(solved["existing_mw"], table["existing_mw"])
        assert np.allclose(solved["new_mw"].clip(lower=0), table["new_mw"])
        assert pathway.results[year].scenario["year"] == year
    # The build limit is yearly and stays at the first year's (local sites included).
    assert np.allclose(second["max_new_mw"], first["max_new_mw"])
    assert (third["new_mw"] <= third["max_new_mw"] + 1e-6).all()
    row = pathway.table.set_index("year").loc[2027]
    assert row["capacity_mw"] == pytest.approx(third["capacity_mw"].sum())
    assert row["capacity_east_mw"] + row["capacity_west_mw"] + row["capacity_local_mw"] == (
        pytest.approx(row["capacity_mw"]))


def test_existing_capacity_can_retire_linearly():
    scenario = load_scenario(None, ["horizon.end_year=2026", "time.hours_per_day=4",
                                    "costs.lifetime_years=4"])
    result = run_pathway(scenario, existing_retirement="linear")
    first, second = site_table(result, 2025), site_table(result, 2026)
    assert np.allclose(second["existing_mw"], 0.75 * first["existing_mw"] + first["new_mw"])
    assert np.allclose(second["retired_mw"], 0.25 * first["existing_mw"])


def test_demand_grows_at_the_given_rates(pathway):
    def energy_by_class(year):
        flows = pathway.results[year].flows
        return (flows["load_mw"] * flows["hours"]).groupby(flows["workload"]).sum()

    base = energy_by_class(2025)
    for year in (2026, 2027):
        expected = pd.Series({k: (1 + GROWTH[k]) ** (year - 2025) for k in base.index})
        assert (energy_by_class(year) / base).to_numpy() == pytest.approx(
            expected[base.index].to_numpy(), rel=1e-6)
    demand = pathway.table.set_index("year")["demand_mw"]
    shares = load_tables()["workloads"]["share"]
    factor = sum(shares[k] * (1 + GROWTH[k]) ** 2 for k in shares.index)
    assert demand[2027] == pytest.approx(demand[2025] * factor, rel=1e-9)


def test_tau_by_hand(pathway):
    scenario = pathway.scenario
    year = 2026
    sites = site_table(pathway, year)
    capex_per_mw = 7.11e6 * 7.18
    # New build, and vacant racks fitted out at 30 % of a new build's cost.
    built = sites["new_mw"] + 0.3 * pathway.results[year].sites.set_index("site")["fitout_mw"].reindex(sites.index)
    capex = np.where(sites["kind"] == "local", 1.15 * capex_per_mw, capex_per_mw) * built
    summary = pathway.results[year].summary
    assert capex.sum() == pytest.approx(summary.compute_capex_cny, rel=1e-9)
    total = scenario.investment.gfcf_cny * (1 + scenario.investment.gfcf_growth)
    tau = (0.024 * total + capex.sum()) / total
    row = pathway.table.set_index("year").loc[year]
    assert row["gfcf_cny"] == pytest.approx(5.48e13 * 1.032)
    assert row["compute_capex_cny"] == pytest.approx(capex.sum(), rel=1e-9)
    assert row["tau"] == pytest.approx(tau, rel=1e-12)
    # West hubs: GFCF split by GDP share; capex of sites in the west-hub provinces.
    provinces = load_tables()["provinces"]
    gdp = provinces["gdp_2023_100m_cny"]
    west_total = total * gdp[list(WEST_HOSTS)].sum() / gdp.sum()
    hosts = load_tables()["sites"]["host_province"].to_dict()
    in_west = [hosts.get(s, s.removeprefix("local_")) in WEST_HOSTS for s in sites.index]
    west_capex = capex[np.array(in_west)].sum()
    assert row["compute_capex_west_hubs_cny"] == pytest.approx(west_capex, rel=1e-9)
    assert row["tau_west_hubs"] == pytest.approx((0.024 * west_total + west_capex) / west_total)
    capex_columns = [f"compute_capex_{r}_cny" for r in REGIONS]
    assert row[capex_columns].sum() == pytest.approx(row["compute_capex_cny"], rel=1e-12)


def test_counterfactual_uses_baseline_tau_only(pathway):
    table = pathway.growth
    assert set(table["region"]) == {"national", *REGIONS}
    assert (table["tau_counterfactual"] == 0.024).all()
    assert (table["tau_plan"] >= 0.024).all()
    national = table[table["region"] == "national"].set_index("year")
    assert national["tau_plan"].to_numpy() == pytest.approx(
        pathway.table["tau"].to_numpy(), rel=1e-12)
    # Calibrated at the baseline τ: the counterfactual grows at the target, every region too.
    g_cf = table["g_Y_counterfactual"].dropna()
    assert g_cf.to_numpy() == pytest.approx(0.05, abs=1e-9)
    assert (national["Y_plan"] >= national["Y_counterfactual"] * (1 - 1e-12)).all()
    assert national["Y_plan"].iloc[0] == pytest.approx(100.0)
    regional_start = table[(table["region"] != "national") & (table["year"] == 2025)]
    assert regional_start["Y_plan"].sum() == pytest.approx(100.0)


def test_growth_outputs_are_written_with_the_calibration(pathway, run_dir):
    for name in (*RUN_FILES, *PATHWAY_FILES):
        assert (run_dir / name).exists(), name
    assert sorted(p.name for p in run_dir.parent.iterdir()) == ["run"]
    summary = json.loads((run_dir / "summary.json").read_text())["pathway"]
    assert summary["year"] == 2027
    for key in ("growth_rate_plan", "growth_rate_counterfactual", "tau_plan_mean", "tau_baseline",
                "growth_rate_plan_by_region", "growth_calibration"):
        assert summary[key] is not None, key
    assert summary["growth_rate_counterfactual"] == pytest.approx(0.05, abs=1e-9)
    assert summary["growth_rate_plan"] > summary["growth_rate_counterfactual"]
    assert "calibrated" in summary["growth_calibration"]
    written = pd.read_csv(run_dir / "growth.csv")
    assert (written["calibration"] == pathway.params.calibration_note).all()
    assert pathway.params.calibration.tau0 == 0.024
    table = pd.read_csv(run_dir / "pathway.csv")
    assert list(table["year"]) == [2025, 2026, 2027]
    for column in ("demand_mw", "capacity_east_mw", "capacity_west_mw", "capacity_local_mw",
                   "new_mw", "emissions_tco2", "total_cost_cny", "compute_capex_cny",
                   "tau", "tau_east_hubs", "tau_west_hubs", "tau_rest", "growth_calibration"):
        assert column in table, column
    final = read_run(run_dir)
    assert final.scenario["year"] == 2027 and final.scenario["horizon"]["end_year"] is None
    frames = read_growth(run_dir)
    assert list(frames) == ["national", *REGIONS]
    assert frames["national"][0].attrs["calibration"] == pathway.params.calibration_note


def test_infeasible_year_stops_the_pathway_naming_it(tmp_path):
    scenario = load_scenario(None, ["horizon.end_year=2027", "time.hours_per_day=4",
                                    "demand.national_it_load_mw=20000",
                                    "horizon.demand_growth.web_interactive=2.0"])
    # Before any solve (issue 13): 2027 is the first year no build could carry; 2026 fails only
    # because the myopic 2025 plan builds what 2025 needs, which only the solve can tell.
    with pytest.raises(PlanInfeasible, match=r"pathway year 2027 \| infeasible before solving"):
        run_pathway(scenario)
    # Past the pre-check, a year the myopic plan cannot carry stops the solve, naming the year and the fix.
    with pytest.raises(PlanInfeasible, match=r"pathway year 2026 \| infeasible.*short by .* GW.*build_limit_growth"):
        run_pathway(load_scenario(None, ["horizon.end_year=2026", "time.hours_per_day=4",
                                         "demand.national_it_load_mw=20000",
                                         "horizon.demand_growth.web_interactive=2.0"]))


def test_growth_needs_a_positive_baseline_share():
    scenario = load_scenario(None, ["horizon.end_year=2026", "investment.baseline_compute_share=0"])
    with pytest.raises(ScenarioError, match="baseline_compute_share"):
        run_pathway(scenario)


def test_cli_growth_table_and_plot(tmp_path):
    default = CliRunner().invoke(growth, ["--out", str(tmp_path.parent / (tmp_path.name + "-calibrated")),
                                          "--formats", "png"])
    assert default.exit_code == 0, default.output
    assert "calibrated to Chinese data" in default.output and "τ* = 1 − α = 0.20" in default.output
    # The report's illustrative set: its threshold w*, as the report prints it.
    result = CliRunner().invoke(growth, ["--preset", "report", "--out", str(tmp_path), "--formats", "png,svg"])
    assert result.exit_code == 0, result.output
    assert "illustrative" in result.output
    assert "ge peak τ* = 1 − α" in result.output and "market τ_m" in result.output
    assert "w* = Φ_H·r/α = 4.875%" in result.output
    assert "calibrated" in result.output
    assert (tmp_path / "growth_vs_tau.png").exists() and (tmp_path / "growth_vs_tau.svg").exists()


def test_cli_growth_of_a_pathway_run(run_dir, tmp_path):
    result = CliRunner().invoke(growth, [str(run_dir), "--out", str(tmp_path), "--formats", "png",
                                         "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert "national" in result.output and "west_hubs" in result.output
    assert "Calibration: A = " in result.output
    for stem in ("growth_paths", *(f"growth_paths_{r}" for r in REGIONS)):
        assert (tmp_path / f"{stem}.png").exists(), stem


def test_cli_growth_rejects_a_plain_run_and_bad_formats(tmp_path):
    plain = write_run(run_scenario(load_scenario(None, ["time.hours_per_day=1"])), tmp_path / "plain")
    result = CliRunner().invoke(growth, [str(plain)])
    assert result.exit_code == 2
    assert "not a pathway run" in result.output
    result = CliRunner().invoke(growth, [str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "not a folder" in result.output
    result = CliRunner().invoke(growth, ["--formats", "png,bmp", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "bmp" in result.output


def test_shipped_pathway_2035_solves_to_2035(shipped):
    result = shipped
    final = result.final.summary
    # Final-year totals; myopic years inherit earlier tie-breaks, so looser than single-year pins.
    # Build limits growing 18 %/yr (issue 13) moved the cost from 275.43 bn.
    assert final.total_cost_cny == pytest.approx(274538960298.0526, rel=1e-3)
    assert final.emissions_tco2 == pytest.approx(221149912.14140496, rel=1e-2)
    assert final.new_capacity_mw == pytest.approx(9132.540020160146, rel=1e-2)
    # Today's vacant halls carry the first years; building grows as demand outgrows them.
    assert result.table["new_mw"].is_monotonic_increasing
    assert result.table["retired_mw"].iloc[-1] == pytest.approx(result.table["new_mw"].iloc[0])
    assert final.pathway["growth_rate_counterfactual"] == pytest.approx(0.05, abs=1e-9)
    assert final.pathway["tau_plan_mean"] > final.pathway["tau_baseline"]


def test_edwc_run_writes_a_pathway(tmp_path):
    from planner.cli import main

    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", "--no-map", "--out", str(out), "--set",
                                       "horizon.end_year=2026", "--set", "time.hours_per_day=4"])
    assert result.exit_code == 0, result.output
    assert (out / "pathway.csv").exists() and (out / "growth.csv").exists()
    assert "Growth (mean per year" in result.output
    result = CliRunner().invoke(main, ["growth", str(out), "--formats", "png"])
    assert result.exit_code == 0, result.output


def test_regions_add_up_to_the_nation(pathway):
    table = pathway.growth
    national = table[table["region"] == "national"].set_index("year")
    regions = table[table["region"] != "national"]
    for column in ("Y_plan", "C_plan", "Y_counterfactual", "C_counterfactual"):
        total = regions.groupby("year")[column].sum()
        assert total.to_numpy() == pytest.approx(national[column].to_numpy(), rel=1e-12), column
    # The regional output gaps, weighted by counterfactual output, are the national gap; so the
    # national gap lies between the smallest and the largest regional one.
    weights = regions["Y_counterfactual"] / regions["year"].map(national["Y_counterfactual"])
    weighted = (weights * regions["output_gap"]).groupby(regions["year"]).sum()
    assert weighted.to_numpy() == pytest.approx(national["output_gap"].to_numpy(), abs=1e-12)
    by_year = regions.groupby("year")["output_gap"]
    assert (by_year.min() <= national["output_gap"] + 1e-12).all()
    assert (by_year.max() >= national["output_gap"] - 1e-12).all()
    # Capex is attributed where the compute serves demand; it adds up to what was built.
    row = pathway.table.set_index("year")
    served = row[[f"compute_capex_served_{r}_cny" for r in REGIONS]].sum(axis=1)
    assert served.to_numpy() == pytest.approx(row["compute_capex_cny"].to_numpy(), rel=1e-9)



def test_shipped_pathway_growth_lies_in_the_calibrated_bands(shipped):
    # docs/growth.md: a region's output gap after T years lies between -0.1 % (households smooth
    # consumption ahead of the plan) and (1 + Δg)^T - 1, Δg the balanced-growth lift at its largest τ.
    from planner.growth import discrete_bgp_growth

    params = shipped.params
    assert params.preset == "calibrated"
    for region, group in shipped.growth.groupby("region"):
        years = len(group) - 1
        lift = discrete_bgp_growth(group["tau_plan"].max(), params) - discrete_bgp_growth(0.024, params)
        assert 0.0 < lift < 0.004, region
        assert (group["output_gap"] >= -0.001).all(), region
        assert (group["output_gap"] <= (1 + lift) ** years - 1).all(), region
    summary = shipped.growth_summary
    assert 0.0 < summary["output_gap_end"] < 0.02
    assert 0.0 < summary["growth_rate_plan"] - summary["growth_rate_counterfactual"] < 0.002


def test_build_limits_grow_by_hand():
    from planner.pathway import build_limit_factor

    scenario = load_scenario(None, ["horizon.end_year=2029", "horizon.build_limit_growth=0.1"])
    assert build_limit_factor(scenario, 2024, 2025) == pytest.approx(1.0)
    assert build_limit_factor(scenario, 2025, 2026) == pytest.approx(1.1)
    assert build_limit_factor(scenario, 2026, 2028) == pytest.approx(1.1**2 + 1.1**3)
    frozen = load_scenario(None, ["horizon.end_year=2029", "horizon.build_limit_growth=0"])
    assert build_limit_factor(frozen, 2026, 2028) == pytest.approx(2.0)


def test_an_impossible_year_is_named_before_any_solve(monkeypatch):
    import planner.pathway as pathway_module
    from planner.pathway import check_pathway_capacity

    def no_solve(_scenario):
        msg = "solved a year although the pre-check should have stopped the pathway"
        raise AssertionError(msg)

    monkeypatch.setattr(pathway_module, "run_scenario", no_solve)
    scenario = load_scenario(None, ["horizon.end_year=2040", "horizon.build_limit_growth=0"])
    with pytest.raises(PlanInfeasible) as err:
        run_pathway(scenario)
    message = str(err.value)
    assert "pathway year 2037 | infeasible before solving" in message
    assert "peak demand 135.8 GW" in message and "132.2 GW" in message and "short by 3.6 GW" in message
    for field in ("horizon.build_limit_growth", "max_new_mw", "horizon.demand_growth", "horizon.end_year"):
        assert field in message
    assert "\n" not in message
    check_pathway_capacity(load_scenario(None, ["horizon.end_year=2035"]))  # the default decade fits


def test_the_default_decade_plans_every_year(tmp_path):
    # "Plan a pathway" from the default scenario: every year to 2035, limits growing with demand.
    pathway = run_pathway(load_scenario(None, ["horizon.end_year=2035"]))
    assert pathway.years == list(range(2025, 2036))
    sites = pathway.sites.groupby("year")["max_new_mw"].sum()
    assert sites[2035] / sites[2025] == pytest.approx(1.18**10, rel=1e-9)
    table = pathway.table.set_index("year")
    assert (table["peak_demand_mw"] <= 0.9 * table["capacity_mw"] * (1 + 1e-6)).all()
    # The headline and the table: the final year's own plan plus the annuities of earlier builds.
    final = pathway.final.summary.pathway
    assert final["total_cost_cny"] == pytest.approx(pathway.final.summary.total_cost_cny)
    assert final["annual_cost_cny"] == pytest.approx(table.loc[2035, "annual_cost_cny"])
    assert final["annual_cost_cny"] == pytest.approx(final["total_cost_cny"] + final["carried_capex_annual_cny"])
    from planner.pathway_files import format_pathway

    text = format_pathway(pathway)
    assert f"{final['total_cost_cny'] / 1e9:,.1f} + {final['carried_capex_annual_cny'] / 1e9:,.1f}" in text
