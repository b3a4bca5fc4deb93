"""Capacity studies: parameter sweeps, Monte Carlo samples and ε-constraint frontiers of many plans.

A study varies scenario settings (dotted ``--set`` keys, or named factors scaling several of them),
solves every variant on a process pool or a Dask cluster, and collects one row per run into a
study table. Runs are isolated (an infeasible or failing run is recorded and the study goes on),
results are written to ``study.parquet`` as they come in, and a study re-run into the same folder
skips the runs it already finished (by scenario hash). See docs/studies.md.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import functools
import hashlib
import itertools
import math
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from optimizer.results import Results
from optimizer.solve import PlanInfeasible, PlanNotSolved
from planner.dataset import data_dir, load_tables, scenario_dir
from planner.scenario import (
    ProvinceOverride,
    Scenario,
    ScenarioError,
    SiteOverride,
    WorkloadOverride,
    read_yaml_file,
    resolve_scenario,
    shipped_scenarios,
)

#: Summary figures kept by default, one column each. [units in the names]
DEFAULT_OUTPUTS = (
    "total_cost_cny",
    "emissions_tco2",
    "west_share",
    "hub_share",
    "new_capacity_mw",
    "new_capacity_west_mw",
    "load_weighted_latency_ms",
    "green_share",
    "carbon_shadow_price_cny_per_tco2",
    "compute_capex_cny",
)
#: Scalar figures of a plan's summary (optimizer.extract.build_tables) a study may keep.
SUMMARY_KEYS = (
    "total_cost_cny",
    "capex_cny",
    "energy_cost_cny",
    "green_cost_cny",
    "network_cost_cny",
    "carbon_cost_cny",
    "latency_cost_cny",
    "emissions_tco2",
    "it_energy_mwh",
    "facility_energy_mwh",
    "green_mwh",
    "green_share",
    "mean_demand_mw",
    "peak_demand_mw",
    "shifted_mwh",
    "load_weighted_latency_ms",
    "west_share",
    "hub_share",
    "local_share",
    "new_capacity_mw",
    "new_capacity_west_mw",
    "new_capacity_hub_mw",
    "compute_capex_cny",
    "compute_capex_west_cny",
    "carbon_shadow_price_cny_per_tco2",
)
#: Run statuses: a proven optimum, no plan exists, the solver proved nothing, the varied input
#: was invalid, or something else failed.
STATUSES = ("optimal", "infeasible", "not_solved", "bad_input", "error")
#: Statuses a resumed study does not redo: they would come out the same. A time limit or a
#: crash might not, so those runs are tried again.
FINISHED_STATUSES = ("optimal", "infeasible", "bad_input")
EXECUTORS = ("local", "dask", "serial")
#: Prefix of the new-capacity column of each cluster site in a study table. [MW]
NEW_MW_PREFIX = "new_mw."
#: A site counts as built in a run above this new capacity. [MW]
BUILT_MIN_MW = 0.5
#: Largest number of runs handed to a worker as one task when they share one LP (warm starts).
REUSE_CHUNK_RUNS = 10
#: The least-emissions point is solved with the cap this much (relative) above the minimum, so
#: solver tolerances cannot make it infeasible. [-]
LEAST_CAP_SLACK = 1e-6
#: Shortest time between two rewrites of study.parquet while results arrive; a killed study
#: loses at most this much work (an interrupted one loses nothing). [s]
SAVE_INTERVAL_S = 1.0
TABLE_FILE = "study.parquet"
FRONTIER_FILE = "frontier.parquet"
PARETO_AXES = {"emissions_tco2": "carbon.cap_tco2", "load_weighted_latency_ms": "latency_cap_ms"}
MAX_RUNS = 100_000


class StudyError(ScenarioError):
    """Bad study input (file, grid, distributions, options): one line naming field and fix."""


def _fail(field: str, message: str, source: str = "study") -> NoReturn:
    raise StudyError(source, field, message)


# =============================================================================================
# The base scenario and its variants
# =============================================================================================


@dataclasses.dataclass
class BaseScenario:
    """The scenario a study varies.

    Attributes
    ----------
    document : dict
        The scenario's own settings, with the study's ``set`` overrides applied.
    name, source : str
        Scenario name and the file name used in messages.
    scenario : Scenario
        ``document`` resolved and validated.
    """

    document: dict[str, Any]
    name: str
    source: str
    scenario: Scenario


def _set_dotted(document: dict[str, Any], key: str, value: Any) -> None:
    node = document
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _plain(value: Any) -> Any:
    # numpy scalars from sampling become Python numbers, so pydantic and YAML take them.
    return value.item() if isinstance(value, np.generic) else value


def load_base(
    base: str | Path | dict | Scenario, overrides: dict[str, Any] | None = None, relative_to: Path | None = None
) -> BaseScenario:
    """Read the base scenario of a study and apply its ``set`` overrides.

    Parameters
    ----------
    base : str, path, dict or Scenario
        A scenario file, a shipped scenario name, a scenario document, or a resolved Scenario.
    overrides : dict, optional
        Dotted key -> value, applied before validation (the study file's ``set``).
    relative_to : path, optional
        Folder a relative file name is looked up in first (the study file's).

    Raises
    ------
    ScenarioError
    """
    if isinstance(base, Scenario):
        document, name, source = base.to_dict(), base.name, base.name
    elif isinstance(base, dict):
        document = copy.deepcopy(base)
        name = str(document.get("name", "study"))
        source = name
    else:
        path = _find_scenario(str(base), relative_to)
        document, name, source = read_yaml_file(path), path.stem, path.name
    for key, value in (overrides or {}).items():
        _set_dotted(document, key, _plain(value))
    scenario = resolve_scenario(document, (), name=name, source=source)
    return BaseScenario(document, scenario.name, source, scenario)


def _find_scenario(base: str, relative_to: Path | None) -> Path:
    candidates = [relative_to / base] if relative_to is not None else []
    candidates.append(Path(base))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    shipped = scenario_dir() / f"{base}.yaml"
    if Path(base).suffix == "" and shipped.exists():
        return shipped
    names = ", ".join(shipped_scenarios())
    raise ScenarioError(base, "", f"no such file or shipped scenario. Give a YAML path or one of: {names}.")


def check_key(key: str, factors: dict[str, list[str]] | None = None) -> None:
    """Check that a dotted key names one scenario setting (or a factor).

    Raises
    ------
    ValueError
        With a message saying what is wrong and how to fix it.
    """
    if factors and key in factors:
        return
    parts = key.split(".")
    tables = load_tables()
    sections = {
        "sites": (set(tables["sites"].index) | {f"local_{p}" for p in tables["provinces"].index}, SiteOverride),
        "provinces": (set(tables["provinces"].index), ProvinceOverride),
        "workloads": (set(tables["workloads"].index), WorkloadOverride),
    }
    if parts[0] in sections:
        ids, model = sections[parts[0]]
        if len(parts) != 3:
            msg = f"{parts[0]} keys have the form {parts[0]}.<id>.<field>, got {key!r}"
            raise ValueError(msg)
        if parts[1] not in ids:
            known = ", ".join(sorted(ids)[:10])
            msg = f"unknown {parts[0][:-1]} id {parts[1]!r}. Known ids include: {known}"
            raise ValueError(msg)
        if parts[2] not in model.model_fields:
            msg = f"unknown field {parts[2]!r}. Fields: {', '.join(model.model_fields)}"
            raise ValueError(msg)
        return
    if parts[:2] == ["horizon", "demand_growth"]:
        if len(parts) != 3 or parts[2] not in tables["workloads"].index:
            msg = f"horizon.demand_growth keys need a workload id, got {key!r}"
            raise ValueError(msg)
        return
    model: type[BaseModel] | None = Scenario
    for depth, part in enumerate(parts):
        if model is None:
            msg = f"{'.'.join(parts[:depth])} is a single value; {key!r} goes below it"
            raise ValueError(msg)
        if part not in model.model_fields:
            fields = ", ".join(model.model_fields)
            under = f" under {'.'.join(parts[:depth])}" if depth else ""
            msg = f"unknown key {part!r}{under}. Known: {fields}"
            raise ValueError(msg)
        annotation = model.model_fields[part].annotation
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    if model is not None:
        fields = ", ".join(model.model_fields)
        msg = f"{key!r} is a section, not a value. Name one of its fields: {fields}"
        raise ValueError(msg)


def factor_base_values(base: BaseScenario, factors: dict[str, list[str]]) -> dict[str, float]:
    """Base-scenario value of every key a factor scales (the tables' value where not overridden)."""
    from planner.inputs import build_inputs

    keys = sorted({key for keys in factors.values() for key in keys})
    if not keys:
        return {}
    inputs = build_inputs(base.scenario)
    sites = inputs.sites.set_index("site")
    workloads = inputs.workloads.set_index("workload")
    provinces = load_tables()["provinces"]
    province_fields = {
        "local_pue": "local_pue",
        "local_existing_mw": "local_existing_mw",
        "price_cny_per_mwh": "price_cny_per_mwh",
        "ef_tco2_per_mwh": "ef_tco2_per_mwh",
    }
    document = base.scenario.to_dict()
    values: dict[str, float] = {}
    for key in keys:
        parts = key.split(".")
        value: Any = None
        if parts[0] == "sites" and parts[2] != "enabled":
            if parts[1] not in sites.index:
                msg = f"factor key {key} | site {parts[1]} is disabled in the base scenario. Enable it or drop the key."
                raise ValueError(msg)
            value = sites.loc[parts[1], parts[2]]
        elif parts[0] == "workloads":
            value = workloads.loc[parts[1], parts[2]]
        elif parts[0] == "provinces" and parts[2] in province_fields:
            override = getattr(base.scenario.provinces.get(parts[1]) or ProvinceOverride(), parts[2])
            value = override if override is not None else provinces.loc[parts[1], province_fields[parts[2]]]
        else:
            value = document
            for part in parts:
                value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, bool) or not isinstance(_plain(value), int | float):
            msg = f"factor key {key} | has no numeric base value (got {value!r}). Scale numeric settings only."
            raise ValueError(msg)
        values[key] = float(value)
    return values


def scenario_values(
    values: dict[str, Any], factors: dict[str, list[str]], base_values: dict[str, float]
) -> dict[str, Any]:
    """The dotted-key settings of one run: varied keys as given, factors times their base values."""
    settings: dict[str, Any] = {}
    for key, value in values.items():
        value = _plain(value)
        if key in factors:
            for scaled in factors[key]:
                # An unlimited latency stays unlimited whatever the factor.
                base_value = base_values[scaled]
                # Twelve significant digits drop float noise (350 × 1.4 = 489.99999999999994).
                settings[scaled] = "none" if math.isinf(base_value) else float(f"{base_value * value:.12g}")
        else:
            settings[key] = value
    return settings


def build_variant(base: BaseScenario, settings: dict[str, Any], source: str) -> Scenario:
    """The base scenario with ``settings`` (dotted key -> value) applied, validated."""
    document = copy.deepcopy(base.document)
    for key, value in settings.items():
        _set_dotted(document, key, value)
    return resolve_scenario(document, (), name=base.name, source=source)


# =============================================================================================
# Designs: grids and samples
# =============================================================================================


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class UniformDistribution(_Strict):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low < self.high:
            msg = f"low must be below high, got low={self.low:g}, high={self.high:g}"
            raise ValueError(msg)
        return self

    def draw(self, rng: np.random.Generator, size: int) -> list[Any]:
        return rng.uniform(self.low, self.high, size).tolist()


class NormalDistribution(_Strict):
    """Normal with ``mean`` and standard deviation ``sd``, clipped to [``low``, ``high``]."""

    dist: Literal["normal"]
    mean: float
    sd: Annotated[float, Field(gt=0.0)]
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _ordered(self):
        if self.low is not None and self.high is not None and not self.low < self.high:
            msg = f"low must be below high, got low={self.low:g}, high={self.high:g}"
            raise ValueError(msg)
        return self

    def draw(self, rng: np.random.Generator, size: int) -> list[Any]:
        values = rng.normal(self.mean, self.sd, size)
        low = -np.inf if self.low is None else self.low
        high = np.inf if self.high is None else self.high
        return np.clip(values, low, high).tolist()


class TriangularDistribution(_Strict):
    """Triangular between ``low`` and ``high`` with its peak at ``mode``."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            got = f"{self.low:g}, {self.mode:g}, {self.high:g}"
            msg = f"need low <= mode <= high and low < high, got {got}"
            raise ValueError(msg)
        return self

    def draw(self, rng: np.random.Generator, size: int) -> list[Any]:
        return rng.triangular(self.low, self.mode, self.high, size).tolist()


class DiscreteDistribution(_Strict):
    """One of ``values``, with ``probabilities`` (equal when not given)."""

    dist: Literal["discrete"]
    values: Annotated[list[Any], Field(min_length=1)]
    probabilities: list[Annotated[float, Field(ge=0.0)]] | None = None

    @model_validator(mode="after")
    def _probabilities(self):
        if self.probabilities is not None:
            if len(self.probabilities) != len(self.values):
                msg = (
                    f"probabilities has {len(self.probabilities)} entries for "
                    f"{len(self.values)} values; "
                    "give one per value"
                )
                raise ValueError(msg)
            if abs(sum(self.probabilities) - 1.0) > 1e-9:
                msg = f"probabilities must add up to 1, got {sum(self.probabilities):.6g}"
                raise ValueError(msg)
        return self

    def draw(self, rng: np.random.Generator, size: int) -> list[Any]:
        # Draw positions rather than values so the values keep their own types ('none', ints).
        picks = rng.choice(len(self.values), size=size, p=self.probabilities)
        return [self.values[i] for i in picks]


Distribution = Annotated[
    UniformDistribution | NormalDistribution | TriangularDistribution | DiscreteDistribution,
    Field(discriminator="dist"),
]


def _distribution(spec: Any) -> BaseModel:
    from pydantic import TypeAdapter

    return TypeAdapter(Distribution).validate_python(spec)


@dataclasses.dataclass
class RunSpec:
    """One run of a study: its number, the varied values and, in Monte Carlo, its sample number."""

    run: int
    values: dict[str, Any]
    sample: int | None = None


def design_runs(
    grid: dict[str, list] | None = None,
    samples: int | None = None,
    distributions: dict[str, Any] | None = None,
    seed: int = 0,
) -> list[RunSpec]:
    """The runs of a study: the full factorial of ``grid``, times ``samples`` draws where given.

    Samples are drawn key by key, in the order the distributions are given, with
    ``numpy.random.default_rng(seed)``; every grid point sees the same draws.
    """
    grid = grid or {}
    points = [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())] or [{}]
    if not samples:
        return [RunSpec(i, point) for i, point in enumerate(points)]
    rng = np.random.default_rng(seed)
    columns = {key: _as_distribution(spec).draw(rng, samples) for key, spec in (distributions or {}).items()}
    draws = [{key: column[i] for key, column in columns.items()} for i in range(samples)]
    runs = []
    for point in points:
        for sample, draw in enumerate(draws):
            runs.append(RunSpec(len(runs), {**point, **draw}, sample))
    return runs


def _as_distribution(spec: Any):
    return spec if isinstance(spec, BaseModel) else _distribution(spec)


# =============================================================================================
# Rows: what one run contributes to the table
# =============================================================================================


def cluster_sites() -> list[str]:
    """Ids of the hub cluster sites (the columns ``new_mw.<site>`` of a study table)."""
    return list(_cluster_sites())


@functools.cache
def _cluster_sites() -> tuple[str, ...]:
    return tuple(load_tables()["sites"].index)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _results_row(results: Results, outputs: tuple[str, ...]) -> dict[str, Any]:
    summary = results.summary
    row: dict[str, Any] = {key: summary.get(key) for key in outputs}
    new_mw = dict(zip(results.sites["site"], results.sites["new_mw"], strict=True))
    for site in cluster_sites():
        row[NEW_MW_PREFIX + site] = float(new_mw.get(site, 0.0))
    row.update(status="optimal", message="")
    return row


def _failure_row(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, PlanInfeasible):
        return {"status": "infeasible", "message": str(exc)}
    if isinstance(exc, PlanNotSolved):
        return {"status": "not_solved", "message": f"{exc.status}: {exc}"}
    if isinstance(exc, ScenarioError):
        return {"status": "bad_input", "message": str(exc)}
    return {"status": "error", "message": f"{type(exc).__name__}: {exc}"}


def _results_from_plan(scenario: Scenario, plan) -> Results:
    import platform

    from planner.run import package_version

    metadata = {
        "scenario": scenario.name,
        "input_hash": scenario.input_hash(),
        "package": "edwc-planner",
        "package_version": package_version(),
        "python": platform.python_version(),
        **plan.metadata,
    }
    summary = {"scenario": scenario.name, **plan.summary}
    return Results(scenario.to_dict(), plan.flows, plan.sites, plan.provinces, summary, metadata)


# =============================================================================================
# Worker side: solve one task (a run, or a chain of runs sharing one LP)
# =============================================================================================


@dataclasses.dataclass
class _SweepTask:
    keys: list[str]  # scenario hashes
    scenarios: list[Scenario]
    outputs: tuple[str, ...]
    reuse: bool
    runs_dir: str | None


def _cold(scenario: Scenario) -> Results:
    from planner.run import run_scenario

    return run_scenario(scenario)


def _keep(results: Results, key: str, runs_dir: str | None, row: dict[str, Any]) -> None:
    if runs_dir is None:
        return
    from planner.rundir import write_run

    target = Path(runs_dir) / key[:16]
    write_run(results, target)
    row["run_dir"] = str(Path("runs") / key[:16])


def solve_sweep_task(task: _SweepTask) -> list[dict[str, Any]]:
    """Solve the runs of one task and return one row per run; never raises for a run's failure.

    Runs of a reuse task share one LP (see :mod:`planner.reuse`): it is built for the first run
    and only the carbon price and cap change; a run that fails there for any reason but proven
    infeasibility is solved again from scratch, so reuse can only make a study faster.
    """
    from planner.inputs import build_inputs
    from planner.reuse import ReusableLP

    rows = []
    model = base_inputs = None
    for key, scenario in zip(task.keys, task.scenarios, strict=True):
        start = time.perf_counter()
        path = "cold"
        try:
            results = None
            if task.reuse:
                path = "reuse"
                try:
                    if model is None:
                        base_inputs = build_inputs(scenario)
                        model = ReusableLP(base_inputs, time_limit_s=scenario.solver.time_limit_s)
                    run_inputs = dataclasses.replace(
                        base_inputs,
                        carbon_price_cny_per_tco2=scenario.carbon.price_cny_per_tco2,
                        carbon_cap_tco2=scenario.carbon.cap_tco2,
                    )
                    plan = model.solve(run_inputs, tolerance=scenario.solver.tolerance)
                    results = _results_from_plan(scenario, plan)
                except PlanInfeasible:
                    raise
                except Exception:  # noqa: BLE001 - any trouble on the shared LP: solve this run afresh
                    model, path = None, "cold"
            if results is None:
                results = _cold(scenario)
            row = _results_row(results, task.outputs)
            _keep(results, key, task.runs_dir, row)
        except Exception as exc:  # noqa: BLE001 - a run's failure is recorded, the study goes on
            row = _failure_row(exc)
        row.update(input_hash=key, wall_s=time.perf_counter() - start, solve_path=path, finished_at=_now())
        rows.append(row)
    return rows


# =============================================================================================
# Executors
# =============================================================================================


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
        context.set_forkserver_preload(["planner.study"])
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
        _fail("", f"must be one of {', '.join(EXECUTORS)}, got {executor!r}.", source="executor")
    if address and executor != "dask":
        msg = "a scheduler address needs executor='dask'. Add --executor dask."
        _fail("", msg, source="address")
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


# =============================================================================================
# The study table on disk
# =============================================================================================


def write_table_atomic(table: pd.DataFrame, path: Path) -> None:
    """Write ``table`` to parquet at ``path`` atomically (a temporary file beside it, renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent, delete=False)
    try:
        with handle:
            table.to_parquet(handle, index=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise


def _tidy(table: pd.DataFrame, varied: list[str]) -> pd.DataFrame:
    # Parquet columns hold one type: a varied column mixing numbers and text ('none') is text.
    for column in varied:
        values = [v for v in table[column] if v is not None and not (isinstance(v, float) and math.isnan(v))]
        kinds = {type(v) for v in values}
        if kinds <= {int, float} and kinds:
            table[column] = pd.to_numeric(table[column])
        elif kinds == {bool}:
            table[column] = table[column].astype(bool)
        elif kinds:
            table[column] = table[column].map(lambda v: None if v is None else str(v)).astype(object)
    for column in table.columns:
        if (
            column not in varied
            and table[column].dtype == object
            and column not in ("status", "message", "input_hash", "solve_path", "finished_at", "run_dir", "role")
        ):
            with contextlib.suppress(ValueError, TypeError):
                table[column] = pd.to_numeric(table[column])
    return table


def _read_previous(path: Path, outputs: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Finished rows of an earlier run of the study, by scenario hash."""
    if not path.exists():
        return {}
    try:
        previous = pd.read_parquet(path)
    except Exception:  # noqa: BLE001 - an unreadable table is redone, not trusted
        return {}
    needed = {"input_hash", "status", *outputs}
    if not needed <= set(previous.columns):
        return {}
    done = previous[previous["status"].isin(FINISHED_STATUSES) & previous["input_hash"].notna()]
    return {row["input_hash"]: row for row in done.to_dict("records")}


# =============================================================================================
# Sweeps
# =============================================================================================


def _progress(total: int, enabled: bool, description: str):
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=description,
        unit="run",
        file=sys.stderr,
        disable=not enabled,
        dynamic_ncols=True,
        smoothing=0.1,
    )


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _plan_tasks(
    pending: dict[str, Scenario], outputs: tuple[str, ...], reuse: bool, workers: int, runs_dir: str | None
) -> list[_SweepTask]:
    """Group runs sharing one LP structure into chains (warm starts), the rest one task each."""
    from planner.reuse import can_reuse, structure_key

    groups: dict[str, list[tuple[str, Scenario]]] = {}
    singles = []
    for key, scenario in pending.items():
        document = scenario.to_dict()
        if reuse and can_reuse(document):
            groups.setdefault(structure_key(document), []).append((key, scenario))
        else:
            singles.append((key, scenario))
    tasks = []
    for members in groups.values():
        if len(members) == 1:
            singles.extend(members)
            continue
        # Neighbouring prices and caps have neighbouring optimal bases: walk them in order.
        members.sort(key=lambda item: (-(item[1].carbon.cap_tco2 or math.inf), item[1].carbon.price_cny_per_tco2))
        size = min(REUSE_CHUNK_RUNS, max(2, math.ceil(len(members) / workers)))
        for chunk in _chunks(members, size):
            tasks.append(_SweepTask([k for k, _ in chunk], [s for _, s in chunk], outputs, len(chunk) > 1, runs_dir))
    tasks.extend(_SweepTask([key], [scenario], outputs, False, runs_dir) for key, scenario in singles)
    # Long chains first, so no worker is left with one at the end.
    tasks.sort(key=lambda task: -len(task.keys))
    return tasks


def sweep(
    base: str | Path | dict | Scenario,
    grid: dict[str, list] | None = None,
    samples: int | None = None,
    seed: int = 0,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    out_dir: str | Path | None = None,
    outputs: list[str] | tuple[str, ...] | None = None,
    keep_runs: bool = False,
    progress: bool = True,
    distributions: dict[str, Any] | None = None,
    factors: dict[str, list[str]] | None = None,
    overrides: dict[str, Any] | None = None,
    reuse: bool = True,
) -> pd.DataFrame:
    """Solve every variant of a base scenario and tabulate the results, one row per run.

    Parameters
    ----------
    base : str, path, dict or Scenario
        Scenario file, shipped scenario name, scenario document or resolved Scenario.
    grid : dict, optional
        Dotted key (``--set`` syntax, e.g. ``carbon.price_cny_per_tco2``) or factor name ->
        list of values; every combination is run (full factorial).
    samples : int, optional
        Monte Carlo draws from ``distributions`` (combined with each grid point).
    seed : int
        Seed of ``numpy.random.default_rng`` for the draws.
    executor : {'local', 'dask', 'serial'}
        See :func:`open_executor`.
    workers : int, optional
        Worker processes (default ``os.cpu_count()``).
    address : str, optional
        Dask scheduler address; its cluster's workers are used.
    out_dir : path, optional
        Folder for ``study.parquet`` (rewritten atomically as results arrive) and, with
        ``keep_runs``, ``runs/<hash>/`` run directories. A study re-run into the same folder
        skips runs already finished (same scenario hash, status optimal/infeasible/bad_input).
    outputs : list of str, optional
        Summary figures to keep (default ``DEFAULT_OUTPUTS``); the new capacity of each cluster
        (``new_mw.<site>`` [MW]) is always kept.
    keep_runs : bool
        Write a full run directory per run (needs ``out_dir``).
    progress : bool
        Show a progress bar with ETA on stderr.
    distributions : dict, optional
        Key -> distribution (``{"dist": "uniform", "low": .., "high": ..}``, ``normal`` (mean, sd,
        optional low/high clip), ``triangular`` (low, mode, high), ``discrete`` (values, optional
        probabilities)).
    factors : dict, optional
        Factor name -> dotted keys it multiplies (their base values times the factor's value),
        e.g. ``{"west_price_factor": ["sites.qingyang.price_cny_per_mwh", ...]}``.
    overrides : dict, optional
        Dotted key -> value applied to the base before anything is varied.
    reuse : bool
        Chain runs that differ only in carbon price or cap on one LP with warm starts.

    Returns
    -------
    pandas.DataFrame
        Columns: ``run``, ``sample`` (Monte Carlo), the varied keys, the outputs, ``new_mw.<site>``
        per cluster [MW], ``status``, ``message``, ``input_hash``, ``wall_s`` [s], ``solve_path``
        ('cold', 'reuse' or 'none'), ``finished_at`` (UTC) and ``run_dir`` (with ``keep_runs``).
        ``attrs`` holds ``solved`` (runs solved by this call) and ``skipped`` (taken from disk).

    Raises
    ------
    StudyError
        Bad keys, distributions, outputs or options (nothing is run).
    ScenarioError
        The base scenario itself is invalid.
    """
    outputs = tuple(outputs or DEFAULT_OUTPUTS)
    factors = dict(factors or {})
    grid = dict(grid or {})
    distributions = dict(distributions or {})
    _check_design(grid, samples, distributions, factors, outputs, keep_runs, out_dir)
    base_scenario = load_base(base, overrides)
    base_values = _checked_factor_values(base_scenario, factors)
    runs = design_runs(grid, samples, distributions, seed)
    varied = list(grid) + ([key for key in distributions if key not in grid] if samples else [])

    # Resolve every variant here: its hash identifies the run, and bad values need no worker.
    specs: dict[int, tuple[RunSpec, str | None, Scenario | None, str]] = {}
    for spec in runs:
        try:
            scenario = build_variant(
                base_scenario, scenario_values(spec.values, factors, base_values), source=f"run {spec.run}"
            )
            specs[spec.run] = (spec, scenario.input_hash(), scenario, "")
        except ScenarioError as exc:
            specs[spec.run] = (spec, None, None, str(exc))

    out_path = Path(out_dir) / TABLE_FILE if out_dir is not None else None
    previous = _read_previous(out_path, outputs) if out_path is not None else {}
    results: dict[str, dict[str, Any]] = {}
    pending: dict[str, Scenario] = {}
    for _spec, key, scenario, _ in specs.values():
        if key is None:
            continue
        if key in previous:
            results[key] = previous[key]
        elif key not in pending:
            pending[key] = scenario
    skipped = len(results)

    def table() -> pd.DataFrame:
        rows = []
        for spec, key, _, error in specs.values():
            row: dict[str, Any] = {"run": spec.run}
            if samples:
                row["sample"] = spec.sample
            row.update({key_: _plain(spec.values.get(key_)) for key_ in varied})
            if key is None:
                row.update(
                    status="bad_input", message=error, input_hash=None, wall_s=0.0, solve_path="none", finished_at=None
                )
            elif key in results:
                result = results[key]
                row.update({k: v for k, v in result.items() if k not in row and k not in ("run", "sample")})
            else:
                continue
            rows.append(row)
        columns = [
            "run",
            *(["sample"] if samples else []),
            *varied,
            *outputs,
            *(NEW_MW_PREFIX + site for site in cluster_sites()),
            "status",
            "message",
            "input_hash",
            "wall_s",
            "solve_path",
            "finished_at",
        ]
        if keep_runs:
            columns.append("run_dir")
        frame = pd.DataFrame(rows).reindex(columns=columns)
        return _tidy(frame, varied)

    if out_path is not None:
        write_table_atomic(table(), out_path)
    runs_dir = str((Path(out_dir) / "runs").resolve()) if keep_runs else None
    solved = 0
    written = time.monotonic()
    unsaved = False

    def save() -> None:
        nonlocal written, unsaved
        if out_path is not None and unsaved:
            write_table_atomic(table(), out_path)
        written, unsaved = time.monotonic(), False

    if pending:
        counts: Counter = Counter()
        with contextlib.ExitStack() as stack:
            # Whatever stops the study (Ctrl-C, an error), what has come in is on disk.
            stack.callback(save)
            pool = stack.enter_context(open_executor(executor, workers, address))
            bar = stack.enter_context(_progress(len(pending), progress, "sweep"))
            tasks = _plan_tasks(pending, outputs, reuse, pool.workers, runs_dir)
            for task, rows, exc in pool.map_unordered(solve_sweep_task, tasks):
                if exc is not None:
                    # The worker itself died (or the task could not travel): record every run of it.
                    rows = [
                        {
                            **_failure_row(exc),
                            "input_hash": key,
                            "wall_s": 0.0,
                            "solve_path": "none",
                            "finished_at": _now(),
                        }
                        for key in task.keys
                    ]
                for row in rows:
                    results[row["input_hash"]] = row
                    counts[row["status"]] += 1
                solved += len(rows)
                unsaved = True
                # Rewriting the whole table after every result costs O(runs) each time: at most
                # once a SAVE_INTERVAL_S, and once more at the end.
                if time.monotonic() - written >= SAVE_INTERVAL_S:
                    save()
                bar.set_postfix(dict(counts), refresh=False)
                bar.update(len(rows))
    final = table()
    final.attrs.update(solved=solved, skipped=skipped)
    return final


def _check_design(grid, samples, distributions, factors, outputs, keep_runs, out_dir) -> None:
    fail = _fail

    if not grid and not samples:
        fail("grid", "nothing to vary. Give a grid of values and/or samples with distributions.")
    if samples is not None and (not isinstance(samples, int) or isinstance(samples, bool) or samples < 1):
        fail("samples", f"must be a positive whole number, got {samples!r}.")
    if samples and not distributions:
        fail("distributions", "samples needs a distribution for at least one key. Add distributions.")
    if distributions and not samples:
        fail("samples", "distributions are given but no number of samples. Set samples.")
    for name, keys in factors.items():
        if "." in name or not name:
            fail(f"factors.{name}", "a factor name is one word without dots. Rename it.")
        if not keys:
            fail(f"factors.{name}", "lists no keys. Give the dotted keys it multiplies.")
        for key in keys:
            try:
                check_key(key)
            except ValueError as exc:
                fail(f"factors.{name}", f"{exc}.")
    for section, keys in (("grid", grid), ("distributions", distributions)):
        for key in keys:
            try:
                check_key(key, factors)
            except ValueError as exc:
                fail(f"{section}.{key}", f"{exc}.")
    for key, values in grid.items():
        if not isinstance(values, list | tuple) or not values:
            fail(f"grid.{key}", "must be a non-empty list of values.")
    both = set(grid) & set(distributions)
    if both:
        fail(f"grid.{sorted(both)[0]}", "is both in the grid and sampled. Keep it in one of them.")
    for key, spec in distributions.items():
        try:
            _as_distribution(spec)
        except ValidationError as exc:
            first = exc.errors()[0]
            fail(f"distributions.{key}", f"{first['msg'].rstrip('.')}. See docs/studies.md for the forms.")
    total = math.prod(len(v) for v in grid.values()) * (samples or 1)
    if total > MAX_RUNS:
        fail("grid", f"{total:,} runs, over the {MAX_RUNS:,} a study may hold. Split the study.")
    _check_output_keys(outputs)
    if keep_runs and out_dir is None:
        fail("keep_runs", "needs an output folder. Give out_dir.")


def _checked_factor_values(base: BaseScenario, factors: dict[str, list[str]]) -> dict[str, float]:
    try:
        return factor_base_values(base, factors)
    except ValueError as exc:
        where, _, message = str(exc).partition(" | ")
        _fail(f"factors ({where})", message)


def summarise_samples(table: pd.DataFrame, figures: list[str] | None = None) -> pd.DataFrame:
    """Percentiles of the key figures over the solved runs, and how often each cluster is built.

    Parameters
    ----------
    table : pandas.DataFrame
        A study table (:func:`sweep`).
    figures : list of str, optional
        Columns to summarise (default: every kept output present in the table).

    Returns
    -------
    pandas.DataFrame
        One row per figure and per cluster (``new_mw.<site>``), columns ``figure``, ``runs``
        (optimal runs), ``p5``, ``p50``, ``p95``, ``mean`` and ``built_share`` (clusters only:
        share of runs giving the cluster more than ``BUILT_MIN_MW`` of new capacity) [-].
    """
    solved = table[table["status"] == "optimal"]
    figures = figures or [key for key in SUMMARY_KEYS if key in table.columns]
    clusters = [column for column in table.columns if column.startswith(NEW_MW_PREFIX)]
    rows = []
    for column in [*figures, *clusters]:
        values = pd.to_numeric(solved[column], errors="coerce").dropna().to_numpy(float)
        row = {"figure": column, "runs": int(values.size)}
        if values.size:
            p5, p50, p95 = np.percentile(values, [5, 50, 95])
            row.update(p5=p5, p50=p50, p95=p95, mean=float(values.mean()))
        else:
            row.update(p5=np.nan, p50=np.nan, p95=np.nan, mean=np.nan)
        row["built_share"] = float((values > BUILT_MIN_MW).mean()) if column in clusters and values.size else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["figure", "runs", "p5", "p50", "p95", "mean", "built_share"])


# =============================================================================================
# Pareto frontiers by the ε-constraint method
# =============================================================================================


@dataclasses.dataclass
class _FrontierTask:
    scenario: Scenario
    axis: str  # 'emissions' or 'latency'
    caps: list[float | None]  # None: the base scenario's own optimum
    points: list[int]
    roles: list[str]
    outputs: tuple[str, ...]
    find_least: bool = False  # minimise the axis first and solve at its least value


def _axis_hash(scenario: Scenario, axis: str, cap: float | None) -> str:
    if cap is None:
        return scenario.input_hash()
    if axis == "emissions":
        document = scenario.to_dict()
        document["carbon"]["cap_tco2"] = cap
        return resolve_scenario(document, (), name=scenario.name).input_hash()
    # A latency cap is no scenario setting: the hash of the base plus the cap.
    return hashlib.sha256(f"{scenario.input_hash()}|latency_cap_ms={cap!r}".encode()).hexdigest()


def solve_frontier_task(task: _FrontierTask) -> list[dict[str, Any]]:
    """Solve frontier points on one LP (warm starts); one row per point, never raises for one."""
    from planner.inputs import build_inputs
    from planner.reuse import ReusableLP

    rows = []
    scenario = task.scenario
    model = inputs = None
    caps = list(task.caps)
    # The first point's wall time includes building the LP (and finding the least value).
    task_start = time.perf_counter()
    try:
        inputs = build_inputs(scenario)
        model = ReusableLP(
            inputs,
            carbon_row=task.axis == "emissions",
            latency_row=task.axis == "latency",
            time_limit_s=scenario.solver.time_limit_s,
        )
        if task.find_least:
            least = model.minimise(task.axis)
            caps = [least * (1.0 + LEAST_CAP_SLACK) if cap is None else cap for cap in caps]
    except Exception as exc:  # noqa: BLE001
        failure = _failure_row(exc)
        return [
            {
                "point": point,
                "role": role,
                "cap": cap,
                **failure,
                "input_hash": None,
                "wall_s": 0.0,
                "solve_path": "none",
                "finished_at": _now(),
            }
            for point, role, cap in zip(task.points, task.roles, caps, strict=True)
        ]
    for index, (point, role, cap) in enumerate(zip(task.points, task.roles, caps, strict=True)):
        start = time.perf_counter() if index else task_start
        try:
            if task.axis == "emissions":
                run_inputs = inputs if cap is None else dataclasses.replace(inputs, carbon_cap_tco2=cap)
            else:
                run_inputs = inputs
                model.set_latency_cap(cap)
            plan = model.solve(run_inputs, tolerance=scenario.solver.tolerance)
            row = {key: plan.summary.get(key) for key in task.outputs}
            new_mw = dict(zip(plan.sites["site"], plan.sites["new_mw"], strict=True))
            row.update({NEW_MW_PREFIX + site: float(new_mw.get(site, 0.0)) for site in cluster_sites()})
            row.update(status="optimal", message="")
            if task.axis == "latency":
                row["latency_shadow_price_cny_per_ms"] = plan.summary.get("latency_shadow_price_cny_per_ms")
        except Exception as exc:  # noqa: BLE001
            row = _failure_row(exc)
        wall = time.perf_counter() - start
        row.update(
            point=point,
            role=role,
            cap=cap,
            input_hash=_axis_hash(scenario, task.axis, cap),
            wall_s=wall,
            solve_path="reuse" if index else "cold",
            finished_at=_now(),
        )
        rows.append(row)
    return rows


def pareto(
    base: str | Path | dict | Scenario,
    x: str = "emissions_tco2",
    y: str = "total_cost_cny",
    points: int = 20,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    out_dir: str | Path | None = None,
    outputs: list[str] | tuple[str, ...] | None = None,
    progress: bool = True,
    overrides: dict[str, Any] | None = None,
    reuse: bool = True,
) -> pd.DataFrame:
    """Least-cost frontier of cost against emissions or latency, by the ε-constraint method.

    Point 0 is the base scenario's own optimum (x = its value x_max); the last point is the
    least achievable x (found by minimising x itself over the plan's constraints), solved for
    least cost with x capped just above that minimum; between them, ``points - 2`` caps evenly
    spaced from x_max to x_min, each solved for least cost. For ``x="emissions_tco2"`` the cap
    is the carbon cap (the base's ``carbon.cap_tco2`` replaced); for ``"load_weighted_latency_ms"``
    it is a cap on the annual-energy-weighted mean one-way latency, a row added to the LP
    (the workload classes' own latency limits stay in force).

    Parameters
    ----------
    base, executor, workers, address, progress, overrides, reuse
        As :func:`sweep`. Without ``reuse`` every point builds and solves its own LP.
    x : {'emissions_tco2', 'load_weighted_latency_ms'}
    y : {'total_cost_cny'}
        The objective: the frontier is least cost for each cap.
    points : int
        Points on the frontier, the two ends included (>= 3).
    out_dir : path, optional
        Writes ``frontier.parquet`` there.

    Returns
    -------
    pandas.DataFrame
        One row per point, from the loosest cap to the tightest: ``point``, ``role``
        ('unconstrained', 'cap', 'least'), the cap (``carbon.cap_tco2`` [tCO2/yr] or
        ``latency_cap_ms`` [ms]), the outputs (and ``latency_shadow_price_cny_per_ms``
        [CNY/yr per ms] for latency), ``new_mw.<site>`` [MW], ``status``, ``message``,
        ``input_hash``, ``wall_s``, ``solve_path``, ``finished_at``.
    """
    if x not in PARETO_AXES:
        _fail("x", f"must be one of {', '.join(PARETO_AXES)}, got {x!r}.", source="pareto")
    if y != "total_cost_cny":
        msg = f"the frontier minimises total_cost_cny; got {y!r}. Use y='total_cost_cny'."
        _fail("y", msg, source="pareto")
    if not isinstance(points, int) or points < 3:
        _fail("points", f"must be a whole number >= 3, got {points!r}.", source="pareto")
    outputs = tuple(dict.fromkeys([*(outputs or DEFAULT_OUTPUTS), x, y]))
    _check_output_keys(outputs, source="pareto")
    scenario = load_base(base, overrides).scenario
    axis = "emissions" if x == "emissions_tco2" else "latency"
    cap_column = PARETO_AXES[x]
    last = points - 1
    rows: dict[int, dict[str, Any]] = {}
    with open_executor(executor, workers, address) as pool, _progress(points, progress, "pareto") as bar:

        def collect(tasks):
            for _, result, exc in pool.map_unordered(solve_frontier_task, tasks):
                if exc is not None:
                    raise exc
                for row in result:
                    rows[row["point"]] = row
                bar.update(len(result))

        ends = [
            _FrontierTask(scenario, axis, [None], [0], ["unconstrained"], outputs),
            _FrontierTask(scenario, axis, [None], [last], ["least"], outputs, find_least=True),
        ]
        collect(ends)
        top, bottom = rows[0], rows[last]
        if top["status"] == "optimal" and bottom["status"] == "optimal":
            x_max, x_min = float(top[x]), float(bottom["cap"])
            caps = np.linspace(x_max, x_min, points)[1:-1].tolist()
            middle = list(range(1, last))
            # With reuse, each worker walks one contiguous stretch of caps on its own LP.
            size = max(1, math.ceil(len(caps) / pool.workers)) if reuse else 1
            collect(
                [
                    _FrontierTask(
                        scenario,
                        axis,
                        caps[i : i + size],
                        middle[i : i + size],
                        ["cap"] * len(middle[i : i + size]),
                        outputs,
                    )
                    for i in range(0, len(caps), size)
                ]
            )
        else:
            failed = top if top["status"] != "optimal" else bottom
            for point in range(1, last):
                rows[point] = {
                    "point": point,
                    "role": "cap",
                    "cap": None,
                    "status": "not_solved",
                    "message": f"no frontier: an end point failed ({failed['message']})",
                    "input_hash": None,
                    "wall_s": 0.0,
                    "solve_path": "none",
                    "finished_at": _now(),
                }
    frame = pd.DataFrame([rows[i] for i in range(points)])
    if axis == "emissions":
        frame.loc[frame["role"] == "unconstrained", "cap"] = scenario.carbon.cap_tco2
    frame = frame.rename(columns={"cap": cap_column})
    extra = ["latency_shadow_price_cny_per_ms"] if axis == "latency" else []
    columns = [
        "point",
        "role",
        cap_column,
        *outputs,
        *extra,
        *(NEW_MW_PREFIX + site for site in cluster_sites()),
        "status",
        "message",
        "input_hash",
        "wall_s",
        "solve_path",
        "finished_at",
    ]
    frame = _tidy(frame.reindex(columns=columns), [])
    frame.attrs.update(x=x, y=y, scenario=scenario.name)
    if out_dir is not None:
        write_table_atomic(frame, Path(out_dir) / FRONTIER_FILE)
    return frame


# =============================================================================================
# Study files
# =============================================================================================


class ParetoSettings(_Strict):
    """The ``pareto`` section of a study file."""

    x: Literal["emissions_tco2", "load_weighted_latency_ms"] = Field(
        default="emissions_tco2", description="Frontier axis against total cost."
    )
    points: Annotated[int, Field(ge=3, le=500)] = Field(default=20, description="Points, both ends included.")


class StudyFile(_Strict):
    """A study file: what to vary, how, and what to keep (docs/studies.md)."""

    name: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="Study name (default: the file name)."
    )
    description: str = Field(default="", max_length=4000, description="Free text.")
    base: str = Field(default="baseline", description="Scenario file (relative to the study file) or shipped name.")
    set: dict[str, Any] = Field(default_factory=dict, description="Dotted key -> value applied to the base.")
    factors: dict[str, Annotated[list[str], Field(min_length=1)]] = Field(
        default_factory=dict, description="Factor name -> dotted keys whose base values it multiplies."
    )
    grid: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(
        default_factory=dict, description="Dotted key or factor -> values (full factorial)."
    )
    samples: Annotated[int, Field(ge=1, le=MAX_RUNS)] | None = Field(default=None, description="Monte Carlo draws.")
    seed: int = Field(default=0, description="Seed of the draws.")
    distributions: dict[str, Distribution] = Field(default_factory=dict, description="Key -> distribution.")
    outputs: list[str] | None = Field(default=None, description="Summary figures to keep.")
    pareto: ParetoSettings | None = Field(default=None, description="Frontier settings.")


@dataclasses.dataclass
class Study:
    """A validated study file.

    Attributes
    ----------
    name : str
    path : Path
    spec : StudyFile
    base : BaseScenario
    """

    name: str
    path: Path
    spec: StudyFile
    base: BaseScenario

    @property
    def has_runs(self) -> bool:
        """Whether the study varies anything (a grid or samples), as opposed to a frontier only."""
        return bool(self.spec.grid or self.spec.samples)


def studies_dir() -> Path:
    """Folder of the shipped example studies."""
    return data_dir() / "studies"


def _study_error(source: str, error: ValidationError) -> StudyError:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        message = "unknown key. Check the spelling against docs/studies.md or remove it."
    elif kind == "missing":
        message = "required field is missing. Add it (see docs/studies.md)."
    elif kind == "union_tag_invalid" or kind == "union_tag_not_found":
        message = f"{first['msg'].rstrip('.')}. Use dist: uniform, normal, triangular or discrete."
    else:
        got = first.get("input")
        shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
        message = f"{first['msg'].rstrip('.')}, got {shown}. See docs/studies.md."
    extra = len(error.errors()) - 1
    if extra:
        message += f" ({extra} more problem{'s' if extra > 1 else ''} after this one.)"
    return StudyError(source, field, message)


def load_study(path: str | Path) -> Study:
    """Read and validate a study file (or a shipped study name such as ``carbon-price-sweep``).

    Raises
    ------
    StudyError
        One line: ``<file>: <field> | <what>. <fix>.``
    """
    path = Path(path)
    if not path.exists() and path.suffix == "" and (studies_dir() / f"{path.name}.yaml").exists():
        path = studies_dir() / f"{path.name}.yaml"
    source = path.name
    try:
        document = read_yaml_file(path, source)
    except ScenarioError as exc:
        raise StudyError(source, exc.field, str(exc).split(" | ", 1)[1]) from None
    try:
        spec = StudyFile.model_validate(document)
    except ValidationError as exc:
        raise _study_error(source, exc) from None
    for key in spec.set:
        try:
            check_key(key)
        except ValueError as exc:
            raise StudyError(source, f"set.{key}", f"{exc}.") from None
    try:
        base = load_base(spec.base, spec.set, relative_to=path.parent)
    except ScenarioError as exc:
        message = str(exc).split(" | ", 1)[1]
        field = f"set.{exc.field}" if exc.field in spec.set else "base"
        if field == "base" and exc.field:
            message = f"{exc.source}: {exc.field}: {message}"
        raise StudyError(source, field, message) from None
    try:
        _check_design(
            spec.grid,
            spec.samples,
            spec.distributions,
            spec.factors,
            tuple(spec.outputs or DEFAULT_OUTPUTS),
            False,
            None,
        ) if (spec.grid or spec.samples) else _check_outputs(spec)
        _checked_factor_values(base, spec.factors)
    except StudyError as exc:
        raise StudyError(source, exc.field, str(exc).split(" | ", 1)[1]) from None
    return Study(spec.name or path.stem, path, spec, base)


def _check_output_keys(outputs, source: str = "study") -> None:
    unknown = [key for key in outputs if key not in SUMMARY_KEYS]
    if unknown:
        known = ", ".join(SUMMARY_KEYS)
        _fail("outputs", f"unknown summary figure {unknown[0]!r}. Known: {known}.", source=source)


def _check_outputs(spec: StudyFile) -> None:
    if spec.pareto is None:
        msg = "nothing to do. Give a grid, samples with distributions, or a pareto section."
        _fail("grid", msg)
    _check_output_keys(spec.outputs or ())


def run_study(study: Study, out_dir: str | Path | None = None, **options) -> pd.DataFrame:
    """Run a study file's sweep (grid and/or samples); ``options`` as :func:`sweep`."""
    spec = study.spec
    return sweep(
        study.base.scenario,
        grid=spec.grid,
        samples=spec.samples,
        seed=spec.seed,
        distributions=spec.distributions,
        factors=spec.factors,
        outputs=spec.outputs,
        out_dir=out_dir,
        **options,
    )
