"""Frontiers by the ε-constraint method: least cost against emissions or load-weighted latency."""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.status import PlanStatus
from planner.parallel import EXECUTORS, open_executor
from planner.scenario import Scenario, resolve_scenario
from planner.studies.design import _fail, check_output_keys, load_base
from planner.studies.sweeps import _progress
from planner.studies.table import (
    DEFAULT_OUTPUTS,
    FRONTIER_FILE,
    LEAST_CAP_SLACK,
    NEW_MW_PREFIX,
    PARETO_AXES,
    _failure_row,
    _now,
    _tidy,
    cluster_sites,
    write_table_atomic,
)

#: Frontiers of at most this many points run in this process, on one LP (no pool): their warm
#: re-solves take less time than starting workers (benchmarks/README.md, "Frontier").
SERIAL_MAX_POINTS = 30

#: Frontier axis -> the summary figure it caps.
AXIS_FIGURES = {"emissions": "emissions_tco2", "latency": "load_weighted_latency_ms"}


@dataclasses.dataclass
class _FrontierTask:
    scenario: Scenario
    axis: str  # 'emissions' or 'latency'
    caps: list[float | None]  # None: the base scenario's own optimum
    points: list[int]
    roles: list[str]
    outputs: tuple[str, ...]
    find_least: bool = False  # minimise the axis first and solve at its least value


def point_scenario(scenario: Scenario, axis: str, cap: float | None) -> Scenario:
    """The scenario of a frontier point: the base with the axis's cap set (None: the base itself)."""
    if cap is None:
        return scenario
    document = scenario.to_dict()
    section, key = PARETO_AXES[AXIS_FIGURES[axis]].split(".")
    document[section][key] = float(cap)
    return resolve_scenario(document, (), name=scenario.name)


def solve_frontier_task(task: _FrontierTask) -> list[dict[str, Any]]:
    """Solve frontier points on one LP (warm starts); one row per point, never raises for one."""
    from optimizer.warm import WarmLP
    from planner.preprocess import build_inputs

    rows = []
    scenario = task.scenario
    model = inputs = None
    caps = list(task.caps)
    # The first point's wall time includes building the LP (and finding the least value).
    task_start = time.perf_counter()
    try:
        inputs = build_inputs(scenario)
        model = WarmLP(
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
        rows.append(_solve_point(model, inputs, scenario, task.axis, task.outputs, point, role, cap, start,
                                 "reuse" if index else "cold"))
    return rows


def _solve_point(model, inputs, scenario: Scenario, axis: str, outputs, point: int, role: str, cap, start: float,
                 path: str) -> dict[str, Any]:
    """One frontier point on ``model`` (a WarmLP): its row, or a failure row; never raises."""
    try:
        field = "carbon_cap_tco2" if axis == "emissions" else "latency_cap_ms"
        run_inputs = inputs if cap is None else dataclasses.replace(inputs, **{field: cap})
        plan = model.solve(run_inputs, tolerance=scenario.solver.tolerance)
        row = {key: getattr(plan.summary, key) for key in outputs}
        new_mw = dict(zip(plan.sites["site"], plan.sites["new_mw"], strict=True))
        row.update({NEW_MW_PREFIX + site: float(new_mw.get(site, 0.0)) for site in cluster_sites()})
        row.update(status=str(PlanStatus.OPTIMAL), message="")
        if axis == "latency":
            row["latency_shadow_price_cny_per_ms"] = plan.summary.latency_shadow_price_cny_per_ms
    except Exception as exc:  # noqa: BLE001
        row = _failure_row(exc)
    row.update(
        point=point,
        role=role,
        cap=cap,
        input_hash=point_scenario(scenario, axis, cap).input_hash(),
        wall_s=time.perf_counter() - start,
        solve_path=path,
        finished_at=_now(),
    )
    return row


def _no_frontier_rows(rows: dict[int, dict[str, Any]], last: int) -> None:
    failed = rows[0] if rows[0]["status"] != PlanStatus.OPTIMAL else rows[last]
    for point in range(1, last):
        rows[point] = {
            "point": point,
            "role": "cap",
            "cap": None,
            "status": str(PlanStatus.NOT_SOLVED),
            "message": f"no frontier: an end point failed ({failed['message']})",
            "input_hash": None,
            "wall_s": 0.0,
            "solve_path": "none",
            "finished_at": _now(),
        }


def serial_frontier(scenario: Scenario, axis: str, x: str, points: int, outputs, bar=None) -> dict[int, dict]:
    """Every point of a frontier on one LP in this process: one cold solve, the rest warm from their neighbour.

    The base optimum is solved first (cold); the least value of the axis is found from its basis;
    then the caps from the loosest to the tightest, each starting from the basis of the one before,
    and last the least point itself.
    """
    from optimizer.warm import WarmLP
    from planner.preprocess import build_inputs

    start = time.perf_counter()
    last = points - 1
    rows: dict[int, dict[str, Any]] = {}
    shown = [0]

    def done(row):
        rows[row["point"]] = row
        if bar is not None:
            bar.update(1)
            shown[0] += 1

    try:
        inputs = build_inputs(scenario)
        model = WarmLP(inputs, carbon_row=axis == "emissions", latency_row=axis == "latency",
                       time_limit_s=scenario.solver.time_limit_s)
    except Exception as exc:  # noqa: BLE001
        failure = _failure_row(exc)
        for point in range(points):
            done({"point": point, "role": "unconstrained" if point == 0 else "least" if point == last else "cap",
                  "cap": None, **failure, "input_hash": None, "wall_s": 0.0, "solve_path": "none",
                  "finished_at": _now()})
        return rows
    done(_solve_point(model, inputs, scenario, axis, outputs, 0, "unconstrained", None, start, "cold"))
    start = time.perf_counter()
    try:
        least = model.minimise(axis) * (1.0 + LEAST_CAP_SLACK)
    except Exception as exc:  # noqa: BLE001
        rows[last] = {**_failure_row(exc), "point": last, "role": "least", "cap": None, "input_hash": None,
                      "wall_s": time.perf_counter() - start, "solve_path": "reuse", "finished_at": _now()}
        least = None
    minimise_s = time.perf_counter() - start
    if rows[0]["status"] == PlanStatus.OPTIMAL and least is not None:
        for point, cap in zip(range(1, last), np.linspace(float(rows[0][x]), least, points)[1:-1].tolist(),
                              strict=True):
            done(_solve_point(model, inputs, scenario, axis, outputs, point, "cap", cap, time.perf_counter(),
                              "reuse"))
        # The least point carries the search for the least value in its time, as in a pool.
        done(_solve_point(model, inputs, scenario, axis, outputs, last, "least", least,
                          time.perf_counter() - minimise_s, "reuse"))
    else:
        if least is not None:
            done(_solve_point(model, inputs, scenario, axis, outputs, last, "least", least,
                              time.perf_counter() - minimise_s, "reuse"))
        _no_frontier_rows(rows, last)
        if bar is not None:
            bar.update(points - shown[0])
    return rows


def _pool_frontier(scenario, axis, x, points, outputs, executor, workers, address, progress, reuse) -> dict:
    """The frontier on a pool: both ends in parallel, then one warm-started stretch of caps per worker."""
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

        collect([
            _FrontierTask(scenario, axis, [None], [0], ["unconstrained"], outputs),
            _FrontierTask(scenario, axis, [None], [last], ["least"], outputs, find_least=True),
        ])
        top, bottom = rows[0], rows[last]
        if top["status"] == PlanStatus.OPTIMAL and bottom["status"] == PlanStatus.OPTIMAL:
            caps = np.linspace(float(top[x]), float(bottom["cap"]), points)[1:-1].tolist()
            middle = list(range(1, last))
            # With reuse, each worker walks one contiguous stretch of caps on its own LP.
            size = max(1, math.ceil(len(caps) / pool.workers)) if reuse else 1
            collect([
                _FrontierTask(scenario, axis, caps[i : i + size], middle[i : i + size],
                              ["cap"] * len(middle[i : i + size]), outputs)
                for i in range(0, len(caps), size)
            ])
        else:
            _no_frontier_rows(rows, last)
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
    it is the cap on the annual-energy-weighted mean one-way latency, ``latency.mean_cap_ms``
    (the workload classes' own latency limits stay in force). Every point is thus a scenario
    of its own, which ``edwc run --set`` reproduces.

    Parameters
    ----------
    base, executor, workers, address, progress, overrides, reuse
        As :func:`sweep`. Without ``reuse`` every point builds and solves its own LP. With reuse, a
        frontier of at most ``SERIAL_MAX_POINTS`` points (and no scheduler address) runs in this
        process on one LP whatever the executor: one cold solve, every other point warm from its
        neighbour (:func:`serial_frontier`).
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
        ``latency.mean_cap_ms`` [ms]), the outputs (and ``latency_shadow_price_cny_per_ms``
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
    check_output_keys(outputs, source="pareto")
    scenario = load_base(base, overrides).scenario
    axis = "emissions" if x == "emissions_tco2" else "latency"
    cap_column = PARETO_AXES[x]
    if executor not in EXECUTORS:
        _fail("executor", f"must be one of {', '.join(EXECUTORS)}, got {executor!r}.", source="pareto")
    if reuse and (executor == "serial" or (address is None and points <= SERIAL_MAX_POINTS)):
        # A short frontier is a few seconds of warm re-solves: a pool would cost more to start than it saves.
        with _progress(points, progress, "pareto") as bar:
            rows = serial_frontier(scenario, axis, x, points, outputs, bar)
    else:
        rows = _pool_frontier(scenario, axis, x, points, outputs, executor, workers, address, progress, reuse)
    frame = pd.DataFrame([rows[i] for i in range(points)])
    base_cap = scenario.carbon.cap_tco2 if axis == "emissions" else scenario.latency.mean_cap_ms
    frame.loc[frame["role"] == "unconstrained", "cap"] = base_cap
    frame = frame.rename(columns={"cap": cap_column})
    shadow = "latency_shadow_price_cny_per_ms"
    extra = [shadow] if axis == "latency" and shadow not in outputs else []
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

