"""``edwc run``: solve a scenario (one year or a pathway) and write its run directory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from planner.cli.common import EXIT_BAD_INPUT, EXIT_NOT_SOLVED, display_width, fail, out_option, pad

if TYPE_CHECKING:
    from optimizer.results import Results


def format_summary(results: Results, lang: str = "en") -> str:
    """A readable table of a plan's headline figures, in English or Chinese (the label table's words)."""
    from edwc_data.labels import MONEY_SCALE, t

    s = results.summary
    scale = MONEY_SCALE[lang]

    def money(value, key="cli_money_yr"):
        return t(key, lang, value=value / scale)

    rows = [
        (t("cli_scenario", lang), s.scenario),
        (t("fig_cost", lang), money(s.total_cost_cny)),
        ("  " + t("cost_capex", lang), money(s.capex_cny)),
        ("  " + t("cost_energy", lang), money(s.energy_cost_cny)),
        ("  " + t("cost_green", lang), money(s.green_cost_cny)),
        ("  " + t("cost_network", lang), money(s.network_cost_cny)),
        ("  " + t("cost_carbon", lang), money(s.carbon_cost_cny)),
        (t("fig_emissions", lang), t("cli_mt_yr", lang, value=s.emissions_tco2 / 1e6)),
        (t("fig_green", lang), f"{s.green_share:.1%}"),
        (t("cli_mean_demand", lang), t("cli_demand_value", lang, mean=s.mean_demand_mw, peak=s.peak_demand_mw)),
        (t("fig_west", lang), f"{s.west_share:.1%}"),
        (t("fig_hub", lang), f"{s.hub_share:.1%}"),
        (t("cli_latency", lang), t("cli_latency_value", lang, value=s.load_weighted_latency_ms)),
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
            lines.append(f"  {pad(name, width - 2)}  {row['new_mw']:>7,.0f}  {row['utilisation']:.0%}")
        if len(built) > 12:
            lines.append("  " + t("cli_more_sites", lang, count=len(built) - 12))
    return "\n".join(lines)


def _run_year(scenario, gap: float, workers: int | None, lang: str):
    from edwc_data.labels import t

    from planner.yearplan import plan_scenario_year

    def progress(row):
        click.echo(t("cli_year_iteration", lang, iteration=row["iteration"], lower=row["lower_bound_cny"] / 1e9,
                     upper=row["upper_bound_cny"] / 1e9, gap=row["gap"], seconds=row["seconds"]), err=True)

    return plan_scenario_year(scenario, gap=gap, workers=workers, progress=progress)


@click.command()
@click.argument("scenario", required=False)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a setting, e.g. --set carbon.price_cny_per_tco2=200 (repeatable).",
)
@out_option("Run directory to write (default: runs/<scenario name>).")
@click.option(
    "--backend",
    type=click.Choice(["auto", "pulp", "highs"]),
    help="Solve path: PuLP, the same matrix straight to highspy, or auto (by model size).",
)
@click.option("--map/--no-map", "with_map", default=True, help="Write plan_map.png into the run directory.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", help="Language of the figures and map.")
@click.option("--year", "whole_year", is_flag=True, help="Decide capacity against all 8,760 hours (decomposition).")
@click.option("--gap", type=click.FloatRange(1e-6, 0.5), default=1e-3, show_default=True, help="Year plan: stop gap.")
@click.option("--workers", type=click.IntRange(min=1), help="Year plan: worker processes [default: CPU count].")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def run(scenario, overrides, out_dir, backend, with_map, lang, whole_year, gap, workers, debug):
    """Solve SCENARIO (a YAML file or a shipped name; default: baseline) and write its run directory.

    Shipped scenarios: baseline, policy-2025, low-carbon, no-west, pathway-2035 (a horizon to 2035),
    hourly-2025 (clustered days, deferral).
    Exit codes: 0 solved, 1 infeasible or not solved, 2 bad input.
    """
    from edwc_data.labels import t

    from optimizer.status import PlanNotSolved
    from planner.run import run_scenario
    from planner.rundir import write_run
    from planner.scenario import ScenarioError, load_scenario

    try:
        if backend:
            overrides = (*overrides, f"solver.backend={backend}")
        loaded = load_scenario(scenario, overrides)
    except ScenarioError as exc:
        if debug:
            raise
        fail(str(exc), EXIT_BAD_INPUT)
    target = out_dir or Path("runs") / loaded.name
    extras = None
    if with_map:
        from geo.export import export_map

        def extras(res, folder):
            export_map(res, folder, formats=("png",), metric="west_share", lang=lang, stem="plan_map")

    if loaded.horizon.end_year is not None:
        from planner.pathway import format_pathway, run_and_write

        try:
            pathway = run_and_write(
                loaded, target, extras, progress=lambda year, _: click.echo(f"Solved {year}", err=True)
            )
        except PlanNotSolved as exc:
            if debug:
                raise
            fail(f"{exc}.", EXIT_NOT_SOLVED)  # the message names the scenario and the year
        except ScenarioError as exc:
            if debug:
                raise
            fail(str(exc), EXIT_BAD_INPUT)
        click.echo(format_summary(pathway.final, lang))
        click.echo("\n" + format_pathway(pathway))
        click.echo(
            f"\nRun directory: {Path(target).resolve()} (the final year, pathway.csv, growth.csv). "
            f"Growth figures: edwc growth {target}"
        )
        return
    try:
        results = run_scenario(loaded) if not whole_year else _run_year(loaded, gap, workers, lang)
    except ScenarioError as exc:
        if debug:
            raise
        fail(str(exc), EXIT_BAD_INPUT)
    except PlanNotSolved as exc:
        if debug:
            raise
        fail(f"scenario '{loaded.name}' | {exc.status}: {exc}.", EXIT_NOT_SOLVED)
    written = write_run(results, target, extras=extras)
    click.echo(format_summary(results, lang))
    if whole_year:
        year = results.metadata["year_plan"]
        click.echo("\n" + t("cli_year_done", lang, days=year["days"], seconds=results.metadata["timings_s"]["total_s"],
                               iterations=year["iterations"], gap=year["gap"], workers=year["workers"]))
    timings = results.metadata["timings_s"]
    click.echo(
        f"\nSolved in {timings['total_s']:.1f} s (max violation {results.metadata['max_violation']:.1e}). "
        f"Run directory: {written}"
    )
