"""The run store on the Compare page: the catalog's runs listed, opened into the session, linked by ``?run=<id>``.

A run opened from the store (:mod:`planner.runstore`) joins the session's history like a solved
one; its Results are read back from its run directory, validated (``ui.jobs.read_stored_run``).
Opening one puts its id in the address (``?run=<id>``), so a refresh, or the link, opens it again.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from edwc_data.labels import MONEY_SCALE

from planner.errors import ScenarioError, error_text
from planner.runstore import PRESENT, RunEntry, get_run, list_runs
from ui import jobs
from ui import state as ui_state
from ui.engine import get_engine, wait_for
from ui.i18n import current_lang, t
from ui.views import common

#: The address's query parameter naming a run of the store.
QUERY_KEY = "run"


def open_stored_run(run_id: int) -> ui_state.RunRecord | None:
    """Open run ``run_id`` of the store into the session (or make it current if it is open already).

    Returns
    -------
    RunRecord or None
        None after showing why it cannot be opened (no such run, its directory gone or changed).
    """
    for record in st.session_state["runs"]:
        if record.store_id == run_id:
            st.session_state["current_run"] = record.run_id
            st.query_params[QUERY_KEY] = str(run_id)
            return record
    try:
        entry = get_run(run_id)
    except ScenarioError as exc:
        st.error(error_text(exc, current_lang()))
        return None
    if entry.state != PRESENT:
        st.error(t("store_not_present", id=entry.id, name=entry.name, state=t(f"runs_state_{entry.state}")))
        return None
    path = str(entry.path)
    outcome = wait_for(get_engine().submit(common.stored_key(path, entry.input_hash), jobs.read_stored_run, path))
    if not outcome.solved:
        st.error(outcome.message)
        return None
    results = outcome.results
    record = ui_state.RunRecord(
        ui_state.new_run_id(), entry.name, entry.input_hash, results.scenario, results.summary.status,
        results.summary.to_dict(), origin="store", store_id=entry.id, store_path=path,
    )
    st.query_params[QUERY_KEY] = str(entry.id)
    return ui_state.add_run(record)


def open_linked_run() -> None:
    """Open the run the address names (``?run=<id>``), once per session and address."""
    value = st.query_params.get(QUERY_KEY)
    if value is None or st.session_state.get("linked_run") == value:
        return
    st.session_state["linked_run"] = value
    if not value.isdigit():
        st.warning(t("store_bad_link", value=value[:40]))
        return
    record = open_stored_run(int(value))
    if record is not None:
        st.toast(t("store_opened", run=common.run_label(record)))


def runs_table(entries: list[RunEntry]) -> pd.DataFrame:
    """The store's runs as the app shows them: id, name, status, cost, emissions, created."""
    language = common.lang()
    scale = MONEY_SCALE[language]
    return pd.DataFrame({
        t("runs_col_id"): [e.id for e in entries],
        t("runs_col_name"): [e.name for e in entries],
        t("runs_col_status"): [e.status if e.state == PRESENT else t(f"runs_state_{e.state}") for e in entries],
        t("store_cost_unit"): [e.figures["total_cost_cny"] / scale for e in entries],
        t("store_emissions_unit"): [e.figures["emissions_tco2"] / 1e6 for e in entries],
        t("runs_col_created"): [e.created.replace("+00:00", "Z") for e in entries],
    })


def saved_runs_panel(expanded: bool) -> None:
    """The store's runs in an expander, with a choice of one to open into the session."""
    with st.expander(t("store_title"), expanded=expanded):
        try:
            entries = list_runs()
        except ScenarioError as exc:
            st.error(error_text(exc, current_lang()))
            return
        if not entries:
            st.caption(t("store_empty"))
            return
        st.caption(t("store_intro"))
        st.dataframe(runs_table(entries), hide_index=True, width="stretch")
        present = {e.id: e for e in reversed(entries) if e.state == PRESENT}
        if not present:
            return
        left, right = st.columns([4, 1], vertical_alignment="bottom")
        chosen = left.selectbox(t("store_pick"), list(present), format_func=lambda i: f"{i} · {present[i].name}",
                                key="store_pick")
        if right.button(t("store_open"), key="store_open"):
            record = open_stored_run(chosen)
            if record is not None:
                st.success(t("store_opened", run=common.run_label(record)))
