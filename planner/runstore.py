"""The run store: a local SQLite catalog of the runs written, beside their run directories.

The catalog is ``runs/catalog.sqlite`` in the current folder, next to the default run directories
(``$EDWC_RUN_CATALOG`` names another file). Each entry holds a run's name (a label made from its
scenario and ``--set`` edits), the scenario, the edits, the input hash, the plan status, the
headline figures of its Summary, when it was created, and where its run directory is (relative to
the catalog's folder when it lies inside it, so that the folder can be moved as a whole).

Nothing of the user's is overwritten or deleted: a file at the catalog's path that is not an
edwc-planner catalog (another database, a damaged file, a link) is refused in one line
(:class:`CatalogError`, exit code 2) before any work, and left as it is. A new catalog is built
in a hidden file and linked into place, so a half-made one is never seen. Writers take an
immediate transaction and wait for each other (``timeout``), so several runs may finish at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edwc_data.outputs import read_marker, remove_owned, shown_path

from planner.errors import ScenarioError

#: Folder of the default run directories and of the catalog, under the current folder.
RUNS_FOLDER = "runs"

#: Environment variable naming the catalog file (tests, or a catalog shared between folders).
CATALOG_ENV = "EDWC_RUN_CATALOG"
#: File name of the catalog in the runs folder.
CATALOG_NAME = "catalog.sqlite"
#: What the catalog's ``meta`` table says it is, and the schema version this code writes.
CATALOG_KIND = "edwc-planner run catalog"
SCHEMA_VERSION = 1
#: How long a writer waits for another to finish. [s]
TIMEOUT_S = 60.0
#: First bytes of every SQLite 3 database file.
_SQLITE_HEADER = b"SQLite format 3\x00"
#: Summary figures kept in the catalog (headline figures of :class:`optimizer.results.Summary`).
FIGURES = ("total_cost_cny", "emissions_tco2", "green_share", "west_share", "hub_share",
           "load_weighted_latency_ms", "new_capacity_mw", "facility_energy_mwh", "compute_capex_cny")
#: What ``state`` says of an entry's run directory.
PRESENT, MISSING, REPLACED = "present", "missing", "replaced"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL,
    name TEXT NOT NULL,
    scenario TEXT NOT NULL,
    edits TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    total_cost_cny REAL,
    emissions_tco2 REAL,
    figures TEXT NOT NULL,
    created TEXT NOT NULL,
    path TEXT NOT NULL
);
CREATE INDEX runs_scenario ON runs (scenario);
"""
_COLUMNS = ("id", "uid", "name", "scenario", "edits", "input_hash", "status", "kind", "figures", "created",
            "path")


class CatalogError(ScenarioError):
    """A catalog file that is not the tool's, is damaged, or cannot be written: nothing is changed."""


@dataclasses.dataclass(frozen=True)
class RunEntry:
    """One run in the catalog.

    Attributes
    ----------
    id : int
        The catalog's number of the run (never reused).
    uid : str
        The id in the run directory's ``.edwc-run`` marker when it was written.
    name : str
        The run's label, e.g. ``baseline · carbon.price_cny_per_tco2=300``.
    scenario : str
        The scenario's name.
    edits : list of str
        The ``--set`` overrides, as given.
    input_hash : str
    status : str
        The plan's :class:`optimizer.status.PlanStatus`.
    kind : str
        ``plan``, ``year`` (``edwc run --year``) or ``pathway``.
    figures : dict
        Headline figures of the run's Summary (``FIGURES``), units in the names.
    created : str
        ISO 8601 time, UTC.
    path : Path
        The run directory, absolute.
    """

    id: int
    uid: str
    name: str
    scenario: str
    edits: list[str]
    input_hash: str
    status: str
    kind: str
    figures: dict[str, float]
    created: str
    path: Path

    @property
    def state(self) -> str:
        """``present``; ``missing`` (the folder is gone, or no longer a run directory); or ``replaced``
        (it holds a later run)."""
        if not self.path.is_dir() or self.path.is_symlink():
            return MISSING
        marker = read_marker(self.path)
        if marker is None or marker.get("kind") != "run":
            return MISSING
        return PRESENT if marker.get("id") == self.uid else REPLACED


def catalog_path() -> Path:
    """Where the catalog is: ``$EDWC_RUN_CATALOG``, else ``runs/catalog.sqlite`` in the current folder."""
    given = os.environ.get(CATALOG_ENV, "").strip()
    return Path(given) if given else Path(RUNS_FOLDER) / CATALOG_NAME


def _error(path: Path, message: str) -> CatalogError:
    return CatalogError(f"{message}; nothing was written. Move the file aside, or set {CATALOG_ENV} to another "
                        "file.", source=shown_path(path))


def _refuse_foreign(path: Path) -> None:
    """CatalogError unless ``path`` is a regular file that starts like an SQLite database."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise _error(path, "is a symbolic link, not the run catalog")
    if not stat.S_ISREG(info.st_mode):
        raise _error(path, "is not a regular file, so not the run catalog")
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise _error(path, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    if header != _SQLITE_HEADER:
        raise _error(path, "is not an edwc-planner run catalog (not an SQLite database, or a damaged one)")


def _connect(path: Path) -> sqlite3.Connection:
    try:
        # mode=rw: never creates a file; autocommit, so that transactions are taken explicitly.
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=TIMEOUT_S,
                                     isolation_level=None)
    except sqlite3.Error as exc:
        raise _error(path, f"cannot be opened ({exc})") from None
    try:
        rows = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        connection.execute(f"SELECT {', '.join(_COLUMNS)} FROM runs LIMIT 0")
    except sqlite3.Error:
        connection.close()
        raise _error(path, "is not an edwc-planner run catalog (another database, or a damaged one)") from None
    if rows.get("kind") != CATALOG_KIND:
        connection.close()
        raise _error(path, "is an SQLite database of something else, not an edwc-planner run catalog")
    if rows.get("version") != str(SCHEMA_VERSION):
        connection.close()
        raise _error(path, f"is a run catalog of schema version {rows.get('version')!r}; this version reads "
                           f"{SCHEMA_VERSION}")
    return connection


def _create(path: Path) -> None:
    """Build a new catalog in a hidden file beside ``path`` and link it into place (never over a file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _error(path, f"cannot be created ({exc.strerror or type(exc).__name__})") from None
    os.close(handle)
    try:
        connection = sqlite3.connect(staging, isolation_level=None)
        try:
            connection.executescript(_SCHEMA)
            connection.executemany("INSERT INTO meta VALUES (?, ?)",
                                   [("kind", CATALOG_KIND), ("version", str(SCHEMA_VERSION))])
        finally:
            connection.close()
        with contextlib.suppress(FileExistsError):  # another writer made it first: theirs is used
            os.link(staging, path)
    except OSError as exc:
        raise _error(path, f"cannot be created ({exc.strerror or type(exc).__name__})") from None
    finally:
        with contextlib.suppress(OSError):
            os.remove(staging)


def check_catalog(path: Path | str | None = None) -> Path:
    """Check, before any work, that the catalog can be read and written; nothing is created.

    Returns
    -------
    Path
        The catalog's path.

    Raises
    ------
    CatalogError
        The file is not the tool's catalog (or is damaged), or its folder cannot be written.
    """
    path = Path(path) if path is not None else catalog_path()
    if os.path.lexists(path):
        _refuse_foreign(path)
        _connect(path).close()
        if not os.access(path, os.W_OK):
            raise _error(path, "cannot be written (permission denied)")
        return path
    existing = next((p for p in (path.parent, *path.parent.parents) if os.path.lexists(p)), Path("."))
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise _error(path, f"cannot be created in {shown_path(existing)}")
    return path


@contextlib.contextmanager
def open_catalog(path: Path | str | None = None, create: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to the catalog, checked to be the tool's; created first when ``create`` and missing.

    Raises
    ------
    CatalogError
        The file is missing (and ``create`` is False), not the tool's catalog, or damaged.
    """
    path = Path(path) if path is not None else catalog_path()
    if not os.path.lexists(path):
        if not create:
            msg = f"no run catalog yet; `edwc run` makes it (or set {CATALOG_ENV})."
            raise CatalogError(msg, source=shown_path(path))
        _create(path)
    _refuse_foreign(path)
    connection = _connect(path)
    try:
        yield connection
    except sqlite3.OperationalError as exc:  # locked for longer than the timeout, disk full, read-only
        raise _error(path, f"could not be updated ({exc})") from None
    finally:
        connection.close()


def _stored_path(run_dir: Path, catalog: Path) -> str:
    run_dir = run_dir.resolve()
    base = catalog.resolve().parent
    return str(run_dir.relative_to(base)) if run_dir.is_relative_to(base) else str(run_dir)


def _entry(row: tuple, catalog: Path) -> RunEntry:
    data = dict(zip(_COLUMNS, row, strict=True))
    data["edits"] = json.loads(data["edits"])
    data["figures"] = json.loads(data["figures"])
    path = Path(data["path"])
    data["path"] = path if path.is_absolute() else catalog.resolve().parent / path
    return RunEntry(**data)


def record_run(run_dir: Path | str, name: str, edits: list[str] | tuple[str, ...], results,
               kind: str = "plan", path: Path | str | None = None) -> RunEntry:
    """Add a run directory just written to the catalog (creating the catalog if needed).

    Parameters
    ----------
    run_dir : path
        A run directory written by :func:`planner.rundir.write_run`.
    name : str
        The run's label (:func:`planner.rundir.run_label`).
    edits : sequence of str
        The ``--set`` overrides.
    results : optimizer.results.Results
    kind : {'plan', 'year', 'stochastic', 'pathway', 'alternative', 'ui', 'study'}
    path : path, optional
        The catalog (default :func:`catalog_path`).

    Returns
    -------
    RunEntry
    """
    catalog = Path(path) if path is not None else catalog_path()
    run_dir = Path(run_dir)
    marker = read_marker(run_dir) or {}
    summary = results.summary
    figures = {key: float(getattr(summary, key)) for key in FIGURES}
    row = (str(marker.get("id", "")), str(name), str(summary.scenario), json.dumps(list(edits), ensure_ascii=False),
           str(results.metadata.get("input_hash", "")), str(summary.status), kind, figures["total_cost_cny"],
           figures["emissions_tco2"], json.dumps(figures), str(marker.get("created", "")),
           _stored_path(run_dir, catalog))
    with open_catalog(catalog, create=True) as connection:
        connection.execute("BEGIN IMMEDIATE")
        cursor = connection.execute(
            "INSERT INTO runs (uid, name, scenario, edits, input_hash, status, kind, total_cost_cny, "
            "emissions_tco2, figures, created, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        connection.execute("COMMIT")
        run_id = cursor.lastrowid
    return get_run(run_id, catalog)


def list_runs(scenario: str | None = None, status: str | None = None, name: str | None = None,
              path: Path | str | None = None) -> list[RunEntry]:
    """The catalog's runs, oldest first; an empty list when there is no catalog yet.

    Parameters
    ----------
    scenario : str, optional
        Only runs of this scenario.
    status : str, optional
        Only runs of this plan status, or whose directory is ``missing`` or ``replaced``.
    name : str, optional
        Only runs whose name holds this text (case-insensitive).
    """
    catalog = Path(path) if path is not None else catalog_path()
    if not os.path.lexists(catalog):
        return []
    with open_catalog(catalog) as connection:
        rows = connection.execute(f"SELECT {', '.join(_COLUMNS)} FROM runs ORDER BY id").fetchall()
    entries = [_entry(row, catalog) for row in rows]
    if scenario is not None:
        entries = [e for e in entries if e.scenario == scenario]
    if name is not None:
        entries = [e for e in entries if name.casefold() in e.name.casefold()]
    if status is not None:
        entries = [e for e in entries if status in (e.status, e.state)]
    return entries


def get_run(run_id: int, path: Path | str | None = None) -> RunEntry:
    """The catalog's entry ``run_id``; CatalogError if there is none."""
    catalog = Path(path) if path is not None else catalog_path()
    with open_catalog(catalog) as connection:
        row = connection.execute(f"SELECT {', '.join(_COLUMNS)} FROM runs WHERE id = ?", (int(run_id),)).fetchone()
    if row is None:
        msg = f"no run with id {run_id}. `edwc runs` lists the runs."
        raise CatalogError(msg, source=shown_path(catalog))
    return _entry(row, catalog)


def remove_run(run_id: int, path: Path | str | None = None) -> tuple[RunEntry, str]:
    """Remove a run from the catalog, and its directory only if it is the one the tool wrote for it.

    The directory is deleted only when it carries the ``.edwc-run`` marker the run was recorded
    with; a folder without one (not the tool's), or one holding a later run, is kept.

    Returns
    -------
    (RunEntry, str)
        The entry removed, and what became of its directory: ``removed``, ``missing``,
        ``replaced`` (kept: it holds another run) or ``foreign`` (kept: the tool did not create it).
    """
    catalog = Path(path) if path is not None else catalog_path()
    entry = get_run(run_id, catalog)
    state = entry.state
    if state == PRESENT:
        outcome = "removed" if remove_owned(entry.path) else "foreign"
    elif state == MISSING and entry.path.is_dir() and not entry.path.is_symlink():
        outcome = "foreign"  # a folder without the tool's marker: somebody else's now
    else:
        outcome = state
    with open_catalog(catalog) as connection:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("DELETE FROM runs WHERE id = ?", (entry.id,))
        connection.execute("COMMIT")
    return entry, outcome


def entry_dict(entry: RunEntry) -> dict[str, Any]:
    """An entry as plain data (JSON-ready), with its directory's state."""
    data = dataclasses.asdict(entry)
    data["path"] = str(entry.path)
    data["state"] = entry.state
    return data
