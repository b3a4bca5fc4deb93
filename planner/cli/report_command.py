"""``edwc report``: the planning report of a run directory, as PDF, Word and HTML."""

from __future__ import annotations

from pathlib import Path

import click

from planner.cli.common import Command, debug_option, lang_option, out_option, terminal_text


@click.command("report", cls=Command)
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--compare", "compare", multiple=True, type=click.Path(path_type=Path),
              help="Another run directory shown side by side (repeat for more; the first also as a difference map).")
@click.option("--study", type=click.Path(path_type=Path),
              help="A study folder (edwc sweep) whose ranges and charts make a sensitivity section.")
@click.option("--format", "formats", default="pdf", show_default=True, help="Comma-separated: pdf, docx, html.")
@lang_option
@out_option("Folder for the files: RUN_DIR (default), a new or empty folder, or one edwc wrote.")
@debug_option
def report(run_dir, compare, study, formats, lang, out_dir, debug):
    """Write the planning report of the run in RUN_DIR (report-<lang>.pdf, .docx, .html).

    The report holds the question, the assumptions that differ from the shipped scenario, the
    headline figures (beside the published ranges for the published year), the map, the cost
    breakdown, site and province tables, the compared runs, the study's ranges, the data sources
    and the caveats. RUN_DIR and every --compare are checked like a scenario file first.

    Example: edwc report runs/baseline --compare runs/low-carbon --format pdf,docx --lang zh
    """
    from planner.report import check_formats, write_report

    wanted = check_formats(formats)
    written = write_report(run_dir, out_dir, wanted, lang=lang, compare=list(compare), study=study)
    for path in written:
        click.echo(terminal_text(path))
