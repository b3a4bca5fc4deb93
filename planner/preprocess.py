"""Turn a validated scenario and the default tables into the LP's numeric inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
from edwc_data.tables import load_tables
from edwc_data.units import HOURS_PER_YEAR

from geo.latency import distance_km, one_way_latency_ms
from optimizer.inputs import SITE_INPUT_COLUMNS, PlanInputs
from planner.scenario import Scenario


def capital_recovery_factor(rate: float, years: float) -> float:
    """Annuity factor turning an overnight cost into equal yearly payments. [1/yr]"""
    if rate == 0:
        return 1.0 / years
    return rate / (1.0 - (1.0 + rate) ** -years)


def demand_weights(provinces: pd.DataFrame, scenario: Scenario) -> pd.Series:
    """Share of national demand in each province (sums to 1).

    A blend of the GDP share and the location of AI firms: ``gdp_blend`` of the weight follows
    GDP; the rest puts ``ai_firm_share_hub_regions`` of demand in the 京津冀, 长三角 and 珠三角
    provinces and the remainder elsewhere, each split within its group by GDP. Province
    overrides of ``demand_weight`` replace the blended value before renormalising.
    """
    gdp = provinces["gdp_2023_100m_cny"].astype(float)
    in_hub = provinces["ai_hub_region"].astype(bool)
    share_hub = scenario.demand.ai_firm_share_hub_regions
    ai = pd.Series(0.0, index=provinces.index)
    ai[in_hub] = share_hub * gdp[in_hub] / gdp[in_hub].sum()
    ai[~in_hub] = (1.0 - share_hub) * gdp[~in_hub] / gdp[~in_hub].sum()
    blend = scenario.demand.gdp_blend
    weight = blend * gdp / gdp.sum() + (1.0 - blend) * ai
    for province, override in scenario.provinces.items():
        if override.demand_weight is not None:
            weight[province] = override.demand_weight
    return weight / weight.sum()


def _periods(scenario: Scenario) -> pd.DataFrame:
    days, per_day = scenario.time.days, scenario.time.hours_per_day
    step = 24 // per_day
    rows = [(f"d{d + 1:03d}h{h * step:02d}", d + 1, h * step) for d in range(days) for h in range(per_day)]
    periods = pd.DataFrame(rows, columns=["period", "day", "hour"])
    periods["hours"] = HOURS_PER_YEAR / (days * per_day)
    return periods


def _shape_by_period(diurnal: pd.DataFrame, shape: str, periods: pd.DataFrame, per_day: int) -> np.ndarray:
    # A slice covering several hours takes the mean of its hours, so each day's mean stays 1.
    hourly = diurnal.set_index("hour")[shape].reindex(range(24)).to_numpy(float)
    blocks = hourly.reshape(per_day, 24 // per_day).mean(axis=1)
    return blocks[(periods["hour"].to_numpy() // (24 // per_day))]


def _clustered_days(
    scenario: Scenario, sites: pd.DataFrame, workloads: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Periods, demand shapes (K, T) and green profiles (S, T) of ``time.days`` days clustered from the year."""
    # Imported here: the clustered path pulls in pvlib and tsam, which take seconds to import.
    from planner.periods import cluster_days, periods_table, to_slices
    from planner.profiles import year_profiles

    profiles = year_profiles(sites, workloads, scenario.year)
    days = cluster_days(
        profiles,
        scenario.time.days,
        green_weight=sites["green_available_mw"].to_numpy(float),
        demand_weight=workloads["share"].to_numpy(float),
    )
    per_day = scenario.time.hours_per_day
    periods = periods_table(days, per_day, HOURS_PER_YEAR)
    return periods, to_slices(days.demand, per_day), to_slices(days.green, per_day)


def build_inputs(scenario: Scenario) -> PlanInputs:
    """Build the LP inputs of a scenario.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (see :func:`planner.scenario.load_scenario`).

    Returns
    -------
    PlanInputs
        Sites include the 10 clusters (less the disabled ones) and one local site per province.
    """
    tables = load_tables()
    # Overrides may be fractional where the table holds whole numbers (pandas 3 refuses to upcast).
    provinces = tables["provinces"].astype({"price_cny_per_mwh": float, "local_existing_mw": float})
    for province, override in scenario.provinces.items():
        for field in ("price_cny_per_mwh", "ef_tco2_per_mwh", "local_existing_mw", "local_pue"):
            value = getattr(override, field)
            if value is not None:
                provinces.loc[province, field] = value

    costs = scenario.costs
    capex = costs.capex_usd_per_mw * costs.fx_cny_per_usd
    annuity = capital_recovery_factor(costs.discount_rate, costs.lifetime_years)
    hub_green = scenario.policy.hub_new_green_share

    clusters = tables["sites"].astype({"price_cny_per_mwh": float, "existing_mw": float, "max_new_mw": float})
    clusters["kind"] = "cluster"
    clusters["serves"] = ""
    clusters["green_new_share"] = hub_green
    clusters["capex_cny_per_mw"] = capex
    locals_ = pd.DataFrame(
        {
            "site": "local_" + provinces["province"],
            "name_zh": provinces["name_zh"] + "本地",
            "name_en": provinces["name_en"] + " local",
            "kind": "local",
            "hub_class": "local",
            "host_province": provinces["province"],
            "serves": provinces["province"],
            "lat": provinces["lat"],
            "lon": provinces["lon"],
            "pue": provinces["local_pue"],
            "existing_mw": provinces["local_existing_mw"],
            "max_new_mw": provinces["local_existing_mw"] * scenario.policy.local_max_new_share,
            "price_cny_per_mwh": provinces["price_cny_per_mwh"],
            "ef_tco2_per_mwh": provinces["ef_tco2_per_mwh"],
            "green_available_mw": 0.0,
            "green_premium_cny_per_mwh": 0.0,
            "green_new_share": 0.0,
            "capex_cny_per_mw": capex * costs.local_capex_factor,
        }
    )
    columns = list(SITE_INPUT_COLUMNS[:-1])  # all but the annuity, computed below
    sites = pd.concat([clusters[columns], locals_[columns]], ignore_index=True).set_index("site", drop=False)
    sites.index.name = "site"
    enabled = pd.Series(True, index=sites.index)
    for site, override in scenario.sites.items():
        for field, value in override.model_dump(exclude_none=True).items():
            if field == "enabled":
                enabled[site] = value
            else:
                sites.loc[site, field] = value
    sites = sites[enabled].copy()
    sites["capex_annual_cny_per_mw"] = sites["capex_cny_per_mw"] * annuity

    workloads = tables["workloads"].copy()
    for workload, override in scenario.workloads.items():
        for field, value in override.model_dump(exclude_none=True).items():
            workloads.loc[workload, field] = np.nan if value == "none" else value
    workloads["latency_max_ms"] = workloads["latency_max_ms"].astype(float).fillna(np.inf)
    if "deferrable" not in workloads:
        workloads["deferrable"] = False
    workloads["deferrable"] = workloads["deferrable"].astype(bool)

    weights = demand_weights(provinces, scenario).to_numpy()
    national = scenario.demand.national_it_load_mw * scenario.demand.scale
    green_profile = None
    if scenario.time.representative == "clustered":
        periods, shapes, green_profile = _clustered_days(scenario, sites, workloads)
    else:
        periods = _periods(scenario)
        shapes = np.stack(
            [
                _shape_by_period(tables["diurnal"], shape, periods, scenario.time.hours_per_day)
                for shape in workloads["shape"]
            ]
        )  # (K, T)
    if green_profile is None:
        green_profile = np.ones((len(sites), len(periods)))
    shares = workloads["share"].to_numpy(float)
    demand = national * weights[:, None, None] * shares[None, :, None] * shapes[None, :, :]

    distance = distance_km(provinces["lat"], provinces["lon"], sites["lat"], sites["lon"])
    own_local = sites["serves"].to_numpy()[None, :] == provinces["province"].to_numpy()[:, None]
    distance[own_local] = 0.0
    latency = one_way_latency_ms(distance, scenario.latency.route_factor, scenario.latency.overhead_ms)
    province_pos = {p: i for i, p in enumerate(provinces["province"])}
    site_pos = {s: j for j, s in enumerate(sites["site"])}
    for pair in scenario.latency.measured:
        if pair.site in site_pos:
            latency[province_pos[pair.province], site_pos[pair.site]] = pair.one_way_ms

    return PlanInputs(
        provinces=provinces[["province", "adcode", "name_zh", "name_en", "lat", "lon"]].reset_index(drop=True),
        sites=sites.reset_index(drop=True),
        workloads=workloads.reset_index(drop=True),
        periods=periods,
        demand_mw=demand,
        distance_km=distance,
        latency_ms=latency,
        green_profile=green_profile,
        utilisation_max=scenario.policy.utilisation_max,
        carbon_price_cny_per_tco2=scenario.carbon.price_cny_per_tco2,
        carbon_cap_tco2=scenario.carbon.cap_tco2,
        hub_new_share_min=scenario.policy.hub_new_share_min,
        latency_weight_cny_per_mwh_ms=scenario.costs.latency_weight_cny_per_mwh_ms,
        deferrable=workloads["deferrable"].to_numpy(bool) & scenario.time.defer_within_day,
        defer_peak_factor=scenario.time.defer_peak_factor,
        latency_cap_ms=scenario.latency.mean_cap_ms,
    )
