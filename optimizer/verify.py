"""Recompute every constraint from the extracted plan, independently of the LP matrix, before trusting it."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from optimizer.extract import PlanQuantities, site_load
from optimizer.index import PlanIndex, day_windows, window_means
from optimizer.inputs import PlanInputs
from optimizer.network import network_costs, network_violations
from optimizer.policies import new_capacity_energy_mwh, water_cap_provinces

#: A row's violation is measured against its own scale, but never against less than this share of
#: its family's unit scale (the largest scale of that kind in the plan: power, emissions, latency).
#: So a row a million times smaller than the largest of its kind is checked to 1e-6 x 1e-6 of
#: that largest, and a plan that is tiny as a whole (1e-318 MW) is checked relative to itself:
#: no absolute floor (such as 1 MW) can make a wrong plan pass. [-]
RELATIVE_FLOOR = 1e-6
#: A connection counts as used (its latency limit applies) above this share of the power unit scale. [-]
USED_SHARE = 1e-9


def _worst(excess: np.ndarray, scale: np.ndarray | float, unit: float) -> float:
    """Largest ``excess / max(|scale|, RELATIVE_FLOOR * unit)``; an excess over a zero denominator is infinite."""
    excess = np.maximum(np.asarray(excess, float), 0.0)
    if excess.size == 0:
        return 0.0
    denominator = np.maximum(np.abs(np.broadcast_to(np.asarray(scale, float), excess.shape)),
                             RELATIVE_FLOOR * abs(float(unit)))
    ratio = np.divide(excess, denominator, out=np.where(excess > 0, np.inf, 0.0), where=denominator > 0)
    return float(np.max(ratio))


def _unit(*values: np.ndarray | float) -> float:
    """The largest finite magnitude among ``values``: a family's unit scale."""
    largest = 0.0
    for value in values:
        array = np.abs(np.asarray(value, float))
        array = array[np.isfinite(array)]
        if array.size:
            largest = max(largest, float(array.max()))
    return largest


def constraint_violations(inputs: PlanInputs, index: PlanIndex, q: PlanQuantities,
                          annual: bool = True) -> dict[str, float]:
    """Largest relative violation of each constraint family by the plan.

    Recomputed from the physical quantities (loads, new capacity, green power) and the inputs,
    not from the LP matrix, so an error in building the LP shows up here too. ``annual=False``
    leaves out the families on annual totals (:func:`annual_violations`): a day of a year plan
    holds only its share of them, and the year is checked on its summed totals instead.

    Returns
    -------
    dict
        Family name -> largest violation, relative to the constraint's own scale, or to
        ``RELATIVE_FLOOR`` times its family's unit scale where that is larger. 0 means satisfied.
    """
    sites, hours = inputs.sites, inputs.hours
    num_p, num_k, num_t = inputs.demand_mw.shape
    violations: dict[str, float] = {}
    max_new = sites["max_new_mw"].to_numpy(float)
    capacity = q.fitted_mw(inputs)
    cap = inputs.utilisation_max * capacity
    mw = _unit(inputs.demand_mw, cap, max_new)  # the plan's unit scale of power [MW]

    served = np.zeros((num_p, num_k, num_t))
    np.add.at(served, (index.triple_province, index.triple_workload), q.load)
    if q.unserved_mw is not None:  # a dispatch may leave demand unserved, at a price
        violations["unserved"] = _worst(-q.unserved_mw, 0.0, mw)
        served = served + q.unserved_mw
    # Deferrable classes must serve each day's energy; the others their demand in every slice.
    deferrable = inputs.deferrable_classes
    fixed = ~deferrable
    violations["demand"] = _worst(np.abs(served - inputs.demand_mw)[:, fixed], inputs.demand_mw[:, fixed], mw)
    if deferrable.any():
        window, relative = day_windows(inputs)
        num_windows = window.max() + 1

        def per_day(values):
            flat = values.reshape(-1, num_t) * relative
            return np.stack([np.bincount(window, row, minlength=num_windows) for row in flat])

        daily_served = per_day(served[:, deferrable])
        daily_demand = per_day(inputs.demand_mw[:, deferrable])
        violations["demand"] = max(
            violations["demand"], _worst(np.abs(daily_served - daily_demand), daily_demand, _unit(daily_demand))
        )
        if inputs.defer_peak_factor is not None:
            # A site's deferrable load stays within the peak factor × its mean of the day.
            is_deferred = deferrable[index.triple_workload]
            deferred = np.zeros((len(sites), num_t))
            np.add.at(deferred, index.triple_site[is_deferred], q.load[is_deferred])
            peak = inputs.defer_peak_factor * window_means(inputs, deferred)[:, window]
            violations["deferral"] = _worst(deferred - peak, peak, mw)

    it_load = site_load(inputs, index, q.load)
    # Capacity carries each slice's peak hour: the classes' peak factors (1 for deferrable load).
    factor = inputs.peak[index.triple_workload]
    factor[index.num_x_triples:] = 1.0
    peak_load = site_load(inputs, index, q.load * factor)
    violations["capacity"] = _worst(peak_load - cap[:, None], cap[:, None], mw)

    fitout = np.zeros(len(sites)) if q.fitout_mw is None else q.fitout_mw
    certificates = q.certificates(len(sites))
    fitout_max = inputs.fitout_max_mw
    pue = inputs.pue
    facility_load = pue * it_load
    mwh = mw * _unit(pue) * float(hours.sum())  # the plan's unit scale of energy [MWh/yr]
    violations["bounds"] = max(
        _worst(-q.load, 0.0, mw), _worst(-q.new_mw, 0.0, mw), _worst(q.new_mw - max_new, max_new, mw),
        _worst(-q.green_mw, 0.0, mw), _worst(-fitout, 0.0, mw), _worst(fitout - fitout_max, fitout_max, mw),
        _worst(-certificates, 0.0, mwh),
    )

    available = (
        sites["green_available_mw"].to_numpy(float)[:, None] * inputs.green_profile
        + (sites["green_new_share"].to_numpy(float) * sites["pue"].to_numpy(float) * q.new_mw)[:, None]
    )
    violations["green"] = max(
        _worst(q.green_mw - facility_load, facility_load, mw * _unit(pue)),
        _worst(q.green_mw - available, available, mw * _unit(pue)),
    )
    if annual:
        violations.update(annual_violations(inputs, index, annual_totals(inputs, index, q)))

    if inputs.network is not None:
        # Traffic scale: every MW of demand at the largest class intensity, at the busy hour. [Gbit/s]
        net = inputs.network
        gbps = mw * _unit(net.traffic_gbps_per_mw) * net.peak_factor
        violations.update(network_violations(inputs, index, q.load, q.network, gbps))
    finite_latency = inputs.latency_ms[np.isfinite(inputs.latency_ms)]
    ms = _unit(finite_latency)  # the plan's unit scale of latency [ms]
    limit = inputs.workloads["latency_max_ms"].to_numpy(float)[index.triple_workload]
    # A connection is within its limit on its fastest path; the net_direct family keeps the traffic there.
    latency = inputs.eligible_latency_ms[index.triple_province, index.triple_site]
    used = q.load.max(axis=1, initial=0.0) > USED_SHARE * mw
    if inputs.placement is not None:
        placed = inputs.placement[index.triple_province, index.triple_site, index.triple_workload]
        # Load where residency or recovery forbids it, over the plan's unit scale of power.
        violations["placement"] = _worst(np.where(used & ~placed, q.load.max(axis=1, initial=0.0), 0.0), mw, mw)
    violations["latency"] = _worst(np.where(used, latency - limit, 0.0), limit[np.isfinite(limit)].min(initial=1.0),
                                   ms)
    return violations


@dataclass
class AnnualTotals:
    """What the annual constraint families are checked on: a plan's totals over its slices.

    A year plan sums these over its days, so its annual rules are checked on the year, not by day.

    Attributes
    ----------
    it_mwh, facility_mwh, green_mwh : numpy.ndarray (S,)
        IT and facility energy, bundled green power used, per site. [MWh/yr]
    triple_mwh : numpy.ndarray (L,)
        Energy of each allowed (province, site, class) triple. [MWh/yr]
    new_mw, fitout_mw : numpy.ndarray (S,)
        The year's decisions: new capacity and fit-out. [MW]
    certificate_mwh : numpy.ndarray (S,)
        Certificates bought per site. [MWh/yr]
    transfer_tco2 : float
        Emissions of the network's electricity under the inputs' accounting. [tCO2/yr]
    """

    it_mwh: np.ndarray
    facility_mwh: np.ndarray
    green_mwh: np.ndarray
    triple_mwh: np.ndarray
    new_mw: np.ndarray
    fitout_mw: np.ndarray
    certificate_mwh: np.ndarray
    transfer_tco2: float = 0.0

    def __add__(self, other: AnnualTotals) -> AnnualTotals:
        """The totals of two parts of one year (new capacity and fit-out are the year's, the same in both)."""
        return replace(self, it_mwh=self.it_mwh + other.it_mwh, facility_mwh=self.facility_mwh + other.facility_mwh,
                       green_mwh=self.green_mwh + other.green_mwh, triple_mwh=self.triple_mwh + other.triple_mwh,
                       certificate_mwh=self.certificate_mwh + other.certificate_mwh,
                       transfer_tco2=self.transfer_tco2 + other.transfer_tco2)


def annual_totals(inputs: PlanInputs, index: PlanIndex, q: PlanQuantities) -> AnnualTotals:
    """The plan's totals over its slices (hour-weighted)."""
    hours = inputs.hours
    num_s = len(inputs.sites)
    it_load = site_load(inputs, index, q.load)
    return AnnualTotals(
        it_mwh=it_load @ hours,
        facility_mwh=(inputs.pue * it_load) @ hours,
        green_mwh=q.green_mw @ hours,
        triple_mwh=q.load @ hours,
        new_mw=q.new_mw,
        fitout_mw=np.zeros(num_s) if q.fitout_mw is None else q.fitout_mw,
        certificate_mwh=q.certificates(num_s),
        transfer_tco2=float(network_costs(inputs, index, q.load, q.network, (inputs.carbon_accounting,))[
            f"transfer_{inputs.carbon_accounting}_tco2"].sum()),
    )


def annual_violations(inputs: PlanInputs, index: PlanIndex, totals: AnnualTotals) -> dict[str, float]:
    """Largest relative violation of each family on annual totals: certificates, carbon and latency caps, policies.

    The policies are those of :mod:`optimizer.policies`; unit scales as in :func:`constraint_violations`.
    """
    sites, hours = inputs.sites, inputs.hours
    is_cluster = (sites["kind"] == "cluster").to_numpy()
    fitted = inputs.fitted_mw + totals.fitout_mw + totals.new_mw
    mw = _unit(inputs.demand_mw, inputs.utilisation_max * fitted, sites["max_new_mw"].to_numpy(float))
    mwh = mw * _unit(inputs.pue) * float(hours.sum())  # the plan's unit scale of energy [MWh/yr]
    it_mwh, facility_mwh = totals.it_mwh, totals.facility_mwh
    certificates = totals.certificate_mwh
    bought = totals.green_mwh + certificates
    out: dict[str, float] = {}
    # No MWh is made green twice: bundled and certificates within the site's electricity.
    out["certificates"] = _worst(bought - facility_mwh, facility_mwh, mwh)
    if inputs.carbon_cap_tco2 is not None:
        ef, ef_green, ef_certificate = inputs.emission_factors()
        emissions = float(ef @ facility_mwh + ef_green @ totals.green_mwh + ef_certificate @ certificates
                          + totals.transfer_tco2)
        # Unit: the emissions of serving every MWh at the dirtiest factor. [tCO2/yr]
        tco2 = _unit(inputs.carbon_cap_tco2, _unit(ef) * _unit(inputs.pue) * inputs.it_energy_mwh)
        out["carbon"] = _worst(np.array([emissions - inputs.carbon_cap_tco2]), inputs.carbon_cap_tco2, tco2)
    if inputs.latency_cap_ms is not None and np.isfinite(inputs.latency_cap_ms):
        total = float(totals.triple_mwh.sum())
        latency = inputs.triple_latency_ms(index.triple_province, index.triple_site, index.triple_workload)
        mean_latency = float(totals.triple_mwh @ latency) / total if total > 0 else 0.0
        finite_latency = inputs.latency_ms[np.isfinite(inputs.latency_ms)]
        out["latency_cap"] = _worst(np.array([mean_latency - inputs.latency_cap_ms]), inputs.latency_cap_ms,
                                    _unit(finite_latency))
    if inputs.hub_new_share_min:
        total_new = totals.new_mw.sum()
        shortfall = inputs.hub_new_share_min * total_new - totals.new_mw[is_cluster].sum()
        out["hub_share"] = _worst(np.array([shortfall]), total_new, mw)
    if inputs.hub_occupancy_min is not None:
        built = sites["existing_mw"].to_numpy(float) + totals.new_mw
        shortfall = inputs.hub_occupancy_min * built[is_cluster].sum() - fitted[is_cluster].sum()
        out["hub_occupancy"] = _worst(np.array([shortfall]), built[is_cluster].sum(), mw)
    if inputs.hub_new_green_share_min and totals.new_mw.any():
        need = inputs.hub_new_green_share_min * new_capacity_energy_mwh(inputs) * totals.new_mw
        out["hub_green"] = _worst(np.where(is_cluster, need - bought, 0.0), need, mwh)
    if inputs.green_share_min is not None:
        shortfall = inputs.green_share_min * facility_mwh.sum() - bought.sum()
        out["green_share"] = _worst(np.array([shortfall]), facility_mwh.sum(), mwh)
    if inputs.pue_cap_national is not None:
        excess = facility_mwh.sum() - inputs.pue_cap_national * it_mwh.sum()
        out["pue_national"] = _worst(np.array([excess]), facility_mwh.sum(), mwh)
    if inputs.hub_pue_caps:
        cap = inputs.site_values("pue_cap")
        capped = is_cluster & np.isfinite(cap)
        excess = np.where(capped, facility_mwh - np.where(capped, cap, 0.0) * it_mwh, 0.0)
        out["pue_hub"] = _worst(excess, facility_mwh, mwh)
    capped = water_cap_provinces(inputs)
    if capped.size:
        water = inputs.site_values("wue_l_per_kwh") * it_mwh
        host = sites["host_province"].to_numpy()
        provinces = inputs.provinces["province"].to_numpy()
        caps = np.asarray(inputs.water_cap_m3, float)
        used = np.array([water[host == provinces[p]].sum() for p in capped])
        out["water_cap"] = _worst(used - caps[capped], caps[capped], _unit(caps[capped], used))
    return out
