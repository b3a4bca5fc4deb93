"""Time studies of the default national plan: sweep throughput per executor, and reuse against cold solves.

Run on demand (never in the test suite):

    python benchmarks/bench_study.py                      # 100-run carbon-price sweep, 20-point frontier
    python benchmarks/bench_study.py --runs 40 --executors local --points 10

Measures (each a fresh study, executor start-up included):

* runs per minute of a carbon-price sweep (0 to 400 CNY/tCO2 in ``--runs`` steps) on the local
  process pool and on a Dask LocalCluster, with LP reuse (runs chained on one LP per worker,
  warm-started) and without it (every run a cold build and solve, as ``edwc run`` does it);
* the ε-constraint frontier (``--points`` points) with reuse against the same points solved cold.

Prints a markdown table and writes benchmarks/results/bench_study.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from optimizer.solve import solver_versions
from planner.studies import pareto, sweep


def time_sweep(runs: int, executor: str, workers: int, reuse: bool) -> dict:
    """One carbon-price sweep of the default scenario; wall time and the results."""
    prices = np.linspace(0.0, 400.0, runs).round(6).tolist()
    start = time.perf_counter()
    table = sweep(
        "baseline",
        grid={"carbon.price_cny_per_tco2": prices},
        executor=executor,
        workers=workers,
        progress=False,
        reuse=reuse,
    )
    return _row("sweep", table, executor, workers, reuse, time.perf_counter() - start)


def _row(study: str, table, executor: str, workers: int, reuse: bool, wall: float) -> dict:
    """One line of the results table: how fast the study ran and what it found."""
    return {
        "study": study,
        "executor": executor,
        "workers": workers,
        "reuse": reuse,
        "runs": len(table),
        "wall_s": wall,
        "runs_per_min": 60.0 * len(table) / wall,
        "solver_s_per_run": float(table["wall_s"].mean()),
        "optimal": int((table["status"] == "optimal").sum()),
        "objective_sum_cny": float(table["total_cost_cny"].sum()),
    }


def time_frontier(points: int, executor: str, workers: int, reuse: bool) -> dict:
    """One ε-constraint frontier of the default scenario."""
    start = time.perf_counter()
    frontier = pareto("baseline", points=points, executor=executor, workers=workers, progress=False, reuse=reuse)
    return _row("pareto", frontier, executor, workers, reuse, time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="carbon prices in the sweep")
    parser.add_argument("--points", type=int, default=20, help="points on the frontier")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--executors", nargs="+", default=["local", "dask"])
    args = parser.parse_args(argv)
    rows = []
    for executor in args.executors:
        for reuse in (True, False):
            rows.append(time_sweep(args.runs, executor, args.workers, reuse))
            print(f"sweep on {executor}, reuse={reuse}: {rows[-1]['wall_s']:.1f} s", file=sys.stderr)
    for reuse in (True, False):
        rows.append(time_frontier(args.points, args.executors[0], args.workers, reuse))
        print(f"frontier, reuse={reuse}: {rows[-1]['wall_s']:.1f} s", file=sys.stderr)
    header = "| study | executor | workers | LP reuse | runs | wall s | runs/min | mean s per run (worker) | optimal |"
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for r in rows:
        print(
            f"| {r['study']} | {r['executor']} | {r['workers']} | {'yes' if r['reuse'] else 'no (cold)'} | "
            f"{r['runs']} | {r['wall_s']:.1f} | {r['runs_per_min']:.0f} | {r['solver_s_per_run']:.2f} | "
            f"{r['optimal']} |"
        )
    # Reuse must not change the answers: the summed objectives agree.
    for study in ("sweep", "pareto"):
        sums = [r["objective_sum_cny"] for r in rows if r["study"] == study]
        spread = (max(sums) - min(sums)) / max(abs(min(sums)), 1.0)
        print(f"\n{study}: summed objectives agree across configurations to {spread:.1e} (relative)")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    payload = {"python": platform.python_version(), "cpus": os.cpu_count(), **solver_versions(), "rows": rows}
    (out / "bench_study.json").write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
