"""Run directories: named from a label, written atomically only where the tool may, and read back as untrusted.

A run directory is ``summary.json``, ``flows.parquet`` (and the same rows as ``flows.csv``; older runs
may lack it), ``sites.csv``, ``provinces.csv``, ``links.csv``
(with the network), ``scenario.yaml``, ``metadata.json`` and the marker ``.edwc-run`` (run id, input hash,
created); a stochastic plan's also ``futures.csv``.
:func:`write_run` replaces only a folder carrying that marker (or fills a new or empty one;
:mod:`edwc_data.outputs`). :func:`read_run` trusts nothing it reads back: every file must be a
regular file within its size cap, ``scenario.yaml`` goes through the scenario reader and schema,
its input hash must be the one ``metadata.json`` and the marker recorded, and every number a table
holds must be finite; otherwise one line (:class:`RunDirError`).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from edwc_data.files import FileRefused, flush_tree, read_regular_file, replace_dir_atomic
from edwc_data.files import staging_prefix as _staging_prefix
from edwc_data.outputs import (
    MARKERS,
    check_replaceable,
    marker_text,
    read_marker,
    remove_stale_staging,
    shown_path,
)

from optimizer.results import FLOW_COLUMNS, LINK_COLUMNS, PROVINCE_COLUMNS, SITE_COLUMNS, Results, Summary
from planner.errors import ScenarioError
from planner.runstore import RUNS_FOLDER
from planner.safe_yaml import MAX_FILE_BYTES, parse_yaml_bytes, shown_value

RUN_FILES = ("summary.json", "flows.parquet", "sites.csv", "provinces.csv", "scenario.yaml", "metadata.json")
RUN_MARKER = MARKERS["run"]
#: Longest slug of a scenario name in a default run directory's name. [characters]
MAX_SLUG = 40
#: Longest slug of a run's name in a new run directory's name (before a ``-2``, ``-3``). [characters]
MAX_RUN_SLUG = 72
#: Largest file of each kind read back from a run directory. [bytes]
MAX_RUN_FILE_BYTES = {
    "scenario.yaml": MAX_FILE_BYTES,
    "summary.json": 16_000_000,
    "metadata.json": 16_000_000,
    "sites.csv": 64_000_000,
    "provinces.csv": 64_000_000,
    "links.csv": 64_000_000,
    "flows.parquet": 4_000_000_000,
}
#: Text columns of the result tables; every other column must hold finite numbers.
TEXT_COLUMNS = frozenset({"province", "site", "workload", "period", "name_zh", "name_en", "kind", "hub_class",
                          "host_province", "link", "from", "to"})

#: First characters a spreadsheet reads as a formula, or as the start of one after blanks.
_FORMULA_START = ("=", "+", "-", "@")
_BLANK_START = ("\t", "\r", "\n", " ")


class RunDirError(ScenarioError):
    """A run directory that cannot be trusted: missing or tampered files, another scenario, non-finite numbers."""


def _neutral(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    # Tab and CR start a cell that spreadsheets may read as a formula; so do blanks before one.
    if value.startswith(_FORMULA_START) or value.startswith(("\t", "\r")) or (
            value.startswith(_BLANK_START) and value.lstrip(" \t\r\n").startswith(_FORMULA_START)):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` whose text cells cannot be read as spreadsheet formulas.

    Text starting with = + - @, with a tab or a carriage return, or with blanks followed by one of
    = + - @ gets a leading apostrophe; numbers are left alone.
    """
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(_neutral)
    return frame


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a table as CSV that spreadsheets read safely: formulas neutralised, CRLF rows (RFC 4180).

    With CRLF as the row end, a cell holding a carriage return or a line feed is quoted, so it
    cannot split its row.
    """
    neutralise_formulas(frame).to_csv(path, index=False, lineterminator="\r\n")


def slug(name: str, limit: int = MAX_SLUG) -> str:
    """A folder-name label of a name: lower-case ASCII letters, digits and '-', at most ``limit`` characters."""
    ascii_name = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return text[:limit].strip("-") or "scenario"


def run_label(scenario: str, edits: list[str] | tuple[str, ...] = ()) -> str:
    """A run's readable name: the scenario, then its ``--set`` edits.

    >>> run_label("baseline", ["carbon.price_cny_per_tco2=300"])
    'baseline · carbon.price_cny_per_tco2=300'
    """
    shown = [" ".join(str(edit).split()) for edit in edits if str(edit).strip()]
    return f"{scenario} · {', '.join(shown)}" if shown else str(scenario)


def new_run_dir(label: str, root: Path | str = RUNS_FOLDER) -> Path:
    """Reserve a new run directory for ``label``: ``<root>/<slug>``, else ``<slug>-2``, ``<slug>-3``, ...

    The first name that does not exist is created, empty, in one step (``mkdir`` fails if another
    run took it meanwhile, and the next name is tried), so no earlier run and no folder of the
    user's is ever reused. The label is a label, never a path: only its slug names the folder.
    An empty reservation is given back with :func:`release_run_dir` if the run fails.

    Raises
    ------
    edwc_data.outputs.OutputRefused
        The runs folder is a link, or cannot be written.
    """
    base = slug(label, MAX_RUN_SLUG)
    number = 1
    while True:
        candidate = Path(root) / (base if number == 1 else f"{base}-{number}")
        number += 1
        if os.path.lexists(candidate):
            continue
        check_replaceable(candidate)  # links, protected places, and whether the folder can be written
        try:
            candidate.mkdir(parents=True)
        except FileExistsError:
            continue
        return candidate


def release_run_dir(folder: Path | str) -> None:
    """Give back a reservation of :func:`new_run_dir` that stayed empty (the run failed)."""
    with contextlib.suppress(OSError):  # not empty: something was written there, keep it
        os.rmdir(folder)


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=float) + "\n", encoding="utf-8")


def write_run(results: Results, out_dir: Path | str, extras: Callable[[Results, Path], None] | None = None) -> Path:
    """Write a run directory atomically, only where the tool may.

    Everything is written into a hidden staging folder beside ``out_dir``, flushed, and renamed
    into place, so a run killed at any moment leaves either the previous directory or the new,
    complete one. ``out_dir`` may not exist yet, be empty, or be a run directory this tool wrote
    (it is then replaced); anything else is refused before a byte is written.

    Parameters
    ----------
    results : Results
    out_dir : path
    extras : callable, optional
        ``extras(results, folder)`` writes further files (maps) into the folder before it is
        moved into place.

    Returns
    -------
    Path
        ``out_dir``, absolute.

    Raises
    ------
    edwc_data.outputs.OutputRefused
        ``out_dir`` is not the tool's to replace, is a symbolic link, or cannot be written.
    """
    out_dir = check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(out_dir.parent)
    staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(out_dir.name), suffix=".tmp", dir=out_dir.parent))
    try:
        (staging / RUN_MARKER).write_text(
            marker_text("run", input_hash=results.metadata.get("input_hash"), scenario=results.summary.scenario),
            encoding="utf-8",
        )
        _write_json(staging / "summary.json", results.summary.to_dict())
        results.flows.to_parquet(staging / "flows.parquet", index=False)
        write_csv(results.flows, staging / "flows.csv")  # the same rows for spreadsheets (not read back)
        write_csv(results.sites, staging / "sites.csv")
        write_csv(results.provinces, staging / "provinces.csv")
        if results.links is not None:  # the backbone links (a plan with the network on)
            write_csv(results.links, staging / "links.csv")
        (staging / "scenario.yaml").write_text(
            yaml.safe_dump(results.scenario, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        _write_json(staging / "metadata.json", results.metadata)
        if results.summary.stochastic:  # a stochastic plan: its futures as a table too (planner.robust)
            write_csv(pd.DataFrame(results.summary.stochastic["futures"]), staging / "futures.csv")
        if extras is not None:
            extras(results, staging)
        os.chmod(staging, 0o755)
        flush_tree(staging)
        check_replaceable(out_dir)  # nothing foreign moved in while the files were written
        replace_dir_atomic(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


# ---------------------------------------------------------------------------------------------
# Reading back: nothing is trusted
# ---------------------------------------------------------------------------------------------

def _error(run_dir: Path, name: str, message: str, field: str = "") -> RunDirError:
    return RunDirError(message, source=shown_path(run_dir / name if name else run_dir), field=field)


def _read_bytes(run_dir: Path, name: str) -> bytes:
    try:
        return read_regular_file(run_dir / name, MAX_RUN_FILE_BYTES[name], what=shown_path(run_dir / name))
    except FileRefused as exc:
        msg = f"{exc.message.rstrip('.')}. Run the scenario again to rewrite the run directory."
        raise RunDirError(msg,
                          source=exc.source) from None


def _read_json(run_dir: Path, name: str) -> Any:
    try:
        return json.loads(_read_bytes(run_dir, name).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _error(run_dir, name, "is not valid JSON (truncated or changed). Run the scenario again.") from None


def _checked_table(run_dir: Path, name: str, frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise _error(run_dir, name, f"has no column {', '.join(missing[:4])}: not a table this version wrote. "
                                    "Run the scenario again.")
    for column in columns:
        if column in TEXT_COLUMNS:
            continue
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.argmax(bad))
            shown = shown_value(frame[column].iloc[row], 30)
            raise _error(run_dir, name, f"row {row + 1} holds {shown}, not a finite number. Run the scenario again.",
                         field=column)
        frame[column] = values if frame[column].dtype.kind != "i" else frame[column]
    return frame


def _read_table(run_dir: Path, name: str, columns: list[str]) -> pd.DataFrame:
    raw = io.BytesIO(_read_bytes(run_dir, name))
    try:
        if name.endswith(".parquet"):
            frame = pd.read_parquet(raw)
        else:
            frame = pd.read_csv(raw, keep_default_na=False, na_values=[""])
    except Exception:  # noqa: BLE001 - any failure to parse: the file is not what the tool wrote
        raise _error(run_dir, name, "cannot be read as a table (truncated or changed). "
                                    "Run the scenario again.") from None
    return _checked_table(run_dir, name, frame, columns)


def read_run_checked(run_dir: Path | str):
    """Read and validate a run directory written by :func:`write_run`.

    Returns
    -------
    (Results, planner.scenario.Scenario)
        The run, and its scenario resolved and validated like a scenario file.

    Raises
    ------
    RunDirError
        One line naming the file and what is wrong: not a run directory, a file missing, not a
        regular file or too large, not parseable, a scenario that fails the schema, an input hash
        that does not match the scenario, or a number that is not finite.
    """
    from planner.scenario import resolve_scenario

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise _error(run_dir, "", "is not a folder. Give a run directory written by `edwc run`.")
    marker = read_marker(run_dir)
    missing = [name for name in RUN_FILES if not os.path.lexists(run_dir / name)]
    if missing or marker is None or marker.get("kind") != "run":
        what = f"missing {', '.join(missing)}" if missing else f"no valid {RUN_MARKER} marker"
        raise _error(run_dir, "", f"not a complete run directory ({what}). Run `edwc run` first.")
    document = parse_yaml_bytes(_read_bytes(run_dir, "scenario.yaml"), shown_path(run_dir / "scenario.yaml"))
    name = document.get("name") if isinstance(document.get("name"), str) else run_dir.name
    scenario = resolve_scenario(document, (), name=name, source=shown_path(run_dir / "scenario.yaml"))
    metadata = _read_json(run_dir, "metadata.json")
    if not isinstance(metadata, dict):
        raise _error(run_dir, "metadata.json", "must hold a mapping. Run the scenario again.")
    expected = scenario.input_hash()
    for source, recorded in (("metadata.json", metadata.get("input_hash")), (RUN_MARKER, marker.get("input_hash"))):
        if recorded != expected:
            raise _error(run_dir, source, "the input hash recorded for this run is not that of its scenario.yaml "
                                          "(a file was changed or comes from another run). Run the scenario again.",
                         field="input_hash")
    try:
        summary = Summary.from_dict(_read_json(run_dir, "summary.json"), source=shown_path(run_dir / "summary.json"))
    except ValueError as exc:
        where, _, message = str(exc).partition(" | ")
        raise RunDirError(message or where, source=where if message else shown_path(run_dir)) from None
    results = Results(
        scenario=scenario.to_dict(),
        flows=_read_table(run_dir, "flows.parquet", FLOW_COLUMNS),
        sites=_read_table(run_dir, "sites.csv", SITE_COLUMNS),
        provinces=_read_table(run_dir, "provinces.csv", PROVINCE_COLUMNS),
        summary=summary,
        metadata=metadata,
        links=_read_table(run_dir, "links.csv", LINK_COLUMNS) if (run_dir / "links.csv").is_file() else None,
    )
    if results.provinces["adcode"].dtype.kind != "i":
        adcodes = results.provinces["adcode"].to_numpy(float)
        if not np.all(adcodes == np.round(adcodes)):
            raise _error(run_dir, "provinces.csv", "adcodes must be whole numbers. Run the scenario again.",
                         field="adcode")
        results.provinces["adcode"] = adcodes.astype(int)
    violation = metadata.get("max_violation", 0.0)
    if isinstance(violation, bool) or not isinstance(violation, int | float) or not math.isfinite(violation):
        raise _error(run_dir, "metadata.json", "max_violation is not a finite number. Run the scenario again.")
    return results, scenario


def read_run(run_dir: Path | str) -> Results:
    """Read a run directory written by :func:`write_run` back into Results, validated (:func:`read_run_checked`)."""
    return read_run_checked(run_dir)[0]
