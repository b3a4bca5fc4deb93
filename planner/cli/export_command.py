"""``edwc export`` and ``edwc datapackage``: a run directory as netCDF, the default dataset as a Data Package."""

from __future__ import annotations

from pathlib import Path

import click

from planner.cli.common import EXIT_BAD_INPUT, Command, debug_option, fail, out_option, terminal_text

#: Formats ``edwc export`` writes, and the file each one writes.
EXPORT_FILES = {"netcdf": "results.nc"}


@click.command("export", cls=Command)
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--format", "export_format", default="netcdf", show_default=True, help="netcdf (results.nc).")
@out_option("Folder for the file: RUN_DIR (default), a new or empty folder, or one edwc wrote.")
@debug_option
def export(run_dir, export_format, out_dir, debug):
    """Export the plan in RUN_DIR in a standard format (netCDF: results.nc, see docs/exports.md).

    RUN_DIR is checked like a scenario file first. The file goes only into RUN_DIR, a new or
    empty folder, or a folder edwc wrote.

    Example: edwc export runs/baseline --format netcdf --out exports/baseline
    """
    from edwc_data.labels import t
    from edwc_data.outputs import claim_folder

    from planner.netcdf_export import write_netcdf
    from planner.rundir import read_run_checked

    chosen = export_format.strip().lower()
    if chosen not in EXPORT_FILES:
        fail(t("export_unknown_format", "en", value=terminal_text(repr(export_format)),
               choices=", ".join(EXPORT_FILES)), EXIT_BAD_INPUT)
    results, _scenario = read_run_checked(run_dir)
    folder = claim_folder(out_dir if out_dir is not None else run_dir, "output", accept=("run", "output"))
    click.echo(terminal_text(write_netcdf(results, folder / EXPORT_FILES[chosen])))


@click.command("datapackage", cls=Command)
@out_option("Folder for the package: a new or empty folder, or one edwc wrote.", required=True)
@debug_option
def datapackage(out_dir, debug):
    """Write the default dataset (data/*.csv) as a frictionless Data Package with datapackage.json.

    Each table keeps its columns; datapackage.json gives every field its type, unit and source
    (data/sources.csv), and the package's sources.

    Example: edwc datapackage --out exports/dataset
    """
    from edwc_data.outputs import claim_folder

    from planner.datapackage import write_datapackage

    folder = claim_folder(out_dir, "output", accept=("output",))
    click.echo(terminal_text(write_datapackage(folder)))
