"""``edwc run``: solve a scenario (one year or a pathway) and write its run directory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from planner.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_NOT_SOLVED,
    Command,
    debug_option,
    display_width,
    fail,
    lang_option,
    out_option,
    pad,
    terminal_text,
    workers_note,
)

if TYPE_CHECKING:
    from optimizer.results import Results


def format_summary(results: Results, lang: str = "en") -> str:
    """A readable table of a plan's headline figures, in English or Chinese (the label table's words)."""
    from edwc_data.labels import MONEY_SCALE, t

    s = results.summary
    scale = MONEY_SCALE[lang]

    def money(value, key="cli_money_yr"):
        return t(key, lang, value=value / scale)

    from optimizer.results import COST_PARTS, cost_label

    parts = [("  " + t(cost_label(part), lang), money(getattr(s, part))) for part in COST_PARTS
             if part == "capex_cny" or abs(getattr(s, part)) >= 0.005 * scale]  # parts that show
    rows = [
        (t("cli_scenario", lang), terminal_text(s.scenario)),
        (t("fig_cost", lang), money(s.total_cost_cny)),
        *parts,
        (t("fig_emissions", lang), t("cli_mt_yr", lang, value=s.emissions_tco2 / 1e6)
         + ", " + t("accounting_" + s.carbon_accounting, lang)),
        (t("cli_emissions_all", lang), t("cli_emissions_all_value", lang, location=s.emissions_location_tco2 / 1e6,
                                         market=s.emissions_market_tco2 / 1e6,
                                         marginal=s.emissions_marginal_tco2 / 1e6)),
        (t("cli_electricity", lang), t("cli_electricity_value", lang, twh=s.facility_energy_mwh / 1e6,
                                       pue=s.pue_average)),
        (t("cli_occupancy", lang), t("cli_occupancy_value", lang, occupancy=s.occupancy,
                                     mean=s.mean_utilisation, peak=s.peak_utilisation)),
        (t("fig_green", lang), f"{s.green_share:.1%}"),
        (t("cli_mean_demand", lang), t("cli_demand_value", lang, mean=s.mean_demand_mw, peak=s.peak_demand_mw)),
        (t("fig_west", lang), f"{s.west_share:.1%}"),
        (t("fig_hub", lang), f"{s.hub_share:.1%}"),
        (t("cli_latency", lang), t("cli_latency_value", lang, value=s.load_weighted_latency_ms)),
        *([(t("cli_network", lang), t("cli_network_value", lang, gbps=s.network_new_gbps,
                                       capex=s.network_capex_cny / (1e6 if lang == "en" else 1e4),
                                       gwh=s.transfer_energy_mwh / 1e3))]
          if results.links is not None else []),
        (t("fig_new_capacity", lang), t("cli_new_value", lang, total=s.new_capacity_mw, west=s.new_capacity_west_mw)),
        (t("fig_capex", lang), money(s.compute_capex_cny, "cli_money")),
    ]
    if s.carbon_shadow_price_cny_per_tco2 is not None:
        rows.append((t("carbon_shadow", lang), f"{s.carbon_shadow_price_cny_per_tco2:,.1f}"))
    width = max(display_width(label) for label, _ in rows)
    lines = [f"{pad(label, width)}  {value}" for label, value in rows]
    sites = results.sites
    built = sites[sites["new_mw"] > 0.5].sort_values("new_mw", ascending=False)
    if len(built):
        lines.append("")
        lines.append(f"{pad(t('cli_new_by_site', lang), width)}  {t('cli_new_by_site_columns', lang)}")
        names = built["name_zh"] if lang == "zh" else built["name_en"].str.removesuffix(" cluster")
        for name, (_, row) in zip(names, built.head(12).iterrows(), strict=False):
            lines.append(f"  {pad(terminal_text(name), width - 2)}  {row['new_mw']:>7,.0f}  {row['utilisation']:.0%}")
        if len(built) > 12:
            lines.append("  " + t("cli_more_sites", lang, count=len(built) - 12))
    lines.extend(["", *calibration_lines(results, lang)])
    return "\n".join(lines)


def format_futures(plan, lang: str = "en") -> str:
    """The futures of a stochastic plan (cost, the mean-future plan's cost, the future's own optimum) and VSS, EVPI."""
    from edwc_data.labels import MONEY_SCALE, t

    scale = MONEY_SCALE[lang]
    header = [t("robust_future", lang), t("robust_probability", lang), t("robust_cost", lang),
              t("robust_mean_plan_cost", lang), t("robust_perfect_cost", lang)]
    rows = [[terminal_text(row.future), f"{row.probability:.1%}", f"{row.cost_cny / scale:,.1f}",
             f"{row.mean_plan_cost_cny / scale:,.1f}", f"{row.perfect_cost_cny / scale:,.1f}"]
            for row in plan.futures.itertuples()]
    widths = [max(display_width(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = [t("robust_shown", lang, future=terminal_text(plan.results.summary.stochastic["shown_future"])), "",
             t("robust_title", lang, unit=t("unit_money_yr", lang))]
    lines += ["  ".join(pad(cell, width) for cell, width in zip(line, widths, strict=True)) for line in [header, *rows]]
    figures = [(t("robust_expected", lang), plan.expected_cost_cny)]
    if plan.cvar_cny is not None:
        figures.append((t("robust_cvar", lang), plan.cvar_cny))
    figures += [(t("robust_vss", lang), plan.vss_cny), (t("robust_evpi", lang), plan.evpi_cny)]
    width = max(display_width(label) for label, _ in figures)
    lines += [""] + [f"{pad(label, width)}  {t('cli_money_yr', lang, value=value / scale)}" for label, value in figures]
    return "\n".join(lines)


def calibration_lines(results: Results, lang: str = "en") -> list[str]:
    """How many of the plan's figures sit inside the published ranges (planner/calibration.py)."""
    from edwc_data.labels import t

    from planner.calibration import compare

    table = compare(results)
    published_year, plan_year = int(table["year"].max()), results.scenario.get("year")
    if plan_year is not None and int(plan_year) != published_year:
        # Figures of another year (a pathway's last year, 2030 futures) are not measured by the published ones.
        return [t("cli_calibration_other_year", lang, year=int(plan_year), published=published_year)]
    lines = [t("cli_calibration", lang, year=int(table["year"].max()), inside=int(table["inside"].sum()),
               total=len(table))]
    outside = [t("calib_" + figure, lang) for figure in table.loc[~table["inside"], "figure"]]
    if outside:
        lines.append(t("cli_calibration_outside", lang, figures=", ".join(outside)))
    return lines


def _run_year(scenario, gap: float, workers: int | None, lang: str):
    from edwc_data.labels import t

    from planner.yearplan import plan_scenario_year

    def progress(row):
        click.echo(t("cli_year_iteration", lang, iteration=row["iteration"], lower=row["lower_bound_cny"] / 1e9,
                     upper=row["upper_bound_cny"] / 1e9, gap=row["gap"], seconds=row["seconds"]), err=True)

    return plan_scenario_year(scenario, gap=gap, workers=workers, progress=progress)


@click.command(cls=Command)
@click.argument("scenario", required=False)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a setting, e.g. --set carbon.price_cny_per_tco2=200 (repeatable).",
)
@out_option("Run directory to write: a new or empty folder, or one `edwc run` wrote "
            "(default: a new folder runs/<name>, runs/<name>-2, ..., printed at the end).")
@click.option(
    "--backend",
    type=click.Choice(["auto", "pulp", "highs"]),
    help="Solve path: PuLP, the same matrix straight to highspy, or auto (by model size).",
)
@click.option("--map/--no-map", "with_map", default=True, help="Write plan_map.png into the run directory.")
@lang_option
@click.option("--year", "whole_year", is_flag=True, help="Decide capacity against all 8,760 hours (decomposition).")
@click.option("--gap", type=click.FloatRange(1e-6, 0.5), default=1e-3, show_default=True, help="Year plan: stop gap.")
@click.option("--workers", type=click.IntRange(min=1), help="Year plan: worker processes [default: CPU count].")
@debug_option
def run(scenario, overrides, out_dir, backend, with_map, lang, whole_year, gap, workers, debug):
    """Solve SCENARIO (a YAML file or a shipped name; default: baseline) and write its run directory.

    Shipped scenarios: baseline, policy-2025, low-carbon, no-west, pathway-2035 (a horizon to 2035),
    hourly-2025 (clustered days, deferral), robust-2030 (futures: one stochastic plan). The run is
    named from the scenario and its edits ("baseline · carbon.price_cny_per_tco2=300") and recorded
    in the run catalog (`edwc runs`).
    Its directory is --out, or a new folder runs/<slug of the name> in the current folder
    (runs/<slug>-2, ... when taken: an earlier run is never replaced); a folder the tool did not
    write is never replaced.
    Exit codes: 0 solved, 1 infeasible or not solved, 2 bad input, paths or environment.
    """
    from edwc_data.outputs import check_replaceable

    from planner.rundir import new_run_dir, release_run_dir, run_label
    from planner.runstore import check_catalog
    from planner.scenario import load_scenario
    from planner.sizing import check_plan_size

    edits = list(overrides)
    if backend:
        overrides = (*overrides, f"solver.backend={backend}")
    loaded = load_scenario(scenario, overrides)
    given = Path(scenario) if scenario else None
    check_plan_size(loaded, source=given.name if given is not None and given.is_file() else None)
    label = run_label(loaded.name, edits)
    check_catalog()  # before any work: the catalog is the tool's, and can be written
    if out_dir is not None:
        check_replaceable(out_dir)  # before hours of solving: the folder is ours to write, and writable
    target = out_dir if out_dir is not None else new_run_dir(label)
    try:
        _solve_and_write(loaded, target, label, edits, with_map, lang, whole_year, gap, workers, debug)
    finally:
        if out_dir is None:
            release_run_dir(target)  # only if it stayed empty: the run failed


def _solve_and_write(loaded, target, label, edits, with_map, lang, whole_year, gap, workers, debug):
    from optimizer.status import PlanNotSolved
    from planner.rundir import write_run

    extras = None
    if with_map:
        from geo.export import export_map

        def extras(res, folder):
            export_map(res, folder, formats=("png",), metric="west_share", lang=lang, stem="plan_map")

    name = terminal_text(loaded.name)
    workers = workers_note(workers)
    if loaded.futures is not None:
        _run_robust(loaded, target, label, edits, extras, lang, whole_year, debug)
        return
    if loaded.horizon.end_year is not None and not whole_year:  # a year plan refuses a pathway itself
        from planner.pathway import run_and_write
        from planner.pathway_files import format_pathway

        try:
            pathway = run_and_write(
                loaded, target, extras, progress=lambda year, _: click.echo(f"Solved {year}", err=True)
            )
        except PlanNotSolved as exc:
            if debug:
                raise
            fail(f"{exc}.", EXIT_NOT_SOLVED)  # the message names the scenario and the year
        written = Path(target).resolve()
        entry = _record(written, label, edits, pathway.final, "pathway")
        click.echo(format_summary(pathway.final, lang))
        click.echo("\n" + format_pathway(pathway))
        click.echo(
            f"\nRun directory: {terminal_text(written)} (the final year, pathway.csv, growth.csv). "
            f"Growth figures: edwc growth {terminal_text(written)}"
        )
        click.echo(_recorded_line(entry, lang))
        return
    try:
        results = run_scenario_checked(loaded) if not whole_year else _run_year(loaded, gap, workers, lang)
    except PlanNotSolved as exc:
        if debug:
            raise
        fail(f"scenario '{name}' | {exc.status}: {exc}.", EXIT_NOT_SOLVED)
    written = write_run(results, target, extras=extras)
    entry = _record(written, label, edits, results, "year" if whole_year else "plan")
    click.echo(format_summary(results, lang))
    if whole_year:
        from edwc_data.labels import t

        year = results.metadata["year_plan"]
        click.echo("\n" + t("cli_year_done", lang, days=year["days"], seconds=results.metadata["timings_s"]["total_s"],
                               iterations=year["iterations"], gap=year["gap"], workers=year["workers"]))
    timings = results.metadata["timings_s"]
    click.echo(
        f"\nSolved in {timings['total_s']:.1f} s (max violation {results.metadata['max_violation']:.1e}). "
        f"Run directory: {terminal_text(written)}"
    )
    click.echo(_recorded_line(entry, lang))


def _run_robust(loaded, target, label, edits, extras, lang, whole_year, debug):
    """A scenario with futures: one stochastic plan (planner/robust.py), its futures table and VSS, EVPI."""
    from edwc_data.labels import t

    from optimizer.status import PlanNotSolved
    from planner.robust import plan_robust, write_robust

    if whole_year:
        fail(f"scenario '{terminal_text(loaded.name)}' | a stochastic plan (futures) plans on representative "
             "days; run it without --year.", EXIT_BAD_INPUT)
    try:
        plan = plan_robust(loaded)
    except PlanNotSolved as exc:
        if debug:
            raise
        fail(f"scenario '{terminal_text(loaded.name)}' | {exc.status}: {exc}.", EXIT_NOT_SOLVED)
    written = write_robust(plan, target, extras)
    entry = _record(written, label, edits, plan.results, "stochastic")
    click.echo(format_summary(plan.results, lang))
    click.echo("\n" + format_futures(plan, lang))
    timings = plan.results.metadata["timings_s"]
    click.echo("\n" + t("robust_done", lang, seconds=timings["total_s"], stochastic=timings["stochastic_s"],
                         violation=plan.results.metadata["max_violation"], folder=terminal_text(written)))
    click.echo(_recorded_line(entry, lang))


def _record(written: Path, label: str, edits: list[str], results, kind: str):
    """Add the run to the catalog; a failure there says that the run directory was written all the same."""
    from planner.runstore import CatalogError, record_run

    try:
        return record_run(written, label, edits, results, kind=kind)
    except CatalogError as exc:
        msg = f"{exc.message.rstrip('.')}. The run directory {terminal_text(written)} was written, but not recorded."
        raise CatalogError(msg, source=exc.source) from None


def _recorded_line(entry, lang: str) -> str:
    from edwc_data.labels import t

    return t("runs_recorded", lang, id=entry.id, name=terminal_text(entry.name))


def run_scenario_checked(scenario):
    """:func:`planner.run.run_scenario` (imported here, so that ``edwc run --help`` stays light)."""
    from planner.run import run_scenario

    return run_scenario(scenario)
