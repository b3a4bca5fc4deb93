"""The ``edwc`` command line: run plans, export maps and reports, run studies, check plans over the year, growth.

One module per command. The group loads a command's module only when that command runs (or when
its help is asked for), and each module imports the numerical stack only inside the command, so
``edwc --help`` and light commands start without importing pandas, the solver or the map stack.

No traceback reaches a user: whatever a command raises ends as one line on stderr and an honest
exit code (:func:`planner.cli.common.failure`): 1 only when a plan was not solved, 2 for what the
user can fix (input, paths, environment), 3 for an internal error, 130 when interrupted.
``--debug`` shows the traceback.
"""

from __future__ import annotations

import importlib

import click

from planner.cli.common import OneLineFailures, debug_option

#: Command name -> (module, function) of each command, in the order ``edwc --help`` lists them.
COMMANDS = {
    "run": ("planner.cli.run_command", "run"),
    "runs": ("planner.cli.runs_command", "runs"),
    "scenarios": ("planner.cli.scenarios_command", "scenarios"),
    "map": ("planner.cli.map_command", "map_command"),
    "report": ("planner.cli.report_command", "report"),
    "export": ("planner.cli.export_command", "export"),
    "datapackage": ("planner.cli.export_command", "datapackage"),
    "check": ("planner.cli.check_command", "check"),
    "alternatives": ("planner.cli.alternatives_command", "alternatives"),
    "sweep": ("planner.cli.study_commands", "sweep_command"),
    "pareto": ("planner.cli.study_commands", "pareto_command"),
    "growth": ("planner.cli.growth_command", "growth"),
    "ui": ("planner.cli.ui_command", "ui"),
}


class _LazyGroup(OneLineFailures, click.Group):
    """A group whose commands are imported when they are first needed, and whose failures are one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, name = COMMANDS[cmd_name]
        return getattr(importlib.import_module(module), name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="edwc-planner")
@debug_option
def main(debug: bool) -> None:
    """EDWC Planner: where should China's computing run? (东数西算 capacity planner)"""
