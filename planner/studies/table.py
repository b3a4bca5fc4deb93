"""Study tables: which figures a run keeps, the row of a run, and the table on disk (atomic, resumable)."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from edwc_data.files import write_atomic
from edwc_data.tables import load_tables

from optimizer.results import Results, Summary
from optimizer.status import PlanInfeasible, PlanNotSolved, PlanStatus
from planner.scenario import ScenarioError

DEFAULT_OUTPUTS = (
    "total_cost_cny",
    "emissions_tco2",
    "west_share",
    "hub_share",
    "new_capacity_mw",
    "new_capacity_west_mw",
    "load_weighted_latency_ms",
    "green_share",
    "carbon_shadow_price_cny_per_tco2",
    "compute_capex_cny",
)
#: Scalar figures of a plan's summary a study may keep.
SUMMARY_KEYS = Summary.figures()
#: Statuses a resumed study does not redo: they would come out the same. A time limit or a
#: crash might not, so those runs are tried again.
FINISHED_STATUSES = (PlanStatus.OPTIMAL, PlanStatus.INFEASIBLE, PlanStatus.BAD_INPUT)
#: Prefix of the new-capacity column of each cluster site in a study table. [MW]
NEW_MW_PREFIX = "new_mw."
#: A site counts as built in a run above this new capacity. [MW]
BUILT_MIN_MW = 0.5
#: Largest number of runs handed to a worker as one task when they share one LP (warm starts).
REUSE_CHUNK_RUNS = 10
#: The least-emissions point is solved with the cap this much (relative) above the minimum, so
#: solver tolerances cannot make it infeasible. [-]
LEAST_CAP_SLACK = 1e-6
#: Shortest time between two rewrites of study.parquet while results arrive; a killed study
#: loses at most this much work (an interrupted one loses nothing). [s]
SAVE_INTERVAL_S = 1.0
TABLE_FILE = "study.parquet"
FRONTIER_FILE = "frontier.parquet"
#: Frontier axis -> the scenario setting that caps it (the ε-constraint).
PARETO_AXES = {"emissions_tco2": "carbon.cap_tco2", "load_weighted_latency_ms": "latency.mean_cap_ms"}
MAX_RUNS = 100_000


def cluster_sites() -> list[str]:
    """Ids of the hub cluster sites (the columns ``new_mw.<site>`` of a study table)."""
    return list(_cluster_sites())


@functools.cache
def _cluster_sites() -> tuple[str, ...]:
    return tuple(load_tables()["sites"].index)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _results_row(results: Results, outputs: tuple[str, ...]) -> dict[str, Any]:
    summary = results.summary
    row: dict[str, Any] = {key: getattr(summary, key) for key in outputs}
    new_mw = dict(zip(results.sites["site"], results.sites["new_mw"], strict=True))
    for site in cluster_sites():
        row[NEW_MW_PREFIX + site] = float(new_mw.get(site, 0.0))
    row.update(status=str(PlanStatus.OPTIMAL), message="")
    return row


def _failure_row(exc: BaseException) -> dict[str, Any]:
    # A study row says whether the run had no plan, proved nothing, had bad input or failed;
    # the solver's own status of a run that proved nothing stays in the message.
    if isinstance(exc, PlanInfeasible):
        return {"status": str(PlanStatus.INFEASIBLE), "message": str(exc)}
    if isinstance(exc, PlanNotSolved):
        return {"status": str(PlanStatus.NOT_SOLVED), "message": f"{exc.status}: {exc}"}
    if isinstance(exc, ScenarioError):
        return {"status": str(PlanStatus.BAD_INPUT), "message": str(exc)}
    return {"status": str(PlanStatus.ERROR), "message": f"{type(exc).__name__}: {exc}"}


def write_table_atomic(table: pd.DataFrame, path: Path) -> None:
    """Write ``table`` to parquet at ``path`` atomically (:func:`edwc_data.files.write_atomic`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda tmp: table.to_parquet(tmp, index=False))


def _tidy(table: pd.DataFrame, varied: list[str]) -> pd.DataFrame:
    # Parquet columns hold one type: a varied column mixing numbers and text ('none') is text.
    for column in varied:
        values = [v for v in table[column] if v is not None and not (isinstance(v, float) and math.isnan(v))]
        kinds = {type(v) for v in values}
        if kinds <= {int, float} and kinds:
            table[column] = pd.to_numeric(table[column])
        elif kinds == {bool}:
            table[column] = table[column].astype(bool)
        elif kinds:
            table[column] = table[column].map(lambda v: None if v is None else str(v)).astype(object)
    for column in table.columns:
        if (
            column not in varied
            and table[column].dtype == object
            and column not in ("status", "message", "input_hash", "solve_path", "finished_at", "run_dir", "role")
        ):
            with contextlib.suppress(ValueError, TypeError):
                table[column] = pd.to_numeric(table[column])
    return table


def _read_previous(path: Path, outputs: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Finished rows of an earlier run of the study, by scenario hash."""
    if not path.exists():
        return {}
    try:
        previous = pd.read_parquet(path)
    except Exception:  # noqa: BLE001 - an unreadable table is redone, not trusted
        return {}
    needed = {"input_hash", "status", *outputs}
    if not needed <= set(previous.columns):
        return {}
    done = previous[previous["status"].isin(FINISHED_STATUSES) & previous["input_hash"].notna()]
    return {row["input_hash"]: row for row in done.to_dict("records")}


def summarise_samples(table: pd.DataFrame, figures: list[str] | None = None) -> pd.DataFrame:
    """Percentiles of the key figures over the solved runs, and how often each cluster is built.

    Parameters
    ----------
    table : pandas.DataFrame
        A study table (:func:`planner.studies.sweeps.sweep`).
    figures : list of str, optional
        Columns to summarise (default: every kept output present in the table).

    Returns
    -------
    pandas.DataFrame
        One row per figure and per cluster (``new_mw.<site>``), columns ``figure``, ``runs``
        (optimal runs), ``p5``, ``p50``, ``p95``, ``mean`` and ``built_share`` (clusters only:
        share of runs giving the cluster more than ``BUILT_MIN_MW`` of new capacity) [-].
    """
    solved = table[table["status"] == PlanStatus.OPTIMAL]
    figures = figures or [key for key in SUMMARY_KEYS if key in table.columns]
    clusters = [column for column in table.columns if column.startswith(NEW_MW_PREFIX)]
    rows = []
    for column in [*figures, *clusters]:
        values = pd.to_numeric(solved[column], errors="coerce").dropna().to_numpy(float)
        row = {"figure": column, "runs": int(values.size)}
        if values.size:
            p5, p50, p95 = np.percentile(values, [5, 50, 95])
            row.update(p5=p5, p50=p50, p95=p95, mean=float(values.mean()))
        else:
            row.update(p5=np.nan, p50=np.nan, p95=np.nan, mean=np.nan)
        row["built_share"] = float((values > BUILT_MIN_MW).mean()) if column in clusters and values.size else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["figure", "runs", "p5", "p50", "p95", "mean", "built_share"])

