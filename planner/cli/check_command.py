"""The ``edwc check`` command: dispatch a plan over the whole year and report what it really delivers.

"""

from __future__ import annotations

from pathlib import Path

import click

from planner.cli.common import EXIT_NOT_SOLVED, Command, debug_option, fail, terminal_text, workers_note


def format_check(report: dict) -> str:
    """Promised against delivered, one line per figure."""
    promised, delivered = report["promised"], report["delivered"]

    def bn(value):
        return f"{value / 1e9:,.2f} bn CNY/yr"

    def mt(value):
        return f"{value / 1e6:,.2f} MtCO2/yr"

    def pct(value):
        return f"{value:.1%}"

    def mwh(value):
        return f"{value:,.0f} MWh"

    def hours(value):
        return f"{value:,.0f} h"

    rows = [
        ("Total annual cost", "total_cost_cny", bn),
        ("  operating", "operating_cost_cny", bn),
        ("Emissions", "emissions_tco2", mt),
        ("Green share of power", "green_share", pct),
        ("Peak utilisation", "peak_utilisation", pct),
        ("Unserved demand", "unserved_mwh", mwh),
        ("Hours with unserved demand", "unserved_hours", hours),
    ]
    width = max(len(label) for label, _, _ in rows)
    what = "representative days" if report["mode"] == "representative" else (
        f"{report['days_checked']} days of {report['year']}" + (" (annualised)" if report["annualised"] else "")
    )
    lines = [f"Check of '{terminal_text(report['scenario'])}' on {what}",
             f"{'':<{width}}  {'plan':>22}  {'delivered':>22}"]
    lines += [f"{label:<{width}}  {fmt(promised[key]):>22}  {fmt(delivered[key]):>22}" for label, key, fmt in rows]
    if report["shortfalls"]:
        lines.append("")
        lines.append("Unserved demand by province and class:")
        for row in report["shortfalls"][:10]:
            lines.append(f"  {row['province']}/{row['workload']}: {row['unserved_mwh']:,.0f} MWh "
                         f"in {row['unserved_hours']:,.0f} h")
        if len(report["shortfalls"]) > 10:
            lines.append(f"  … and {len(report['shortfalls']) - 10} more (check.json)")
    return "\n".join(lines)


@click.command(cls=Command)
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--year-hours",
    type=click.IntRange(24, 8760),
    default=8760,
    show_default=True,
    help="Hours of the year to dispatch, a multiple of 24 (fewer: days spread over the year, totals annualised).",
)
@click.option(
    "--representative",
    is_flag=True,
    help="Dispatch the plan's own representative days instead of the year (reproduces the plan's figures).",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "dask", "serial"]),
    default="local",
    show_default=True,
    help="local: a process pool here; dask: a Dask LocalCluster; serial: in this process.",
)
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes [default and most: the cores].")
@click.option("--progress/--no-progress", default=True, help="Days done on stderr.")
@debug_option
def check(run_dir, year_hours, representative, executor, workers, progress, debug):
    """Dispatch the plan in RUN_DIR day by day over the year, with its capacity fixed.

    Each day is its own LP (no new build, unserved demand allowed at a high penalty), run in
    parallel. Writes check.json (promised against delivered, shortfalls by province and class,
    peak utilisation by site) and check_days.csv into RUN_DIR.

    Exit codes: 0 checked (shortfalls are reported, not errors), 1 a day could not be solved,
    2 bad input (a run directory that does not check out like a scenario file: files missing or
    changed, another scenario's hash, numbers that are not finite).
    """
    from edwc_data.outputs import claim_folder

    from optimizer.status import PlanNotSolved
    from planner.yearcheck import check_plan, load_plan, write_check

    def report_progress(done, total):
        click.echo(f"\rDispatched {done}/{total} days", err=True, nl=done == total)

    workers = workers_note(workers)
    plan = load_plan(run_dir)  # validated before any work; CheckError or RunDirError: exit 2
    claim_folder(run_dir, "run", create=False)  # check.json goes into the run directory: ours, and writable
    try:
        result = check_plan(
            plan,
            year_hours=year_hours,
            representative=representative,
            executor=executor,
            workers=workers,
            progress=report_progress if progress else None,
        )
    except PlanNotSolved as exc:
        if debug:
            raise
        fail(f"{terminal_text(run_dir)} | a day's dispatch was not solved: {exc}.", EXIT_NOT_SOLVED)
    written = write_check(result, run_dir)
    click.echo(format_check(result.report))
    click.echo(
        f"\nChecked in {result.report['wall_s']:.1f} s on {result.report['workers']} worker(s). "
        f"Written: {', '.join(terminal_text(path) for path in written)}"
    )
