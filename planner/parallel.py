"""Where many independent solves run: in this process, on a local process pool, or on a Dask cluster."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from typing import Any

from planner.scenario import ScenarioError

#: Where tasks may run.
EXECUTORS = ("local", "dask", "serial")


def _fail(message: str, source: str) -> None:
    raise ScenarioError(source, "", message)

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

        futures = [self.client.submit(function, task, pure=False) for task in tasks]
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


@contextlib.contextmanager
def open_executor(
    executor: str = "local", workers: int | None = None, address: str | None = None
) -> Iterator[_Executor]:
    """A running executor for study tasks.

    Parameters
    ----------
    executor : {'local', 'dask', 'serial'}
        'local': a process pool on this machine. 'dask': Dask distributed, on a new
        LocalCluster of ``workers`` single-threaded worker processes, or on the scheduler at
        ``address``. 'serial': in this process, one task after another (for debugging).
    workers : int, optional
        Worker processes (default: ``os.cpu_count()``); ignored with ``address``.
    address : str, optional
        Scheduler address such as ``tcp://10.0.0.5:8786`` (Dask only). Its workers need
        edwc-planner installed.
    """
    if executor not in EXECUTORS:
        _fail(f"must be one of {', '.join(EXECUTORS)}, got {executor!r}.", source="executor")
    if address and executor != "dask":
        msg = "a scheduler address needs executor='dask'. Add --executor dask."
        _fail(msg, source="address")
    workers = max(1, int(workers or os.cpu_count() or 1))
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
            client = Client(address)
            workers = max(1, sum(client.nthreads().values()))
        else:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
        try:
            yield _DaskExecutor(client, workers)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

