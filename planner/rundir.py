"""Run directories: written atomically (complete or absent), and read back into Results."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml
from edwc_data.files import flush_tree, replace_dir_atomic

from optimizer.results import Results, Summary

RUN_FILES = ("summary.json", "flows.parquet", "sites.csv", "provinces.csv", "scenario.yaml", "metadata.json")
_FORMULA_START = ("=", "+", "-", "@")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` whose text cells cannot be read as spreadsheet formulas.

    Text starting with = + - @ gets a leading apostrophe; numbers are left alone.
    """
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v
            )
    return frame


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=float) + "\n", encoding="utf-8")


def write_run(results: Results, out_dir: Path | str, extras: Callable[[Results, Path], None] | None = None) -> Path:
    """Write a run directory atomically.

    Everything is written into a temporary folder beside ``out_dir``, flushed, and renamed into
    place, so a run killed at any moment leaves either the previous directory or the new,
    complete one. An existing ``out_dir`` is replaced.

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
        ``out_dir``.
    """
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        _write_json(staging / "summary.json", results.summary.to_dict())
        results.flows.to_parquet(staging / "flows.parquet", index=False)
        neutralise_formulas(results.sites).to_csv(staging / "sites.csv", index=False)
        neutralise_formulas(results.provinces).to_csv(staging / "provinces.csv", index=False)
        (staging / "scenario.yaml").write_text(
            yaml.safe_dump(results.scenario, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        _write_json(staging / "metadata.json", results.metadata)
        if extras is not None:
            extras(results, staging)
        os.chmod(staging, 0o755)
        flush_tree(staging)
        replace_dir_atomic(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def read_run(run_dir: Path | str) -> Results:
    """Read a run directory written by :func:`write_run` back into Results."""
    run_dir = Path(run_dir)
    missing = [name for name in RUN_FILES if not (run_dir / name).exists()]
    if missing:
        msg = f"{run_dir} | not a complete run directory: missing {', '.join(missing)}. Run `edwc run` first."
        raise FileNotFoundError(msg)
    return Results(
        scenario=yaml.safe_load((run_dir / "scenario.yaml").read_text(encoding="utf-8")),
        flows=pd.read_parquet(run_dir / "flows.parquet"),
        sites=pd.read_csv(run_dir / "sites.csv", keep_default_na=False, na_values=[""]),
        provinces=pd.read_csv(run_dir / "provinces.csv", keep_default_na=False, na_values=[""], dtype={"adcode": int}),
        summary=Summary.from_dict(json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))),
        metadata=json.loads((run_dir / "metadata.json").read_text(encoding="utf-8")),
    )
