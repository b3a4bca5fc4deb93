"""Where many independent solves run: in this process, on a local process pool, or on a Dask cluster."""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import re
import shutil
import socket
from collections.abc import Callable, Iterator
from typing import Any

from planner.errors import ScenarioError
from planner.safe_yaml import shown_value

#: Where tasks may run.
EXECUTORS = ("local", "dask", "serial", "slurm", "pbs")
#: Executors that submit Dask workers as batch jobs (dask-jobqueue), and the command each needs here.
JOBQUEUE_COMMANDS = {"slurm": "sbatch", "pbs": "qsub"}
#: Times a task is tried again on another worker when its worker is lost (a job killed at its walltime, a node
#: gone); a run's own failure is recorded, not retried.
TASK_RETRIES = 2
#: Longest wait for a Dask scheduler to accept a connection before the study is refused. [s]
SCHEDULER_TIMEOUT_S = 3.0
_ADDRESS = re.compile(r"^(?P<scheme>tcp|tls)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>[0-9]{1,5})$")


def _fail(message: str, source: str) -> None:
    raise ScenarioError(message, source=source)


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def clamp_workers(workers: int | None) -> tuple[int, str | None]:
    """(worker processes to start, a note when ``workers`` was more than the cores available, else None)."""
    cores = available_cores()
    if workers is None:
        return cores, None
    if workers > cores:
        return cores, f"--workers {workers} is more than the {cores} core(s) available: using {cores}."
    return max(1, workers), None


def check_scheduler(address: str, timeout_s: float = SCHEDULER_TIMEOUT_S) -> None:
    """Refuse a Dask scheduler address that is malformed or does not accept a connection within ``timeout_s``.

    Raises
    ------
    ScenarioError
        One line: the address, why, and the fix.
    """
    match = _ADDRESS.match(address.strip()) if isinstance(address, str) else None
    if match is None or not 0 < int(match["port"]) < 65536:
        _fail(f"expected tcp://HOST:PORT such as tcp://10.0.0.5:8786, got {shown_value(address)}. "
              "Give the scheduler's address.", source="--address")
    host = match["host"].strip("[]")
    try:
        with socket.create_connection((host, int(match["port"])), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        _fail(f"no Dask scheduler answers at {shown_value(address)} within {timeout_s:g} s ({reason}). Start it, "
              "check the address, or use --executor local.", source="--address")


@dataclasses.dataclass(frozen=True)
class JobSpec:
    """The batch jobs a ``slurm`` or ``pbs`` executor asks for; each job runs ``cores`` single-threaded workers.

    Attributes
    ----------
    jobs : int
        Jobs to start (the most, with ``adaptive``).
    cores : int
        Cores, and worker processes, per job.
    memory : str
        Memory per job, e.g. ``'16GB'`` (each worker gets its share).
    walltime : str
        Wall-clock limit of a job, ``HH:MM:SS``.
    queue, account : str, optional
        Queue (partition) and account to charge.
    adaptive : bool
        Scale between one job and ``jobs`` with the work waiting, instead of starting them all.
    dashboard : bool
        Serve the Dask dashboard (its address is printed).
    """

    jobs: int = 1
    cores: int = 4
    memory: str = "16GB"
    walltime: str = "01:00:00"
    queue: str | None = None
    account: str | None = None
    adaptive: bool = False
    dashboard: bool = False


_WALLTIME = re.compile(r"^(\d+-)?\d{1,3}:\d{2}(:\d{2})?$")


def check_jobs(jobs: JobSpec) -> None:
    """Refuse job settings the queue would reject, before anything is submitted."""
    from dask.utils import parse_bytes

    for name in ("jobs", "cores"):
        value = getattr(jobs, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            _fail(f"must be a whole number of at least 1, got {shown_value(value)}.", source=f"--{name}")
    try:
        memory = parse_bytes(jobs.memory)
    except (ValueError, TypeError):
        memory = 0
    if memory < 2**28:
        _fail(f"expected a size such as 16GB (at least 256MB), got {shown_value(jobs.memory)}.",
              source="--job-memory")
    if not isinstance(jobs.walltime, str) or not _WALLTIME.match(jobs.walltime):
        _fail(f"expected HH:MM:SS (or D-HH:MM:SS), got {shown_value(jobs.walltime)}.", source="--walltime")


def check_executor(executor: str, workers: int | None = None, address: str | None = None,
                   jobs: JobSpec | None = None) -> None:
    """Check executor options before anything runs or is written (names, worker count, the scheduler, jobs)."""
    if executor not in EXECUTORS:
        _fail(f"must be one of {', '.join(EXECUTORS)}, got {shown_value(executor)}. Choose one of them.",
              source="executor")
    if address and executor != "dask":
        _fail("a scheduler address needs executor='dask'. Add --executor dask.", source="address")
    if executor in JOBQUEUE_COMMANDS:
        check_jobs(jobs or JobSpec())
        command = JOBQUEUE_COMMANDS[executor]
        if shutil.which(command) is None:
            _fail(f"{command} is not on this machine's PATH: {executor} jobs can only be submitted from a "
                  "machine of that cluster (its login node). Run there, or use --executor local.",
                  source="executor")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        _fail(f"must be a whole number of at least 1, got {shown_value(workers)}. Give a count.", source="workers")
    if address:
        check_scheduler(address)


class _Executor:
    """Runs tasks and yields (task, result, exception) as they complete."""

    workers: int

    def map_unordered(self, function: Callable, tasks: list) -> Iterator[tuple[Any, Any, BaseException | None]]:
        raise NotImplementedError


class _SerialExecutor(_Executor):
    workers = 1

    def map_unordered(self, function, tasks):
        for task in tasks:
            try:
                yield task, function(task), None
            except Exception as exc:  # noqa: BLE001
                yield task, None, exc


class _PoolExecutor(_Executor):
    def __init__(self, pool, workers: int):
        self.pool, self.workers = pool, workers

    def map_unordered(self, function, tasks):
        from concurrent.futures import as_completed

        futures = {self.pool.submit(function, task): task for task in tasks}
        try:
            for future in as_completed(futures):
                exc = future.exception()
                yield futures[future], None if exc else future.result(), exc
        except BaseException:
            for future in futures:
                future.cancel()
            raise


class _DaskExecutor(_Executor):
    def __init__(self, client, workers: int):
        self.client, self.workers = client, workers

    def map_unordered(self, function, tasks):
        from distributed import as_completed

        futures = [self.client.submit(function, task, pure=False, retries=TASK_RETRIES) for task in tasks]
        by_key = {future.key: task for future, task in zip(futures, tasks, strict=True)}
        try:
            for future in as_completed(futures):
                task = by_key[future.key]
                if future.status == "error":
                    yield task, None, future.exception()
                else:
                    yield task, future.result(), None
        except BaseException:
            self.client.cancel(futures)
            raise


def _local_context():
    # A forkserver forks workers from one process that has imported the planner once: fast
    # start-up without forking a parent that may hold threads (progress bar, Dask).
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["planner.studies.sweeps"])
        return context
    return multiprocessing.get_context("spawn")


def _pin_threads() -> None:
    # Run on every Dask worker as it joins, before its first task: HiGHS keeps to the worker's
    # one core (optimizer.solve.HIGHS_THREADS_ENV) instead of a thread pool the size of the node.
    os.environ["EDWC_HIGHS_THREADS"] = "1"


#: The dask-jobqueue cluster class of each batch executor, by module and name (imported when used).
JOBQUEUE_CLUSTERS = {"slurm": ("dask_jobqueue", "SLURMCluster"), "pbs": ("dask_jobqueue", "PBSCluster")}


def _jobqueue_cluster(executor: str, jobs: JobSpec):
    """A dask-jobqueue cluster of ``jobs`` for ``executor``, scaled (or adaptive); one thread per worker."""
    import importlib
    import logging

    module, name = JOBQUEUE_CLUSTERS[executor]
    cluster_class = getattr(importlib.import_module(module), name)
    options: dict[str, Any] = {
        "cores": jobs.cores,
        "processes": jobs.cores,  # single-threaded workers: one LP solve per core
        "memory": jobs.memory,
        "walltime": jobs.walltime,
        "job_name": "edwc-study",
        "silence_logs": logging.ERROR,
        "dashboard_address": ":8787" if jobs.dashboard else None,
    }
    if jobs.queue:
        options["queue"] = jobs.queue
    if jobs.account:
        options["account"] = jobs.account
    cluster = cluster_class(**options)
    if jobs.adaptive:
        cluster.adapt(minimum_jobs=1, maximum_jobs=jobs.jobs)
    else:
        cluster.scale(jobs=jobs.jobs)
    return cluster


@contextlib.contextmanager
def open_executor(
    executor: str = "local", workers: int | None = None, address: str | None = None,
    jobs: JobSpec | None = None, on_dashboard: Callable[[str], None] | None = None,
) -> Iterator[_Executor]:
    """A running executor for study tasks.

    Parameters
    ----------
    executor : {'local', 'dask', 'serial'}
        'local': a process pool on this machine. 'dask': Dask distributed, on a new
        LocalCluster of ``workers`` single-threaded worker processes, or on the scheduler at
        ``address``. 'serial': in this process, one task after another (for debugging).
    workers : int, optional
        Worker processes (default, and at most: the cores available, :func:`available_cores`);
        ignored with ``address``.
    address : str, optional
        Scheduler address such as ``tcp://10.0.0.5:8786`` (Dask only). Its workers need
        edwc-planner installed. It must accept a connection within ``SCHEDULER_TIMEOUT_S``.
    jobs : JobSpec, optional
        The batch jobs of a ``'slurm'`` or ``'pbs'`` executor (dask-jobqueue): the scheduler runs
        here, workers start as jobs in the queue (edwc-planner installed in the same environment on
        the nodes); tasks of a lost worker are retried ``TASK_RETRIES`` times.
    on_dashboard : callable, optional
        Called with the dashboard's address when ``jobs.dashboard`` asks for one.

    Raises
    ------
    ScenarioError
        Bad options or an unreachable scheduler, before anything is started.
    """
    check_executor(executor, workers, address, jobs)
    workers, _ = clamp_workers(workers)  # never more processes than cores
    if executor == "serial":
        yield _SerialExecutor()
    elif executor == "local":
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=workers, mp_context=_local_context())
        try:
            yield _PoolExecutor(pool, workers)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    else:
        import logging

        from distributed import Client, LocalCluster

        cluster = None
        if address:
            client = Client(address, timeout=f"{2 * SCHEDULER_TIMEOUT_S:g}s")
            workers = max(1, sum(client.nthreads().values()))
        elif executor in JOBQUEUE_COMMANDS:
            jobs = jobs or JobSpec()
            cluster = _jobqueue_cluster(executor, jobs)
            client = Client(cluster)
            # Tasks are handed out as workers join; the queue may hold the jobs for a while.
            workers = jobs.jobs * jobs.cores
            if jobs.dashboard and on_dashboard is not None:
                on_dashboard(client.dashboard_link)
        else:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
        client.register_worker_callbacks(_pin_threads)  # workers there now and those that join later
        try:
            yield _DaskExecutor(client, workers)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

