"""``edwc runs``: list, show and remove the runs of the run catalog (:mod:`planner.runstore`)."""

from __future__ import annotations

import click

from planner.cli.common import Command, OneLineFailures, debug_option, display_width, lang_option, pad, terminal_text

_LANG = lang_option


class _Group(OneLineFailures, click.Group):
    """``edwc runs`` and its subcommands: failures end as one line."""


def _state_text(entry, lang: str) -> str:
    """The run's plan status, or what became of its directory."""
    from edwc_data.labels import t

    from planner.runstore import PRESENT

    state = entry.state
    return entry.status if state == PRESENT else t(f"runs_state_{state}", lang)


def _shown_path(path) -> str:
    """A run directory as the table shows it: relative to the current folder when inside it."""
    from pathlib import Path

    try:
        return terminal_text(Path(path).relative_to(Path.cwd().resolve()))
    except ValueError:
        return terminal_text(path)


def _money(value: float, lang: str) -> str:
    from edwc_data.labels import MONEY_SCALE, t

    return t("cli_money_yr", lang, value=value / MONEY_SCALE[lang])


def format_runs(entries, lang: str = "en") -> str:
    """The runs as a table: id, name, status, cost, emissions, created, path."""
    from edwc_data.labels import t

    if not entries:
        return t("runs_none", lang)
    header = [t(f"runs_col_{column}", lang) for column in
              ("id", "name", "status", "cost", "emissions", "created", "path")]
    rows = [[str(e.id), terminal_text(e.name, 60), _state_text(e, lang), _money(e.figures["total_cost_cny"], lang),
             t("cli_mt_yr", lang, value=e.figures["emissions_tco2"] / 1e6), e.created.replace("+00:00", "Z"),
             _shown_path(e.path)] for e in entries]
    widths = [max(display_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(pad(cell, width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in [header, *rows])


def format_entry(entry, lang: str = "en") -> str:
    """Everything the catalog holds of one run, with its headline figures."""
    from edwc_data.labels import t

    figures = entry.figures
    rows = [
        (t("runs_col_id", lang), str(entry.id)),
        (t("runs_col_name", lang), terminal_text(entry.name)),
        (t("cli_scenario", lang), terminal_text(entry.scenario)),
        (t("runs_edits", lang), terminal_text(", ".join(entry.edits)) or "-"),
        (t("runs_col_status", lang), _state_text(entry, lang)),
        (t("runs_kind", lang), t(f"runs_kind_{entry.kind}", lang)),
        (t("runs_input_hash", lang), entry.input_hash),
        (t("runs_col_created", lang), entry.created),
        (t("runs_col_path", lang), terminal_text(entry.path)),
        (t("fig_cost", lang), _money(figures["total_cost_cny"], lang)),
        (t("fig_emissions", lang), t("cli_mt_yr", lang, value=figures["emissions_tco2"] / 1e6)),
        (t("fig_green", lang), f"{figures['green_share']:.1%}"),
        (t("fig_west", lang), f"{figures['west_share']:.1%}"),
        (t("fig_hub", lang), f"{figures['hub_share']:.1%}"),
        (t("cli_latency", lang), t("cli_latency_value", lang, value=figures["load_weighted_latency_ms"])),
        (t("fig_new_capacity", lang), f"{figures['new_capacity_mw']:,.0f} MW"),
    ]
    width = max(display_width(label) for label, _ in rows)
    return "\n".join(f"{pad(label, width)}  {value}" for label, value in rows)


@click.group(cls=_Group, invoke_without_command=True)
@click.option("--scenario", help="Only runs of this scenario.")
@click.option("--status", help="Only runs of this plan status (optimal, ...), or 'missing' or 'replaced'.")
@click.option("--name", "name_part", help="Only runs whose name holds this text.")
@_LANG
@debug_option
@click.pass_context
def runs(ctx, scenario, status, name_part, lang, debug):
    """List the runs of the run catalog (runs/catalog.sqlite, or $EDWC_RUN_CATALOG).

    Every run `edwc run` writes is recorded there. A run whose directory is gone shows as
    missing; one whose directory now holds a later run (the same --out) as replaced.
    `edwc runs show ID` prints one run; `edwc runs remove ID` removes it.
    """
    if ctx.invoked_subcommand is not None:
        return
    from planner.runstore import list_runs

    click.echo(format_runs(list_runs(scenario=scenario, status=status, name=name_part), lang))


@runs.command(cls=Command)
@click.argument("run_id", type=int)
@_LANG
@debug_option
def show(run_id, lang, debug):
    """Print everything the catalog holds of run RUN_ID."""
    from planner.runstore import get_run

    click.echo(format_entry(get_run(run_id), lang))


@runs.command(cls=Command)
@click.argument("run_id", type=int)
@_LANG
@debug_option
def remove(run_id, lang, debug):
    """Remove run RUN_ID from the catalog, and its directory if the tool created it.

    The directory is deleted only when it still carries the .edwc-run marker the run was
    written with; a folder the tool did not create, or one now holding another run, is kept.
    """
    from edwc_data.labels import t

    from planner.runstore import remove_run

    entry, outcome = remove_run(run_id)
    click.echo(t(f"runs_removed_{outcome}", lang, id=entry.id, name=terminal_text(entry.name),
                 path=terminal_text(entry.path)))
