"""Sweeps: every variant of a base scenario solved (grid and Monte Carlo), on warm LPs where they share one."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
from edwc_data.outputs import claim_folder

from optimizer.results import Results
from optimizer.status import PlanInfeasible, PlanStatus
from planner.parallel import check_executor, open_executor
from planner.scenario import Scenario, ScenarioError
from planner.studies.design import (
    RunSpec,
    _check_design,
    _checked_factor_values,
    _plain,
    build_variant,
    design_runs,
    load_base,
    scenario_values,
)
from planner.studies.table import (
    DEFAULT_OUTPUTS,
    NEW_MW_PREFIX,
    REUSE_CHUNK_RUNS,
    SAVE_INTERVAL_S,
    TABLE_FILE,
    _failure_row,
    _now,
    _read_previous,
    _results_row,
    _tidy,
    cluster_sites,
    write_table_atomic,
)


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

    Runs of a reuse task share one LP (see :mod:`optimizer.warm`): it is built for the first run
    and only the carbon price and cap change; a run that fails there for any reason but proven
    infeasibility is solved again from scratch, so reuse can only make a study faster.
    """
    from optimizer.warm import WarmLP
    from planner.preprocess import build_inputs
    from planner.run import results_from_plan
    from planner.sizing import check_plan_size

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
                        check_plan_size(scenario)  # before building: a refused size is the run's bad input
                        base_inputs = build_inputs(scenario)
                        model = WarmLP(base_inputs, time_limit_s=scenario.solver.time_limit_s)
                    run_inputs = dataclasses.replace(
                        base_inputs,
                        carbon_price_cny_per_tco2=scenario.carbon.price_cny_per_tco2,
                        carbon_cap_tco2=scenario.carbon.cap_tco2,
                        latency_cap_ms=scenario.latency.mean_cap_ms,
                    )
                    plan = model.solve(run_inputs, tolerance=scenario.solver.tolerance)
                    results = results_from_plan(scenario, plan)
                except (PlanInfeasible, ScenarioError):
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


#: Runs resolved between two updates of the progress bar of a study's preparation.
RESOLVE_CHUNK_RUNS = 500

#: Scenario keys a warm LP may change between solves; everything else fixes its structure.
CHANGEABLE_KEYS = ("carbon.price_cny_per_tco2", "carbon.cap_tco2", "latency.mean_cap_ms")


def structure_key(scenario_dict: dict) -> str:
    """Identity of a scenario's LP apart from the carbon price and the values of its carbon and latency caps.

    Two scenarios with the same key build the same matrix and bounds, except the objective's
    carbon term and the right-hand sides of the carbon and mean-latency rows (each row exists in
    both or in neither).
    """
    document = json.loads(json.dumps(scenario_dict))
    carbon = document.get("carbon", {})
    carbon.pop("price_cny_per_tco2", None)
    carbon["cap_tco2"] = carbon.get("cap_tco2") is not None
    latency = document.get("latency", {})
    latency["mean_cap_ms"] = latency.get("mean_cap_ms") is not None
    return json.dumps(document, sort_keys=True, ensure_ascii=False)


def can_reuse(scenario_dict: dict) -> bool:
    """Whether a scenario may be solved on a warm highspy model (its backend allows highspy)."""
    return scenario_dict.get("solver", {}).get("backend", "auto") in ("auto", "highs")


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
    record: dict[str, Any] | None = None,
    sampling: str = "random",
    sensitivity: str | None = None,
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
        Folder for ``study.json``, ``study.parquet`` (rewritten atomically as results arrive) and,
        with ``keep_runs``, ``runs/<hash>/`` run directories: a new or empty folder (marked
        ``.edwc-study``) or a study folder the tool wrote. A study re-run into the same folder
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
    sampling : {'random', 'lhs', 'sobol'}
        How the samples spread: numpy draws, a Latin hypercube, a scrambled Sobol' sequence.
    sensitivity : {'sobol', 'morris'}, optional
        Lay the samples out for these global sensitivity indices (``samples`` is then the base size:
        Saltelli ``samples × (keys + 2)`` runs, Morris ``samples × (keys + 1)``); no grid.
    record : dict, optional
        What ``study.json`` records of the study (:meth:`planner.studies.spec.Study.record`), written
        into ``out_dir`` once everything is validated, before the first run.

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
        Bad keys, distributions, seed, outputs or options (nothing is run or written).
    ScenarioError
        The base scenario itself is invalid, or the executor cannot be reached.
    edwc_data.outputs.OutputRefused
        ``out_dir`` is a folder the tool did not create (it is never written into), or cannot be written.
    """
    outputs = tuple(outputs or DEFAULT_OUTPUTS)
    factors = dict(factors or {})
    grid = dict(grid or {})
    distributions = dict(distributions or {})
    # Everything that can be checked is checked before anything is written or started.
    _check_design(grid, samples, distributions, factors, outputs, keep_runs, out_dir, seed, sampling, sensitivity)
    check_executor(executor, workers, address)
    if out_dir is not None:
        out_dir = claim_folder(out_dir, "study", create=False)
    base_scenario = load_base(base, overrides)
    base_values = _checked_factor_values(base_scenario, factors)
    runs = design_runs(grid, samples, distributions, seed, sampling, sensitivity)
    varied = list(grid) + ([key for key in distributions if key not in grid] if samples else [])

    # Resolve every variant here: its hash identifies the run, and bad values need no worker. A
    # large study takes a while: the bar shows from the first chunk.
    specs: dict[int, tuple[RunSpec, str | None, Scenario | None, str]] = {}
    with _progress(len(runs), progress and len(runs) > RESOLVE_CHUNK_RUNS, "preparing") as preparing:
        for chunk in _chunks(runs, RESOLVE_CHUNK_RUNS):
            for spec in chunk:
                try:
                    scenario = build_variant(
                        base_scenario, scenario_values(spec.values, factors, base_values), source=f"run {spec.run}"
                    )
                    specs[spec.run] = (spec, scenario.input_hash(), scenario, "")
                except ScenarioError as exc:
                    specs[spec.run] = (spec, None, None, str(exc))
            preparing.update(len(chunk))

    if out_dir is not None:
        out_dir = claim_folder(out_dir, "study")
        if record is not None:
            from planner.studies.report import write_study_meta  # charts' stack: only when a folder is written

            write_study_meta(out_dir, **record)
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
                row.update(status=str(PlanStatus.BAD_INPUT), message=error, input_hash=None, wall_s=0.0,
                           solve_path="none", finished_at=None)
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

