"""Refuses what the machine cannot hold: LP size estimated before building, worker memory limits, worker counts,
schedulers that do not answer, and a progress bar from the start of a large study.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import planner.studies.sweeps as sweep_module
from optimizer import size
from optimizer.formulation import build_lp
from planner.cli import main
from planner.errors import PlanTooLarge
from planner.parallel import available_cores, clamp_workers, open_executor
from planner.preprocess import build_inputs
from planner.scenario import load_scenario
from planner.sizing import check_plan_size, estimate_plan_size

REPO = Path(__file__).resolve().parents[1]
#: The scenario of the issue, under 40 bytes: every hour of a leap year.
# A year of hourly slices, every day its own (the --set form of BOMB).
HOURLY_YEAR = ["time.representative=identical", "time.days=366", "time.hours_per_day=24"]
BOMB = "time: {days: 366, hours_per_day: 24, representative: identical}\n"
TINY = {"time": {"hours_per_day": 1}, "solver": {"backend": "highs"}}

PEAK_OF_CHILD = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
                  "peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def _bomb_fits_here() -> bool:
    budget = size.memory_budget_bytes()
    return budget is not None and estimate_plan_size(load_scenario(None, HOURLY_YEAR)).memory_bytes <= budget


@pytest.mark.skipif(_bomb_fits_here(), reason="this machine has the memory for a year of hourly slices")
def test_the_memory_bomb_is_refused_before_it_grows(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    # Measured in a process of its own: its only child is the `edwc run`, so the children's peak is its peak.
    done = subprocess.run([sys.executable, "-c", PEAK_OF_CHILD, sys.executable, "-m", "planner.cli", "run",
                           str(bomb), "--no-map"], capture_output=True, text=True, cwd=tmp_path, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    report = json.loads(done.stdout)
    assert report["code"] == 2, report
    lines = report["stderr"].strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bomb.yaml: time | 8,784 time slices"), lines
    assert "GB" in lines[0] and "clustered days" in lines[0]
    assert report["peak_kb"] < 1_000_000, report["peak_kb"]  # under 1 GB [kB]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.yaml"]  # nothing written


@pytest.mark.parametrize("settings", [
    [],
    ["time.days=3"],
    ["time.days=2", "time.defer_within_day=true", "time.defer_peak_factor=2", "carbon.cap_tco2=1.6e8",
     "latency.mean_cap_ms=5", "policy.hub_new_share_min=0.6", "sites.qingyang.enabled=false"],
    ["time.hours_per_day=4", "sites.local_beijing.green_available_mw=50"],
])
def test_the_estimate_bounds_the_lp_that_is_built(settings):
    scenario = load_scenario(None, settings)
    estimate = estimate_plan_size(scenario)
    lp, _ = build_lp(build_inputs(scenario))
    nonzeros = sum(values.size for values in lp._coo_vals)
    assert lp.num_cols <= estimate.columns <= 3 * lp.num_cols
    assert lp.num_rows <= estimate.rows <= 3 * lp.num_rows
    assert nonzeros <= estimate.nonzeros <= 3 * nonzeros
    assert estimate.memory_bytes > size.BASE_MEMORY_BYTES


def test_the_estimate_bounds_the_hourly_scenario():
    scenario = load_scenario("hourly-2025")
    estimate = estimate_plan_size(scenario)
    lp, _ = build_lp(build_inputs(scenario))
    assert lp.num_cols <= estimate.columns and lp.num_rows <= estimate.rows


def test_the_estimate_follows_the_solvers_own_threshold():
    from optimizer.solve import AUTO_PULP_MAX_COLUMNS

    assert size.AUTO_PULP_MAX_COLUMNS == AUTO_PULP_MAX_COLUMNS
    small = size.estimate_lp_size(2, 2, 1, 1, 1.0)
    assert small.memory_bytes == size.BASE_MEMORY_BYTES + size.BYTES_PER_COLUMN["pulp"] * small.columns + (
        size.BYTES_PER_NONZERO["pulp"] * small.nonzeros)


def test_the_budget_is_half_the_available_memory_unless_the_scenario_sets_one():
    available = size.available_memory_bytes()
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert 0 < available <= total
    assert abs(size.memory_budget_bytes() - 0.5 * size.available_memory_bytes()) < 0.05 * total
    assert size.memory_budget_bytes(2.5) == 2_500_000_000


def test_a_scenario_may_raise_or_lower_its_budget_but_not_the_apps_cap():
    bomb = load_scenario(None, [*HOURLY_YEAR, "solver.memory_budget_gb=100000"])
    assert check_plan_size(bomb).columns > 10_000_000  # allowed: the user says the machine has it
    with pytest.raises(PlanTooLarge, match="limit of this server's solver processes"):
        check_plan_size(bomb, cap_bytes=4_000_000_000)
    with pytest.raises(PlanTooLarge, match=r"solver.memory_budget_gb = 0.1\)"):
        check_plan_size(load_scenario(None, ["solver.memory_budget_gb=0.1"]))


def test_the_app_refuses_the_bomb_with_the_same_estimate(monkeypatch):
    from ui import jobs

    monkeypatch.setattr(jobs, "plan_budget_bytes", lambda: 4_000_000_000)  # a worker's limit
    outcome = jobs.solve_plan(load_scenario(None, HOURLY_YEAR).to_dict())
    assert outcome.status == "bad_input" and "over the budget" in outcome.message and outcome.results is None
    assert jobs.solve_pathway(load_scenario(None, [*HOURLY_YEAR, "horizon.end_year=2026"]).to_dict())[
        "status"] == "bad_input"


def test_workers_are_capped_at_the_cores_available(tmp_path):
    cores = available_cores()
    assert clamp_workers(None) == (cores, None)
    count, message = clamp_workers(1000)
    assert count == cores and "1000" in message
    with open_executor("local", workers=1000) as pool:
        assert pool.workers == cores  # no 1000 processes
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"base": "baseline", "set": {"time.hours_per_day": 1},
                                     "grid": {"carbon.price_cny_per_tco2": [0]}}))
    result = CliRunner().invoke(main, ["sweep", str(study), "--out", str(tmp_path / "out"), "--workers", "1000",
                                       "--no-progress", "--no-plots"])
    assert result.exit_code == 0, result.output
    assert f"more than the {cores} core(s) available: using {cores}" in result.output


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:{port}", "tcp://no-such-host.invalid:8786", "10.0.0.5",
                                     "tcp://127.0.0.1:99999"])
def test_a_scheduler_that_does_not_answer_is_refused_before_anything_is_written(address, tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"base": "baseline", "grid": {"carbon.price_cny_per_tco2": [0, 100]}}))
    out = tmp_path / "out"
    for command in (["sweep", str(study)], ["pareto", "baseline", "--points", "3"]):
        result = CliRunner().invoke(main, [*command, "--out", str(out), "--address",
                                           address.format(port=_closed_port())])
        assert result.exit_code == 2, (result.output, result.exception)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("--address | "), lines
        assert not out.exists()


def test_a_large_study_shows_progress_from_its_first_chunk(monkeypatch):
    built = [0]
    events = []
    real_build = sweep_module.build_variant

    class Bar:
        def __init__(self, total, enabled, description):
            events.append(("bar", description, total, enabled, built[0]))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, count):
            events.append(("update", count, built[0]))

    def counting_build(*args, **kwargs):
        built[0] += 1
        if built[0] > 3 * sweep_module.RESOLVE_CHUNK_RUNS:
            raise KeyboardInterrupt  # enough: the study's preparation was shown as it went
        return real_build(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "_progress", Bar)
    monkeypatch.setattr(sweep_module, "build_variant", counting_build)
    prices = np.linspace(0.0, 500.0, 99_999).tolist()
    with pytest.raises(KeyboardInterrupt):
        sweep_module.sweep(TINY, grid={"carbon.price_cny_per_tco2": prices}, executor="serial")
    assert events[0] == ("bar", "preparing", 99_999, True, 0)  # shown before the first run is resolved
    updates = [event for event in events if event[0] == "update"]
    assert [event[2] for event in updates] == [500, 1000, 1500]  # every chunk


def test_app_workers_run_under_a_memory_limit_and_a_dead_worker_is_explained():
    import resource

    from ui.engine import Engine, JobFailed

    limit = 3_500_000_000
    engine = Engine(max_workers=1, memory_limit_bytes=limit)
    try:
        assert engine.submit(("limit",), resource.getrlimit, resource.RLIMIT_AS).result(timeout=300)[0] == limit
        with pytest.raises(JobFailed) as memory:
            engine.submit(("big",), bytearray, 5_000_000_000).result(timeout=300)  # more than it may address
        assert memory.value.label == "worker_memory"
        with pytest.raises(JobFailed) as lost:
            engine.submit(("die",), os._exit, 9).result(timeout=300)  # the worker dies (as if killed)
        assert lost.value.label == "worker_lost"
        assert engine.submit(("after",), sum, [1, 2]).result(timeout=300) == 3  # a fresh pool goes on
        from edwc_data.labels import t

        for label in (memory.value.label, lost.value.label):  # explained in both languages
            assert t(label, "en") and t(label, "zh")
    finally:
        engine.shutdown()
