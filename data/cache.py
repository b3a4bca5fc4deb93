"""The tool's own cache folder: derived data (map geometry, profiles, representative days) kept between runs.

Everything here can be recomputed from the installed packages and the inputs; the cache only saves
the time. Entries are files named by a hash of what they were computed from, so a changed input or
an upgraded package gives a new name and never a stale answer. Where the folder lives:

- ``$EDWC_CACHE_DIR`` when set (tests point it at a temporary folder);
- else ``$XDG_CACHE_HOME/edwc-planner``;
- else ``~/.cache/edwc-planner``.

The tool writes nowhere else. It creates that folder (and one sub-folder per kind of entry) if it
is missing, writes each entry atomically (:func:`edwc_data.files.write_bytes_atomic`), and when the
folder cannot be created or written, keeps entries in memory for the life of the process instead.
An entry that exists but does not carry this module's header was not written by the tool: it is
left alone, and the value is kept in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from edwc_data.files import FileRefused, read_regular_file, write_bytes_atomic

#: Environment variable naming the cache folder (overrides the XDG location).
CACHE_ENV = "EDWC_CACHE_DIR"

#: Sub-folder of ``$XDG_CACHE_HOME`` (or ``~/.cache``) the tool owns.
CACHE_NAME = "edwc-planner"

#: First bytes of every entry the tool writes.
_MAGIC = b"EDWC-CACHE-1\n"

#: Largest entry read back. [bytes]
MAX_ENTRY_BYTES = 512 * 1024 * 1024

_memory: dict[tuple[str, str], bytes] = {}


def cache_root() -> Path:
    """The cache folder (whether or not it exists yet)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / CACHE_NAME


def input_key(*parts) -> str:
    """A stable hex key of JSON-able ``parts`` (versions, settings, hashes of arrays)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _folder(kind: str) -> Path | None:
    folder = cache_root() / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return None
    return folder


def _read(path: Path) -> tuple[bool, bytes | None]:
    """(written by the tool, its content) of an existing entry."""
    try:
        data = read_regular_file(path, MAX_ENTRY_BYTES + len(_MAGIC))
    except FileRefused:
        return False, None
    if not data.startswith(_MAGIC):
        return False, None
    return True, data[len(_MAGIC):]


def cached(kind: str, key: str, make: Callable[[], bytes], check: Callable[[bytes], object] | None = None) -> bytes:
    """The bytes of entry ``key`` of ``kind``: read from the cache folder, or made and stored.

    Parameters
    ----------
    kind : str
        Sub-folder, one per kind of entry (e.g. ``"boundaries"``).
    key : str
        File name of the entry (:func:`input_key`).
    make : callable
        Computes the bytes when the entry is missing.
    check : callable, optional
        Raises (any exception) when bytes read back cannot be used; the entry is then made again.

    Returns
    -------
    bytes
    """
    if (kind, key) in _memory:
        return _memory[kind, key]
    folder = _folder(kind)
    path = folder / f"{key}.bin" if folder is not None else None
    if path is not None and os.path.lexists(path):
        ours, data = _read(path)
        if not ours:
            path = None  # something else lives under our name: leave it alone
        elif check is None or _usable(data, check):
            return data
    data = make()
    if path is not None:
        try:
            write_bytes_atomic(path, _MAGIC + data)
            return data
        except OSError:
            pass
    _memory[kind, key] = data
    return data


def _usable(data: bytes, check: Callable[[bytes], object]) -> bool:
    try:
        check(data)
    except Exception:  # noqa: BLE001 - an unusable entry of ours is made again
        return False
    return True


def cached_arrays(kind: str, key: str, make: Callable[[], dict]) -> dict:
    """Like :func:`cached` for a dict of numpy arrays (numbers or text; stored as .npz, never pickled)."""
    import io

    import numpy as np

    def encode() -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, **make())
        return buffer.getvalue()

    def decode(data: bytes) -> dict:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}

    return decode(cached(kind, key, encode, check=decode))
