"""Turn a validated scenario and the default tables into the LP's numeric inputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from edwc_data.tables import load_tables
from edwc_data.units import HOURS_PER_DAY, HOURS_PER_YEAR

from geo.latency import distance_km, one_way_latency_ms
from optimizer.inputs import PlanInputs
from optimizer.network import NetworkInputs, build_network, placement_rules
from planner.scenario import Scenario

#: Columns of a site table before the annuities are added (PlanInputs.sites with its optional columns).
SITE_COLUMNS = (
    "site", "name_zh", "name_en", "kind", "hub_class", "host_province", "serves", "lat", "lon", "pue", "pue_cap",
    "existing_mw", "occupancy", "max_new_mw", "price_cny_per_mwh", "ef_tco2_per_mwh", "green_available_mw",
    "green_premium_cny_per_mwh", "green_new_share", "wue_l_per_kwh", "capex_cny_per_mw",
)


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


@dataclass
class TimeSlices:
    """The plan's slices and what varies over them.

    Attributes
    ----------
    periods : pandas.DataFrame
        period, day, hour, day_of_year (-1 for copies of the mean day), hours [h/yr].
    demand_shape : numpy.ndarray, shape (K, T)
        Demand of each class in each slice over its annual mean. [-]
    peak_ratio : numpy.ndarray, shape (K, T)
        Largest hour of each slice over the slice's mean, by class. [-]
    green_profile : numpy.ndarray, shape (S, T)
        Green power on offer over its annual mean. [-]
    pue_offset : numpy.ndarray, shape (S, T)
        PUE above the site's annual PUE in each slice (the seasons); weighted mean 0. [-]
    """

    periods: pd.DataFrame
    demand_shape: np.ndarray
    peak_ratio: np.ndarray
    green_profile: np.ndarray
    pue_offset: np.ndarray


def identical_days(scenario: Scenario, diurnal: pd.DataFrame, shapes: pd.Series, num_sites: int) -> TimeSlices:
    """``time.days`` copies of the year's mean day: flat green power and PUE, each day weighted 365/days."""
    from planner.periods import peak_ratios, to_slices

    days, per_day = scenario.time.days, scenario.time.hours_per_day
    step = HOURS_PER_DAY // per_day
    rows = [(f"d{d + 1:03d}h{h * step:02d}", d + 1, h * step, -1) for d in range(days) for h in range(per_day)]
    periods = pd.DataFrame(rows, columns=["period", "day", "hour", "day_of_year"])
    periods["hours"] = HOURS_PER_YEAR / (days * per_day)
    hourly = diurnal.set_index("hour").reindex(range(HOURS_PER_DAY))
    day = np.stack([hourly[shape].to_numpy(float) for shape in shapes])[:, None, :]  # (K, 1, 24)
    day = np.repeat(day, days, axis=1)
    num_t = len(periods)
    return TimeSlices(periods, to_slices(day, per_day), peak_ratios(day, per_day), np.ones((num_sites, num_t)),
                      np.zeros((num_sites, num_t)))


def clustered_days(scenario: Scenario, sites: pd.DataFrame, workloads: pd.DataFrame,
                   pue_amplitude: np.ndarray) -> TimeSlices:
    """Days clustered from the year's hourly profiles (and its peak days), sliced as ``time.hours_per_day``."""
    # Imported here: the clustered path pulls in pvlib and tsam, which take seconds to import.
    from planner.periods import cluster_days, peak_ratios, periods_table, to_slices
    from planner.profiles import seasonal_pue_offset, year_profiles

    profiles = year_profiles(sites, workloads, scenario.year, scenario.demand.within_year_growth)
    days = cluster_days(
        profiles,
        scenario.time.days,
        green_weight=sites["green_available_mw"].to_numpy(float),
        demand_weight=workloads["share"].to_numpy(float),
        add_extremes=scenario.time.extreme_days,
    )
    per_day = scenario.time.hours_per_day
    periods = periods_table(days, per_day, HOURS_PER_YEAR)
    # The representative days' PUE keeps each site's annual mean: offsets recentred on their weights.
    offsets = seasonal_pue_offset(pue_amplitude, days.day_of_year)
    offsets -= (offsets @ days.weight_days)[:, None] / days.weight_days.sum()
    return TimeSlices(periods, to_slices(days.demand, per_day), peak_ratios(days.demand, per_day),
                      to_slices(days.green, per_day), np.repeat(offsets, per_day, axis=1))


def _apply_overrides(table: pd.DataFrame, overrides: dict, fields: tuple[str, ...], rename: dict | None = None):
    for key, override in overrides.items():
        for field in fields:
            value = getattr(override, field)
            if value is not None:
                table.loc[key, (rename or {}).get(field, field)] = value


def build_sites(scenario: Scenario, provinces: pd.DataFrame, clusters: pd.DataFrame, climate: pd.DataFrame,
                grid_regions: pd.DataFrame) -> pd.DataFrame:
    """The site table: the 10 clusters and one local site per province, overrides applied, disabled ones dropped.

    Emission factors come from each site's host province (so a province's override reaches its
    clusters): the grid average (location), times the residual-mix ratio (market), and the regional
    grid's operating margin (marginal).
    """
    costs = scenario.costs
    capex = costs.capex_usd_per_mw * costs.fx_cny_per_usd
    clusters = clusters.astype({"price_cny_per_mwh": float, "existing_mw": float, "max_new_mw": float})
    clusters["kind"] = "cluster"
    clusters["serves"] = ""
    clusters["capex_cny_per_mw"] = capex
    local_climate = provinces["climate"].map(climate["local_wue_l_per_kwh"])
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
            "pue_cap": np.inf,
            "existing_mw": provinces["local_existing_mw"],
            "occupancy": provinces["local_occupancy"],
            "max_new_mw": provinces["local_existing_mw"] * scenario.policy.local_max_new_share,
            "price_cny_per_mwh": provinces["price_cny_per_mwh"],
            "green_available_mw": 0.0,
            "green_premium_cny_per_mwh": 0.0,
            "green_new_share": 0.0,
            "wue_l_per_kwh": local_climate,
            "capex_cny_per_mw": capex * costs.local_capex_factor,
        }
    )
    clusters["ef_tco2_per_mwh"] = np.nan
    locals_["ef_tco2_per_mwh"] = np.nan
    sites = pd.concat([clusters[list(SITE_COLUMNS)], locals_[list(SITE_COLUMNS)]], ignore_index=True)
    sites = sites.set_index("site", drop=False)
    sites.index.name = "site"
    enabled = pd.Series(True, index=sites.index)
    for site, override in scenario.sites.items():
        for field, value in override.model_dump(exclude_none=True).items():
            if field == "enabled":
                enabled[site] = value
            else:
                sites.loc[site, field] = value
    sites = sites[enabled].copy()
    host = provinces.loc[sites["host_province"]]
    sites["ef_tco2_per_mwh"] = host["ef_tco2_per_mwh"].to_numpy(float)
    sites["ef_market_tco2_per_mwh"] = sites["ef_tco2_per_mwh"] * scenario.carbon.residual_factor_ratio
    sites["ef_marginal_tco2_per_mwh"] = host["grid_region"].map(grid_regions["ef_marginal_tco2_per_mwh"]).to_numpy(
        float)
    sites["pue_amplitude"] = host["climate"].map(climate["pue_amplitude"]).to_numpy(float)
    annuity = capital_recovery_factor(costs.discount_rate, costs.lifetime_years)
    sites["capex_annual_cny_per_mw"] = sites["capex_cny_per_mw"] * annuity
    sites["fitout_capex_annual_cny_per_mw"] = sites["capex_annual_cny_per_mw"] * costs.fitout_capex_factor
    share = scenario.policy.fitout_max_share
    sites["fitout_max_mw"] = np.inf if share is None else share * sites["existing_mw"]
    return sites


def network_inputs(scenario: Scenario, tables: dict, provinces: pd.DataFrame, sites: pd.DataFrame,
                   workloads: pd.DataFrame) -> NetworkInputs | None:
    """The backbone of the scenario (None when ``network.enabled`` is off).

    Network electricity is priced and counted at the provinces where the links' equipment runs:
    each province's grid price and its location, residual-mix and regional-margin factors.
    """
    settings = scenario.network
    if not settings.enabled:
        return None
    marginal = tables["grid_regions"].set_index("grid_region")["ef_marginal_tco2_per_mwh"]
    ef = provinces["ef_tco2_per_mwh"].astype(float)
    factors = pd.DataFrame({
        "price_cny_per_mwh": provinces["price_cny_per_mwh"].astype(float),
        "ef_location_tco2_per_mwh": ef,
        "ef_market_tco2_per_mwh": ef * scenario.carbon.residual_factor_ratio,
        "ef_marginal_tco2_per_mwh": provinces["grid_region"].map(marginal).astype(float),
    }, index=provinces["province"])
    return build_network(
        tables["network_nodes"], tables["network_links"], provinces.reset_index(drop=True),
        sites.reset_index(drop=True), workloads, factors,
        route_factor=settings.route_factor, direct_route_factor=settings.direct_route_factor,
        hop_ms=settings.hop_ms, access_route_factor=scenario.latency.route_factor,
        access_overhead_ms=scenario.latency.overhead_ms, existing_scale=settings.existing_scale,
        link_existing_gbps=settings.link_existing_gbps, cost_cny_per_gbps_km_yr=settings.cost_cny_per_gbps_km_yr,
        transfer_kwh_per_gb=settings.transfer_kwh_per_gb, peak_factor=settings.peak_factor,
    )


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
    _apply_overrides(provinces, scenario.provinces,
                     ("price_cny_per_mwh", "ef_tco2_per_mwh", "local_existing_mw", "local_occupancy", "local_pue"))
    climate = tables["climate"].set_index("climate")
    sites = build_sites(scenario, provinces, tables["sites"], climate, tables["grid_regions"].set_index("grid_region"))

    workloads = tables["workloads"].copy()
    for workload, override in scenario.workloads.items():
        for field, value in override.model_dump(exclude_none=True).items():
            workloads.loc[workload, field] = np.nan if value == "none" else value
    workloads["latency_max_ms"] = workloads["latency_max_ms"].astype(float).fillna(np.inf)
    if "deferrable" not in workloads:
        workloads["deferrable"] = False
    workloads["deferrable"] = workloads["deferrable"].astype(bool)

    if scenario.time.representative == "clustered":
        slices = clustered_days(scenario, sites, workloads, sites["pue_amplitude"].to_numpy(float))
    else:
        slices = identical_days(scenario, tables["diurnal"], workloads["shape"], len(sites))
    weights = demand_weights(provinces, scenario).to_numpy()
    national = scenario.demand.national_it_load_mw * scenario.demand.scale
    shares = workloads["share"].to_numpy(float)
    demand = national * weights[:, None, None] * shares[None, :, None] * slices.demand_shape[None, :, :]

    distance = distance_km(provinces["lat"], provinces["lon"], sites["lat"], sites["lon"])
    own_local = sites["serves"].to_numpy()[None, :] == provinces["province"].to_numpy()[:, None]
    distance[own_local] = 0.0
    latency = one_way_latency_ms(distance, scenario.latency.route_factor, scenario.latency.overhead_ms)
    network = network_inputs(scenario, tables, provinces, sites, workloads)
    if network is not None:
        # A cluster's latency is its existing path's over the backbone (where it has one).
        on_backbone = network.route_latency_ms(len(sites), direct=False)
        latency = np.where(np.isfinite(on_backbone), on_backbone, latency)
    province_pos = {p: i for i, p in enumerate(provinces["province"])}
    site_pos = {s: j for j, s in enumerate(sites["site"])}
    for pair in scenario.latency.measured:
        if pair.site in site_pos:
            latency[province_pos[pair.province], site_pos[pair.site]] = pair.one_way_ms

    water_cap = np.array([
        np.inf if (o := scenario.provinces.get(p)) is None or o.water_cap_m3 is None else o.water_cap_m3
        for p in provinces["province"]
    ])
    settings = scenario.network
    grid = tables["grid_regions"]
    province_grid = provinces["grid_region"].to_numpy()
    host_grid = provinces.set_index("province")["grid_region"].reindex(sites["host_province"]).to_numpy()
    placement = placement_rules(
        provinces["province"].to_numpy(), province_grid, sites["host_province"].to_numpy(), host_grid, distance,
        workloads["workload"].to_numpy(), residency=settings.residency,
        dr_min_separation_km=settings.dr_min_separation_km, dr_other_grid_region=settings.dr_other_grid_region,
    ) if len(grid) else None
    policy, costs = scenario.policy, scenario.costs
    return PlanInputs(
        provinces=provinces[["province", "adcode", "name_zh", "name_en", "lat", "lon"]].reset_index(drop=True),
        sites=sites.reset_index(drop=True),
        workloads=workloads.reset_index(drop=True),
        periods=slices.periods,
        demand_mw=demand,
        distance_km=distance,
        latency_ms=latency,
        green_profile=slices.green_profile,
        utilisation_max=policy.utilisation_max,
        carbon_price_cny_per_tco2=scenario.carbon.price_cny_per_tco2,
        carbon_cap_tco2=scenario.carbon.cap_tco2,
        hub_new_share_min=policy.hub_new_share_min,
        latency_weight_cny_per_mwh_ms=costs.latency_weight_cny_per_mwh_ms,
        deferrable=workloads["deferrable"].to_numpy(bool) & scenario.time.defer_within_day,
        defer_peak_factor=scenario.time.defer_peak_factor,
        latency_cap_ms=scenario.latency.mean_cap_ms,
        pue_profile=sites["pue"].to_numpy(float)[:, None] + slices.pue_offset,
        peak_ratio=slices.peak_ratio,
        carbon_accounting=scenario.carbon.accounting,
        certificate_price_cny_per_mwh=costs.certificate_price_cny_per_mwh,
        water_price_cny_per_m3=costs.water_price_cny_per_m3,
        water_cap_m3=water_cap if np.isfinite(water_cap).any() else None,
        pue_cap_national=policy.pue_cap_national,
        hub_pue_caps=policy.hub_pue_caps,
        hub_occupancy_min=policy.hub_occupancy_min,
        hub_new_green_share_min=policy.hub_new_green_share_min,
        new_capacity_load_factor=policy.new_capacity_load_factor,
        green_share_min=policy.green_share_min,
        network=network,
        placement=placement,
    )
