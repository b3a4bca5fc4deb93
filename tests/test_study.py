"""Studies: grids, samples, frontiers, isolation of failing runs, resuming, executors, study files, CLI."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import planner.studies.design as design_module
import planner.studies.sweeps as sweep_module
from planner.cli.study_commands import pareto_command, sweep_command
from planner.studies import (
    NEW_MW_PREFIX,
    StudyError,
    build_variant,
    design_runs,
    load_base,
    load_study,
    pareto,
    scenario_values,
    summarise_samples,
    sweep,
)

#: Two slices a day: the national plan in ~0.1 s, enough to show every behaviour.
TINY = {"name": "tiny", "time": {"hours_per_day": 2}, "solver": {"backend": "highs"}}
WEST_PRICES = [f"sites.{site}.price_cny_per_mwh" for site in ("horinger", "guian", "qingyang", "zhongwei")]


def test_grid_gives_one_row_per_combination_with_its_values(tmp_path):
    grid = {"carbon.price_cny_per_tco2": [0, 200], "workloads.finance.latency_max_ms": [5, 10]}
    table = sweep(TINY, grid=grid, executor="serial", out_dir=tmp_path, progress=False)
    assert len(table) == 4
    assert table[["carbon.price_cny_per_tco2", "workloads.finance.latency_max_ms"]].values.tolist() == [
        [0, 5], [0, 10], [200, 5], [200, 10],
    ]
    assert (table["status"] == "optimal").all() and (table["message"] == "").all()
    assert table["input_hash"].nunique() == 4
    assert {NEW_MW_PREFIX + "qingyang", "total_cost_cny", "emissions_tco2", "wall_s"} <= set(table.columns)
    # A carbon price raises cost and cuts emissions.
    cheap, priced = table.iloc[0], table.iloc[2]
    assert priced["total_cost_cny"] > cheap["total_cost_cny"]
    assert priced["emissions_tco2"] < cheap["emissions_tco2"]
    on_disk = pd.read_parquet(tmp_path / "study.parquet")
    assert on_disk["total_cost_cny"].tolist() == pytest.approx(table["total_cost_cny"].tolist(), rel=1e-12)
    # Only the table (and the folder's marker) is left in the folder: no temporary files.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".edwc-study", "study.parquet"]


def test_planted_infeasible_and_bad_runs_are_recorded_and_the_rest_complete():
    grid = {"carbon.price_cny_per_tco2": [0, 100], "workloads.finance.latency_max_ms": [5, 0.5, -1]}
    table = sweep(TINY, grid=grid, executor="serial", progress=False)
    by_limit = table.groupby("workloads.finance.latency_max_ms")["status"].agg(set).to_dict()
    assert by_limit == {5.0: {"optimal"}, 0.5: {"infeasible"}, -1.0: {"bad_input"}}
    infeasible = table[table["status"] == "infeasible"].iloc[0]
    assert "0.5 ms" in infeasible["message"] and "Finance" in infeasible["message"]
    bad = table[table["status"] == "bad_input"].iloc[0]
    assert "workloads.finance.latency_max_ms" in bad["message"] and pd.isna(bad["input_hash"])
    assert table.loc[table["status"] == "optimal", "total_cost_cny"].notna().all()


def test_reused_lp_gives_the_cold_solves_results():
    grid = {"carbon.price_cny_per_tco2": [0, 60, 120, 400]}
    warm = sweep(TINY, grid=grid, executor="serial", progress=False)
    cold = sweep(TINY, grid=grid, executor="serial", progress=False, reuse=False)
    assert set(warm["solve_path"]) == {"reuse"} and set(cold["solve_path"]) == {"cold"}
    assert warm["total_cost_cny"].tolist() == pytest.approx(cold["total_cost_cny"].tolist(), rel=1e-9)
    assert warm["emissions_tco2"].tolist() == pytest.approx(cold["emissions_tco2"].tolist(), rel=1e-6)


def test_interrupted_study_resumes_without_redoing_finished_runs(tmp_path, monkeypatch):
    grid = {"carbon.price_cny_per_tco2": [0, 100, 200, 300]}
    solved = []
    original = sweep_module.solve_sweep_task

    def interrupted_after_two(task):
        if len(solved) == 2:
            raise KeyboardInterrupt
        solved.extend(task.keys)
        return original(task)

    monkeypatch.setattr(sweep_module, "solve_sweep_task", interrupted_after_two)
    with pytest.raises(KeyboardInterrupt):
        sweep(TINY, grid=grid, executor="serial", out_dir=tmp_path, progress=False, reuse=False)
    kept = pd.read_parquet(tmp_path / "study.parquet")
    assert len(kept) == 2 and set(kept["input_hash"]) == set(solved)

    monkeypatch.setattr(sweep_module, "solve_sweep_task", original)
    table = sweep(TINY, grid=grid, executor="serial", out_dir=tmp_path, progress=False, reuse=False)
    assert table.attrs == {"solved": 2, "skipped": 2}
    assert len(table) == 4 and (table["status"] == "optimal").all()
    # The two finished runs were not solved again: their rows are the ones written before.
    again = table.set_index("input_hash").loc[kept["input_hash"], "finished_at"]
    assert again.tolist() == kept["finished_at"].tolist()
    # A third call finds everything done.
    assert sweep(TINY, grid=grid, executor="serial", out_dir=tmp_path, progress=False).attrs == {
        "solved": 0, "skipped": 4,
    }


def test_keep_runs_writes_a_run_directory_per_run(tmp_path):
    table = sweep(TINY, grid={"carbon.price_cny_per_tco2": [0, 50]}, executor="serial", out_dir=tmp_path,
                  keep_runs=True, progress=False)
    for row in table.itertuples():
        folder = tmp_path / row.run_dir
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["total_cost_cny"] == pytest.approx(row.total_cost_cny, rel=1e-12)
        assert json.loads((folder / "metadata.json").read_text())["input_hash"] == row.input_hash


def test_emission_frontier_cost_never_falls_as_the_cap_tightens():
    frontier = pareto(TINY, points=6, executor="serial", progress=False)
    assert (frontier["status"] == "optimal").all()
    assert frontier["role"].tolist() == ["unconstrained", "cap", "cap", "cap", "cap", "least"]
    emissions = frontier["emissions_tco2"].to_numpy()
    cost = frontier["total_cost_cny"].to_numpy()
    assert np.all(np.diff(emissions) <= 1e-9 * emissions[:-1])
    assert np.all(np.diff(cost) >= -1e-9 * cost[:-1])
    # Each capped plan meets its cap; the shadow price of the cap never falls either.
    capped = frontier[frontier["role"] != "unconstrained"]
    assert np.all(capped["emissions_tco2"] <= capped["carbon.cap_tco2"] * (1 + 1e-6))
    assert np.all(np.diff(frontier["carbon_shadow_price_cny_per_tco2"]) >= -1e-6)
    # Warm-started caps give the optimum that cold solves of the same caps give.
    cold = pareto(TINY, points=6, executor="serial", progress=False, reuse=False)
    assert cold["total_cost_cny"].tolist() == pytest.approx(cost.tolist(), rel=1e-9)
    # A short frontier is one LP in this process: a single cold solve, every other point warm.
    assert frontier["solve_path"].tolist() == ["cold"] + ["reuse"] * 5


def test_a_long_frontier_on_a_pool_gives_the_short_ones_points(monkeypatch):
    from planner.studies import frontiers

    short = pareto(TINY, points=5, executor="serial", progress=False)
    monkeypatch.setattr(frontiers, "SERIAL_MAX_POINTS", 2)
    pooled = pareto(TINY, points=5, executor="local", workers=2, progress=False)
    assert pooled["solve_path"].tolist().count("cold") >= 2  # the ends, in parallel
    assert pooled["total_cost_cny"].tolist() == pytest.approx(short["total_cost_cny"].tolist(), rel=1e-9)
    assert pooled["carbon.cap_tco2"].tolist()[1:] == pytest.approx(short["carbon.cap_tco2"].tolist()[1:], rel=1e-9)


def test_latency_frontier_trades_cost_for_latency():
    frontier = pareto(TINY, x="load_weighted_latency_ms", points=4, executor="serial", progress=False)
    assert (frontier["status"] == "optimal").all()
    latency = frontier["load_weighted_latency_ms"].to_numpy()
    cost = frontier["total_cost_cny"].to_numpy()
    assert np.all(np.diff(latency) < 0) and np.all(np.diff(cost) > 0)
    capped = frontier.iloc[1:]
    assert np.all(capped["load_weighted_latency_ms"] <= capped["latency.mean_cap_ms"] * (1 + 1e-6))
    # Each point is a scenario of its own: solved cold with its cap, it gives the point's cost.
    from planner.run import run_scenario
    from planner.scenario import resolve_scenario

    point = frontier.iloc[2]
    alone = run_scenario(resolve_scenario(TINY, [f"latency.mean_cap_ms={float(point['latency.mean_cap_ms'])!r}"]))
    assert alone.summary.total_cost_cny == pytest.approx(point["total_cost_cny"], rel=1e-9)
    assert alone.summary.latency_shadow_price_cny_per_ms > 0


def test_dask_local_cluster_gives_the_local_pools_table():
    grid = {"carbon.price_cny_per_tco2": [0, 150], "workloads.finance.latency_max_ms": [5, 0.5]}
    local = sweep(TINY, grid=grid, executor="local", workers=2, progress=False)
    dask = sweep(TINY, grid=grid, executor="dask", workers=2, progress=False)
    columns = ["run", "carbon.price_cny_per_tco2", "workloads.finance.latency_max_ms", "status", "input_hash"]
    pd.testing.assert_frame_equal(local[columns], dask[columns])
    assert dask["total_cost_cny"].tolist() == pytest.approx(local["total_cost_cny"].tolist(), rel=1e-9, nan_ok=True)
    assert local["status"].tolist().count("infeasible") == 2


def test_samples_are_seeded_and_within_their_distributions():
    distributions = {
        "demand.scale": {"dist": "uniform", "low": 0.9, "high": 1.1},
        "costs.discount_rate": {"dist": "normal", "mean": 0.08, "sd": 0.05, "low": 0.02, "high": 0.12},
        "policy.utilisation_max": {"dist": "triangular", "low": 0.7, "mode": 0.85, "high": 0.9},
        "workloads.backup.latency_max_ms": {"dist": "discrete", "values": [50, "none"], "probabilities": [0.3, 0.7]},
    }
    runs = design_runs(samples=200, distributions=distributions, seed=7)
    again = design_runs(samples=200, distributions=distributions, seed=7)
    other = design_runs(samples=200, distributions=distributions, seed=8)
    assert [r.values for r in runs] == [r.values for r in again]
    assert [r.values for r in runs] != [r.values for r in other]
    values = pd.DataFrame([r.values for r in runs])
    assert values["demand.scale"].between(0.9, 1.1).all()
    assert values["costs.discount_rate"].between(0.02, 0.12).all()
    assert values["costs.discount_rate"].eq(0.12).any()  # clipped draws sit on the bound
    assert values["policy.utilisation_max"].between(0.7, 0.9).all()
    assert set(values["workloads.backup.latency_max_ms"]) == {50, "none"}
    assert 0.55 < (values["workloads.backup.latency_max_ms"] == "none").mean() < 0.85
    # A grid point sees every draw: 2 grid values x 3 samples.
    crossed = design_runs({"carbon.price_cny_per_tco2": [0, 100]}, 3, distributions, seed=7)
    assert [(r.values["carbon.price_cny_per_tco2"], r.sample) for r in crossed] == [
        (0, 0), (0, 1), (0, 2), (100, 0), (100, 1), (100, 2),
    ]


def test_summarise_samples_gives_percentiles_and_build_shares():
    table = pd.DataFrame({
        "total_cost_cny": np.arange(1.0, 102.0),
        NEW_MW_PREFIX + "qingyang": [0.0] * 26 + [100.0] * 75,
        "status": ["optimal"] * 101,
    })
    table.loc[len(table)] = [1e12, 5000.0, "infeasible"]  # ignored: no plan
    summary = summarise_samples(table).set_index("figure")
    cost = summary.loc["total_cost_cny"]
    assert (cost["runs"], cost["p5"], cost["p50"], cost["p95"]) == (101, 6.0, 51.0, 96.0)
    assert np.isnan(cost["built_share"])
    assert summary.loc[NEW_MW_PREFIX + "qingyang", "built_share"] == pytest.approx(75 / 101)


def test_a_factor_scales_every_key_it_names_from_its_base_value():
    base = load_base(TINY)
    factors = {"west_price_factor": WEST_PRICES, "finance_latency": ["workloads.finance.latency_max_ms"]}
    values = design_module.factor_base_values(base, factors)
    settings = scenario_values({"west_price_factor": 1.4, "finance_latency": 2.0}, factors, values)
    scenario = build_variant(base, settings, source="test")
    assert scenario.sites["qingyang"].price_cny_per_mwh == 504.0  # 360 x 1.4, float noise dropped
    assert scenario.sites["horinger"].price_cny_per_mwh == 490.0
    assert scenario.workloads["finance"].latency_max_ms == 10.0


def _study(tmp_path, text: str):
    path = tmp_path / "study.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "field", "hint"), [
    ("base: baseline\ngridd: {}\n", "gridd", "unknown key"),
    ("grid:\n  carbon.pricee: [1, 2]\n", "grid.carbon.pricee", "unknown key 'pricee'"),
    ("grid:\n  sites.atlantis.pue: [1.2]\n", "grid.sites.atlantis.pue", "unknown site id"),
    ("grid:\n  carbon: [1, 2]\n", "grid.carbon", "is a section"),
    ("grid:\n  carbon.price_cny_per_tco2: []\n", "grid.carbon.price_cny_per_tco2", "at least 1 item"),
    ("samples: 5\ndistributions:\n  demand.scale: {dist: uniform, low: 2, high: 1}\n", "distributions.demand.scale",
     "low must be below high"),
    ("samples: 5\ndistributions:\n  demand.scale: {dist: discrete, values: [1, 2], probabilities: [0.5, 0.6]}\n",
     "distributions.demand.scale", "add up to 1"),
    ("samples: 5\ndistributions:\n  demand.scale: {dist: lognormal, mean: 1}\n", "distributions.demand.scale",
     "uniform, normal, triangular or discrete"),
    ("samples: 5\n", "distributions", "needs a distribution"),
    ("grid:\n  demand.scale: [1]\noutputs: [total_cost]\n", "outputs", "unknown summary figure"),
    ("base: atlantis\ngrid:\n  demand.scale: [1]\n", "base", "no such file or shipped scenario"),
    ("set:\n  carbon.price_cny_per_tco2: -5\ngrid:\n  demand.scale: [1]\n", "set.carbon.price_cny_per_tco2",
     "greater than or equal to 0"),
    ("factors:\n  f: [sites.qingyang.enabled]\ngrid:\n  f: [1]\n", "factors", "no numeric base value"),
    ("description: nothing varied\n", "grid", "nothing to do"),
    ("grid: [1, 2]\n", "grid", "valid dictionary"),
])
def test_bad_study_files_give_one_line_naming_the_field(tmp_path, text, field, hint):
    with pytest.raises(StudyError) as caught:
        load_study(_study(tmp_path, text))
    message = str(caught.value)
    assert message.startswith(f"study.yaml: {field}"), message
    assert hint in message and "\n" not in message


def test_shipped_studies_load():
    sweep_study = load_study("carbon-price-sweep")
    assert sweep_study.spec.pareto.points == 20 and len(sweep_study.spec.grid["carbon.price_cny_per_tco2"]) == 9
    monte_carlo = load_study("monte-carlo")
    assert monte_carlo.spec.samples == 40 and set(monte_carlo.spec.distributions) == {
        "west_price_factor", "demand.scale", "costs.capex_usd_per_mw",
    }


def test_cli_sweep_writes_table_charts_and_report(tmp_path):
    path = _study(tmp_path, yaml.safe_dump({
        "name": "tiny-sweep",
        "base": "baseline",
        "set": {"time.hours_per_day": 2, "solver.backend": "highs"},
        "factors": {"west_price_factor": WEST_PRICES},
        "grid": {"carbon.price_cny_per_tco2": [0, 100, 200], "west_price_factor": [1.0, 2.0]},
    }))
    out = tmp_path / "out"
    result = CliRunner().invoke(sweep_command, [str(path), "--out", str(out), "--executor", "serial", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "6 runs (6 optimal)" in result.output
    for name in ("study.parquet", "report.md", "response.png", "response.svg", "tornado.png", "study.json"):
        assert (out / name).exists(), name
    report = (out / "report.md").read_text()
    assert "# Study: tiny-sweep" in report and "west_price_factor" in report and "![" in report
    # Run again: nothing left to solve.
    again = CliRunner().invoke(sweep_command, [str(path), "--out", str(out), "--executor", "serial", "--no-progress"])
    assert again.exit_code == 0 and "0 solved now, 6 taken from the earlier run" in again.output


def test_cli_sweep_rejects_a_bad_study_file_with_exit_2(tmp_path):
    path = _study(tmp_path, "grid:\n  carbon.pricee: [1]\n")
    result = CliRunner().invoke(sweep_command, [str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.strip().startswith("study.yaml: grid.carbon.pricee | unknown key")
    assert len(result.output.strip().splitlines()) == 1


def test_cli_pareto_writes_frontier_plot_and_report(tmp_path):
    out = tmp_path / "frontier"
    result = CliRunner().invoke(pareto_command, [
        "baseline", "--out", str(out), "--points", "4", "--executor", "serial", "--no-progress",
        "--set", "time.hours_per_day=2", "--set", "solver.backend=highs",
    ])
    assert result.exit_code == 0, result.output
    assert "4 of 4 points solved" in result.output
    for name in ("frontier.parquet", "frontier.png", "frontier.svg", "report.md"):
        assert (out / name).exists(), name
    assert "ε-constraint" in (out / "report.md").read_text()


# ---------------------------------------------------------------------------------------------
# Checked before anything is written; study.json survives kills
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "field", "hint"), [
    ("seed: -1\nsamples: 2\ndistributions:\n  demand.scale: {dist: uniform, low: 0.9, high: 1.1}\n", "seed",
     "greater than or equal to 0"),
    (f"seed: {2**63}\nsamples: 2\ndistributions:\n  demand.scale: {{dist: uniform, low: 0.9, high: 1.1}}\n", "seed",
     "less than or equal to"),
    ("samples: 2\ndistributions:\n  demand.scale: {dist: uniform, low: -1.0e308, high: 1.0e308}\n",
     "distributions.demand.scale", "greater than or equal to -1000000000000000"),
    ("samples: 2\ndistributions:\n  demand.scale: {dist: normal, mean: 1, sd: 1.0e300}\n",
     "distributions.demand.scale", "less than or equal to"),
    ("samples: true\ndistributions:\n  demand.scale: {dist: uniform, low: 0.9, high: 1.1}\n", "samples",
     "true/false"),
    ("samples: 2\ndistributions:\n  demand.scale: {dist: uniform, low: true, high: 2}\n",
     "distributions.demand.scale", "true/false"),
    ("grid:\n  carbon.price_cny_per_tco2: [0]\nseed: yes\n", "seed", "valid integer"),
])
def test_seeds_and_distribution_bounds_are_checked_before_anything_runs(tmp_path, text, field, hint):
    path = _study(tmp_path, text)
    with pytest.raises(StudyError) as caught:
        load_study(path)
    assert str(caught.value).startswith(f"study.yaml: {field}") and hint in str(caught.value), str(caught.value)
    result = CliRunner().invoke(sweep_command, [str(path), "--out", str(tmp_path / "out"), "--executor", "serial"])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()  # no study.json, no study.parquet


def test_the_api_refuses_a_negative_seed_before_writing(tmp_path):
    with pytest.raises(StudyError, match="seed"):
        sweep(TINY, samples=2, seed=-5, distributions={"demand.scale": {"dist": "uniform", "low": 0.9, "high": 1.1}},
              executor="serial", out_dir=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


KILL_META = """
import json, os, sys
from edwc_data import files, outputs
from planner.studies import report

folder = sys.argv[1]
outcomes = []
for n in range(1, 5000):
    report.write_study_meta(folder, name="old", grid={})
    pid = os.fork()
    if pid == 0:
        count = 0

        def tracer(frame, event, arg):
            global count
            if frame.f_code.co_filename not in (files.__file__, report.__file__, outputs.__file__):
                return None
            if event == "line":
                count += 1
                if count == n:
                    os._exit(137)  # as SIGKILL: no finally, no clean-up
            return tracer

        sys.settrace(tracer)
        report.write_study_meta(folder, name="new", grid={"x": list(range(2000))})
        sys.settrace(None)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    try:
        with open(os.path.join(folder, "study.json"), encoding="utf-8") as handle:
            state = json.load(handle)["name"]
    except Exception:
        state = "truncated"
    outcomes.append({"line": n, "exit": os.waitstatus_to_exitcode(status), "state": state})
    if outcomes[-1]["exit"] == 0:
        break
print(json.dumps(outcomes))
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_study_json_killed_at_any_line_is_the_previous_one_or_the_new_one(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from edwc_data.outputs import claim_folder

    folder = claim_folder(tmp_path / "study", "study")
    done = subprocess.run([sys.executable, "-c", KILL_META, str(folder)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert done.returncode == 0, done.stderr
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcomes[-1]["exit"] == 0 and len(outcomes) > 20  # killed at every line of the write, then complete
    assert {o["state"] for o in outcomes} == {"old", "new"}, outcomes  # never truncated, never missing
    leftovers = [p.name for p in folder.iterdir() if p.name not in ("study.json", ".edwc-study")]
    assert all(name.startswith(".study.json.edwc-") and name.endswith(".tmp") for name in leftovers), leftovers


def test_a_truncated_study_json_does_not_block_a_resume(tmp_path):
    grid = {"carbon.price_cny_per_tco2": [0, 100]}
    sweep(TINY, grid=grid, executor="serial", out_dir=tmp_path, progress=False, record={"name": "first"})
    meta = (tmp_path / "study.json").read_bytes()
    (tmp_path / "study.json").write_bytes(meta[: len(meta) // 2])  # as a crash of another tool might leave it
    table = sweep(TINY, grid=grid, executor="serial", out_dir=tmp_path, progress=False, record={"name": "again"})
    assert table.attrs == {"solved": 0, "skipped": 2}
    assert json.loads((tmp_path / "study.json").read_text())["name"] == "again"


def test_a_description_cannot_put_markup_into_the_report(tmp_path):
    path = _study(tmp_path, yaml.safe_dump({
        "name": "![x](http://tracker.example/pixel.png)",
        "description": "See <img src=http://tracker.example/a.png> and [a link](http://x.example)",
        "base": "baseline", "set": {"time.hours_per_day": 1},
        "grid": {"carbon.price_cny_per_tco2": [0]},
    }))
    out = tmp_path / "out"
    result = CliRunner().invoke(sweep_command, [str(path), "--out", str(out), "--executor", "serial", "--no-progress",
                                                "--no-plots"])
    assert result.exit_code == 0, result.output
    report = (out / "report.md").read_text()
    import re

    # Markup characters reach the report only escaped: it shows the text, and fetches nothing.
    assert not re.search(r"(?<!\\)(!\[|<img|\]\()", report), report
    assert "\\!\\[x\\]\\(http://tracker.example/pixel.png\\)" in report
