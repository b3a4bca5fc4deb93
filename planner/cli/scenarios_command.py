"""``edwc scenarios``: list the shipped scenarios, each with a line saying what it asks."""

from __future__ import annotations

import click

from planner.cli.common import Command, lang_option


@click.command(cls=Command)
@lang_option
def scenarios(lang):
    """List the shipped scenarios, one a line: its name (for `edwc run NAME`) and what it asks."""
    from edwc_data.labels import label_table, t

    from planner.cli.common import display_width, pad
    from planner.scenario import shipped_scenarios

    names = shipped_scenarios()
    width = max((display_width(name) for name in names), default=0)
    known = label_table()
    for name in names:
        key = f"scenario_line_{name}"
        click.echo(f"{pad(name, width)}  {t(key, lang)}" if key in known else name)
