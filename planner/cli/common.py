"""What every ``edwc`` command shares: exit codes and the one way a command fails."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import click

#: Exit codes: solved or done; infeasible or not solved; input, paths or environment the user can
#: fix; interrupted (Ctrl-C).
EXIT_SOLVED, EXIT_NOT_SOLVED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def fail(message: str, code: int) -> None:
    """Print one red line on stderr and exit with ``code``."""
    click.secho(message, fg="red", err=True)
    sys.exit(code)


def out_option(help_text: str, required: bool = False):
    """The ``--out`` option of a command that writes a folder."""
    return click.option(
        "--out", "out_dir", required=required, type=click.Path(file_okay=False, path_type=Path), help=help_text
    )


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal columns."""
    return str(text) + " " * max(width - display_width(text), 0)
