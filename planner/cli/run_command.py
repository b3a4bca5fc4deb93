"""``edwc run``: solve a scenario (one year or a pathway) and write its run directory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from planner.cli.common import EXIT_BAD_INPUT, EXIT_NOT_SOLVED, fail

if TYPE_CHECKING:
    from optimizer.results import Results


def format_summary(results: Results) -> str:
    """A readable table of a plan's headline figures."""
    s = results.summary

    def bn(value):
        return f"{value / 1e9:,.2f} bn CNY/yr"

    rows = [
        ("Scenario", s.scenario),
        ("Total annual cost", bn(s.total_cost_cny)),
        ("  capex (annualised)", bn(s.capex_cny)),
        ("  electricity", bn(s.energy_cost_cny)),
        ("  green-power premium", bn(s.green_cost_cny)),
        ("  network", bn(s.network_cost_cny)),
        ("  carbon", bn(s.carbon_cost_cny)),
        ("Emissions", f"{s.emissions_tco2 / 1e6:,.2f} MtCO2/yr"),
        ("Green share of power", f"{s.green_share:.1%}"),
        ("Mean IT demand", f"{s.mean_demand_mw:,.0f} MW (peak {s.peak_demand_mw:,.0f} MW)"),
        ("Served in western hubs", f"{s.west_share:.1%}"),
        ("Served in hub clusters", f"{s.hub_share:.1%}"),
        ("Load-weighted latency", f"{s.load_weighted_latency_ms:.2f} ms one-way"),
        ("New capacity", f"{s.new_capacity_mw:,.0f} MW ({s.new_capacity_west_mw:,.0f} MW west)"),
        ("Compute capex", f"{s.compute_capex_cny / 1e9:,.1f} bn CNY"),
    ]
    if s.carbon_shadow_price_cny_per_tco2 is not None:
        rows.append(("Carbon shadow price", f"{s.carbon_shadow_price_cny_per_tco2:,.1f} CNY/tCO2"))
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    sites = results.sites
    built = sites[sites["new_mw"] > 0.5].sort_values("new_mw", ascending=False)
    if len(built):
        lines.append("")
        lines.append(f"{'New capacity by site':<{width}}  MW      utilisation")
        for _, row in built.head(12).iterrows():
            name = row["name_en"].removesuffix(" cluster")[: width - 2]
            lines.append(f"  {name:<{width - 2}}  {row['new_mw']:>7,.0f}  {row['utilisation']:.0%}")
        if len(built) > 12:
            lines.append(f"  … and {len(built) - 12} more sites (sites.csv)")
    return "\n".join(lines)


@click.command()
@click.argument("scenario", required=False)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a setting, e.g. --set carbon.price_cny_per_tco2=200 (repeatable).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run directory to write (default: runs/<scenario name>).",
)
@click.option(
    "--backend",
    type=click.Choice(["auto", "pulp", "highs"]),
    help="Solve path: PuLP, the same matrix straight to highspy, or auto (by model size).",
)
@click.option("--map/--no-map", "with_map", default=True, help="Write plan_map.png into the run directory.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", help="Map labels.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def run(scenario, overrides, out_dir, backend, with_map, lang, debug):
    """Solve SCENARIO (a YAML file or a shipped name; default: baseline) and write its run directory.

    Shipped scenarios: baseline, policy-2025, low-carbon, no-west, pathway-2035 (a horizon to 2035),
    hourly-2025 (clustered days, deferral).
    Exit codes: 0 solved, 1 infeasible or not solved, 2 bad input.
    """
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
        click.echo(format_summary(pathway.final))
        click.echo("\n" + format_pathway(pathway))
        click.echo(
            f"\nRun directory: {Path(target).resolve()} (the final year, pathway.csv, growth.csv). "
            f"Growth figures: edwc growth {target}"
        )
        return
    try:
        results = run_scenario(loaded)
    except PlanNotSolved as exc:
        if debug:
            raise
        fail(f"scenario '{loaded.name}' | {exc.status}: {exc}.", EXIT_NOT_SOLVED)
    written = write_run(results, target, extras=extras)
    click.echo(format_summary(results))
    timings = results.metadata["timings_s"]
    click.echo(
        f"\nSolved in {timings['total_s']:.1f} s (max violation {results.metadata['max_violation']:.1e}). "
        f"Run directory: {written}"
    )
