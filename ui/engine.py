"""Solving off the script thread: a small process pool and a bounded cache shared by all sessions."""

# Streamlit runs each session's script in a thread of one server process; a 1–2 s solve or a
# 3 s map drawn there would hold the GIL against every other session. Work goes to a process
# pool of at most two workers (this is a 2-core machine) started with "spawn", since forking a
# threaded server can deadlock. Outcomes are cached by key, a plan's key being the input hash
# of its validated scenario, so every session asking for the same scenario shares one solve
# and no session can reach a plan it did not itself describe in full.
#
# One user must not sink the server: every worker runs under an address-space limit
# (RLIMIT_AS, set in jobs.init_worker), plans are refused above the size that limit holds
# (planner.sizing, capped by jobs.plan_budget_bytes), and a worker that dies anyway (out of
# memory, killed) gives an explained message and a fresh pool, never a raw BrokenProcessPool.

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import time
import types
from collections.abc import Callable, Hashable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import streamlit as st
from cachetools import TTLCache

from ui import jobs
from ui.i18n import t

#: Environment variable that makes every job run inline on the calling thread (tests).
INLINE_ENV = "EDWC_UI_INLINE"
#: Most worker processes. [-]
MAX_WORKERS = 2
#: Most cached outcomes (plans, pathways, maps, export files) and how long each lives. [-], [s]
CACHE_SIZE = 32
CACHE_TTL_S = 3600.0
#: Share of this machine's memory each worker may address (both workers together: 80 %). [-]
WORKER_MEMORY_SHARE = 0.4
#: Least address space a worker gets, whatever the machine (the libraries alone take about 2 GB). [bytes]
MIN_WORKER_MEMORY_BYTES = 3_000_000_000


def worker_memory_limit() -> int | None:
    """Address-space limit of each worker: ``WORKER_MEMORY_SHARE`` of the machine's memory. [bytes]"""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return max(int(WORKER_MEMORY_SHARE * total), MIN_WORKER_MEMORY_BYTES)


class JobFailed(RuntimeError):
    """A job whose worker died or ran out of memory; ``label`` is the label key of its explanation."""

    def __init__(self, label: str):
        super().__init__(label)
        self.label = label

    def __reduce__(self):
        return type(self), (self.label,)


def _explained(exc: BaseException) -> BaseException:
    if isinstance(exc, BrokenProcessPool):
        return JobFailed("worker_lost")
    if isinstance(exc, MemoryError):
        return JobFailed("worker_memory")
    return exc


class InlineExecutor(Executor):
    """An executor that runs each job at submission, on the caller's thread."""

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future, as a pool would
            future.set_exception(_explained(exc))
        return future


@contextlib.contextmanager
def _bare_main():
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def inline_requested() -> bool:
    """True when ``EDWC_UI_INLINE`` asks for jobs on the calling thread."""
    return os.environ.get(INLINE_ENV, "").strip().lower() in ("1", "true", "yes")


class Engine:
    """A process pool and a cache of finished jobs, keyed so identical requests share one job.

    Parameters
    ----------
    max_workers : int
        Worker processes. [-]
    inline : bool
        Run jobs on the calling thread instead (tests, debugging).
    cache_size : int
        Most finished jobs kept. [-]
    ttl_s : float
        Lifetime of a finished job in the cache. [s]
    memory_limit_bytes : int, optional
        Address-space limit of each worker (default :func:`worker_memory_limit`). [bytes]
    """

    def __init__(self, max_workers: int = MAX_WORKERS, inline: bool = False,
                 cache_size: int = CACHE_SIZE, ttl_s: float = CACHE_TTL_S, memory_limit_bytes: int | None = None):
        self.max_workers, self.inline = max_workers, inline
        self.memory_limit_bytes = memory_limit_bytes if memory_limit_bytes is not None else worker_memory_limit()
        self._lock = threading.Lock()
        self._done: TTLCache = TTLCache(maxsize=cache_size, ttl=ttl_s)
        self._pending: dict[Hashable, Future] = {}
        self._executor = self._new_executor()

    def _new_executor(self) -> Executor:
        if self.inline:
            return InlineExecutor()
        executor = ProcessPoolExecutor(
            self.max_workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=jobs.init_worker, initargs=(self.memory_limit_bytes,),
        )
        # "spawn" re-runs the parent's __main__ in each worker; under Streamlit that is the app
        # script (and in a plain script, whatever it does at import). Start every worker now,
        # with a bare __main__, so none re-runs it; they import the planner while the user reads
        # the first page. A full pool never starts another worker.
        with _bare_main():
            for _ in range(self.max_workers):
                executor.submit(time.sleep, 0.0)
        return executor

    def cached(self, key: Hashable) -> Any | None:
        """The finished job under ``key``, or None."""
        with self._lock:
            return self._done.get(key)

    def submit(self, key: Hashable, fn: Callable, *args) -> Future:
        """Run ``fn(*args)`` in the pool unless the same key is cached or already running.

        Returns
        -------
        concurrent.futures.Future
            Done at once for a cached key. A job that fails is not cached.
        """
        with self._lock:
            if key in self._done:
                future: Future = Future()
                future.set_result(self._done[key])
                return future
            if key in self._pending:
                return self._pending[key]
            try:
                inner = self._executor.submit(fn, *args)
            except BrokenProcessPool:
                # A worker died (out of memory, killed): start a fresh pool rather than fail forever.
                self._restart()
                inner = self._executor.submit(fn, *args)
            future = Future()
            self._pending[key] = future
            pool = self._executor
        inner.add_done_callback(lambda done, key=key, outer=future, pool=pool: self._finish(key, done, outer, pool))
        return future

    def _restart(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = self._new_executor()

    def _finish(self, key: Hashable, inner: Future, outer: Future, pool: Executor) -> None:
        # The caller's future gets the job's result, or its failure explained (a dead worker is
        # JobFailed, not BrokenProcessPool); a pool that lost a worker is replaced.
        exc = None if inner.cancelled() else inner.exception()
        with self._lock:
            self._pending.pop(key, None)
            if inner.cancelled():
                outer.cancel()
            elif exc is None:
                self._done[key] = inner.result()
            elif isinstance(exc, BrokenProcessPool) and pool is self._executor:
                with contextlib.suppress(Exception):  # once per broken pool, however many jobs it lost
                    self._restart()
        if inner.cancelled():
            return
        if exc is None:
            outer.set_result(inner.result())
        else:
            outer.set_exception(_explained(exc))

    def run(self, key: Hashable, fn: Callable, *args, timeout_s: float | None = None) -> Any:
        """Submit and wait: :meth:`submit` followed by ``result()``."""
        return self.submit(key, fn, *args).result(timeout=timeout_s)

    def clear(self) -> None:
        """Forget every finished job."""
        with self._lock:
            self._done.clear()

    def shutdown(self) -> None:
        """Stop the workers."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- the jobs the pages ask for -------------------------------------------------------------

    def submit_plan(self, scenario) -> Future:
        """Solve a validated :class:`planner.scenario.Scenario`; the future gives a PlanOutcome."""
        return self.submit(plan_key(scenario.input_hash()), jobs.solve_plan, scenario.to_dict())

    def cached_plan(self, input_hash: str):
        """The cached PlanOutcome of a scenario hash, or None."""
        return self.cached(plan_key(input_hash))


def plan_key(input_hash: str) -> tuple[str, str]:
    """Cache key of a plan."""
    return ("plan", input_hash)


def wait_for(future: Future, tick: Callable[[float], None] | None = None,
             poll_s: float = 0.1) -> Any:
    """Wait for a job, calling ``tick(elapsed_s)`` while it runs (to show progress).

    Waiting in short steps keeps the script thread responsive to Streamlit's rerun requests;
    an abandoned job still finishes and lands in the cache.
    """
    start = time.perf_counter()
    while not future.done():
        if tick is not None:
            tick(time.perf_counter() - start)
        time.sleep(poll_s)
    try:
        return future.result()
    except JobFailed as exc:
        # Shown in the session's language; the page stops here, the app (and a fresh pool) go on.
        st.error(t(exc.label))
        st.stop()


@st.cache_resource(show_spinner=False)
def _shared_engine(inline: bool) -> Engine:
    return Engine(inline=inline)


def get_engine() -> Engine:
    """The server's one Engine (a Streamlit resource shared by all sessions)."""
    return _shared_engine(inline_requested())
