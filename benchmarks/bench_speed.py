"""Speed a planner feels: start-up, the map, a frontier, the year plan and the year check, each against HiGHS.

Run on demand (never in the test suite); every measurement is a fresh process, repeated, medians:

    python benchmarks/bench_speed.py startup --repeat 5      # edwc --help, edwc scenarios, edwc run --help
    python benchmarks/bench_speed.py map --repeat 5          # a plan and its map, side by side
    python benchmarks/bench_speed.py frontier --repeat 3     # edwc pareto --points 20 against edwc run
    python benchmarks/bench_speed.py year --workers 1 2      # edwc run --year (all 8,760 hours)
    python benchmarks/bench_speed.py check --workers 1 2 --repeat 3   # edwc check of hourly-2025

CPU time is user + system of the command and every process it waited for (``resource``'s
RUSAGE_CHILDREN); pool workers started by a forkserver are not its children, so CPU is quoted only for
commands without a pool (start-up, ``edwc run``, a short frontier). The machine is shared: the load
average is printed with each figure. Prints markdown tables and writes benchmarks/results/bench_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EDWC = [sys.executable, "-c", "from planner.cli import main; main()"]


def timed(command: list[str], cwd: str | None = None) -> dict:
    """Wall and CPU seconds of one command in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "load": os.getloadavg()[0]}


def medians(runs: list[dict]) -> dict:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0] if isinstance(runs[0][key], float)}


def startup(args) -> list[dict]:
    rows = []
    for name, extra in (("edwc --help", ["--help"]), ("edwc scenarios", ["scenarios"]),
                        ("edwc run --help", ["run", "--help"])):
        row = medians([timed(EDWC + extra) for _ in range(args.repeat)])
        rows.append({"command": name, **row})
    print("| command | wall s | CPU s | load |\n|---|---|---|---|")
    for r in rows:
        print(f"| `{r['command']}` | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['load']:.1f} |")
    return rows


_MAP_PROBE = """
import json, sys, time
start = time.perf_counter()
from planner.run import run_scenario
from planner.scenario import load_scenario
imported = time.perf_counter()
results = run_scenario(load_scenario(None))
solved = time.perf_counter()
from geo.export import export_map
map_imported = time.perf_counter()
export_map(results, sys.argv[1], formats=("png",), stem="plan_map")
drawn = time.perf_counter()
print(json.dumps({"imports_s": imported - start, "plan_s": solved - imported,
                  "highs_s": results.metadata["timings_s"]["solver_s"], "map_imports_s": map_imported - solved,
                  "map_s": drawn - map_imported}))
"""


def map_timing(args) -> list[dict]:
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeat):
            done = subprocess.run([sys.executable, "-c", _MAP_PROBE, folder], check=True, capture_output=True,
                                  text=True)
            runs.append({**json.loads(done.stdout.strip().splitlines()[-1]), "load": os.getloadavg()[0]})
    row = medians(runs)
    print("| stage | s | / HiGHS |\n|---|---|---|")
    for key in ("imports_s", "plan_s", "highs_s", "map_imports_s", "map_s"):
        print(f"| {key[:-2].replace('_', ' ')} | {row[key]:.2f} | {row[key] / row['highs_s']:.2f} |")
    print(f"\nmap / plan: {row['map_s'] / row['plan_s']:.2f} (load {row['load']:.1f})")
    return [row]


def frontier(args) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        plan = medians([timed(EDWC + ["run", "--out", f"{folder}/run"]) for _ in range(args.repeat)])
        metadata = json.loads(Path(folder, "run", "metadata.json").read_text())
        front = medians([timed(EDWC + ["pareto", "baseline", "--points", str(args.points), "--out",
                                       f"{folder}/pareto", "--no-progress"]) for _ in range(args.repeat)])
        highs = metadata["timings_s"]["solver_s"]
    rows = [{"what": "edwc run (plan + map)", **plan, "highs_s": highs},
            {"what": f"edwc pareto --points {args.points}", **front, "highs_s": highs}]
    print("| command | wall s | CPU s | wall / one plan | CPU / one plan | wall / HiGHS of one plan | load |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| `{r['what']}` | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['wall_s'] / plan['wall_s']:.2f} | "
              f"{r['cpu_s'] / plan['cpu_s']:.2f} | {r['wall_s'] / highs:.1f} | {r['load']:.1f} |")
    return rows


def year(args) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for workers in args.workers:
            for _ in range(args.repeat):
                row = timed(EDWC + ["run", args.scenario, "--year", "--workers", str(workers), "--no-map",
                                    "--gap", str(args.gap), "--out", f"{folder}/year"])
                meta = json.loads(Path(folder, "year", "metadata.json").read_text())
                plan = meta["year_plan"]
                history = plan["history"]
                rows.append({"workers": workers, **row, "iterations": plan["iterations"], "gap": plan["gap"],
                             "upper_bound_cny": plan["upper_bound_cny"], "lower_bound_cny": plan["lower_bound_cny"],
                             "day_highs_s": sum(h["day_solve_s"] for h in history),
                             "decomposition_s": meta["timings_s"]["decomposition_s"]})
                print(f"measured year plan on {workers} worker(s): {row['wall_s']:.1f} s", file=sys.stderr)
    print("| workers | wall s | iterations | gap | bounds bn CNY/yr | Σ HiGHS day solves s | wall / Σ HiGHS | load |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['workers']} | {r['wall_s']:.1f} | {r['iterations']} | {r['gap']:.3%} | "
              f"{r['lower_bound_cny'] / 1e9:.3f}–{r['upper_bound_cny'] / 1e9:.3f} | {r['day_highs_s']:.1f} | "
              f"{r['wall_s'] / r['day_highs_s']:.2f} | {r['load']:.1f} |")
    return rows


def check(args) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(EDWC + ["run", args.check_scenario, "--no-map", "--out", f"{folder}/run"], check=True,
                       capture_output=True)
        for _ in range(args.repeat):
            for workers in args.workers:  # alternated, so both counts see the same load
                row = timed(EDWC + ["check", f"{folder}/run", "--workers", str(workers), "--no-progress"])
                report = json.loads(Path(folder, "run", "check.json").read_text())
                rows.append({"workers": workers, **row, "dispatch_s": report["solve_s"],
                             "checking_s": report["wall_s"]})
    by_workers = {w: medians([r for r in rows if r["workers"] == w]) for w in args.workers}
    one = by_workers.get(1)
    print("| workers | edwc check wall s | speed-up | of which checking s | speed-up | Σ day dispatch s | load |")
    print("|---|---|---|---|---|---|---|")
    for w, r in by_workers.items():
        speed = one["wall_s"] / r["wall_s"] if one else float("nan")
        inner = one["checking_s"] / r["checking_s"] if one else float("nan")
        print(f"| {w} | {r['wall_s']:.1f} | {speed:.2f} | {r['checking_s']:.1f} | {inner:.2f} | "
              f"{r['dispatch_s']:.1f} | {r['load']:.1f} |")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["startup", "map", "frontier", "year", "check"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--points", type=int, default=20, help="frontier points")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--scenario", default="baseline", help="year plan scenario")
    parser.add_argument("--gap", type=float, default=1e-3, help="year plan gap")
    parser.add_argument("--check-scenario", default="hourly-2025")
    args = parser.parse_args(argv)
    if args.what == "year" and args.repeat == 3:
        args.repeat = 1
    rows = {"startup": startup, "map": map_timing, "frontier": frontier, "year": year, "check": check}[args.what](args)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"bench_speed_{args.what}.json").write_text(json.dumps(
        {"python": platform.python_version(), "arguments": vars(args), "rows": rows}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
