"""The results of one solved plan: plain tables and a typed summary, free of solver objects."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from optimizer.inputs import ACCOUNTINGS
from optimizer.status import PlanStatus

#: Parts of a plan's annual cost, in the order tables and charts show them. [CNY/yr]
COST_PARTS = [
    "capex_cny",
    "energy_cost_cny",
    "green_cost_cny",
    "certificate_cost_cny",
    "network_cost_cny",
    "carbon_cost_cny",
    "water_cost_cny",
    "latency_cost_cny",
]



def cost_label(part: str) -> str:
    """Label key of a cost part: ``energy_cost_cny`` -> ``cost_energy``, ``capex_cny`` -> ``cost_capex``."""
    return "cost_" + part.removesuffix("_cny").removesuffix("_cost")


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
    "fitout_mw",
    "new_mw",
    "capacity_mw",
    "occupancy",
    "peak_load_mw",
    "mean_load_mw",
    "utilisation",
    "peak_utilisation",
    "energy_mwh",
    "green_mwh",
    "certificate_mwh",
    "water_m3",
    "emissions_tco2",
    "emissions_location_tco2",
    "emissions_market_tco2",
    *COST_PARTS,
    "total_cost_cny",
    "capacity_shadow_price_cny_per_mw",
]
LINK_COLUMNS = ["link", "from", "to", "kind", "length_km", "existing_gbps", "new_gbps", "peak_flow_gbps",
                "utilisation", "cost_cny", "shadow_price"]
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
    "hosted_water_m3",
]


@dataclass
class Summary:
    """The headline figures of one plan; units in the names, annual figures per year.

    Costs are annual (capex annualised) [CNY/yr]; shares are of annual IT energy [-] (``green_share``
    of facility energy); ``compute_capex_*`` is overnight investment in the new capacity [CNY].
    ``emissions_tco2`` counts emissions as ``carbon_accounting`` says (what the price and cap apply
    to); the three ``emissions_<accounting>_tco2`` are reported side by side. Capacity is IT
    capacity in MW: built (rated racks), in use (fitted), fitted out of vacancy by the plan, new.
    """

    scenario: str
    status: PlanStatus
    total_cost_cny: float
    capex_cny: float
    energy_cost_cny: float
    green_cost_cny: float
    certificate_cost_cny: float
    network_cost_cny: float
    carbon_cost_cny: float
    water_cost_cny: float
    latency_cost_cny: float
    emissions_tco2: float
    emissions_location_tco2: float
    emissions_market_tco2: float
    emissions_marginal_tco2: float
    it_energy_mwh: float
    facility_energy_mwh: float
    pue_average: float
    green_mwh: float
    bundled_green_mwh: float
    certificate_mwh: float
    green_share: float
    water_m3: float
    mean_demand_mw: float
    peak_demand_mw: float
    shifted_mwh: float
    load_weighted_latency_ms: float
    west_share: float
    hub_share: float
    local_share: float
    new_capacity_mw: float
    new_capacity_west_mw: float
    new_capacity_hub_mw: float
    compute_capex_cny: float
    compute_capex_west_cny: float
    built_capacity_mw: float
    capacity_mw: float
    fitout_mw: float
    occupancy: float
    hub_occupancy: float
    mean_utilisation: float
    peak_utilisation: float
    #: New backbone capacity the plan builds, summed over links. [Gbit/s]
    network_new_gbps: float = 0.0
    #: Annualised cost of that new capacity (part of network_cost_cny). [CNY/yr]
    network_capex_cny: float = 0.0
    #: Electricity of the backbone carrying the plan's traffic (not in facility_energy_mwh). [MWh/yr]
    transfer_energy_mwh: float = 0.0
    #: Which emissions the carbon price and cap apply to: location, market or marginal.
    carbon_accounting: str = "location"
    #: Cost of one tonne less under the binding carbon cap (None without a cap). [CNY/tCO2]
    carbon_shadow_price_cny_per_tco2: float | None = None
    #: Annual cost of 1 ms less load-weighted latency under a latency cap (None without one). [CNY/yr per ms]
    latency_shadow_price_cny_per_ms: float | None = None
    #: Sites whose existing capacity binds: value of one more MW for a year. [CNY/MW]
    site_capacity_shadow_prices_cny_per_mw: dict[str, float] = field(default_factory=dict)
    #: Annual cost of tightening each binding policy by one unit of its setting (units in the keys).
    policy_shadow_prices: dict[str, float] = field(default_factory=dict)
    #: The final year of a pathway run: that year and the pathway's headline growth figures
    #: (growth rates, τ, output gap, calibration; see :mod:`planner.pathway`). None for one year.
    pathway: dict[str, Any] | None = None
    #: A stochastic plan (:mod:`planner.robust`): expected cost, CVaR, VSS, EVPI and the futures'
    #: costs; the other figures are those of the future ``shown_future``. None for one future.
    stochastic: dict[str, Any] | None = None

    @classmethod
    def figures(cls) -> tuple[str, ...]:
        """Names of the numeric figures (every field holding one number)."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.type in ("float", "float | None"))

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as ``summary.json`` holds it."""
        data = dataclasses.asdict(self)
        data["status"] = str(self.status)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "summary.json") -> Summary:
        """Rebuild a summary from plain data, refusing missing, unknown or non-finite figures.

        Raises
        ------
        ValueError
            One line naming ``source``, the field and the fix.
        """
        if not isinstance(data, dict):
            msg = f"{source} | must hold a mapping of figures, got {type(data).__name__}. Run the scenario again."
            raise ValueError(msg)
        names = {f.name for f in dataclasses.fields(cls)}
        required = {f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        missing = sorted(required - set(data))
        unknown = sorted(set(data) - names)
        if missing or unknown:
            what = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
            msg = f"{source} | {what}: not a summary this version wrote. Run the scenario again."
            raise ValueError(msg)
        values = dict(data)
        for name in cls.figures():
            value = values.get(name)
            if value is None and name not in required:  # an optional figure, such as a shadow price
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                msg = f"{source}: {name} | must be a finite number, got {value!r}. Run the scenario again."
                raise ValueError(msg)
            values[name] = float(value)
        for name in ("site_capacity_shadow_prices_cny_per_mw", "policy_shadow_prices"):
            prices = values.get(name) or {}
            if not isinstance(prices, dict) or not all(
                    isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                    for v in prices.values()):
                msg = f"{source}: {name} | must map names to finite numbers. Run the scenario again."
                raise ValueError(msg)
            values[name] = {str(k): float(v) for k, v in prices.items()}
        if values.get("carbon_accounting", "location") not in ACCOUNTINGS:
            msg = (f"{source}: carbon_accounting | unknown accounting {values['carbon_accounting']!r}. "
                   "Run the scenario again.")
            raise ValueError(msg)
        if not isinstance(values.get("stochastic"), dict | None):
            msg = f"{source}: stochastic | must be a mapping of figures or null. Run the scenario again."
            raise ValueError(msg)
        if not isinstance(values.get("pathway"), dict | None):
            msg = f"{source}: pathway | must be a mapping of growth figures or null. Run the scenario again."
            raise ValueError(msg)
        try:
            values["status"] = PlanStatus(values["status"])
        except ValueError:
            msg = f"{source}: status | unknown status {values['status']!r}. Run the scenario again."
            raise ValueError(msg) from None
        values["scenario"] = str(values["scenario"])
        return cls(**values)


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
    summary : Summary
        Headline figures (see ``docs/formulation.md``).
    metadata : dict
        Versions, solver status, largest constraint violation, input hash, timings.
    links : pandas.DataFrame, optional
        One row per backbone link, columns ``LINK_COLUMNS`` (None without a network).
    """

    scenario: dict[str, Any]
    flows: pd.DataFrame
    sites: pd.DataFrame
    provinces: pd.DataFrame
    summary: Summary
    metadata: dict[str, Any] = field(default_factory=dict)
    links: pd.DataFrame | None = None
