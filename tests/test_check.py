"""The full-year check: it reproduces a plan on its own days and finds a planted shortfall."""

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli.check_command import check
from planner.run import run_scenario
from planner.rundir import write_run
from planner.scenario import load_scenario
from planner.yearcheck import CheckError, check_plan, load_plan, write_check, year_cases


@pytest.fixture(scope="module")
def clustered_run(tmp_path_factory):
    scenario = load_scenario(None, [
        "time.representative=clustered", "time.days=3", "time.extreme_days=false", "time.hours_per_day=6",
        "time.defer_within_day=true", "carbon.price_cny_per_tco2=150",
    ])
    return write_run(run_scenario(scenario), tmp_path_factory.mktemp("runs") / "clustered")


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory):
    return write_run(run_scenario(load_scenario()), tmp_path_factory.mktemp("runs") / "baseline")


def test_a_plan_checked_on_its_own_days_reproduces_its_figures(clustered_run):
    report = check_plan(clustered_run, representative=True, executor="serial").report
    promised, delivered = report["promised"], report["delivered"]
    assert report["days_checked"] == 3
    assert delivered["unserved_mwh"] == 0.0
    assert delivered["total_cost_cny"] == pytest.approx(promised["total_cost_cny"], rel=1e-7)
    assert delivered["it_energy_mwh"] == pytest.approx(promised["it_energy_mwh"], rel=1e-9)
    # Tied optima may trade emissions against equal-cost choices; only slightly.
    assert delivered["emissions_tco2"] == pytest.approx(promised["emissions_tco2"], rel=1e-3)
    assert delivered["green_share"] == pytest.approx(promised["green_share"], abs=1e-3)
    assert delivered["peak_utilisation"] <= load_scenario().policy.utilisation_max + 1e-9  # policy.utilisation_max


def test_the_full_year_check_finds_a_planted_shortfall(baseline_run, tmp_path):
    # Tibet's industrial-control and finance load can only run at its local site: leave that site
    # capacity for 95 % of their peak, so the peak hours fall short.
    plan = load_plan(baseline_run)
    inputs = plan.inputs
    p = int(np.nonzero(inputs.provinces["province"] == "tibet")[0][0])
    local = int(np.nonzero(inputs.sites["site"] == "local_tibet")[0][0])
    allowed = inputs.allowed()[p]
    local_only = allowed[local] & (allowed.sum(axis=0) == 1)
    assert local_only.any()
    peak_mw = inputs.demand_mw[p, local_only].sum(axis=0).max()
    planted = tmp_path / "planted"
    planted.mkdir()
    for path in baseline_run.iterdir():
        (planted / path.name).write_bytes(path.read_bytes())
    sites = pd.read_csv(planted / "sites.csv")
    row = sites["site"] == "local_tibet"
    sites.loc[row, "capacity_mw"] = 0.95 * peak_mw / inputs.utilisation_max
    sites.to_csv(planted / "sites.csv", index=False)

    honest = check_plan(baseline_run, year_hours=72, executor="serial").report
    short = check_plan(planted, year_hours=72, executor="serial").report
    assert not [row for row in honest["shortfalls"] if row["province"] == "tibet"]
    tibet = [row for row in short["shortfalls"] if row["province"] == "tibet"]
    assert tibet and sum(row["unserved_mwh"] for row in tibet) > 0
    # Only the peak hours fall short, not the whole day.
    assert 0 < short["delivered"]["unserved_hours"] < 72
    assert short["annualised"] and short["days_checked"] == 3


def test_check_writes_its_files_atomically_through_the_cli(baseline_run):
    result = CliRunner().invoke(check, [str(baseline_run), "--year-hours", "48", "--executor", "serial",
                                        "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "Unserved demand" in result.output
    report = json.loads((baseline_run / "check.json").read_text())
    days = pd.read_csv(baseline_run / "check_days.csv")
    assert report["days_checked"] == 2 and len(days) == 2
    assert np.isclose(days["operating_cost_cny"].sum(), report["delivered"]["operating_cost_cny"])
    assert [p.name for p in baseline_run.iterdir() if p.name.startswith(".")] == [".edwc-run"]  # no staging left


def test_bad_input_is_refused(tmp_path, baseline_run):
    result = CliRunner().invoke(check, [str(tmp_path), "--executor", "serial"])
    assert result.exit_code == 2
    assert "not a complete run directory" in result.output
    with pytest.raises(CheckError, match="multiple of 24"):
        year_cases(load_plan(baseline_run), 25)


def test_write_check_replaces_previous_results(clustered_run):
    first = check_plan(clustered_run, representative=True, executor="serial")
    written = write_check(first, clustered_run)
    assert [path.name for path in written] == ["check.json", "check_days.csv"]
    assert json.loads(written[0].read_text())["mode"] == "representative"
