"""The flows behind a map: load summed over periods by province, site and workload class, and grouped for drawing."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from edwc_data.tables import load_tables
from edwc_data.units import HOURS_PER_YEAR

if TYPE_CHECKING:
    from optimizer.results import Results

#: Flow colours by workload group; any other group is drawn in ``OTHER_GROUP_COLOUR``.
GROUP_COLOURS = {"interactive": "#e66101", "ai": "#7b3294", "batch": "#1f78b4"}
OTHER_GROUP_COLOUR = "#636363"

_KEYWORD_GROUPS = (
    ("ai", ("ai", "train", "infer", "llm", "gpu", "model")),
    ("batch", ("batch", "backup", "archiv", "storage", "offline", "analytic", "render", "etl")),
    (
        "interactive",
        (
            "interactive",
            "web",
            "finance",
            "trad",
            "video",
            "control",
            "industrial",
            "game",
            "stream",
            "telemed",
            "medic",
        ),
    ),
)




@functools.lru_cache(maxsize=1)
def _default_workload_groups() -> dict[str, str]:
    table = load_tables()["workloads"]
    return {
        str(w): str(g).strip().lower()
        for w, g in zip(table["workload"], table["group"], strict=True)
        if isinstance(g, str) and g.strip()
    }


def workload_group(workload: str, scenario: dict | None = None) -> str:
    """The group (``interactive``, ``ai``, ``batch`` ...) a workload class belongs to.

    Looked up, in order, in the scenario (``scenario["workloads"][workload]["group"]``), in the
    default dataset's ``workloads.csv`` (column ``group``), then guessed from keywords in the
    name (``ai_training`` -> ``ai``, ``backup`` -> ``batch``, ``finance`` -> ``interactive``);
    ``"other"`` if nothing matches.

    Parameters
    ----------
    workload : str
        Workload id, e.g. ``"ai_inference"``.
    scenario : dict, optional
        The resolved scenario (``Results.scenario``).
    """
    entry = ((scenario or {}).get("workloads") or {}).get(workload)
    if isinstance(entry, dict) and entry.get("group"):
        return str(entry["group"]).strip().lower()
    known = _default_workload_groups().get(workload)
    if known:
        return known
    name = str(workload).lower()
    tokens = set(name.replace("-", "_").split("_"))
    for group, keywords in _KEYWORD_GROUPS:
        if any(k in tokens or (len(k) > 2 and k in name) for k in keywords):
            return group
    return "other"


def group_colour(group: str) -> str:
    """Line colour of a workload group."""
    return GROUP_COLOURS.get(group, OTHER_GROUP_COLOUR)


def aggregate_flows(results: Results) -> pd.DataFrame:
    """Flows summed over periods, one row per (province, site, workload).

    Parameters
    ----------
    results : optimizer.results.Results

    Returns
    -------
    pandas.DataFrame
        Columns ``province``, ``site``, ``workload``, ``group``, ``energy_mwh`` (load x hours,
        summed over periods) [MWh/yr], ``mean_load_mw`` (energy / 8760) [MW], ``latency_ms``
        and ``distance_km`` (energy-weighted means), ``site_kind``, ``host_province`` and
        ``cross_province`` (site outside the origin province).
    """
    flows = results.flows
    columns = [
        "province",
        "site",
        "workload",
        "group",
        "energy_mwh",
        "mean_load_mw",
        "latency_ms",
        "distance_km",
        "site_kind",
        "host_province",
        "cross_province",
    ]
    if flows.empty:
        return pd.DataFrame(columns=columns)
    energy = flows["load_mw"].to_numpy(float) * flows["hours"].to_numpy(float)
    work = pd.DataFrame(
        {
            "province": flows["province"].astype(str).to_numpy(),
            "site": flows["site"].astype(str).to_numpy(),
            "workload": flows["workload"].astype(str).to_numpy(),
            "energy_mwh": energy,
            "latency_x": flows["latency_ms"].to_numpy(float) * energy,
            "distance_x": flows["distance_km"].to_numpy(float) * energy,
        }
    )
    out = work.groupby(["province", "site", "workload"], as_index=False, sort=True).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["latency_ms"] = out.pop("latency_x") / out["energy_mwh"]
        out["distance_km"] = out.pop("distance_x") / out["energy_mwh"]
    out["mean_load_mw"] = out["energy_mwh"] / HOURS_PER_YEAR
    out["group"] = [workload_group(w, results.scenario) for w in out["workload"]]
    sites = results.sites.set_index("site")
    out["site_kind"] = out["site"].map(sites["kind"]).astype(object).fillna("unknown").astype(str)
    out["host_province"] = out["site"].map(sites["host_province"]).astype(object).astype(str)
    out["cross_province"] = out["host_province"] != out["province"]
    return out[columns]


def map_flows(results: Results, min_share: float = 0.02) -> pd.DataFrame:
    """The flows a plan map draws: to clusters outside the origin province, by workload group.

    Parameters
    ----------
    results : optimizer.results.Results
    min_share : float
        Flows below this fraction of the largest drawn flow are left out. [-]

    Returns
    -------
    pandas.DataFrame
        Columns ``province``, ``site``, ``group``, ``energy_mwh``, ``mean_load_mw``, sorted by
        ``mean_load_mw`` descending.
    """
    flows = aggregate_flows(results)
    flows = flows[(flows["site_kind"] == "cluster") & flows["cross_province"]]
    out = flows.groupby(["province", "site", "group"], as_index=False)[
        ["energy_mwh", "mean_load_mw"]
    ].sum()
    if out.empty:
        return out
    out = out[out["mean_load_mw"] >= min_share * out["mean_load_mw"].max()]
    return out.sort_values("mean_load_mw", ascending=False, ignore_index=True)


