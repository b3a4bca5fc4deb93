"""The numeric inputs of the planning LP: sets, parameters and which (province, site, workload) may connect."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Columns of ``PlanInputs.sites``, in order (units in the names; see PlanInputs).
SITE_INPUT_COLUMNS = (
    "site", "name_zh", "name_en", "kind", "hub_class", "host_province", "serves", "lat", "lon", "pue",
    "existing_mw", "max_new_mw", "price_cny_per_mwh", "ef_tco2_per_mwh", "green_available_mw",
    "green_premium_cny_per_mwh", "green_new_share", "capex_cny_per_mw", "capex_annual_cny_per_mw",
)


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
        S rows: site, name_zh, name_en, kind ('cluster' or 'local'), hub_class ('east', 'west'
        or 'local'), host_province, serves (province a local site serves, '' for clusters), lat,
        lon, pue [-], existing_mw, max_new_mw [MW], price_cny_per_mwh, green_premium_cny_per_mwh
        [CNY/MWh], ef_tco2_per_mwh [tCO2/MWh], green_available_mw [MW], green_new_share [-],
        capex_cny_per_mw [CNY/MW, overnight], capex_annual_cny_per_mw [CNY/(MW·yr)].
    workloads : pandas.DataFrame
        K rows: workload, name_zh, name_en, group, latency_max_ms (inf = no limit) [ms],
        data_intensity_cny_per_mw_1000km [CNY/(MW·1000 km·yr)].
    periods : pandas.DataFrame
        T rows: period, day, hour (first hour of the slice), hours (weight) [h/yr]. Slices of one
        ``day`` form the window within which deferrable load may move.
    demand_mw : numpy.ndarray, shape (P, K, T)
        IT load to serve. [MW]
    distance_km : numpy.ndarray, shape (P, S)
        Great-circle distance from the province's representative point; 0 to its local site. [km]
    latency_ms : numpy.ndarray, shape (P, S)
        One-way latency (model, or measured where given). [ms]
    green_profile : numpy.ndarray, shape (S, T)
        Availability of each site's green power in each slice, as a share of its rating. [-]
    utilisation_max : float
        Largest load over installed capacity. [-]
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

    def allowed(self) -> np.ndarray:
        """Boolean (P, S, K): may province p's workload k run at site s?

        Yes when the site is within the class's one-way latency limit, the site is a cluster or
        the province's own local site, and the province has demand of that class.
        """
        sites = self.sites
        within = self.latency_ms[:, :, None] <= self.workloads["latency_max_ms"].to_numpy(float)[None, None, :]
        is_cluster = (sites["kind"] == "cluster").to_numpy()
        own_local = sites["serves"].to_numpy()[None, :] == self.provinces["province"].to_numpy()[:, None]
        reachable = is_cluster[None, :] | own_local
        has_demand = self.demand_mw.sum(axis=2) > 0
        return within & reachable[:, :, None] & has_demand[:, None, :]
