"""Studies on a batch cluster (slurm, pbs) through dask-jobqueue, with its local job runner standing in for the queue.

dask-jobqueue's own ``LocalCluster`` runs each job's script as a local process instead of handing it
to ``sbatch``: everything else (the job script, scaling by jobs, workers joining the scheduler) is the
code path a real SLURM or PBS cluster takes.
"""

import os

import pytest
from click.testing import CliRunner

import planner.parallel as parallel
from optimizer.solve import thread_options
from planner.cli.study_commands import sweep_command
from planner.parallel import JobSpec, open_executor
from planner.scenario import ScenarioError
from planner.studies import sweep

TINY = {"name": "tiny", "time": {"hours_per_day": 2}, "solver": {"backend": "highs"}}
GRID = {"carbon.price_cny_per_tco2": [0, 150, 300], "workloads.finance.latency_max_ms": [5, 10]}
SMALL_JOBS = JobSpec(jobs=1, cores=2, memory="2GB", walltime="00:20:00")


@pytest.fixture
def local_queue(monkeypatch):
    """``--executor slurm`` runs its jobs here: dask-jobqueue's local job runner stands in for sbatch."""
    monkeypatch.setitem(parallel.JOBQUEUE_CLUSTERS, "slurm", ("dask_jobqueue.local", "LocalCluster"))
    monkeypatch.setitem(parallel.JOBQUEUE_COMMANDS, "slurm", "sh")


def test_a_batch_study_gives_the_same_table_as_the_local_pool(local_queue):
    batch = sweep(TINY, grid=GRID, executor="slurm", jobs=SMALL_JOBS, progress=False)
    local = sweep(TINY, grid=GRID, executor="local", workers=2, progress=False)
    columns = ["run", *GRID, "status", "total_cost_cny", "emissions_tco2", "input_hash"]
    assert (batch["status"] == "optimal").all()
    assert batch[columns].equals(local[columns])


def test_batch_workers_run_highs_on_one_thread(local_queue):
    # Defined here, the task travels by value (a worker cannot import the tests).
    def worker_threads(_task):
        return os.environ.get("EDWC_HIGHS_THREADS"), thread_options()

    with open_executor("slurm", jobs=SMALL_JOBS) as pool:
        assert pool.workers == 2
        results = [result for _, result, exc in pool.map_unordered(worker_threads, [0, 1, 2]) if exc is None]
    assert results == [("1", {"threads": 1})] * 3


def test_no_sbatch_here_is_refused_in_one_line_before_anything_is_written(tmp_path):
    # This machine has no SLURM: the study must stop before it writes or submits anything.
    study = tmp_path / "study.yaml"
    study.write_text("base: baseline\ngrid:\n  carbon.price_cny_per_tco2: [0, 100]\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(sweep_command, [str(study), "--out", str(out), "--executor", "slurm"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("executor | sbatch is not on this machine's PATH")
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(("jobs", "field"), [
    (JobSpec(memory="lots"), "--job-memory"),
    (JobSpec(memory="100MB"), "--job-memory"),
    (JobSpec(walltime="1 hour"), "--walltime"),
    (JobSpec(jobs=0), "--jobs"),
])
def test_job_settings_the_queue_would_reject_are_refused(local_queue, jobs, field):
    with pytest.raises(ScenarioError) as error:
        parallel.check_executor("slurm", jobs=jobs)
    assert error.value.source == field
