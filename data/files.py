"""How EDWC Planner writes files (atomically, flushed to disk) and reads them (regular files only, size-capped).

Every file the tool writes goes through :func:`write_atomic`: into a hidden temporary file beside
its target, flushed, renamed into place and the folder flushed, so a reader (or a run killed at any
moment) sees the previous file or the complete new one, never a part. Folders of files (run
directories) are staged the same way and swapped in by :func:`replace_dir_atomic`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path


class FileRefused(ValueError):
    """A file that cannot be read as asked: not a regular file, too large, or unreadable.

    The message is one line: ``<what> | <why>. <fix>.``
    """


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
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
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
    aside first (a kill between the two steps leaves it in ``.<name>.*.old/run``) and put back
    if the second step fails. The caller has checked that ``target`` may be replaced.
    """
    if target.exists():
        if _exchange(staging, target):  # one atomic step; staging now holds the previous folder
            shutil.rmtree(staging, ignore_errors=True)
        else:
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
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

    Raises
    ------
    FileRefused
        One line naming ``what`` (default: the file name), why, and the fix.
    """
    path = Path(path)
    what = what or path.name
    try:
        info = os.stat(path)
    except OSError as exc:
        msg = f"{what} | cannot be read ({exc.strerror or type(exc).__name__}). Check the path."
        raise FileRefused(msg) from None
    if stat.S_ISDIR(info.st_mode):
        msg = f"{what} | is a folder, not a file. Give a file."
        raise FileRefused(msg)
    if not stat.S_ISREG(info.st_mode):
        msg = f"{what} | is not a regular file (a pipe, device or socket). Give a file saved on disk."
        raise FileRefused(msg)
    if info.st_size > max_bytes:
        msg = f"{what} | file is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit. Give a smaller file."
        raise FileRefused(msg)
    try:
        # O_NONBLOCK: should the path have been swapped for a FIFO since the check, open returns at once.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        msg = f"{what} | cannot be read ({exc.strerror or type(exc).__name__}). Check the path."
        raise FileRefused(msg) from None
    with contextlib.closing(os.fdopen(fd, "rb")) as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            msg = f"{what} | is not a regular file (a pipe, device or socket). Give a file saved on disk."
            raise FileRefused(msg)
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        msg = f"{what} | file is over the {max_bytes:,}-byte limit. Give a smaller file."
        raise FileRefused(msg)
    return data
