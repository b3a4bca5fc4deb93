"""``edwc scenarios``: list the shipped scenarios."""

from __future__ import annotations

import click

from planner.cli.common import Command


@click.command(cls=Command)
def scenarios():
    """List the shipped scenarios."""
    from planner.scenario import shipped_scenarios

    for name in shipped_scenarios():
        click.echo(name)
