"""Measure HiGHS strategies and formulation options on the national plan with clustered representative days.

Run on demand (never in the test suite):

    python benchmarks/bench_solver.py                          # 12 clustered days × 24 h, every strategy
    python benchmarks/bench_solver.py --days 4 --only dual ipm-nox
    python benchmarks/bench_solver.py --defer                  # deferrable classes on
    python benchmarks/bench_solver.py --scenario hourly-2025   # from a shipped scenario
    python benchmarks/bench_solver.py --sizes 1 4 12           # Python side against solve at each size
    python benchmarks/bench_solver.py --scenario hourly-2025 --resolution 1 4 12 24   # plan, then check the year
    python benchmarks/bench_solver.py --scenario hourly-2025 --check-workers 1 2      # full-year check scaling
    python benchmarks/bench_solver.py --scenario hourly-2025 --set time.defer_within_day=false --resolution 1 12

Each configuration runs in its own process (HiGHS's thread pool is set once per process), through
the same path as ``edwc run`` (build, solve, extract, verify residuals and strong duality). Prints
markdown tables and writes benchmarks/results/bench_solver.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import sys
import time
from pathlib import Path

#: Strategies measured: name -> (HiGHS options, description).
STRATEGIES: dict[str, tuple[dict, str]] = {
    "dual": ({}, "dual simplex (HiGHS default for LP: solver=choose)"),
    "dual-nopresolve": ({"presolve": "off"}, "dual simplex, presolve off"),
    "dual-pami": ({"simplex_strategy": 2, "parallel": "on"}, "parallel dual simplex (PAMI), parallel=on"),
    "dual-sip": ({"simplex_strategy": 3, "parallel": "on"}, "parallel dual simplex (SIP), parallel=on"),
    "dual-devex": ({"simplex_dual_edge_weight_strategy": 1}, "dual simplex, Devex pricing"),
    "primal": ({"simplex_strategy": 4}, "primal simplex"),
    "ipm": ({"solver": "ipm", "run_crossover": "on"}, "interior point + crossover"),
    "ipm-nox": ({"solver": "ipm", "run_crossover": "off"}, "interior point, no crossover"),
    "ipm-nox-par": (
        {"solver": "ipm", "run_crossover": "off", "parallel": "on"},
        "interior point, no crossover, parallel=on",
    ),
    "pdlp": ({"solver": "pdlp"}, "first-order PDLP (HiGHS 1.13)"),
    # Formulation option: the load columns without their (implied) upper bounds, as before this
    # benchmark; dual simplex, solve time only.
    "dual-x-unbounded": ({}, "dual simplex, x columns without the upper bound D[p,k,t]"),
}

#: Strategies that change the formulation rather than HiGHS's options.
X_UNBOUNDED = {"dual-x-unbounded"}


#: Extra ``--set`` overrides from the command line, applied after the time settings.
EXTRA_SETS: list[str] = []


def _scenario_overrides(days: int, representative: str, defer: bool) -> list[str]:
    sets = [f"time.days={days}", f"time.representative={representative}"]
    if defer:
        sets.append("time.defer_within_day=true")
    return sets + EXTRA_SETS


def _run_one(name: str, options: dict, scenario: str, overrides: list[str], time_limit_s: float, queue) -> None:
    # In a child process: one plan, timed stage by stage.
    from optimizer.plan import optimise
    from optimizer.status import PlanNotSolved
    from planner.preprocess import build_inputs
    from planner.scenario import load_scenario

    row: dict = {"strategy": name, "options": options}
    start = time.perf_counter()
    inputs = build_inputs(load_scenario(scenario, overrides))
    row["inputs_s"] = time.perf_counter() - start
    if name in X_UNBOUNDED:
        _run_x_unbounded(row, inputs, time_limit_s, queue)
        return
    start = time.perf_counter()
    try:
        plan = optimise(inputs, backend="highs", time_limit_s=time_limit_s, options=options)
    except PlanNotSolved as exc:
        row.update(status=exc.status, message=str(exc)[:200], wall_s=time.perf_counter() - start)
        queue.put(row)
        return
    t = plan.metadata["timings_s"]
    python_side = t["formulate_s"] + t["build_s"] + (t["handover_and_solve_s"] - t["solver_s"]) + t["extract_s"]
    row.update(
        status="optimal",
        columns=plan.metadata["columns"],
        rows=plan.metadata["rows"],
        formulate_s=t["formulate_s"],
        build_s=t["build_s"],
        solve_s=t["solver_s"],
        extract_s=t["extract_s"],
        tabulate_verify_s=t["tabulate_s"],
        python_side_s=python_side,
        python_with_tables_s=python_side + t["tabulate_s"],
        ratio=python_side / t["solver_s"],
        wall_s=time.perf_counter() - start,
        objective_cny=plan.summary.total_cost_cny,
        duality_gap=plan.metadata["duality_gap"],
        max_violation=plan.metadata["max_violation"],
        carbon_shadow_price=plan.summary.carbon_shadow_price_cny_per_tco2,
    )
    queue.put(row)


def _run_x_unbounded(row: dict, inputs, time_limit_s: float, queue) -> None:
    import numpy as np

    from optimizer.formulation import build_lp
    from optimizer.solve import solve_lp

    start = time.perf_counter()
    lp, _ = build_lp(inputs)
    lp.col_upper[0] = np.full(lp.col_upper[0].size, np.inf)  # family 'x' is added first
    lp._arrays = None
    formulate_s = time.perf_counter() - start
    solution = solve_lp(lp, backend="highs", time_limit_s=time_limit_s)
    t = solution.timings
    row.update(
        status="optimal", columns=lp.num_cols, rows=lp.num_rows, formulate_s=formulate_s, build_s=t["build_s"],
        solve_s=t["solver_s"], extract_s=t["extract_s"], tabulate_verify_s=0.0,
        python_side_s=formulate_s + t["build_s"] + t["extract_s"],
        python_with_tables_s=formulate_s + t["build_s"] + t["extract_s"],
        ratio=(formulate_s + t["build_s"] + t["extract_s"]) / t["solver_s"], wall_s=time.perf_counter() - start,
        objective_cny=solution.objective,
        duality_gap=abs(solution.objective - solution.dual_objective) / abs(solution.objective),
        max_violation=float("nan"), carbon_shadow_price=None,
    )
    queue.put(row)


def measure(name: str, options: dict, scenario: str, overrides: list[str], time_limit_s: float) -> dict:
    """One configuration in a fresh process; returns its timings (or its failure)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_run_one, args=(name, options, scenario, overrides, time_limit_s, queue))
    process.start()
    try:
        row = queue.get(timeout=time_limit_s + 600)
    finally:
        process.join(timeout=60)
        if process.is_alive():
            process.terminate()
    return row


def _table(rows: list[dict], reference: float | None) -> str:
    header = (
        "| strategy | status | columns | solve s | formulate+build s | extract s | tabulate+verify s "
        "| Python/solve | wall s | objective vs dual simplex | duality gap |"
    )
    lines = [header, "|---" * (header.count("|") - 1) + "|"]
    for r in rows:
        if r["status"] != "optimal":
            lines.append(f"| {r['strategy']} | {r['status']} | | | | | | | {r['wall_s']:.1f} | | |")
            continue
        gap = "" if reference is None else f"{(r['objective_cny'] - reference) / abs(reference):+.1e}"
        lines.append(
            f"| {r['strategy']} | {r['status']} | {r['columns']:,} | {r['solve_s']:.2f} | "
            f"{r['formulate_s'] + r['build_s']:.2f} | {r['extract_s']:.2f} | {r['tabulate_verify_s']:.2f} | "
            f"{r['ratio']:.3f} | {r['wall_s']:.2f} | {gap} | {r['duality_gap']:.1e} |"
        )
    return "\n".join(lines)


def _resolution(args) -> list[dict]:
    # Plan on N clustered days, then dispatch the whole year with the plan's capacities.
    import tempfile

    from planner.run import run_scenario
    from planner.rundir import write_run
    from planner.scenario import load_scenario
    from planner.yearcheck import check_plan

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for days in args.resolution:
            overrides = _scenario_overrides(days, "clustered", args.defer)
            start = time.perf_counter()
            results = run_scenario(load_scenario(args.scenario, overrides))
            plan_s = time.perf_counter() - start
            run = write_run(results, Path(folder) / f"days{days}")
            report = check_plan(run, executor="local").report
            promised, delivered = report["promised"], report["delivered"]
            rows.append({
                "days": days, "slices": days * 24, "columns": results.metadata["columns"],
                "solve_s": results.metadata["timings_s"]["solver_s"], "plan_wall_s": plan_s,
                "check_wall_s": report["wall_s"], "promised": promised, "delivered": delivered,
                "new_capacity_mw": results.summary.new_capacity_mw,
            })
            print(f"measured {days} days: plan {plan_s:.1f} s, check {report['wall_s']:.1f} s", file=sys.stderr)
    header = ("| days | columns | solve s | plan cost bn CNY | year cost bn CNY | plan MtCO2 | year MtCO2 "
              "| plan green | year green | new MW | unserved MWh (h) | check s |")
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for r in rows:
        p, d = r["promised"], r["delivered"]
        print(f"| {r['days']} | {r['columns']:,} | {r['solve_s']:.2f} | {p['total_cost_cny'] / 1e9:.3f} | "
              f"{d['total_cost_cny'] / 1e9:.3f} | {p['emissions_tco2'] / 1e6:.3f} | {d['emissions_tco2'] / 1e6:.3f} | "
              f"{p['green_share']:.2%} | {d['green_share']:.2%} | {r['new_capacity_mw']:,.0f} | "
              f"{d['unserved_mwh']:,.0f} ({d['unserved_hours']:.0f}) | {r['check_wall_s']:.1f} |")
    return rows


def _check_scaling(args) -> list[dict]:
    # The same plan checked over the year with each executor and worker count, in fresh processes.
    import os
    import subprocess
    import tempfile

    from planner.run import run_scenario
    from planner.rundir import write_run
    from planner.scenario import load_scenario

    rows = []
    overrides = _scenario_overrides(args.days, args.representative, args.defer)
    with tempfile.TemporaryDirectory() as folder:
        run = write_run(run_scenario(load_scenario(args.scenario, overrides)), Path(folder) / "run")
        for executor in args.executors:
            for workers in args.check_workers:
                start = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-c", "from planner.cli import main; main()", "check", str(run),
                     "--executor", executor, "--workers", str(workers), "--no-progress"],
                    check=True, capture_output=True,
                )
                wall = time.perf_counter() - start
                report = json.loads((run / "check.json").read_text())
                rows.append({"executor": executor, "workers": workers, "wall_s": wall,
                             "check_s": report["wall_s"], "dispatch_s": report["solve_s"],
                             "load_average": os.getloadavg()[0]})
                print(f"measured {executor} × {workers}: {wall:.1f} s", file=sys.stderr)
    print("| executor | workers | edwc check wall s | of which checking s | Σ day dispatch s | load average |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['executor']} | {r['workers']} | {r['wall_s']:.1f} | {r['check_s']:.1f} | "
              f"{r['dispatch_s']:.1f} | {r['load_average']:.1f} |")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="baseline", help="shipped scenario or YAML file to start from")
    parser.add_argument("--days", type=int, default=12, help="representative days (24 slices each)")
    parser.add_argument("--representative", choices=["clustered", "identical"], default="clustered")
    parser.add_argument("--defer", action="store_true", help="deferrable classes move load within the day")
    parser.add_argument("--only", nargs="+", choices=list(STRATEGIES), help="strategies to run")
    parser.add_argument("--sizes", type=int, nargs="+", help="instead: the default strategy at these day counts")
    parser.add_argument("--time-limit", type=float, default=600.0, help="per solve [s]")
    parser.add_argument("--resolution", type=int, nargs="+",
                        help="instead: plan with these clustered day counts and check each over the year")
    parser.add_argument("--check-workers", type=int, nargs="+",
                        help="instead: time the full-year check of the scenario's plan with these worker counts")
    parser.add_argument("--executors", nargs="+", default=["local", "dask"], help="for --check-workers")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="scenario override, as edwc run --set (repeatable)")
    parser.add_argument("--out", default="bench_solver.json", help="file name under benchmarks/results/")
    args = parser.parse_args(argv)
    EXTRA_SETS[:] = args.sets

    rows = []
    if args.resolution:
        rows = _resolution(args)
    elif args.check_workers:
        rows = _check_scaling(args)
    elif args.sizes:
        for days in args.sizes:
            overrides = _scenario_overrides(days, args.representative, args.defer)
            row = measure("dual", {}, args.scenario, overrides, args.time_limit)
            row["slices"] = days * 24
            rows.append(row)
            print(f"measured {days * 24} slices: {row.get('wall_s', 0):.1f} s", file=sys.stderr)
        header = "| slices | columns | solve s | formulate+build s | extract s | Python side s | Python/solve |"
        print(header)
        print("|---" * (header.count("|") - 1) + "|")
        for r in rows:
            print(f"| {r['slices']} | {r['columns']:,} | {r['solve_s']:.2f} | {r['formulate_s'] + r['build_s']:.2f} | "
                  f"{r['extract_s']:.2f} | {r['python_side_s']:.2f} | {r['ratio']:.3f} |")
    else:
        overrides = _scenario_overrides(args.days, args.representative, args.defer)
        for name in args.only or list(STRATEGIES):
            options, _ = STRATEGIES[name]
            row = measure(name, options, args.scenario, overrides, args.time_limit)
            rows.append(row)
            print(f"measured {name}: {row['status']} in {row.get('wall_s', 0):.1f} s", file=sys.stderr)
        reference = next((r["objective_cny"] for r in rows if r["strategy"] == "dual" and r["status"] == "optimal"),
                         None)
        print(_table(rows, reference))

    from optimizer.solve import solver_versions

    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / args.out).write_text(json.dumps({
        "python": platform.python_version(),
        **solver_versions(),
        "arguments": vars(args),
        "rows": rows,
    }, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
