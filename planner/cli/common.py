"""What every ``edwc`` command shares: exit codes, the one way a command fails, and text safe for a terminal."""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from pathlib import Path

import click

#: Exit codes: solved or done; infeasible or not solved; input, paths or environment the user can
#: fix; an internal error (a bug: rerun with --debug and report it); interrupted (Ctrl-C).
EXIT_SOLVED, EXIT_NOT_SOLVED, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
#: Key in click's shared context ``meta`` set by ``--debug``.
DEBUG_KEY = "edwc.debug"
#: Longest message line printed. [characters]
MAX_MESSAGE = 2000

# C0 and C1 control characters, DEL, and the format characters that reorder or hide text
# (bidirectional overrides, zero-width joiners): a terminal would act on them.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def terminal_text(text: object, limit: int = MAX_MESSAGE) -> str:
    """``text`` safe to print: control characters and escape codes shown as ``\\x1b``-style escapes, one line."""
    line = _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def fail(message: str, code: int) -> None:
    """Print one red line on stderr (control characters escaped) and exit with ``code``."""
    first = str(message).strip().splitlines()[0] if str(message).strip() else "failed"
    click.secho(terminal_text(first), fg="red", err=True)
    sys.exit(code)


def note(message: str) -> None:
    """Print a note (not an error) on stderr."""
    click.echo(terminal_text(message), err=True)


_debug_given = False


def _set_debug(ctx: click.Context, _param, value: bool) -> bool:
    global _debug_given
    if value:
        ctx.meta[DEBUG_KEY] = True
        _debug_given = True
    return value


def debug_option(function):
    """The ``--debug`` flag: show the traceback of any failure instead of its one-line message."""
    return click.option("--debug", is_flag=True, is_eager=True, callback=_set_debug, expose_value=True,
                        help="Show tracebacks instead of one-line messages.")(function)


_lang_given: str | None = None


def default_lang() -> str:
    """The language of output when ``--lang`` is not given: EDWC_LANG, else the locale (zh_* -> zh, else en)."""
    chosen = os.environ.get("EDWC_LANG", "").strip().lower()
    if chosen in ("en", "zh"):
        return chosen
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:  # the first one set decides, as the C library reads them
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def _set_lang(_ctx, _param, value: str) -> str:
    global _lang_given
    _lang_given = value
    return value


def lang_option(function):
    """The ``--lang`` option of every command that prints or draws; eager, so it also sets the failure's language."""
    return click.option("--lang", type=click.Choice(["en", "zh"]), default=default_lang, is_eager=True,
                        callback=_set_lang, show_default="EDWC_LANG or the locale",
                        help="Language of the output and of error lines (en or zh).")(function)


def chosen_lang() -> str:
    """The language a failure is printed in: the command's ``--lang``, else :func:`default_lang`."""
    return _lang_given or default_lang()


def debugging() -> bool:
    """Whether ``--debug`` was given (to this command or to ``edwc``)."""
    ctx = click.get_current_context(silent=True)
    return _debug_given or bool(ctx is not None and ctx.meta.get(DEBUG_KEY))


def failure(exc: BaseException, lang: str = "en") -> tuple[str, int]:
    """The one line (in ``lang``) and the exit code a command's exception ends with.

    1 only for a plan that was not solved; 2 for what the user can fix (input, paths, the
    environment); 3 for anything else (a bug); 130 when interrupted.
    """
    from edwc_data.files import FileRefused

    from optimizer.status import PlanNotSolved
    from planner.errors import ScenarioError, error_text

    if isinstance(exc, KeyboardInterrupt):
        return "interrupted.", EXIT_INTERRUPTED
    if isinstance(exc, PlanNotSolved):
        return f"{exc.status}: {error_text(exc, lang)}", EXIT_NOT_SOLVED
    if isinstance(exc, ScenarioError | FileRefused):
        return error_text(exc, lang), EXIT_BAD_INPUT
    if isinstance(exc, MemoryError):
        return ("out of memory | the machine could not hold this work. Plan on fewer time slices (time.days, "
                "time.hours_per_day) or lower solver.memory_budget_gb.", EXIT_BAD_INPUT)
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else "file system"
        return (f"{where} | {exc.strerror or type(exc).__name__}. Check the path and its permissions.",
                EXIT_BAD_INPUT)
    if isinstance(exc, ValueError):
        return str(exc) or type(exc).__name__, EXIT_BAD_INPUT
    return (f"internal error ({type(exc).__name__}: {exc}). Rerun with --debug to see where, and report it.",
            EXIT_INTERNAL)


def _end(exc: BaseException) -> None:
    if debugging():
        raise exc
    message, code = failure(exc, chosen_lang())
    fail(message, code)


_PASS_THROUGH = (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort)


class OneLineFailures:
    """Mixin for click commands and groups: no traceback reaches a user, whatever is raised where."""

    def main(self, *args, **kwargs):
        global _debug_given, _lang_given
        _debug_given, _lang_given = False, None
        try:
            return super().main(*args, **kwargs)
        except _PASS_THROUGH:
            raise
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - raised while parsing the options
            _end(exc)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - every failure becomes one line
            _end(exc)


class Command(OneLineFailures, click.Command):
    """An ``edwc`` command: failures end as one line and an honest exit code (:func:`failure`)."""


def _out_path(_ctx, _param, value: str | None) -> Path | None:
    if value is None:
        return None
    if not value.strip():  # Path('') would silently become the current folder
        from edwc_data.outputs import guard_path

        guard_path(value)
    return Path(value)


def out_option(help_text: str, required: bool = False):
    """The ``--out`` option of a command that writes a folder (checked by :mod:`edwc_data.outputs` before work)."""
    return click.option("--out", "out_dir", required=required, type=click.Path(), callback=_out_path, help=help_text)


def workers_note(workers: int | None) -> int | None:
    """``workers`` clamped to the cores available, printing a note when it was more."""
    if workers is None:
        return None
    from planner.parallel import clamp_workers

    count, message = clamp_workers(workers)
    if message:
        note(message)
    return count


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal columns."""
    return str(text) + " " * max(width - display_width(text), 0)
