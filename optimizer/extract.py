"""Turn an LP solution back into plan quantities and the results tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from edwc_data.units import HOURS_PER_YEAR

from optimizer.index import PlanIndex, day_windows
from optimizer.inputs import ACCOUNTINGS, PlanInputs
from optimizer.lp import LinearProgram
from optimizer.network import NetworkFlows, extract_network, network_costs, route_charge_cny_per_mw_1000km
from optimizer.policies import policy_shadow_prices
from optimizer.results import COST_PARTS, FLOW_COLUMNS, PROVINCE_COLUMNS, SITE_COLUMNS, Summary
from optimizer.solve import Solution
from optimizer.status import PlanStatus

#: Flows below this are solver noise, not plan. [MW]
FLOW_EPSILON_MW = 1e-6


@dataclass
class PlanQuantities:
    """The solution in physical terms.

    Attributes
    ----------
    load : ndarray (L, T)
        Load of each allowed (p, s, k) triple in each slice (deferrable routes: see
        :func:`deferred_loads`). [MW]
    new_mw : ndarray (S,)
        New capacity per site (0 where none may be built). [MW]
    green_mw : ndarray (S, T)
        Bundled green power used per site and slice. [MW]
    capacity_duals, carbon_dual, hub_share_dual, latency_cap_dual
        Row duals of those families (HiGHS sign: change of objective per unit of right-hand side).
    unserved_mw : ndarray (P, K, T), optional
        Demand left unserved (dispatch LPs only); a deferrable class's daily shortfall is spread
        over the slices of its day as its mean. [MW]
    fitout_mw : ndarray (S,), optional
        Vacant built capacity the plan fits out. [MW]
    certificate_mwh : ndarray (S,), optional
        Green certificates bought per site. [MWh/yr]
    row_duals : ndarray, optional
        Every row's dual (for the policies' shadow prices).
    network : optimizer.network.NetworkFlows, optional
        Path-1 flows, new link capacity and the link rows' duals (None without a network).
    """

    load: np.ndarray
    new_mw: np.ndarray
    green_mw: np.ndarray
    capacity_duals: np.ndarray
    carbon_dual: float | None
    hub_share_dual: float | None
    latency_cap_dual: float | None = None
    unserved_mw: np.ndarray | None = None
    fitout_mw: np.ndarray | None = None
    certificate_mwh: np.ndarray | None = None
    row_duals: np.ndarray | None = None
    network: NetworkFlows | None = None

    def fitted_mw(self, inputs: PlanInputs) -> np.ndarray:
        """Capacity in use after the plan: fitted before, fitted out, and new, (S,). [MW]"""
        fitout = np.zeros(len(inputs.sites)) if self.fitout_mw is None else self.fitout_mw
        return inputs.fitted_mw + fitout + self.new_mw

    def certificates(self, num_sites: int) -> np.ndarray:
        """Certificates bought per site, zeros where none, (S,). [MWh/yr]"""
        return np.zeros(num_sites) if self.certificate_mwh is None else self.certificate_mwh


def extract_quantities(inputs: PlanInputs, lp: LinearProgram, index: PlanIndex, solution: Solution) -> PlanQuantities:
    """Split the solution vector into load, new capacity and green power."""
    num_s, num_t = len(inputs.sites), inputs.hours.size
    values = solution.values
    x, n, g = lp.columns["x"], lp.columns["n"], lp.columns["g"]
    load = values[x.start : x.stop].reshape(-1, num_t)
    if "z" in lp.columns:
        load = np.vstack([load, deferred_loads(inputs, lp, index, values)])
    new_mw = np.zeros(num_s)
    new_mw[index.new_sites] = values[n.start : n.stop]
    green = np.zeros((num_s, num_t))
    green[index.green_sites] = values[g.start : g.stop].reshape(-1, num_t)
    fitout = np.zeros(num_s)
    if "f" in lp.columns:
        fitout[index.fitout_sites] = values[lp.columns["f"].start : lp.columns["f"].stop]
    certificates = np.zeros(num_s)
    if "c" in lp.columns:
        by_window = values[lp.columns["c"].start : lp.columns["c"].stop].reshape(-1, index.certificate_windows)
        certificates[index.certificate_sites] = by_window.sum(axis=1)
    duals = solution.row_duals
    cap = lp.rows["capacity"]

    def single(family):
        block = lp.rows.get(family)
        return float(duals[block.start]) if block else None

    return PlanQuantities(
        load=load,
        new_mw=new_mw,
        green_mw=green,
        capacity_duals=duals[cap.start : cap.stop].reshape(num_s, num_t),
        carbon_dual=single("carbon"),
        hub_share_dual=single("hub_share"),
        latency_cap_dual=single("latency_cap"),
        unserved_mw=unserved_demand(inputs, lp, index, values) if "unserved" in lp.columns else None,
        fitout_mw=fitout,
        certificate_mwh=certificates,
        row_duals=duals,
        network=extract_network(inputs, lp, index, values, duals),
    )


def unserved_demand(inputs: PlanInputs, lp: LinearProgram, index: PlanIndex, values: np.ndarray) -> np.ndarray:
    """Unserved demand (P, K, T) from an LP with an 'unserved' column per demand and defer_energy row. [MW]"""
    num_p, num_k = inputs.demand_mw.shape[:2]
    num_t = inputs.hours.size
    block = lp.columns["unserved"]
    slack = values[block.start : block.stop]
    pairs = index.demand_pairs
    unserved = np.zeros((num_p, num_k, num_t))
    unserved[pairs[:, 0], pairs[:, 1], :] = slack[: len(pairs) * num_t].reshape(-1, num_t)
    if len(index.defer_pairs):
        window, _ = day_windows(inputs)
        daily = slack[len(pairs) * num_t :].reshape(len(index.defer_pairs), -1)
        unserved[index.defer_pairs[:, 0], index.defer_pairs[:, 1], :] = daily[:, window]
    return unserved


def deferred_loads(inputs: PlanInputs, lp: LinearProgram, index: PlanIndex, values: np.ndarray) -> np.ndarray:
    """Load of each deferrable route in each slice (routes, T), from its daily energy and its site's profile. [MW]

    The LP fixes each route's energy per day (y) and each site's deferrable profile (z); any split of
    the profile between the routes of a day is the same plan. Each route gets the profile's shape,
    scaled to its energy: ``y[l,d]·z[s,t]/mu[s,d]``.
    """
    window, _ = day_windows(inputs)
    num_t, num_windows = inputs.hours.size, window.max() + 1
    y = values[lp.columns["y"].start : lp.columns["y"].stop].reshape(-1, num_windows)
    mu = values[lp.columns["mu"].start : lp.columns["mu"].stop].reshape(-1, num_windows)
    z = values[lp.columns["z"].start : lp.columns["z"].stop].reshape(-1, num_t)
    site_pos = np.full(len(inputs.sites), -1)
    site_pos[index.defer_sites] = np.arange(index.defer_sites.size)
    member = site_pos[index.triple_site[index.num_x_triples :]]
    shape = np.divide(z, mu[:, window], out=np.zeros_like(z), where=mu[:, window] > 1e-12)
    return np.maximum(y[:, window] * shape[member], 0.0)


def site_load(inputs: PlanInputs, index: PlanIndex, load: np.ndarray) -> np.ndarray:
    """IT load per site and slice, summed over provinces and classes. [MW]"""
    totals = np.zeros((len(inputs.sites), inputs.hours.size))
    np.add.at(totals, index.triple_site, load)
    return totals


def triple_latency(inputs: PlanInputs, index: PlanIndex) -> np.ndarray:
    """(L,) one-way latency of every allowed triple (:meth:`PlanInputs.triple_latency_ms`). [ms]"""
    return inputs.triple_latency_ms(index.triple_province, index.triple_site, index.triple_workload)


def energy_and_emissions(inputs: PlanInputs, index: PlanIndex, q: PlanQuantities) -> dict[str, np.ndarray]:
    """Annual energy, green power, water and emissions of each site under every accounting, (S,) each.

    Keys: it_mwh, facility_mwh, green_mwh (bundled), certificate_mwh, water_m3, the network's
    transfer_mwh (electricity where the links run, for the site's traffic), transfer_cost_cny and
    bandwidth_cost_cny [CNY/yr], and emissions_<accounting>_tco2 for location, market and marginal,
    the transfer electricity's included. [MWh/yr, m³/yr, tCO2/yr]
    """
    hours = inputs.hours
    it_load = site_load(inputs, index, q.load)
    facility_mwh = (inputs.pue * it_load) @ hours
    green_mwh = q.green_mw @ hours
    certificate_mwh = q.certificates(len(inputs.sites))
    network = network_costs(inputs, index, q.load, q.network)
    out = {
        "it_mwh": it_load @ hours,
        "facility_mwh": facility_mwh,
        "green_mwh": green_mwh,
        "certificate_mwh": certificate_mwh,
        "water_m3": inputs.site_values("wue_l_per_kwh") * (it_load @ hours),
        "transfer_mwh": network["transfer_mwh"],
        "transfer_cost_cny": network["transfer_cost_cny"],
        "bandwidth_cost_cny": network["bandwidth_cost_cny"],
    }
    for accounting in ACCOUNTINGS:
        ef, ef_green, ef_certificate = inputs.emission_factors(accounting)
        out[f"emissions_{accounting}_tco2"] = (
            ef * facility_mwh + ef_green * green_mwh + ef_certificate * certificate_mwh
            + network[f"transfer_{accounting}_tco2"])
    return out


def cost_components(inputs: PlanInputs, index: PlanIndex, q: PlanQuantities) -> pd.DataFrame:
    """Annual cost of each component by site, recomputed from the plan quantities. [CNY/yr]

    Carbon is priced on the emissions of the inputs' accounting; ``emissions_tco2`` is that figure.
    """
    sites = inputs.sites
    physical = energy_and_emissions(inputs, index, q)
    emissions = physical[f"emissions_{inputs.carbon_accounting}_tco2"]
    triple_mwh = q.load @ inputs.hours
    network = (
        route_charge_cny_per_mw_1000km(inputs)[index.triple_workload]
        * inputs.distance_km[index.triple_province, index.triple_site]
        / 1000.0
        * triple_mwh
        / HOURS_PER_YEAR
    )
    latency = (
        inputs.latency_weight_cny_per_mwh_ms * triple_latency(inputs, index) * triple_mwh
    )
    num_s = len(sites)
    fitout = np.zeros(num_s) if q.fitout_mw is None else q.fitout_mw
    certificate_price = inputs.certificate_price_cny_per_mwh or 0.0
    return pd.DataFrame(
        {
            "capex_cny": sites["capex_annual_cny_per_mw"].to_numpy(float) * q.new_mw
            + inputs.site_values("fitout_capex_annual_cny_per_mw") * fitout,
            "energy_cost_cny": sites["price_cny_per_mwh"].to_numpy(float) * physical["facility_mwh"],
            "green_cost_cny": sites["green_premium_cny_per_mwh"].to_numpy(float) * physical["green_mwh"],
            "certificate_cost_cny": certificate_price * physical["certificate_mwh"],
            "network_cost_cny": np.bincount(index.triple_site, network, minlength=num_s)
            + physical["transfer_cost_cny"] + physical["bandwidth_cost_cny"],
            "carbon_cost_cny": inputs.carbon_price_cny_per_tco2 * emissions,
            "latency_cost_cny": np.bincount(index.triple_site, latency, minlength=num_s),
            "water_cost_cny": inputs.water_price_cny_per_m3 * physical["water_m3"],
            **physical,
            "emissions_tco2": emissions,
        },
        index=sites["site"],
    )


def build_tables(
    inputs: PlanInputs, index: PlanIndex, q: PlanQuantities, lp: LinearProgram | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Summary]:
    """Flows, sites and provinces tables and the summary of one solved plan."""
    sites, provinces, workloads, periods = inputs.sites, inputs.provinces, inputs.workloads, inputs.periods
    hours = inputs.hours
    num_t = hours.size
    costs = cost_components(inputs, index, q)

    triple, t = np.nonzero(q.load > FLOW_EPSILON_MW)
    p, s = index.triple_province[triple], index.triple_site[triple]
    flows = pd.DataFrame(
        {
            "province": provinces["province"].to_numpy()[p],
            "site": sites["site"].to_numpy()[s],
            "workload": workloads["workload"].to_numpy()[index.triple_workload[triple]],
            "period": periods["period"].to_numpy()[t],
            "hours": hours[t],
            "load_mw": q.load[triple, t],
            "latency_ms": triple_latency(inputs, index)[triple],
            "distance_km": inputs.distance_km[p, s],
        }
    )[FLOW_COLUMNS]

    it_load = site_load(inputs, index, q.load)
    it_mwh = it_load @ hours
    built = sites["existing_mw"].to_numpy(float) + q.new_mw
    capacity = q.fitted_mw(inputs)
    peak_load = it_load.max(axis=1) if num_t else np.zeros(len(sites))

    def per_capacity(values):
        return np.divide(values, capacity, out=np.zeros(len(sites)), where=capacity > 1e-9)

    # The sites' own columns lead the table (SITE_COLUMNS up to pue); the plan's figures follow.
    site_table = sites[SITE_COLUMNS[: SITE_COLUMNS.index("pue") + 1]].copy()
    site_table["existing_mw"] = sites["existing_mw"].to_numpy(float)
    site_table["fitout_mw"] = np.zeros(len(sites)) if q.fitout_mw is None else q.fitout_mw
    site_table["new_mw"] = q.new_mw
    site_table["capacity_mw"] = capacity
    site_table["occupancy"] = np.divide(capacity, built, out=np.zeros(len(sites)), where=built > 1e-9)
    site_table["peak_load_mw"] = peak_load
    site_table["mean_load_mw"] = it_mwh / HOURS_PER_YEAR
    site_table["utilisation"] = per_capacity(it_mwh / HOURS_PER_YEAR)
    site_table["peak_utilisation"] = per_capacity(peak_load)
    site_table["energy_mwh"] = costs["facility_mwh"].to_numpy()
    for column in ("green_mwh", "certificate_mwh", "water_m3", "emissions_tco2", "emissions_location_tco2",
                   "emissions_market_tco2"):
        site_table[column] = costs[column].to_numpy()
    for part in COST_PARTS:
        site_table[part] = costs[part].to_numpy()
    site_table["total_cost_cny"] = costs[COST_PARTS].sum(axis=1).to_numpy()
    # Value of one more MW of fitted capacity for a year: the capacity rows' right-hand side is u·fitted.
    site_table["capacity_shadow_price_cny_per_mw"] = -inputs.utilisation_max * q.capacity_duals.sum(axis=1)
    site_table = site_table[SITE_COLUMNS].reset_index(drop=True)

    # Provinces: shares of each province's annual demand energy by where it was served.
    triple_mwh = q.load @ hours
    num_p = len(provinces)
    kind = sites["kind"].to_numpy()[index.triple_site]
    hub_class = sites["hub_class"].to_numpy()[index.triple_site]
    lat = triple_latency(inputs, index)
    intensity = np.divide(costs["emissions_tco2"].to_numpy(), it_mwh, out=np.zeros(len(sites)), where=it_mwh > 0)

    def by_province(weights):
        return np.bincount(index.triple_province, weights, minlength=num_p)

    served = by_province(triple_mwh)
    demand_mwh = inputs.demand_mw.sum(axis=1) @ hours
    safe = np.where(served > 0, served, 1.0)
    province_table = provinces[PROVINCE_COLUMNS[: PROVINCE_COLUMNS.index("lon") + 1]].copy()
    province_table["demand_mw"] = demand_mwh / HOURS_PER_YEAR
    province_table["demand_mwh"] = demand_mwh
    province_table["west_share"] = by_province(triple_mwh * (hub_class == "west")) / safe
    province_table["hub_share"] = by_province(triple_mwh * (kind == "cluster")) / safe
    province_table["local_share"] = by_province(triple_mwh * (kind == "local")) / safe
    province_table["load_weighted_latency_ms"] = by_province(triple_mwh * lat) / safe
    province_table["emissions_tco2"] = by_province(triple_mwh * intensity[index.triple_site])
    hosted = sites["host_province"].to_numpy()
    water = pd.Series(costs["water_m3"].to_numpy()).groupby(hosted).sum()
    province_table["hosted_water_m3"] = province_table["province"].map(water).fillna(0.0).to_numpy(float)
    province_table = province_table[PROVINCE_COLUMNS].reset_index(drop=True)

    total_it = float(it_mwh.sum())
    shifted_mwh = 0.0
    deferrable = inputs.deferrable_classes
    if deferrable.any():
        # Deferrable energy served nationally in another slice of its day than demanded. National,
        # because how a site's deferrable profile is split between provinces is not the plan's to say.
        is_deferred = deferrable[index.triple_workload]
        served = q.load[is_deferred].sum(axis=0)
        demanded = inputs.demand_mw[:, deferrable].sum(axis=(0, 1))
        shifted_mwh = float(np.maximum(served - demanded, 0.0) @ hours)

    def share_of(mask):
        return float(it_mwh[mask].sum() / total_it) if total_it else 0.0

    is_west = (sites["hub_class"] == "west").to_numpy()
    is_cluster = (sites["kind"] == "cluster").to_numpy()
    # Investment of the year: new build, and fitting out vacant racks at its share of a new build's cost.
    fitout_share = np.divide(inputs.site_values("fitout_capex_annual_cny_per_mw"),
                             sites["capex_annual_cny_per_mw"].to_numpy(float),
                             out=np.zeros(len(sites)), where=sites["capex_annual_cny_per_mw"].to_numpy(float) > 0)
    fitout = np.zeros(len(sites)) if q.fitout_mw is None else q.fitout_mw
    capex_overnight = sites["capex_cny_per_mw"].to_numpy(float) * (q.new_mw + fitout_share * fitout)
    facility = float(costs["facility_mwh"].sum())
    green = float(costs["green_mwh"].sum() + costs["certificate_mwh"].sum())
    national_peak = float((it_load.sum(axis=0)).max(initial=0.0))
    summary = Summary(
        scenario="",
        status=PlanStatus.OPTIMAL,
        total_cost_cny=float(costs[COST_PARTS].to_numpy().sum()),
        **{part: float(costs[part].sum()) for part in COST_PARTS},
        emissions_tco2=float(costs["emissions_tco2"].sum()),
        **{f"emissions_{a}_tco2": float(costs[f"emissions_{a}_tco2"].sum()) for a in ACCOUNTINGS},
        carbon_accounting=inputs.carbon_accounting,
        it_energy_mwh=total_it,
        facility_energy_mwh=facility,
        pue_average=facility / total_it if total_it else 0.0,
        green_mwh=green,
        bundled_green_mwh=float(costs["green_mwh"].sum()),
        certificate_mwh=float(costs["certificate_mwh"].sum()),
        green_share=green / facility if facility else 0.0,
        water_m3=float(costs["water_m3"].sum()),
        mean_demand_mw=total_it / HOURS_PER_YEAR,
        peak_demand_mw=float(inputs.demand_mw.sum(axis=(0, 1)).max()),
        shifted_mwh=shifted_mwh,
        network_new_gbps=0.0 if q.network is None else float(q.network.new_gbps.sum()),
        network_capex_cny=float(costs["bandwidth_cost_cny"].sum()),
        transfer_energy_mwh=float(costs["transfer_mwh"].sum()),
        load_weighted_latency_ms=float((triple_mwh * lat).sum() / total_it) if total_it else 0.0,
        west_share=share_of(is_west),
        hub_share=share_of(is_cluster),
        local_share=share_of(~is_cluster),
        new_capacity_mw=float(q.new_mw.sum()),
        new_capacity_west_mw=float(q.new_mw[is_west].sum()),
        new_capacity_hub_mw=float(q.new_mw[is_cluster].sum()),
        compute_capex_cny=float(capex_overnight.sum()),
        compute_capex_west_cny=float(capex_overnight[is_west].sum()),
        built_capacity_mw=float(built.sum()),
        capacity_mw=float(capacity.sum()),
        fitout_mw=float(site_table["fitout_mw"].sum()),
        occupancy=float(capacity.sum() / built.sum()) if built.sum() else 0.0,
        hub_occupancy=float(capacity[is_cluster].sum() / built[is_cluster].sum()) if built[is_cluster].sum() else 0.0,
        mean_utilisation=float(total_it / HOURS_PER_YEAR / capacity.sum()) if capacity.sum() else 0.0,
        peak_utilisation=float(national_peak / capacity.sum()) if capacity.sum() else 0.0,
        carbon_shadow_price_cny_per_tco2=None if q.carbon_dual is None else -q.carbon_dual,
        # The latency row's right-hand side is cap × annual IT energy: per ms of cap, that many MWh·ms.
        latency_shadow_price_cny_per_ms=(
            None if q.latency_cap_dual is None else -q.latency_cap_dual * inputs.it_energy_mwh
        ),
        site_capacity_shadow_prices_cny_per_mw={
            site: float(value)
            for site, value in zip(site_table["site"], site_table["capacity_shadow_price_cny_per_mw"], strict=True)
            if abs(value) > 1e-6
        },
        policy_shadow_prices={} if q.row_duals is None or lp is None else policy_shadow_prices(
            lp, inputs, index, q.row_duals, q),
    )
    return flows, site_table, province_table, summary
