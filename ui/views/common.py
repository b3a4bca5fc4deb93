"""Pieces every page uses: the language, solving with progress, the run history, figures and maps."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from geo.map_style import METRICS, metric_label
from optimizer.status import PlanStatus
from planner.errors import error_text
from planner.scenario import Scenario, ScenarioError
from ui import jobs
from ui import state as ui_state
from ui.engine import get_engine, wait_for
from ui.headline import HEADLINE
from ui.i18n import current_lang, t

if TYPE_CHECKING:
    from optimizer.results import Results


def lang() -> str:
    """The session's language: ``"en"`` or ``"zh"``."""
    return st.session_state.get("lang", "en")


def page_intro(title_key: str, intro_key: str) -> None:
    """A page's title and one-paragraph purpose (and a session, should a page run on its own)."""
    ui_state.init_state()
    st.title(t(title_key))
    st.caption(t(intro_key))


def current_scenario_or_error() -> Scenario | None:
    """The session's scenario, or None after showing why it does not validate."""
    try:
        return ui_state.current_scenario()
    except ScenarioError as exc:  # a shipped file or default changed under a live session
        st.error(error_text(exc, current_lang()))
        return None


def run_label(record: ui_state.RunRecord) -> str:
    """``#3 baseline · +2 edits`` style label of a run."""
    return f"#{record.run_id} {record.label}"


def scenario_label(base: ui_state.BaseScenario, overrides: dict) -> str:
    """Name of the session's scenario with the number of edits."""
    if not overrides:
        return base.name
    return f"{base.name} · {t('n_edits', count=len(overrides))}"


def record_for(scenario: Scenario, outcome: jobs.PlanOutcome, label: str,
               origin: str = "plan") -> ui_state.RunRecord:
    """A history record of a solve's outcome."""
    # The session keeps plain data: the summary's figures as a dict.
    summary = outcome.results.summary.to_dict() if outcome.solved else None
    return ui_state.RunRecord(
        ui_state.new_run_id(), label, scenario.input_hash(), scenario.to_dict(), outcome.status,
        summary, outcome.message, list(outcome.conflicts), origin,
    )


def remember(scenario: Scenario, outcome: jobs.PlanOutcome, label: str,
             origin: str = "plan") -> ui_state.RunRecord:
    """Add an outcome to the history, or make the existing run of the same scenario current."""
    for record in st.session_state["runs"]:
        if record.input_hash == scenario.input_hash() and record.status == outcome.status:
            st.session_state["current_run"] = record.run_id
            return record
    record = ui_state.add_run(record_for(scenario, outcome, label, origin))
    if outcome.solved:
        store(record, outcome.results, "study" if origin.startswith("frontier") else "ui")
    return record


def store(record: ui_state.RunRecord, results, kind: str) -> None:
    """Record a solved plan in the run store and link it (``?run=<id>``) so a refresh finds it.

    A refused catalog or folder is one warning line; the plan still shows.
    """
    edits = ui_state.override_list(st.session_state.get("overrides", {}))
    saved = jobs.save_run(results, label=record.label, edits=edits, kind=kind)
    if saved["store_id"] is None:
        st.warning(t("store_save_failed", message=saved["message"]))
        return
    record.store_id = saved["store_id"]
    st.query_params["run"] = str(saved["store_id"])
    st.session_state["linked_run"] = str(saved["store_id"])  # already open: do not read it back


def solve_with_progress(scenario: Scenario, label: str, origin: str = "plan") -> ui_state.RunRecord:
    """Solve in the pool, showing progress, and record the run."""
    engine = get_engine()
    cached = engine.cached_plan(scenario.input_hash())
    if cached is not None:
        return remember(scenario, cached, label, origin)
    with st.status(t("solving", name=scenario.name), expanded=True) as status:
        st.write(t("step_validated"))
        future = engine.submit_plan(scenario)
        line = st.empty()
        outcome = wait_for(future, lambda s: line.write(t("step_solving", seconds=s)))
        line.write(t("step_solved", seconds=outcome.solve_s))
        if outcome.solved:
            status.update(label=t("solved", name=scenario.name), state="complete", expanded=False)
        else:
            status.update(label=t("not_solved", name=scenario.name), state="error", expanded=False)
    return remember(scenario, outcome, label, origin)


def results_of(record: ui_state.RunRecord):
    """The Results of a solved run: from the shared cache, or solved again if it was dropped."""
    engine = get_engine()
    if record.store_path:  # opened from the run store: read back from its run directory
        key = stored_key(record.store_path, record.input_hash)
        outcome = wait_for(engine.submit(key, jobs.read_stored_run, record.store_path))
        return outcome.results if outcome.solved else None
    outcome = engine.cached_plan(record.input_hash)
    if outcome is None:
        scenario = Scenario.model_validate(record.scenario)
        with st.spinner(t("resolving_dropped")):
            outcome = wait_for(engine.submit_plan(scenario))
    return outcome.results if outcome.solved else None


def stored_key(run_dir: str, input_hash: str) -> tuple[str, str, str]:
    """Cache key of a run read back from the run store's directory ``run_dir``."""
    return ("stored", run_dir, input_hash)


def show_not_solved(record: ui_state.RunRecord) -> None:
    """The explanation, in words, of a scenario without a plan."""
    title = t("infeasible_title") if record.status == PlanStatus.INFEASIBLE else t(
        "not_solved_title", status=record.status)
    st.error(f"**{title}**\n\n{record.message}")
    if record.conflicts:
        with st.expander(t("conflicts_title", count=len(record.conflicts)),
                         expanded=len(record.conflicts) <= 3):
            for sentence in record.conflicts[:12]:
                st.markdown(f"- {sentence}")
            if len(record.conflicts) > 12:
                st.caption(t("more_conflicts", count=len(record.conflicts) - 12))
    st.info(t("infeasible_hint"))


def headline_metrics(summary: dict, previous: dict | None, caption: str | None = None) -> None:
    """The six headline figures, with the change against ``previous`` where given."""
    language = lang()
    # Two rows of three: six metrics in one row truncate their values at laptop widths.
    columns = [*st.columns(3), *st.columns(3)]
    for column, figure in zip(columns, HEADLINE, strict=True):
        value = figure.value(summary)
        old = figure.value(previous) if previous else None
        column.metric(
            t(figure.label), figure.display(value, language),
            delta=figure.delta(value, old, language), delta_color=figure.delta_color,
            border=True, help=t(figure.label + "_help"),
        )
    if caption:
        st.caption(caption)


def metric_picker(key: str) -> str:
    """Select box of the province metric a map colours by."""
    language = lang()

    def label(metric: str) -> str:
        return metric_label(metric, language).split(" [")[0]

    # The widget's key carries the language: a kept widget would go on showing the option
    # text of the language it was first drawn in. The choice itself carries over.
    remembered = st.session_state.get(f"{key}_choice", "west_share")
    options = list(METRICS)
    metric = st.selectbox(t("map_metric"), options, index=options.index(remembered),
                          format_func=label, key=f"{key}_{language}")
    st.session_state[f"{key}_choice"] = metric
    return metric


def plan_map(record: ui_state.RunRecord, results: Results, metric: str) -> Callable[[], None]:
    """Hold the plan map's place and start drawing it in the pool; returns what fills the place.

    The page calls the returned function last, after its figures, charts and tables: they show at
    once, and the map (cached per metric and language) follows when the pool has drawn it.
    """
    language = lang()
    engine = get_engine()
    key = ("map", record.input_hash, metric, language)
    slot = st.empty()
    future = None if engine.cached(key) is not None else engine.submit(key, jobs.plan_map_png, results, metric,
                                                                       language)
    if future is not None:
        slot.caption(t("drawing_map"))

    def fill() -> None:
        png = engine.cached(key) if future is None else wait_for(future)
        slot.image(png, width="stretch", alt=t("map_alt", name=record.label))

    return fill


def solved_runs() -> list[ui_state.RunRecord]:
    """The session's solved runs, newest first."""
    return [r for r in reversed(st.session_state["runs"]) if r.solved]
