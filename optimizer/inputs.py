"""The numeric inputs of the planning LP: sets, parameters and which (province, site, workload) may connect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from optimizer.network import NetworkInputs

#: Columns of ``PlanInputs.sites`` that every site table has, in order (units in the names; see PlanInputs).
SITE_INPUT_COLUMNS = (
    "site", "name_zh", "name_en", "kind", "hub_class", "host_province", "serves", "lat", "lon", "pue",
    "existing_mw", "max_new_mw", "price_cny_per_mwh", "ef_tco2_per_mwh", "green_available_mw",
    "green_premium_cny_per_mwh", "green_new_share", "capex_cny_per_mw", "capex_annual_cny_per_mw",
)

#: Further site columns, with the value a table without them means. A hand-made table may leave
#: them out: all built capacity fitted, every factor the grid average, no PUE cap, no water.
SITE_OPTIONAL_COLUMNS = {
    "occupancy": 1.0,  # 上架率: fitted over built capacity [-]
    "fitout_max_mw": np.inf,  # most vacant capacity fitted out in the year (never above the vacant) [MW]
    "fitout_capex_annual_cny_per_mw": 0.0,  # annualised cost of fitting out vacant capacity [CNY/(MW·yr)]
    "ef_market_tco2_per_mwh": None,  # residual-mix factor (default: ef_tco2_per_mwh) [tCO2/MWh]
    "ef_marginal_tco2_per_mwh": None,  # operating-margin factor (default: ef_tco2_per_mwh) [tCO2/MWh]
    "pue_cap": np.inf,  # hub PUE cap [-]
    "wue_l_per_kwh": 0.0,  # water per IT energy [L/kWh = m³/MWh]
}

#: How emissions may be counted (see :meth:`PlanInputs.emission_factors`).
ACCOUNTINGS = ("location", "market", "marginal")


@dataclass
class PlanInputs:
    """Everything the LP needs, as arrays aligned with the id lists.

    Sets are P provinces, S sites (clusters first, then one local site per province),
    K workload classes and T time slices.

    Attributes
    ----------
    provinces : pandas.DataFrame
        P rows: province, adcode, name_zh, name_en, lat, lon.
    sites : pandas.DataFrame
        S rows with ``SITE_INPUT_COLUMNS``: site, name_zh, name_en, kind ('cluster' or 'local'),
        hub_class ('east', 'west' or 'local'), host_province, serves (province a local site serves,
        '' for clusters), lat, lon, pue (annual mean) [-], existing_mw (built rated capacity),
        max_new_mw [MW], price_cny_per_mwh, green_premium_cny_per_mwh [CNY/MWh], ef_tco2_per_mwh
        (grid average of the host province) [tCO2/MWh], green_available_mw (bundled green power on
        offer) [MW], green_new_share (bundled green supply that new capacity brings, as a share of
        its power) [-], capex_cny_per_mw [CNY/MW, overnight], capex_annual_cny_per_mw
        [CNY/(MW·yr)]; and optionally ``SITE_OPTIONAL_COLUMNS``.
    workloads : pandas.DataFrame
        K rows: workload, name_zh, name_en, group, latency_max_ms (inf = no limit) [ms],
        data_intensity_cny_per_mw_1000km [CNY/(MW·1000 km·yr)].
    periods : pandas.DataFrame
        T rows: period, day, hour (first hour of the slice), hours (weight) [h/yr]. Slices of one
        ``day`` form the window within which deferrable load may move.
    demand_mw : numpy.ndarray, shape (P, K, T)
        IT load to serve (each slice's mean). [MW]
    distance_km : numpy.ndarray, shape (P, S)
        Great-circle distance from the province's representative point; 0 to its local site. [km]
    latency_ms : numpy.ndarray, shape (P, S)
        One-way latency (model, or measured where given). [ms]
    green_profile : numpy.ndarray, shape (S, T)
        Availability of each site's green power in each slice, as a share of its rating. [-]
    utilisation_max : float
        Largest load over fitted capacity. [-]
    carbon_price_cny_per_tco2 : float
    carbon_cap_tco2 : float or None
    hub_new_share_min : float or None
    latency_weight_cny_per_mwh_ms : float
    deferrable : numpy.ndarray of bool, shape (K,), optional
        Classes whose load may move between the slices of a day, each day's energy kept
        (None: none may).
    defer_peak_factor : float, optional
        Most load of a deferrable class in a slice, as a multiple of its mean demand that day
        (None: no limit). [-]
    latency_cap_ms : float, optional
        Cap on the plan's load-weighted one-way latency (None: no cap row; inf: a free row that
        warm re-solves may tighten). The ε-constraint of the cost–latency frontier. [ms]
    pue_profile : numpy.ndarray, shape (S, T), optional
        Facility over IT power of each site in each slice (the seasons); None: ``sites.pue`` throughout. [-]
    peak_ratio : numpy.ndarray, shape (K, T), optional
        Largest hour of a slice over its mean, by class; capacity must carry the peak hour. None: 1. [-]
    carbon_accounting : {'location', 'market', 'marginal'}
        Emissions the carbon price and cap apply to (:meth:`emission_factors`).
    certificate_price_cny_per_mwh : float, optional
        Price of green certificates, on offer at every site without limit beyond its own
        electricity (None: none on offer). [CNY/MWh]
    water_price_cny_per_m3 : float
        Price of the water data centres use. [CNY/m³]
    water_cap_m3 : numpy.ndarray, shape (P,), optional
        Cap on the water used by the sites each province hosts (inf: none; None: no caps). [m³/yr]
    pue_cap_national : float, optional
        Cap on the plan's average PUE (facility over IT energy). [-]
    hub_pue_caps : bool
        Hold each cluster's annual PUE within its ``pue_cap``.
    hub_occupancy_min : float, optional
        Least fitted over built capacity (上架率) of the clusters together. [-]
    hub_new_green_share_min : float, optional
        Least green share of the expected electricity of each cluster's new capacity. [-]
    new_capacity_load_factor : float
        Expected mean load of new capacity over its size, for that requirement. [-]
    green_share_min : float, optional
        Least green share of the plan's electricity. [-]
    network : optimizer.network.NetworkInputs, optional
        The backbone links, their paths and the classes' traffic (None: no network rows; routes cost
        per MW·1000 km only). With it, ``latency_ms`` of a cluster is its existing path's latency.
    placement : numpy.ndarray of bool, shape (P, S, K), optional
        Where data residency and disaster recovery let each class run (None: anywhere).
    """

    provinces: pd.DataFrame
    sites: pd.DataFrame
    workloads: pd.DataFrame
    periods: pd.DataFrame
    demand_mw: np.ndarray
    distance_km: np.ndarray
    latency_ms: np.ndarray
    green_profile: np.ndarray
    utilisation_max: float
    carbon_price_cny_per_tco2: float
    carbon_cap_tco2: float | None
    hub_new_share_min: float | None
    latency_weight_cny_per_mwh_ms: float
    deferrable: np.ndarray | None = None
    defer_peak_factor: float | None = None
    latency_cap_ms: float | None = None
    pue_profile: np.ndarray | None = None
    peak_ratio: np.ndarray | None = None
    carbon_accounting: str = "location"
    certificate_price_cny_per_mwh: float | None = None
    water_price_cny_per_m3: float = 0.0
    water_cap_m3: np.ndarray | None = None
    pue_cap_national: float | None = None
    hub_pue_caps: bool = False
    hub_occupancy_min: float | None = None
    hub_new_green_share_min: float | None = None
    new_capacity_load_factor: float = 0.7
    green_share_min: float | None = None
    network: NetworkInputs | None = None
    placement: np.ndarray | None = None

    @property
    def hours(self) -> np.ndarray:
        """Weight of each time slice. [h/yr]"""
        return self.periods["hours"].to_numpy(float)

    @property
    def it_energy_mwh(self) -> float:
        """Annual IT energy demanded, which every plan serves exactly. [MWh/yr]"""
        return float(self.demand_mw.sum(axis=(0, 1)) @ self.hours)

    @property
    def deferrable_classes(self) -> np.ndarray:
        """Boolean (K,): may class k move load within a day?"""
        if self.deferrable is None:
            return np.zeros(self.demand_mw.shape[1], bool)
        return np.asarray(self.deferrable, bool)

    def site_values(self, column: str) -> np.ndarray:
        """A numeric site column as floats, with its ``SITE_OPTIONAL_COLUMNS`` default where absent."""
        if column in self.sites:
            return self.sites[column].to_numpy(float)
        default = SITE_OPTIONAL_COLUMNS[column]
        if default is None:  # the emission factors fall back on the grid average
            return self.sites["ef_tco2_per_mwh"].to_numpy(float)
        return np.full(len(self.sites), float(default))

    @property
    def pue(self) -> np.ndarray:
        """Facility over IT power of each site in each slice, (S, T). [-]"""
        if self.pue_profile is not None:
            return np.asarray(self.pue_profile, float)
        return np.repeat(self.sites["pue"].to_numpy(float)[:, None], self.hours.size, axis=1)

    @property
    def peak(self) -> np.ndarray:
        """Peak hour over slice mean of each class in each slice, (K, T). [-]"""
        if self.peak_ratio is not None:
            return np.asarray(self.peak_ratio, float)
        return np.ones((self.demand_mw.shape[1], self.hours.size))

    @property
    def fitted_mw(self) -> np.ndarray:
        """Built capacity already fitted and in use (built × 上架率), (S,). [MW]"""
        return self.sites["existing_mw"].to_numpy(float) * self.site_values("occupancy")

    @property
    def vacant_mw(self) -> np.ndarray:
        """Built capacity standing empty, (S,). [MW]"""
        return self.sites["existing_mw"].to_numpy(float) - self.fitted_mw

    @property
    def fitout_max_mw(self) -> np.ndarray:
        """Vacant capacity the plan may fit out within the year, (S,): the vacant, at most the site's limit. [MW]"""
        return np.minimum(self.vacant_mw, self.site_values("fitout_max_mw"))

    def emission_factors(self, accounting: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(per MWh of grid electricity, per MWh of bundled green, per certificate) of each site. [tCO2/MWh]

        - location: every MWh at the host province's grid average; bought green changes nothing
          (the average already holds the province's renewables).
        - market: green power bought (bundled or certificates) counts zero, the rest the residual
          mix, so green power is netted once, at the factor it was taken out of.
        - marginal: the regional grid's operating margin, less bundled green power (which displaces
          margin generation); certificates do not displace any.

        Returns
        -------
        tuple of numpy.ndarray, shape (S,) each
            Emissions per MWh of facility electricity, per MWh of bundled green power (≤ 0) and per
            certificate (≤ 0).
        """
        accounting = accounting or self.carbon_accounting
        if accounting not in ACCOUNTINGS:
            msg = f"carbon accounting must be one of {', '.join(ACCOUNTINGS)}, got {accounting!r}"
            raise ValueError(msg)
        if accounting == "location":
            ef = self.sites["ef_tco2_per_mwh"].to_numpy(float)
            return ef, np.zeros_like(ef), np.zeros_like(ef)
        if accounting == "market":
            ef = self.site_values("ef_market_tco2_per_mwh")
            return ef, -ef, -ef
        ef = self.site_values("ef_marginal_tco2_per_mwh")
        return ef, -ef, np.zeros_like(ef)

    @property
    def eligible_latency_ms(self) -> np.ndarray:
        """(P, S) one-way latency of each connection's fastest path, a candidate direct link's included. [ms]

        A class may use a connection within its limit on any path; the network rows keep its
        traffic on the paths within the limit (:mod:`optimizer.network`).
        """
        if self.network is None:
            return self.latency_ms
        return np.minimum(self.latency_ms, self.network.route_latency_ms(len(self.sites), direct=True))

    def triple_latency_ms(self, p_idx, s_idx, k_idx) -> np.ndarray:
        """One-way latency of (p, s, k) triples: the existing path's, or path 1's where only that is in the limit. [ms]

        Traffic that may take either path is counted at the existing path's latency (an upper bound).
        """
        latency = self.latency_ms[p_idx, s_idx]
        if self.network is None:
            return latency
        limit = self.workloads["latency_max_ms"].to_numpy(float)[k_idx]
        return np.where(latency <= limit, latency, self.eligible_latency_ms[p_idx, s_idx])

    def allowed(self) -> np.ndarray:
        """Boolean (P, S, K): may province p's workload k run at site s?

        Yes when the site is within the class's one-way latency limit (on its fastest path), the site
        is a cluster or the province's own local site, the province has demand of that class, and
        data residency and disaster recovery (``placement``) allow it.
        """
        sites = self.sites
        limit = self.workloads["latency_max_ms"].to_numpy(float)
        within = self.eligible_latency_ms[:, :, None] <= limit[None, None, :]
        is_cluster = (sites["kind"] == "cluster").to_numpy()
        own_local = sites["serves"].to_numpy()[None, :] == self.provinces["province"].to_numpy()[:, None]
        reachable = is_cluster[None, :] | own_local
        has_demand = self.demand_mw.sum(axis=2) > 0
        allowed = within & reachable[:, :, None] & has_demand[:, None, :]
        return allowed if self.placement is None else allowed & self.placement
