"""The edwc command line through click's runner: exit codes, messages and the run directory."""

import json

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.rundir import RUN_FILES, read_run


@pytest.fixture
def runner():
    return CliRunner()


def test_run_writes_a_complete_run_directory(runner, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(main, ["run", "--no-map", "--out", str(out), "--set", "carbon.price_cny_per_tco2=100"])
    assert result.exit_code == 0, result.output
    assert "Total annual cost" in result.output
    for name in RUN_FILES:
        assert (out / name).exists(), name
    results = read_run(out)
    summary = json.loads((out / "summary.json").read_text())
    assert results.summary.total_cost_cny == pytest.approx(summary["total_cost_cny"])
    assert results.scenario["carbon"]["price_cny_per_tco2"] == 100
    metadata = results.metadata
    assert metadata["status"] == "optimal" and metadata["max_violation"] < 1e-7
    assert len(metadata["input_hash"]) == 64 and metadata["pulp"] and metadata["highspy"]
    assert (results.flows["load_mw"] > 0).all()
    # No temporary folders are left beside the run.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_bad_input_exits_2_and_writes_nothing(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sites:\n  qingyang:\n    pue: -1\n")
    out = tmp_path / "run"
    result = runner.invoke(main, ["run", str(bad), "--no-map", "--out", str(out)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "bad.yaml: sites.qingyang.pue | Input should be greater than or equal to 1, got -1. "
        "Give a value within the documented range."
    ]
    assert not out.exists()


def test_infeasible_exits_1_with_a_reason(runner, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(
        main, ["run", "--no-map", "--out", str(out), "--set", "workloads.finance.latency_max_ms=0.5"]
    )
    assert result.exit_code == 1
    assert "infeasible" in result.output and "Finance" in result.output and "0.5 ms limit" in result.output
    assert not out.exists()


def test_rerun_replaces_the_run_directory(runner, tmp_path):
    out = tmp_path / "run"
    assert runner.invoke(main, ["run", "--no-map", "--backend", "highs", "--out", str(out)]).exit_code == 0
    (out / "stale.txt").write_text("old")
    assert runner.invoke(main, ["run", "--no-map", "--backend", "highs", "--out", str(out)]).exit_code == 0
    assert not (out / "stale.txt").exists()
    assert read_run(out).metadata["backend"] == "highs"


def test_scenarios_lists_the_shipped_ones(runner):
    result = runner.invoke(main, ["scenarios"])
    assert {"baseline", "low-carbon", "no-west", "policy-2025"} <= set(result.output.split())


def test_every_shipped_scenario_has_a_line_in_both_languages(runner):
    from edwc_data.labels import label_table

    from planner.scenario import shipped_scenarios

    names = shipped_scenarios()
    for lang in ("en", "zh"):
        result = runner.invoke(main, ["scenarios", "--lang", lang])
        lines = result.output.splitlines()
        assert result.exit_code == 0 and [line.split()[0] for line in lines] == names
        for name, line in zip(names, lines, strict=True):
            text = label_table()[f"scenario_line_{name}"][lang]
            assert line.endswith(text) and len(text) > 10


def test_run_writes_a_map_and_map_exports_formats(runner, tmp_path):
    out = tmp_path / "run"
    assert runner.invoke(main, ["run", "--out", str(out)]).exit_code == 0
    assert (out / "plan_map.png").stat().st_size > 50_000
    maps = tmp_path / "maps"
    result = runner.invoke(
        main, ["map", str(out), "--format", "svg,geojson,html", "--out", str(maps), "--metric", "emissions_tco2"]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in maps.iterdir())
    assert names.pop(0) == ".edwc-output"  # the folder is marked as the tool's
    assert names == [
        "plan_map.html",
        "plan_map.svg",
        "plan_map_clusters.geojson",
        "plan_map_flows.geojson",
        "plan_map_provinces.geojson",
    ]
    bad = runner.invoke(main, ["map", str(out), "--format", "bmp", "--out", str(tmp_path / "none")])
    assert bad.exit_code == 2 and "unknown format 'bmp'" in bad.output
    assert not (tmp_path / "none").exists()
