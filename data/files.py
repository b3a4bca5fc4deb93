"""How EDWC Planner writes files (atomically, flushed to disk) and reads them (regular files only, size-capped).

Every file the tool writes goes through :func:`write_atomic`: into a hidden temporary file beside
its target, flushed, renamed into place and the folder flushed, so a reader (or a run killed at any
moment) sees the previous file or the complete new one, never a part. Folders of files (run
directories) are staged the same way and swapped in by :func:`replace_dir_atomic`.

Staging folders are named ``.<target>.edwc-<pid>-<random>.tmp`` (``.old`` for a folder moved aside
while it is replaced). A run killed with SIGKILL leaves its staging folder behind; the next write
into the same folder removes the ones whose writer is gone and that are older than the writing
process (:func:`edwc_data.outputs.remove_stale_staging`), and nothing else. Which folders the tool
may write into at all is :mod:`edwc_data.outputs`'s business.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

#: When this process began writing (this module's import). [s since the epoch]
PROCESS_STARTED = time.time()
#: A staging folder of this tool: ``.<name>.edwc-<pid>-<8 random characters>.tmp`` or ``.old``.
STAGING_PATTERN = re.compile(r"^\.(?P<name>.+)\.edwc-(?P<pid>[0-9]+)-[a-z0-9_]{8}\.(?P<kind>tmp|old)$")


class FileRefused(ValueError):
    """A file or folder that cannot be used as asked: not a regular file, too large, unreadable, not ours.

    Parameters
    ----------
    message : str
        Why, then the fix.
    source : str
        The file or folder, as the user named it.

    The message is one line: ``<source> | <why>. <fix>.``; attributes survive pickling.
    """

    def __init__(self, message: str, *, source: str = ""):
        self.message, self.source = str(message), str(source)
        super().__init__(f"{self.source} | {self.message}" if self.source else self.message)

    def __reduce__(self):
        return _rebuild_refused, (type(self), self.message, self.source)


def _rebuild_refused(cls, message: str, source: str) -> FileRefused:
    return cls(message, source=source)


def staging_prefix(name: str) -> str:
    """Prefix of a staging folder for ``name`` made by this process (see ``STAGING_PATTERN``)."""
    return f".{name}.edwc-{os.getpid()}-"


def fsync_path(path: Path | str) -> None:
    """Flush a file or a folder to disk (folders too, so that renames survive a power cut)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path | str, write: Callable[[Path], None], mode: int = 0o644) -> Path:
    """Write ``path`` through ``write(temporary_path)``, then move it into place atomically.

    Parameters
    ----------
    path : path
        The file to (re)place; its folder must exist.
    write : callable
        Writes the whole content to the path it is given (a hidden file in the same folder).
    mode : int
        Permission bits of the file written.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    scratch = Path(tempfile.mkdtemp(prefix=staging_prefix(path.name), suffix=".tmp", dir=path.parent))
    try:
        temporary = scratch / path.name
        write(temporary)
        os.chmod(temporary, mode)
        fsync_path(temporary)
        os.replace(temporary, path)
        fsync_path(path.parent)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return path


def write_text_atomic(path: Path | str, text: str) -> Path:
    """Write UTF-8 text to ``path`` atomically (:func:`write_atomic`)."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes_atomic(path: Path | str, data: bytes) -> Path:
    """Write bytes to ``path`` atomically (:func:`write_atomic`)."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 with RENAME_EXCHANGE); False where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0


def flush_tree(folder: Path) -> None:
    """Flush every file and folder below ``folder``, then ``folder`` itself."""
    for path in sorted(folder.rglob("*"), reverse=True):  # files (and subfolders) first
        fsync_path(path)
    fsync_path(folder)


def replace_dir_atomic(staging: Path, target: Path) -> None:
    """Move the complete folder ``staging`` to ``target``, replacing a previous ``target`` atomically.

    Where the OS can swap two paths in one step, it does; elsewhere the previous folder is moved
    aside first (a kill between the two steps leaves it in ``.<name>.edwc-<pid>-*.old/run``, which
    :func:`edwc_data.outputs.remove_stale_staging` puts back) and put back if the second step fails. The caller has
    checked that ``target`` may be replaced (:func:`edwc_data.outputs.check_replaceable`).
    """
    if target.exists():
        if _exchange(staging, target):  # one atomic step; staging now holds the previous folder
            shutil.rmtree(staging, ignore_errors=True)
        else:
            retired = Path(tempfile.mkdtemp(prefix=staging_prefix(target.name), suffix=".old", dir=target.parent))
            os.replace(target, retired / "run")
            try:
                os.replace(staging, target)
            except BaseException:
                os.replace(retired / "run", target)
                raise
            shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, target)
    fsync_path(target.parent)


def read_regular_file(path: Path | str, max_bytes: int, what: str | None = None) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``.

    A FIFO, a device, a socket or a folder is refused before it is opened for reading (opening a
    FIFO would wait for a writer for ever), and no more than ``max_bytes + 1`` bytes are read.
    Messages name the file and the reason, never its content.

    Raises
    ------
    FileRefused
        One line naming ``what`` (default: the file name), why, and the fix.
    """
    path = Path(path)
    what = what or path.name

    def refuse(message: str) -> FileRefused:
        return FileRefused(message, source=what)

    try:
        info = os.stat(path)
    except OSError as exc:
        msg = f"cannot be read ({exc.strerror or type(exc).__name__}). Check the path."
        raise refuse(msg) from None
    if stat.S_ISDIR(info.st_mode):
        msg = "is a folder, not a file. Give a file."
        raise refuse(msg)
    if not stat.S_ISREG(info.st_mode):
        msg = "is not a regular file (a pipe, device or socket). Give a file saved on disk."
        raise refuse(msg)
    if info.st_size > max_bytes:
        msg = f"file is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit. Give a smaller file."
        raise refuse(msg)
    try:
        # O_NONBLOCK: should the path have been swapped for a FIFO since the check, open returns at once.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        msg = f"cannot be read ({exc.strerror or type(exc).__name__}). Check the path."
        raise refuse(msg) from None
    with contextlib.closing(os.fdopen(fd, "rb")) as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            msg = "is not a regular file (a pipe, device or socket). Give a file saved on disk."
            raise refuse(msg)
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            msg = f"cannot be read ({exc.strerror or type(exc).__name__}). Check the path."
            raise refuse(msg) from None
    if len(data) > max_bytes:
        msg = f"file is over the {max_bytes:,}-byte limit. Give a smaller file."
        raise refuse(msg)
    return data
