"""The ``edwc`` command line: run plans, export maps, explore the growth model."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from optimizer.results import Results
from optimizer.solve import PlanNotSolved
from planner.scenario import ScenarioError, load_scenario, shipped_scenarios

EXIT_SOLVED, EXIT_NOT_SOLVED, EXIT_BAD_INPUT = 0, 1, 2


def _fail(message: str, code: int) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(code)


def format_summary(results: Results) -> str:
    """A readable table of a plan's headline figures."""
    s = results.summary

    def bn(value):
        return f"{value / 1e9:,.2f} bn CNY/yr"

    rows = [
        ("Scenario", s["scenario"]),
        ("Total annual cost", bn(s["total_cost_cny"])),
        ("  capex (annualised)", bn(s["capex_cny"])),
        ("  electricity", bn(s["energy_cost_cny"])),
        ("  green-power premium", bn(s["green_cost_cny"])),
        ("  network", bn(s["network_cost_cny"])),
        ("  carbon", bn(s["carbon_cost_cny"])),
        ("Emissions", f"{s['emissions_tco2'] / 1e6:,.2f} MtCO2/yr"),
        ("Green share of power", f"{s['green_share']:.1%}"),
        ("Mean IT demand", f"{s['mean_demand_mw']:,.0f} MW (peak {s['peak_demand_mw']:,.0f} MW)"),
        ("Served in western hubs", f"{s['west_share']:.1%}"),
        ("Served in hub clusters", f"{s['hub_share']:.1%}"),
        ("Load-weighted latency", f"{s['load_weighted_latency_ms']:.2f} ms one-way"),
        ("New capacity", f"{s['new_capacity_mw']:,.0f} MW ({s['new_capacity_west_mw']:,.0f} MW west)"),
        ("Compute capex", f"{s['compute_capex_cny'] / 1e9:,.1f} bn CNY"),
    ]
    if s.get("carbon_shadow_price_cny_per_tco2") is not None:
        rows.append(("Carbon shadow price", f"{s['carbon_shadow_price_cny_per_tco2']:,.1f} CNY/tCO2"))
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="edwc-planner")
def main() -> None:
    """EDWC Planner: where should China's computing run? (东数西算 capacity planner)"""


@main.command()
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
    from planner.run import run_scenario
    from planner.rundir import write_run

    try:
        if backend:
            overrides = (*overrides, f"solver.backend={backend}")
        loaded = load_scenario(scenario, overrides)
    except ScenarioError as exc:
        if debug:
            raise
        _fail(str(exc), EXIT_BAD_INPUT)
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
            _fail(f"{exc}.", EXIT_NOT_SOLVED)  # the message names the scenario and the year
        except ScenarioError as exc:
            if debug:
                raise
            _fail(str(exc), EXIT_BAD_INPUT)
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
        _fail(f"scenario '{loaded.name}' | {exc.status}: {exc}.", EXIT_NOT_SOLVED)
    written = write_run(results, target, extras=extras)
    click.echo(format_summary(results))
    timings = results.metadata["timings_s"]
    click.echo(
        f"\nSolved in {timings['total_s']:.1f} s (max violation {results.metadata['max_violation']:.1e}). "
        f"Run directory: {written}"
    )


@main.command("map")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--metric",
    default="west_share",
    show_default=True,
    help="Province colour: demand_mw, west_share, hub_share, load_weighted_latency_ms, emissions_tco2.",
)
@click.option(
    "--format", "formats", default="png", show_default=True, help="Comma-separated: png, svg, pdf, geojson, gpkg, html."
)
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files (default: RUN_DIR).",
)
@click.option(
    "--compare",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Another run directory: also draw the difference map (RUN_DIR minus it).",
)
@click.option("--dpi", default=200, show_default=True, type=click.IntRange(50, 600))
def map_command(run_dir, metric, formats, lang, out_dir, compare, dpi):
    """Export the plan in RUN_DIR as maps and GIS layers.

    Example: edwc map runs/baseline --metric west_share --format png,svg,geojson,html --lang zh
    """
    from geo.export import export_map
    from planner.rundir import read_run

    out_dir = out_dir or run_dir
    try:
        results = read_run(run_dir)
        written = export_map(
            results,
            out_dir,
            formats=[f.strip() for f in formats.split(",") if f.strip()],
            metric=metric,
            lang=lang,
            dpi=dpi,
        )
        if compare is not None:
            import matplotlib.pyplot as plt

            from geo.maps import plot_difference_map

            figure = plot_difference_map(read_run(compare), results, metric=metric, lang=lang)
            target = Path(out_dir) / f"difference_{metric}.png"
            figure.savefig(target, dpi=dpi)
            plt.close(figure)
            written.append(target)
    except (ValueError, FileNotFoundError) as exc:
        _fail(str(exc).splitlines()[0], EXIT_BAD_INPUT)
    for path in written:
        click.echo(str(path))


@main.command()
def scenarios():
    """List the shipped scenarios."""
    for name in shipped_scenarios():
        click.echo(name)


from planner.cli_check import check  # noqa: E402
from planner.cli_growth import growth  # noqa: E402  (commands defined in their own modules)
from planner.cli_study import pareto_command, sweep_command  # noqa: E402
from planner.cli_ui import ui  # noqa: E402

main.add_command(growth)
main.add_command(sweep_command)
main.add_command(pareto_command)
main.add_command(ui)
main.add_command(check)

if __name__ == "__main__":
    main()
