"""``edwc map``: export a run directory's plan as maps (PNG, SVG, PDF, HTML) and GIS layers."""

from __future__ import annotations

from pathlib import Path

import click

from planner.cli.common import EXIT_BAD_INPUT, Command, debug_option, fail, lang_option, out_option, terminal_text


@click.command("map", cls=Command)
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--metric",
    default="west_share",
    show_default=True,
    help="Province colour: demand_mw, west_share, hub_share, load_weighted_latency_ms, emissions_tco2.",
)
@click.option(
    "--format", "formats", default="png", show_default=True, help="Comma-separated: png, svg, pdf, geojson, gpkg, html."
)
@lang_option
@out_option("Folder for the files: RUN_DIR (default), a new or empty folder, or one edwc wrote.")
@click.option(
    "--compare",
    type=click.Path(path_type=Path),
    help="Another run directory: also draw the difference map (RUN_DIR minus it).",
)
@click.option("--dpi", default=200, show_default=True, type=click.IntRange(50, 600))
@debug_option
def map_command(run_dir, metric, formats, lang, out_dir, compare, dpi, debug):
    """Export the plan in RUN_DIR as maps and GIS layers.

    RUN_DIR (and --compare) are checked like a scenario file before anything is drawn. Files go
    only into RUN_DIR, a new or empty folder, or a folder edwc wrote.

    Example: edwc map runs/baseline --metric west_share --format png,svg,geojson,html --lang zh
    """
    from edwc_data.outputs import claim_folder

    from geo.export import FORMATS
    from geo.map_style import METRICS
    from planner.rundir import read_run

    chosen = [f.strip().lower() for f in formats.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        fail(f"--format | unknown format {terminal_text(repr(unknown[0])) if unknown else '(none)'}. "
             f"Give a comma-separated list of {', '.join(FORMATS)}.", EXIT_BAD_INPUT)
    if metric not in METRICS:
        fail(f"--metric | unknown metric {terminal_text(repr(metric))}. Use one of {', '.join(METRICS)}.",
             EXIT_BAD_INPUT)
    results = read_run(run_dir)
    other = read_run(compare) if compare is not None else None
    folder = claim_folder(out_dir if out_dir is not None else run_dir, "output", accept=("run", "output"))
    from geo.export import export_map

    written = export_map(results, folder, formats=chosen, metric=metric, lang=lang, dpi=dpi)
    if other is not None:
        import matplotlib.pyplot as plt
        from edwc_data.files import write_atomic

        from geo.maps import plot_difference_map

        figure = plot_difference_map(other, results, metric=metric, lang=lang)
        target = folder / f"difference_{metric}.png"
        try:
            write_atomic(target, lambda tmp: figure.savefig(tmp, dpi=dpi, format="png"))
        finally:
            plt.close(figure)
        written.append(target)
    for path in written:
        click.echo(terminal_text(path))
