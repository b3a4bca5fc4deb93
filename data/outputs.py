"""Which folders EDWC Planner may write into or replace: only those it created (the ownership rule).

Every folder the tool writes carries a marker file naming the tool and what the folder is:
``.edwc-run`` (a run directory), ``.edwc-study`` (a study folder: study.json, study.parquet, charts,
report.md), ``.edwc-output`` (maps or figures written into a folder of their own). The rule, applied
to every output of every command and to the app's scratch space:

- a folder that does not exist is created (and marked), an empty folder is filled (and marked);
- a folder with a valid marker of an accepted kind may be written into, and a run directory with a
  valid ``.edwc-run`` may be replaced;
- any other non-empty folder is refused with one line naming it and the fix, before any work; there
  is no option to override this: the tool never deletes or overwrites what it did not create;
- a path that is, or passes through, a symbolic link is refused (it could lead anywhere), and so
  are ``''``, ``.``, ``..`` (any ancestor of the current folder), the home folder and a file-system
  root or mount point;
- before any solve, the folder the output will be written in is probed: a file is created and
  removed there, so an unwritable output is found in a second, not after an hour of solving.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import stat
import tempfile
import uuid
from pathlib import Path
from typing import Any

from edwc_data.files import PROCESS_STARTED, STAGING_PATTERN, FileRefused, read_regular_file, write_text_atomic

#: Marker file of each kind of folder the tool owns.
MARKERS = {"run": ".edwc-run", "study": ".edwc-study", "output": ".edwc-output"}
#: What the marker files hold: ``{"tool": TOOL, "kind": ..., "created": ..., ...}``.
TOOL = "edwc-planner"
#: Largest marker file read. [bytes]
MAX_MARKER_BYTES = 4096
_swept: set[str] = set()


class OutputRefused(FileRefused):
    """An output folder the tool may not write: not its own, a symlink, unwritable, or a protected place."""


def _refuse(path: Path | str, message: str) -> OutputRefused:
    return OutputRefused(message, source=shown_path(path))


def shown_path(path: Path | str, width: int = 160) -> str:
    """A path as a one-line message shows it: control characters escaped, at most ``width`` characters."""
    text = str(path)
    if not text.isprintable():
        text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= width else "..." + text[-(width - 3):]


def _absolute(path: Path | str) -> Path:
    # abspath normalises '..' without following links, so that links can be looked for below.
    return Path(os.path.abspath(os.fspath(path)))


def guard_path(path: Path | str) -> Path:
    """The absolute path of an output, or OutputRefused for a path the tool must never write.

    Refused: ``''``; the current folder or any of its ancestors (``.``, ``..``); the home folder;
    a root or mount point; a path that is a symbolic link or passes through one.
    """
    if os.fspath(path).strip() == "":
        msg = "''"
        raise _refuse(msg, "is an empty path. Name a new folder, such as runs/mine.")
    target = _absolute(path)
    cwd = Path(os.getcwd())
    if target == cwd or target in cwd.parents:
        raise _refuse(path, "is the current folder or one of its ancestors; writing there would replace "
                            "what it holds. Name a new folder inside it, such as runs/mine.")
    home = Path.home()
    if target == _absolute(home):
        raise _refuse(path, "is the home folder. Name a new folder inside it.")
    if target.parent == target or os.path.ismount(target):
        raise _refuse(path, "is a root or a mount point. Name a new folder inside it.")
    for part in (target, *target.parents):
        if part.is_symlink():
            raise _refuse(path, f"passes through the symbolic link {shown_path(part)}, which could lead anywhere. "
                                "Give the real path (without links).")
    return target


def read_marker(folder: Path | str) -> dict[str, Any] | None:
    """The marker of a folder the tool owns, or None (no marker, or one that is not valid)."""
    folder = Path(folder)
    for kind, name in MARKERS.items():
        marker = folder / name
        if not os.path.lexists(marker):
            continue
        try:
            data = json.loads(read_regular_file(marker, MAX_MARKER_BYTES).decode("utf-8"))
        except (FileRefused, UnicodeDecodeError, ValueError):
            continue
        if isinstance(data, dict) and data.get("tool") == TOOL and data.get("kind") == kind:
            return data
    return None


def marker_text(kind: str, **fields: Any) -> str:
    """The content of a new marker of ``kind`` (``run``, ``study``, ``output``) with extra fields."""
    data = {"tool": TOOL, "kind": kind, "id": uuid.uuid4().hex,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **fields}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_marker(folder: Path | str, kind: str, **fields: Any) -> Path:
    """Mark ``folder`` as the tool's (atomically); returns the marker's path."""
    return write_text_atomic(Path(folder) / MARKERS[kind], marker_text(kind, **fields))


def _nearest_existing(path: Path) -> Path:
    for part in (path, *path.parents):
        if os.path.lexists(part):
            return part
    return path.anchor and Path(path.anchor) or path


def probe_writable(folder: Path, shown: Path | str) -> None:
    """Create and remove a file in ``folder`` (or the folder it will be created in); OutputRefused if that fails."""
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise _refuse(shown, f"cannot be created: {shown_path(existing)} is a file, not a folder. "
                             "Choose a path whose folders are folders.")
    try:
        handle, probe = tempfile.mkstemp(prefix=".edwc-probe-", dir=existing)
        os.close(handle)
        os.remove(probe)
    except OSError as exc:
        raise _refuse(shown, f"cannot be written ({exc.strerror or type(exc).__name__} in "
                             f"{shown_path(existing)}). Choose a folder you may write to.") from None


def _contents(folder: Path) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise _refuse(folder, f"cannot be read ({reason}). Check its permissions.") from None


def _not_ours(path: Path | str, kinds: tuple[str, ...], names: list[str]) -> OutputRefused:
    markers = " or ".join(MARKERS[kind] for kind in kinds)
    shown = ", ".join(repr(shown_path(name, 40)) for name in names[:2]) + (" ..." if len(names) > 2 else "")
    return _refuse(path, f"is a folder edwc-planner did not create (no valid {markers}) and holds {shown}; "
                         "nothing was written. Give a new or empty folder.")


def check_replaceable(path: Path | str) -> Path:
    """Check, before any work, that a run directory may be (re)written at ``path``.

    Allowed: a path that does not exist yet, an empty folder, or a run directory this tool wrote
    (valid ``.edwc-run``). The folder it is staged in is probed for writing.

    Returns
    -------
    Path
        The absolute path.

    Raises
    ------
    OutputRefused
    """
    target = guard_path(path)
    if os.path.lexists(target):
        _existing_folder(path, target, ("run",), "a new folder for the run")
    probe_writable(target.parent, path)
    return target


def _existing_folder(path: Path | str, folder: Path, accept: tuple[str, ...], wanted: str) -> bool:
    """Whether an existing ``folder`` is the tool's (of an accepted kind); OutputRefused if it holds anything else."""
    if not folder.is_dir():
        raise _refuse(path, f"is a file, not a folder. Give {wanted}.")
    names = _contents(folder)
    marker = read_marker(folder)
    owned = marker is not None and marker.get("kind") in accept
    if names and not owned:
        raise _not_ours(path, accept, names)
    return owned


def claim_folder(path: Path | str, kind: str, accept: tuple[str, ...] | None = None, create: bool = True) -> Path:
    """Make sure the tool may write files into the folder ``path``, creating and marking it if needed.

    Parameters
    ----------
    path : path
    kind : {'run', 'study', 'output'}
        The marker a new or empty folder gets.
    accept : tuple of str, optional
        Marker kinds of an existing folder that may be written into (default: ``(kind,)``).
    create : bool
        Create (and mark) a missing or empty folder; False only checks (and probes) it.

    Returns
    -------
    Path
        The absolute path of the folder.

    Raises
    ------
    OutputRefused
        The folder holds anything and carries no valid marker of an accepted kind; or the path
        is refused by :func:`guard_path`; or it cannot be written.
    """
    accept = accept or (kind,)
    folder = guard_path(path)
    if os.path.lexists(folder):
        owned = _existing_folder(path, folder, accept, "a folder for the output")
        probe_writable(folder, path)
        if owned and create:
            remove_stale_staging(folder)
        if create and not owned:
            write_marker(folder, kind)
        return folder
    probe_writable(folder, path)
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _refuse(path, f"cannot be created ({exc.strerror or type(exc).__name__}). "
                                "Choose a folder you may write to.") from None
        write_marker(folder, kind)
    return folder


def require_owned(folder: Path | str, accept: tuple[str, ...]) -> Path:
    """Refuse to write into ``folder`` unless it carries a valid marker of an accepted kind."""
    folder = Path(folder)
    marker = read_marker(folder)
    if marker is None or marker.get("kind") not in accept:
        names = _contents(folder) if folder.is_dir() else []
        raise _not_ours(folder, accept, names or ["(no marker)"])
    return folder


def scratch_folder(prefix: str = "edwc-") -> Path:
    """A new private temporary folder, marked as the tool's, for work that is zipped or read back."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    write_marker(folder, "output")
    return folder


def remove_owned(folder: Path | str) -> bool:
    """Delete a folder the tool made (it carries a valid marker); anything else is left alone."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir() or read_marker(folder) is None:
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except OSError:
        return True
    return True


def remove_stale_staging(folder: Path | str, force: bool = False) -> list[Path]:
    """Remove staging folders left in ``folder`` by writers that were killed; once per folder and process.

    Only entries matching ``STAGING_PATTERN`` are touched, and only when their process is gone and
    they are older than this process. A ``.old`` folder holds the previous version of a run
    directory moved aside while it was replaced: it is moved back when the run directory is
    missing (the writer died between the two steps), otherwise removed.

    Returns
    -------
    list of Path
        What was removed or restored.
    """
    folder = Path(folder)
    key = str(folder.resolve()) if folder.exists() else str(folder)
    if key in _swept and not force:
        return []
    _swept.add(key)
    done: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return done
    for entry in entries:
        match = STAGING_PATTERN.match(entry.name)
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_mtime >= PROCESS_STARTED:
            continue
        if _process_alive(int(match["pid"])):
            continue
        path = Path(entry.path)
        if match["kind"] == "old":
            target = folder / match["name"]
            kept = path / "run"
            if not target.exists() and not target.is_symlink() and kept.is_dir():
                with contextlib.suppress(OSError):
                    os.replace(kept, target)
        shutil.rmtree(path, ignore_errors=True)
        done.append(path)
    return done
