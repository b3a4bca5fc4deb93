"""``edwc alternatives``: near-optimal alternatives of a run: capacity ranges within a cost slack, distinct plans."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from planner.cli.common import (
    EXIT_NOT_SOLVED,
    Command,
    debug_option,
    display_width,
    fail,
    lang_option,
    out_option,
    pad,
    terminal_text,
)

if TYPE_CHECKING:
    from planner.alternatives import Alternatives


def _row_label(row, names: dict[str, str], lang: str) -> str:
    from edwc_data.labels import t

    if row["scope"] == "region":
        return t(f"alt_region_{row['name']}", lang)
    return names.get(row["name"], row["name"])


def format_alternatives(found: Alternatives, lang: str = "en") -> str:
    """The ranges as a table, then one line per distinct plan, in English or Chinese."""
    from edwc_data.labels import MONEY_SCALE, t

    from planner.alternatives import herfindahl

    optimum = found.run
    scenario = optimum.summary.scenario
    sites = optimum.sites
    column = "name_zh" if lang == "zh" else "name_en"
    names = dict(zip(sites["site"], sites[column].astype(str).str.removesuffix(" cluster"), strict=True))
    labels = [terminal_text(_row_label(row, names, lang)) for _, row in found.ranges.iterrows()]
    width = max([display_width(label) for label in labels] + [display_width(t("alt_what", lang))])
    quantity_width = max(display_width(t("alt_quantity", lang)), 8)
    cost = t("cli_money_yr", lang, value=found.optimal_cost_cny / MONEY_SCALE[lang])
    numbers = [t(key, lang) for key in ("alt_optimum", "alt_least", "alt_most")]
    number_width = max(12, *(display_width(text) for text in numbers))
    header = "  ".join(" " * (number_width - display_width(text)) + text for text in numbers)
    lines = [t("alt_title", lang, scenario=terminal_text(scenario), slack=found.slack, cost=cost), "",
             f"{pad(t('alt_what', lang), width)}  {pad(t('alt_quantity', lang), quantity_width)}  {header}"]
    for label, (_, row) in zip(labels, found.ranges.iterrows(), strict=True):
        quantity = pad(t(f"alt_quantity_{row['quantity']}", lang), quantity_width)
        values = "  ".join(f"{row[column]:>{number_width},.0f}" for column in ("optimum_mw", "min_mw", "max_mw"))
        lines.append(f"{pad(label, width)}  {quantity}  {values}")
    summary = optimum.summary
    lines += ["", t("alt_optimum_line", lang, new=summary.new_capacity_mw, west=summary.new_capacity_west_mw,
                    hhi=herfindahl(sites, sites["new_mw"].to_numpy(float))), t("alt_plans", lang)]
    for name, results in found.plans.items():
        alternative = results.metadata["alternative"]
        change = results.summary.total_cost_cny / found.optimal_cost_cny - 1.0 if found.optimal_cost_cny else 0.0
        lines.append("  " + t("alt_plan_line", lang, name=f"{name} ({t('alt_plan_' + name, lang)})",
                              cost_change=change, new=results.summary.new_capacity_mw,
                              west=results.summary.new_capacity_west_mw, hhi=alternative["herfindahl"]))
    return "\n".join(lines)


@click.command(cls=Command)
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--slack", default="0.02", show_default=True, metavar="SHARE",
              help="How much above the optimal cost a plan may cost, a share in (0, 1]: 0.02 is 2 %.")
@out_option("Folder for alternatives.csv, alternatives.json and the plans' run directories: a new or empty "
            "folder, or one this command wrote (default: RUN_DIR-alternatives beside RUN_DIR).")
@lang_option
@click.option("--progress/--no-progress", default=True, help="Alternatives solved, on stderr.")
@debug_option
def alternatives(run_dir, slack, out_dir, lang, progress, debug):
    """Near-optimal alternatives of the plan in RUN_DIR (written by `edwc run`).

    With the cost held within SLACK of the optimum, minimises and maximises the new capacity
    (and fit-out, where the plan has any) of each cluster and of the east hubs, west hubs and
    local sites: the range any plan that cheap can have. Writes alternatives.csv (the ranges),
    alternatives.json, and three plans as different as the slack allows (max-west, min-west,
    max-spread), each a verified run directory. Every solve starts from the optimum's basis.

    Exit codes: 0 done, 1 a solve not proven optimal or failing verification, 2 bad input (a run
    directory that does not check out, a slack outside (0, 1], an output folder not the tool's).
    """
    from edwc_data.labels import t

    from optimizer.status import PlanNotSolved
    from planner.alternatives import check_slack, generate_alternatives

    slack = check_slack(slack)  # the run directory is validated next, before any solve: exit 2

    def report_progress(done, total):
        click.echo("\r" + t("alt_progress", lang, done=done, total=total), err=True, nl=done == total)

    try:
        found = generate_alternatives(run_dir, slack, out_dir, progress=report_progress if progress else None)
    except PlanNotSolved as exc:
        if debug:
            raise
        fail(f"{terminal_text(run_dir)} | an alternative was not solved ({exc.status}): {exc}.", EXIT_NOT_SOLVED)
    click.echo(format_alternatives(found, lang))
    click.echo("\n" + t("alt_done", lang, solves=found.solves, seconds=found.timings_s["alternatives_s"],
                        optimum=found.timings_s["optimum_s"], path=terminal_text(found.out_dir)))
