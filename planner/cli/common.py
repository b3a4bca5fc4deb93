"""What every ``edwc`` command shares: exit codes and the one way a command fails."""

from __future__ import annotations

import sys

import click

#: Exit codes: solved or done; infeasible or not solved; input, paths or environment the user can
#: fix; interrupted (Ctrl-C).
EXIT_SOLVED, EXIT_NOT_SOLVED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def fail(message: str, code: int) -> None:
    """Print one red line on stderr and exit with ``code``."""
    click.secho(message, fg="red", err=True)
    sys.exit(code)
