"""The ``edwc sweep`` and ``edwc pareto`` commands: run studies and frontiers, write charts and report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from optimizer.status import PlanStatus
from planner.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_NOT_SOLVED,
    Command,
    debug_option,
    fail,
    out_option,
    terminal_text,
    workers_note,
)

#: Top-level keys that make a YAML file a study rather than a scenario.
STUDY_KEYS = {"base", "grid", "samples", "distributions", "factors", "outputs", "pareto", "set", "seed",
              "sampling", "sensitivity"}


def _executor_options(function):
    for option in reversed(
        [
            click.option(
                "--executor",
                type=click.Choice(["local", "dask", "serial"]),
                default="local",
                show_default=True,
                help="local: a process pool here; dask: Dask distributed "
                "(a LocalCluster, or the scheduler at --address); serial: in this process.",
            ),
            click.option(
                "--address",
                metavar="tcp://HOST:PORT",
                help="Dask scheduler of an existing cluster (implies --executor dask).",
            ),
            click.option("--workers", type=click.IntRange(min=1),
                         help="Worker processes [default and most: the cores available]."),
            click.option("--progress/--no-progress", default=True, help="Progress bar with ETA on stderr."),
            debug_option,
        ]
    ):
        function = option(function)
    return function


def _sensitivity(out_dir: Path, table, study, plots: bool) -> None:
    """Indices of a sensitivity study: sensitivity.csv, its chart, and why any figure was left out."""
    from planner.studies.report import write_study_meta
    from planner.studies.sensitivity import study_indices, write_indices
    from planner.studies.table import DEFAULT_OUTPUTS

    record = study.record()
    indices, skipped = study_indices(table, record, list(study.spec.outputs or DEFAULT_OUTPUTS))
    write_study_meta(out_dir, sensitivity_skipped=skipped)
    if indices.empty:
        return
    write_indices(out_dir, indices)
    if plots:
        from planner.studies.plots import plot_sensitivity

        plot_sensitivity(indices, out_dir / "sensitivity")


def _sweep_plots(out_dir: Path, table, study) -> None:
    from planner.studies.plots import plot_build_shares, plot_response, plot_tornado

    spec = study.spec
    varied = study.varied
    numeric = [key for key in varied if key in table.columns and table[key].dtype.kind in "if"]
    if not (table["status"] == PlanStatus.OPTIMAL).any():
        return
    if spec.samples:
        plot_build_shares(table, out_dir / "clusters")
    elif numeric:
        x_key = max(numeric, key=lambda key: table[key].nunique())
        others = [key for key in varied if key != x_key and 1 < table[key].nunique() <= 6]
        plot_response(table, x_key, out_dir / "response", hue_key=others[0] if others else None)
    if numeric:
        plot_tornado(table, numeric, out_dir / "tornado")


@click.command("sweep", cls=Command)
@click.argument("study_file", metavar="STUDY.yaml")
@out_option("Study folder: study.parquet, charts, report.md (re-run into it to resume).", required=True)
@click.option("--keep-runs", is_flag=True, help="Also write a full run directory per run (runs/<hash>/).")
@click.option("--plots/--no-plots", default=True, help="Write the charts (PNG and SVG).")
@_executor_options
def sweep_command(study_file, out_dir, keep_runs, plots, executor, address, workers, progress, debug):
    """Run the grid and/or Monte Carlo samples of STUDY.yaml (a file or a shipped study name).

    Every run is solved in isolation: an infeasible or failing run is recorded with its message
    and the study goes on. Results are written to OUT/study.parquet as they arrive; running the
    same command again skips the runs already finished. Exit codes: 0 done, 1 no run solved,
    2 bad study file, 130 interrupted (finished runs kept).
    """
    from edwc_data.outputs import claim_folder

    from planner.parallel import check_executor
    from planner.studies import StudyError, load_study, run_study
    from planner.studies.report import write_report

    if address:
        executor = "dask"
    workers = workers_note(workers)
    # Everything is checked before anything is written: the study file, the executor (a scheduler
    # that does not answer within seconds), the output folder (ours, and writable).
    study = load_study(study_file)
    if not study.has_runs:
        msg = "has no grid or samples to run. For a frontier only, use `edwc pareto`."
        raise StudyError(msg,
                         source=study.path.name, field="grid")
    check_executor(executor, workers, address)
    claim_folder(out_dir, "study", create=False)
    try:
        table = run_study(
            study, out_dir, executor=executor, workers=workers, address=address, keep_runs=keep_runs,
            progress=progress, record=study.record(),
        )
    except KeyboardInterrupt:
        fail(
            f"interrupted: finished runs are kept in {terminal_text(out_dir / 'study.parquet')}. "
            "Run the same command again to resume.",
            EXIT_INTERRUPTED,
        )
    if plots:
        _sweep_plots(out_dir, table, study)
    if study.spec.sensitivity:
        _sensitivity(out_dir, table, study, plots)
    report = write_report(out_dir)
    counts = table["status"].value_counts()
    statuses = ", ".join(f"{counts[s]} {s}" for s in counts.index)
    click.echo(
        f"Study '{terminal_text(study.name)}': {len(table)} runs ({statuses}); "
        f"{table.attrs.get('solved', 0)} solved now, {table.attrs.get('skipped', 0)} taken from "
        f"the earlier run.\nTable: {terminal_text(out_dir / 'study.parquet')}\nReport: {terminal_text(report)}"
    )
    if not (table["status"] == PlanStatus.OPTIMAL).any():
        sys.exit(EXIT_NOT_SOLVED)


def _is_study(target: str) -> bool:
    from edwc_data.tables import studies_dir

    from planner.scenario import read_yaml_file

    path = Path(target)
    if not path.exists():
        return path.suffix == "" and (studies_dir() / f"{target}.yaml").exists()
    document = read_yaml_file(path)  # a file that cannot be read is refused as what it is
    return bool(STUDY_KEYS & set(document))


@click.command("pareto", cls=Command)
@click.argument("target", metavar="STUDY_OR_SCENARIO")
@out_option("Folder for frontier.parquet, frontier.png/.svg and report.md.", required=True)
@click.option(
    "--points",
    type=click.IntRange(min=3, max=500),
    help="Points on the frontier, both ends included [default: the study's, or 20].",
)
@click.option(
    "--x",
    "x_axis",
    type=click.Choice(["emissions_tco2", "load_weighted_latency_ms"]),
    help="Frontier axis against total cost [default: the study's, or emissions_tco2].",
)
@click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a base-scenario setting (repeatable)."
)
@click.option("--reuse/--no-reuse", default=True, help="Warm-start consecutive caps on one LP per worker.")
@_executor_options
def pareto_command(target, out_dir, points, x_axis, overrides, reuse, executor, address, workers, progress, debug):
    """Trace the least-cost frontier of cost against emissions (or latency) by the ε-constraint method.

    STUDY_OR_SCENARIO is a study file (its base, set and pareto section are used), a scenario
    file or a shipped scenario name. Exit codes: 0 frontier traced, 1 its end points could not
    be solved, 2 bad input.
    """
    from edwc_data.outputs import claim_folder

    from planner.parallel import check_executor
    from planner.scenario import ScenarioError, parse_override
    from planner.sizing import check_plan_size
    from planner.studies import load_base, load_study, pareto
    from planner.studies.plots import plot_frontier
    from planner.studies.report import write_report, write_study_meta

    if address:
        executor = "dask"
    workers = workers_note(workers)
    try:
        settings = {}
        for assignment in overrides:
            path, value = parse_override(assignment)
            settings[".".join(path)] = value
        if _is_study(target):
            study = load_study(target)
            base, name, description = study.spec.base, study.name, study.spec.description
            merged = {**study.spec.set, **settings}
            if merged != study.spec.set:
                scenario = load_base(study.spec.base, merged, relative_to=study.path.parent).scenario
            else:
                scenario = study.base.scenario
            section = study.spec.pareto
            points = points or (section.points if section else 20)
            x_axis = x_axis or (section.x if section else "emissions_tco2")
        else:
            scenario = load_base(target, settings).scenario
            base, name, description, merged = target, scenario.name, scenario.description, settings
            points, x_axis = points or 20, x_axis or "emissions_tco2"
    except ScenarioError as exc:
        if exc.field in settings:  # blame the option, not the scenario file
            raise exc.relocated(source="--set") from None
        raise
    check_plan_size(scenario)  # every point of the frontier solves the base scenario's LP
    check_executor(executor, workers, address)
    folder = claim_folder(out_dir, "study")
    write_study_meta(
        folder, name=name, description=description, base=base, set=merged, pareto={"x": x_axis, "points": points}
    )
    try:
        frontier = pareto(
            scenario,
            x=x_axis,
            points=points,
            executor=executor,
            workers=workers,
            address=address,
            out_dir=folder,
            progress=progress,
            reuse=reuse,
        )
    except KeyboardInterrupt:
        fail("interrupted: no frontier written.", EXIT_INTERRUPTED)
    plot_frontier(frontier, folder / "frontier", title=f"{name}: least-cost frontier")
    report = write_report(folder)
    solved = frontier[frontier["status"] == PlanStatus.OPTIMAL]
    shown = terminal_text(name)
    click.echo(f"Frontier of '{shown}': {len(solved)} of {len(frontier)} points solved.")
    if len(solved) >= 2:
        top, bottom = solved.iloc[0], solved.iloc[-1]
        scale, unit = (1e6, "MtCO2/yr") if x_axis == "emissions_tco2" else (1.0, "ms")
        click.echo(
            f"{x_axis}: {top[x_axis] / scale:,.2f} → {bottom[x_axis] / scale:,.2f} {unit}; "
            f"cost {top['total_cost_cny'] / 1e9:,.1f} → {bottom['total_cost_cny'] / 1e9:,.1f} bn CNY/yr."
        )
    click.echo(f"Plot: {terminal_text(folder / 'frontier.png')}\nReport: {terminal_text(report)}")
    if len(solved) < 2:
        first = frontier[frontier["status"] != PlanStatus.OPTIMAL].iloc[0]
        fail(f"scenario '{shown}' | no frontier: {first['status']}: {first['message']}", EXIT_NOT_SOLVED)
