"""The results of one solved plan: plain pandas tables, free of PuLP objects, so they can be cached and written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: Columns of each results table, in order. Units are in the names.
FLOW_COLUMNS = [
    "province",
    "site",
    "workload",
    "period",
    "hours",
    "load_mw",
    "latency_ms",
    "distance_km",
]
SITE_COLUMNS = [
    "site",
    "name_zh",
    "name_en",
    "kind",
    "hub_class",
    "host_province",
    "lat",
    "lon",
    "pue",
    "existing_mw",
    "new_mw",
    "capacity_mw",
    "peak_load_mw",
    "mean_load_mw",
    "utilisation",
    "energy_mwh",
    "green_mwh",
    "emissions_tco2",
    "capex_cny",
    "energy_cost_cny",
    "green_cost_cny",
    "network_cost_cny",
    "carbon_cost_cny",
    "latency_cost_cny",
    "total_cost_cny",
    "capacity_shadow_price_cny_per_mw",
]
PROVINCE_COLUMNS = [
    "province",
    "adcode",
    "name_zh",
    "name_en",
    "lat",
    "lon",
    "demand_mw",
    "demand_mwh",
    "west_share",
    "hub_share",
    "local_share",
    "load_weighted_latency_ms",
    "emissions_tco2",
]


@dataclass
class Results:
    """One solved plan.

    Attributes
    ----------
    scenario : dict
        The resolved scenario (every default filled in), as written to ``scenario.yaml``.
    flows : pandas.DataFrame
        Load served per (province, site, workload, period), columns ``FLOW_COLUMNS``. Only
        non-zero flows are kept. ``hours`` is the period's weight. [h/yr]
    sites : pandas.DataFrame
        One row per site (clusters and local sites), columns ``SITE_COLUMNS``. Costs are annual. [CNY/yr]
    provinces : pandas.DataFrame
        One row per origin province, columns ``PROVINCE_COLUMNS``. Shares are of the province's
        annual demand energy. [-]
    summary : dict
        Headline figures (see ``docs/formulation.md``).
    metadata : dict
        Versions, solver status, largest constraint violation, input hash, timings.
    """

    scenario: dict[str, Any]
    flows: pd.DataFrame
    sites: pd.DataFrame
    provinces: pd.DataFrame
    summary: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
