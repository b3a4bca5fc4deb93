"""One session's state: the base scenario, the user's edits as ``--set`` overrides, and the run history."""

# Everything here lives in st.session_state (or any mutable mapping the caller passes, for
# tests), so one user's scenario is never visible to another session. The edits are kept as
# dotted-key overrides on top of the base document and every change goes through
# planner.scenario.resolve_scenario, the CLI's own validation, before it is accepted.

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import yaml
from edwc_data.tables import scenario_dir

from optimizer.status import PlanStatus
from planner.errors import error_text
from planner.scenario import (
    Scenario,
    ScenarioError,
    parse_override,
    parse_yaml_bytes,
    read_yaml_file,
    resolve_scenario,
)
from ui.i18n import current_lang

#: Most runs one session keeps in its history (older ones drop out). [-]
MAX_HISTORY = 20
DEFAULT_SCENARIO = "baseline"

_run_ids = itertools.count(1)


@dataclass(frozen=True)
class BaseScenario:
    """The scenario the user started from: a shipped one or an uploaded file.

    Attributes
    ----------
    kind : {"shipped", "upload"}
    name : str
        Scenario name used when the document sets none (file stem).
    source : str
        File name shown in error messages.
    document : dict
        The file's own settings, before defaults are merged in.
    """

    kind: str
    name: str
    source: str
    document: dict[str, Any]


@dataclass
class RunRecord:
    """One plan the session solved (or tried to), newest last in the history.

    ``input_hash`` finds the full Results in the shared cache; ``scenario`` (the resolved
    scenario's dict) re-solves it if the cache has dropped it. A run opened from the run store
    (:mod:`ui.store`) is read back from its run directory, ``store_path``, instead. ``summary`` is the plan's
    :class:`optimizer.results.Summary` as plain data (``Summary.to_dict()``).
    """

    run_id: int
    label: str
    input_hash: str
    scenario: dict[str, Any]
    status: PlanStatus
    summary: dict[str, Any] | None = None
    message: str = ""
    conflicts: list[str] = field(default_factory=list)
    origin: str = "plan"
    created: float = field(default_factory=time.time)
    #: The run store's id and run directory of a run opened from it (``origin == "store"``).
    store_id: int | None = None
    store_path: str = ""

    @property
    def solved(self) -> bool:
        return self.status == PlanStatus.OPTIMAL


def _state(state: MutableMapping | None) -> MutableMapping:
    if state is not None:
        return state
    import streamlit as st

    return st.session_state


def init_state(state: MutableMapping | None = None) -> MutableMapping:
    """Fill in what a new session needs: the default scenario, no edits, no runs."""
    state = _state(state)
    if "base" not in state:
        state["base"] = shipped_base(DEFAULT_SCENARIO)
    state.setdefault("overrides", {})
    state.setdefault("runs", [])
    state.setdefault("current_run", None)
    state.setdefault("lang", "en")
    return state


# ---------------------------------------------------------------------------------- base scenario

def shipped_base(name: str) -> BaseScenario:
    """A shipped scenario as a base (its document, not yet resolved)."""
    path = scenario_dir() / f"{name}.yaml"
    return BaseScenario("shipped", name, path.name, read_yaml_file(path))


def parse_upload(filename: str, data: bytes) -> BaseScenario:
    """Check an uploaded scenario file as the CLI checks a file, and make it a base.

    The bytes are size-checked, decoded as UTF-8 and parsed with the safe loader (no anchors,
    aliases or object tags), then resolved and validated once so a bad file is refused here.

    Raises
    ------
    ScenarioError
        With the CLI's one-line message.
    """
    source = PurePath(filename or "upload.yaml").name[:100] or "upload.yaml"
    document = parse_yaml_bytes(data, source)
    name = PurePath(source).stem or "upload"
    resolve_scenario(document, (), name=name, source=source)
    return BaseScenario("upload", name, source, document)


def set_base(base: BaseScenario, state: MutableMapping | None = None) -> None:
    """Start from a new base scenario; the edits made to the previous one are dropped."""
    state = _state(state)
    state["base"] = base
    state["overrides"] = {}


def load_upload(filename: str, data: bytes, state: MutableMapping | None = None) -> str | None:
    """Make an uploaded file the base scenario, or leave everything as it was.

    Returns
    -------
    str or None
        The one-line error message of a bad file (nothing changed), or None on success.
    """
    try:
        base = parse_upload(filename, data)
    except ScenarioError as exc:
        return error_text(exc, current_lang())  # the line in the session's language
    set_base(base, state)
    return None


# ------------------------------------------------------------------------------------- overrides

def format_override(key: str, value: Any) -> str:
    """One ``--set`` assignment whose value reads back (YAML) as ``value``."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    else:
        text = repr(float(value)) if isinstance(value, float) else str(value)
    return f"{key}={text}"


def override_list(overrides: dict[str, Any]) -> list[str]:
    """The overrides as ``--set`` assignments, in a stable order."""
    return [format_override(key, overrides[key]) for key in sorted(overrides)]


def resolve(base: BaseScenario, overrides: dict[str, Any]) -> Scenario:
    """The validated scenario of a base and its overrides (the CLI's ``--set`` path)."""
    return resolve_scenario(base.document, override_list(overrides), name=base.name, source=base.source)


def current_scenario(state: MutableMapping | None = None) -> Scenario:
    """The session's scenario: its base with the accepted edits."""
    state = _state(state)
    return resolve(state["base"], state["overrides"])


def apply_edits(changes: dict[str, Any], state: MutableMapping | None = None) -> str | None:
    """Merge edits into the session's overrides if the result validates.

    Parameters
    ----------
    changes : dict
        Dotted key to new value; the value ``REMOVE`` drops the override (back to the base).

    Returns
    -------
    str or None
        The validation message (nothing changed), or None when the edits were accepted.
    """
    state = _state(state)
    merged = dict(state["overrides"])
    for key, value in changes.items():
        if value is REMOVE:
            merged.pop(key, None)
        else:
            merged[key] = value
    try:
        resolve(state["base"], merged)
    except ScenarioError as exc:
        return error_text(exc, current_lang())  # the line in the session's language
    state["overrides"] = merged
    return None


class _Remove:
    def __repr__(self) -> str:
        return "REMOVE"


#: Marker for :func:`apply_edits`: drop this override.
REMOVE = _Remove()


def edited_document(base: BaseScenario, overrides: dict[str, Any]) -> dict[str, Any]:
    """The user's own scenario document: the base file's settings with the edits written in."""
    document = copy.deepcopy(base.document)
    document.setdefault("name", base.name)
    for assignment in override_list(overrides):
        path, value = parse_override(assignment)
        node = document
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[path[-1]] = value
    return document


def dump_yaml(document: dict[str, Any]) -> str:
    """YAML text of a scenario document (safe dumper, keys in their given order)."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


# ----------------------------------------------------------------------------------- run history

def add_run(record: RunRecord, state: MutableMapping | None = None) -> RunRecord:
    """Append a run to the history (bounded) and make it the current one."""
    state = _state(state)
    runs = [r for r in state["runs"] if r.run_id != record.run_id]
    runs.append(record)
    state["runs"] = runs[-MAX_HISTORY:]
    state["current_run"] = record.run_id
    return record


def new_run_id() -> int:
    """A fresh run id (unique within the server process)."""
    return next(_run_ids)


def find_run(run_id: int | None, state: MutableMapping | None = None) -> RunRecord | None:
    """The run with this id in the session's history, or None."""
    state = _state(state)
    return next((r for r in state["runs"] if r.run_id == run_id), None)


def current_run(state: MutableMapping | None = None) -> RunRecord | None:
    """The run the Plan page shows."""
    state = _state(state)
    return find_run(state.get("current_run"), state)


def previous_solved_run(record: RunRecord, state: MutableMapping | None = None) -> RunRecord | None:
    """The solved run just before ``record`` in the history (for deltas), or None."""
    state = _state(state)
    earlier = [r for r in state["runs"] if r.run_id < record.run_id and r.solved]
    return earlier[-1] if earlier else None
