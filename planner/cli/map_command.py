"""``edwc map``: export a run directory's plan as maps (PNG, SVG, PDF, HTML) and GIS layers."""

from __future__ import annotations

from pathlib import Path

import click

from planner.cli.common import EXIT_BAD_INPUT, fail, out_option


@click.command("map")
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
@out_option("Folder for the files (default: RUN_DIR).")
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
        fail(str(exc).splitlines()[0], EXIT_BAD_INPUT)
    for path in written:
        click.echo(str(path))
