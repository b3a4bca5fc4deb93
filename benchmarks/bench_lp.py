"""Time the planning LP's stages on both solve paths: formulate, build/hand-over, solve, extract.

Run on demand (never in the test suite):

    python benchmarks/bench_lp.py                 # the default (4 clustered days and the peak days) and 12 days
    python benchmarks/bench_lp.py --days 1 --repeat 3
    python benchmarks/bench_lp.py --days 1 4 12 --backends highs --repeat 5 --handover

``--handover`` also times the two ways of handing the same arrays to HiGHS, side by side on the same
LP: the pointer overload of ``Highs.passModel`` (``optimizer.solve.pass_lp``, what every path uses)
and filling a ``highspy.HighsLp`` field by field (``optimizer.solve.highs_lp``, the earlier path).

Prints a markdown table and writes benchmarks/results/bench_lp.json. "Python side" is every
second spent outside HiGHS's own solve: formulating the arrays, stating the model (PuLP's
build, or the matrix for highspy), PuLP's hand-over to HiGHS, reading the solution back and
tabulating/verifying; the ratio is Python side / HiGHS run time.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

from optimizer.plan import optimise
from optimizer.solve import solver_versions
from planner.preprocess import build_inputs
from planner.scenario import load_scenario


def measure(days: int, backend: str) -> dict:
    """One timed solve of the default scenario with ``days`` clustered days (and the peak days)."""
    start = time.perf_counter()
    inputs = build_inputs(load_scenario(None, [f"time.days={days}"]))
    inputs_s = time.perf_counter() - start
    start = time.perf_counter()
    plan = optimise(inputs, backend=backend)
    wall = time.perf_counter() - start
    t = plan.metadata["timings_s"]
    solver = t["solver_s"]
    handover = t["handover_and_solve_s"] - solver
    python_side = t["formulate_s"] + t["build_s"] + handover + t.get("map_s", 0.0) + t["extract_s"] + t["tabulate_s"]
    return {
        "slices": int(inputs.hours.size),
        "backend": backend,
        "columns": plan.metadata["columns"],
        "rows": plan.metadata["rows"],
        "inputs_s": inputs_s,
        "formulate_s": t["formulate_s"],
        "build_s": t["build_s"],
        "handover_s": handover,
        "solve_s": solver,
        "extract_s": t["extract_s"] + t.get("map_s", 0.0),
        "tabulate_verify_s": t["tabulate_s"],
        "python_side_s": python_side,
        "ratio": python_side / solver,
        "wall_s": wall + inputs_s,
        "objective_cny": plan.summary.total_cost_cny,
    }


def handover(days: int, repeat: int) -> dict:
    """Median seconds of each hand-over of the default LP with ``days`` days, and HiGHS's solve of it."""
    from optimizer.formulation import build_lp
    from optimizer.solve import highs_lp, new_highs, pass_lp

    inputs = build_inputs(load_scenario(None, [f"time.days={days}"]))
    lp, _ = build_lp(inputs)
    arrays = lp.arrays()

    def timed(hand_over) -> float:
        times = []
        for _ in range(repeat):
            highs = new_highs()
            start = time.perf_counter()
            hand_over(highs)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    pointer = timed(lambda highs: pass_lp(highs, *arrays))
    fields = timed(lambda highs: highs.passModel(highs_lp(*arrays)))
    highs = new_highs()
    pass_lp(highs, *arrays)
    highs.run()
    solve = float(highs.getRunTime())
    return {"slices": int(inputs.hours.size), "columns": lp.num_cols, "nonzeros": int(arrays[3].nnz),
            "pointer_s": pointer,
            "highs_lp_s": fields, "solve_s": solve, "speed_up": fields / pointer}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[4, 12],
                        help="clustered days (4 is the default scenario's), with the peak days, 6 slices each")
    parser.add_argument("--backends", nargs="+", default=["pulp", "highs"])
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the median is reported")
    parser.add_argument("--handover", action="store_true", help="also time pass_lp against the HighsLp path")
    args = parser.parse_args(argv)
    rows = []
    for days in args.days:
        for backend in args.backends:
            runs = [measure(days, backend) for _ in range(args.repeat)]
            row = {
                key: (statistics.median(r[key] for r in runs) if isinstance(runs[0][key], float) else runs[0][key])
                for key in runs[0]
            }
            rows.append(row)
            print(f"measured {row['slices']} slices on {backend}: {row['wall_s']:.2f} s", file=sys.stderr)
    header = (
        "| slices | path | columns | formulate s | build s | hand-over s | solve s | extract s "
        "| tabulate+verify s | Python side s | Python/solve | wall s |"
    )
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for r in rows:
        print(
            f"| {r['slices']} | {r['backend']} | {r['columns']:,} | {r['formulate_s']:.2f} | {r['build_s']:.2f} | "
            f"{r['handover_s']:.2f} | {r['solve_s']:.2f} | {r['extract_s']:.2f} | {r['tabulate_verify_s']:.2f} | "
            f"{r['python_side_s']:.2f} | {r['ratio']:.2f} | {r['wall_s']:.2f} |"
        )
    handovers = [handover(days, max(args.repeat, 3)) for days in args.days] if args.handover else []
    if handovers:
        print("\n| slices | columns | nonzeros | pass_lp (pointer) s | HighsLp fields s | speed-up | solve s "
              "| pass_lp / solve | HighsLp / solve |")
        print("|---" * 9 + "|")
        for h in handovers:
            print(f"| {h['slices']} | {h['columns']:,} | {h['nonzeros']:,} | {h['pointer_s']:.4f} | "
                  f"{h['highs_lp_s']:.4f} | {h['speed_up']:.1f}× | {h['solve_s']:.2f} | "
                  f"{h['pointer_s'] / h['solve_s']:.3f} | {h['highs_lp_s'] / h['solve_s']:.3f} |")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_lp.json").write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                **solver_versions(),
                "rows": rows,
                "handover": handovers,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
