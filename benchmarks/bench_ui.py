"""Time the app's re-solve after an edit: from submitting an edited scenario to results ready.

Run on demand (never in the test suite):

    python benchmarks/bench_ui.py               # 5 edits of the default scenario
    python benchmarks/bench_ui.py --edits 10

Measured through the app's own engine (ui.engine.Engine: the 2-worker spawn pool and the cache
keyed by input hash) and through the Plan page itself (streamlit.testing's AppTest with the real
pool: press "Solve plan" after an edit, until the page, map included, has rendered).

- pool start: creating the Engine until its first (trivial) job returns, workers warmed up.
- cold: a scenario never solved before (a new carbon price each time): validation, hand-over,
  solve and verification in a worker, Results back in the server.
- cached: the same scenario submitted again (another session, or re-opening it).
- map: the plan map drawn in a worker (PNG), per metric and language, then cached.
- page: the Plan page after "Solve plan" on an edited scenario, solve and map included.

Prints a markdown table and writes benchmarks/results/bench_ui.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def engine_timings(edits: int) -> dict:
    """Pool start, cold and cached solves, and a map, through ui.engine.Engine."""
    from planner.scenario import load_scenario
    from ui import jobs
    from ui.engine import Engine

    start = time.perf_counter()
    engine = Engine()
    engine.run(("bench", "ping"), sum, [1, 2])
    # The first jobs also wait for the workers' imports (initializer); time them separately.
    pool_start = time.perf_counter() - start
    first_s, _ = _timed(lambda: engine.submit_plan(
        load_scenario(None, ["carbon.price_cny_per_tco2=1"])).result())
    cold, cached, maps, worker = [], [], [], []
    try:
        for index in range(edits):
            scenario = load_scenario(None, [f"carbon.price_cny_per_tco2={10 + 7 * index}"])
            seconds, outcome = _timed(lambda s=scenario: engine.submit_plan(s).result())
            assert outcome.solved, outcome.message
            cold.append(seconds)
            worker.append(outcome.solve_s)
            again, _ = _timed(lambda s=scenario: engine.submit_plan(s).result())
            cached.append(again)
            seconds, png = _timed(lambda o=outcome, i=index: engine.run(
                ("map", o.results.metadata["input_hash"], "west_share", "en"),
                jobs.plan_map_png, o.results, "west_share", "en"))
            assert png[:4] == b"\x89PNG"
            maps.append(seconds)
    finally:
        engine.shutdown()
    return {"pool_start_s": pool_start, "first_solve_s": first_s, "cold_s": cold,
            "cold_worker_s": worker, "cached_s": cached, "map_s": maps}


def page_timings(edits: int) -> dict:
    """The Plan page after an edit and "Solve plan", with the real pool (AppTest)."""
    os.environ.pop("EDWC_UI_INLINE", None)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=300).run()
    at.switch_page("app_pages/plan.py").run()
    at.button(key="solve_plan").click().run()  # warms the pool; not counted
    page, reopen = [], []
    for index in range(edits):
        at.session_state["overrides"] = {"carbon.price_cny_per_tco2": 500.0 + 11 * index}
        at.run()
        seconds, _ = _timed(lambda: at.button(key="solve_plan").click().run())
        assert not at.exception and len(at.metric) == 6
        page.append(seconds)
    # Re-opening a solved scenario: back to an earlier edit; the page shows it without a click.
    for index in range(edits):
        at.session_state["overrides"] = {"carbon.price_cny_per_tco2": 500.0 + 11 * index}
        seconds, _ = _timed(at.run)
        reopen.append(seconds)
    return {"page_s": page, "reopen_s": reopen}


def summarise(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} (max {max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=5, help="distinct edited scenarios to time")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    engine = engine_timings(args.edits)
    page = page_timings(args.edits)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rows = [
        ("pool start (2 workers, until a job runs)", f"{engine['pool_start_s']:.2f}"),
        ("first solve on a fresh pool (worker imports)", f"{engine['first_solve_s']:.2f}"),
        ("cold solve, submit → Results in the server", summarise(engine["cold_s"])),
        ("  of which in the worker", summarise(engine["cold_worker_s"])),
        ("cached solve (same scenario again)", summarise(engine["cached_s"])),
        ("plan map PNG in a worker", summarise(engine["map_s"])),
        ("Plan page: edit → Solve plan → page rendered (solve + map)", summarise(page["page_s"])),
        ("Plan page: re-open a solved scenario", summarise(page["reopen_s"])),
    ]
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, load average {load:.1f}, "
          f"{args.edits} edits; seconds, median (max)\n")
    print("| step | s |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")
    out = ROOT / "benchmarks" / "results" / "bench_ui.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"python": platform.python_version(), "cores": os.cpu_count(),
                               "load_average": load, "edits": args.edits, **engine, **page},
                              indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
