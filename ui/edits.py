"""The assumptions the Scenario page edits: current values, editable tables, and the overrides they give."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from edwc_data.tables import load_tables

from planner.scenario import Scenario
from ui.i18n import t
from ui.state import REMOVE

#: Cluster fields editable in the cluster table (site override field names).
SITE_FIELDS = ("pue", "price_cny_per_mwh", "green_available_mw", "green_premium_cny_per_mwh")
#: Scalar fields edited in the form, dotted keys of the scenario.
SCALAR_FIELDS = (
    "carbon.price_cny_per_tco2",
    "carbon.cap_tco2",
    "demand.scale",
    "carbon.accounting",
    "policy.hub_new_share_min",
    "policy.hub_new_green_share_min",
    "policy.hub_occupancy_min",
    "policy.pue_cap_national",
    "policy.green_share_min",
)
NO_LIMIT = "none"


def cluster_ids() -> list[str]:
    """The 10 hub clusters, in the dataset's order."""
    return list(load_tables()["sites"].index)


def workload_ids() -> list[str]:
    """The workload classes, in the dataset's order."""
    return list(load_tables()["workloads"].index)


def assumption_values(scenario: Scenario) -> dict[str, Any]:
    """Current value of every editable assumption, by dotted key, in the scenario's own units.

    Site and workload values fall back to the dataset's tables where the scenario sets none;
    a latency limit of ``"none"`` means no limit.
    """
    tables = load_tables()
    values: dict[str, Any] = {
        "carbon.price_cny_per_tco2": scenario.carbon.price_cny_per_tco2,
        "carbon.cap_tco2": scenario.carbon.cap_tco2,
        "demand.scale": scenario.demand.scale,
        "carbon.accounting": scenario.carbon.accounting,
        "policy.hub_new_share_min": scenario.policy.hub_new_share_min,
        "policy.hub_new_green_share_min": scenario.policy.hub_new_green_share_min,
        "policy.hub_occupancy_min": scenario.policy.hub_occupancy_min,
        "policy.pue_cap_national": scenario.policy.pue_cap_national,
        "policy.green_share_min": scenario.policy.green_share_min,
        "horizon.end_year": scenario.horizon.end_year,
    }
    for site, row in tables["sites"].iterrows():
        override = scenario.sites.get(site)
        values[f"sites.{site}.enabled"] = not (override is not None and override.enabled is False)
        for name in SITE_FIELDS:
            given = getattr(override, name) if override is not None else None
            values[f"sites.{site}.{name}"] = float(given if given is not None else row[name])
    for workload, row in tables["workloads"].iterrows():
        override = scenario.workloads.get(workload)
        given = override.latency_max_ms if override is not None else None
        if given is None:
            table_value = row["latency_max_ms"]
            given = NO_LIMIT if pd.isna(table_value) else float(table_value)
        values[f"workloads.{workload}.latency_max_ms"] = given
        values[f"horizon.demand_growth.{workload}"] = float(
            scenario.horizon.demand_growth.get(workload, 0.0)
        )
    return values


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def changes_against(new_values: dict[str, Any], base_values: dict[str, Any]) -> dict[str, Any]:
    """Overrides that turn the base scenario's values into ``new_values``.

    A value equal to the base's becomes ``REMOVE`` (no override), so the overrides stay the
    short list of what the user actually changed.
    """
    changes: dict[str, Any] = {}
    for key, value in new_values.items():
        if isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        base = base_values.get(key)
        changes[key] = REMOVE if _same(value, base) else value
    return changes


def cluster_frame(values: dict[str, Any], lang: str) -> pd.DataFrame:
    """The cluster table the Scenario page edits: one row per cluster, indexed by site id."""
    sites = load_tables()["sites"]
    name = sites["name_zh" if lang == "zh" else "name_en"]
    if lang == "en":
        name = name.str.removesuffix(" cluster")
    frame = pd.DataFrame({
        "cluster": name,
        "hub_class": [t(c, lang) for c in sites["hub_class"]],
        "enabled": [values[f"sites.{s}.enabled"] for s in sites.index],
    }, index=sites.index)
    for field in SITE_FIELDS:
        frame[field] = [values[f"sites.{s}.{field}"] for s in sites.index]
    return frame


def values_from_cluster_frame(frame: pd.DataFrame) -> dict[str, Any]:
    """Dotted-key values of an edited cluster table (missing cells are skipped)."""
    values: dict[str, Any] = {}
    for site, row in frame.iterrows():
        values[f"sites.{site}.enabled"] = bool(row["enabled"])
        for field in SITE_FIELDS:
            if not pd.isna(row[field]):
                values[f"sites.{site}.{field}"] = float(row[field])
    return values


def workload_frame(values: dict[str, Any], lang: str) -> pd.DataFrame:
    """The workload table: latency limit (empty = none) [ms] and demand growth [%/yr] per class."""
    workloads = load_tables()["workloads"]
    limits = [values[f"workloads.{w}.latency_max_ms"] for w in workloads.index]
    return pd.DataFrame({
        "workload": workloads["name_zh" if lang == "zh" else "name_en"],
        "latency_max_ms": [None if v == NO_LIMIT else float(v) for v in limits],
        "growth_pct": [100.0 * values[f"horizon.demand_growth.{w}"] for w in workloads.index],
    }, index=workloads.index)


def values_from_workload_frame(frame: pd.DataFrame) -> dict[str, Any]:
    """Dotted-key values of an edited workload table; an empty limit means no limit."""
    values: dict[str, Any] = {}
    for workload, row in frame.iterrows():
        limit = row["latency_max_ms"]
        values[f"workloads.{workload}.latency_max_ms"] = NO_LIMIT if pd.isna(limit) else float(limit)
        if not pd.isna(row["growth_pct"]):
            values[f"horizon.demand_growth.{workload}"] = float(row["growth_pct"]) / 100.0
    return values


def west_clusters() -> list[str]:
    """Ids of the western resource-hub clusters."""
    sites = load_tables()["sites"]
    return list(sites.index[sites["hub_class"] == "west"])


def finite_latency_limits(scenario: Scenario) -> dict[str, float]:
    """The finite latency limit of each workload class that has one. [ms]"""
    values = assumption_values(scenario)
    limits = {}
    for workload in workload_ids():
        limit = values[f"workloads.{workload}.latency_max_ms"]
        if limit != NO_LIMIT:
            limits[workload] = float(limit)
    return limits
