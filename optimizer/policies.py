"""The programme's policies as constraint families, and what each costs when it binds (its shadow price).

Each family exists only when its scenario setting is given, so a plan shows what a policy changes
by solving with and without it. Every shadow price is reported as the annual cost of tightening
the policy by one unit of its setting (a percentage point of a share, a hundredth of a PUE, a
cubic metre of water): the row's dual times the row's sensitivity to the setting at the optimum
(the envelope theorem), which tests/test_baseline.py checks against finite differences.
"""

from __future__ import annotations

import numpy as np
from edwc_data.units import HOURS_PER_YEAR

from optimizer.index import PlanIndex, site_load_entries
from optimizer.inputs import PlanInputs
from optimizer.lp import INF, LinearProgram

#: A share-type setting is reported per percentage point, a PUE cap per hundredth.
PCT, HUNDREDTH = 0.01, 0.01


def _cluster_mask(inputs: PlanInputs) -> np.ndarray:
    return (inputs.sites["kind"] == "cluster").to_numpy()


def add_policy_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """Every policy family the inputs switch on (see the module's functions for each)."""
    add_hub_share_constraints(lp, inputs, index)
    add_hub_occupancy_constraints(lp, inputs, index)
    add_hub_green_constraints(lp, inputs, index)
    add_green_share_constraints(lp, inputs, index)
    add_pue_constraints(lp, inputs, index)
    add_water_constraints(lp, inputs, index)


def add_hub_share_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """hub_share: Σ_{hub clusters} n[s] ≥ m·Σ_s n[s], written as Σ_hub (1−m)·n − Σ_local m·n ≥ 0."""
    share_min = inputs.hub_new_share_min
    if not share_min or index.new_sites.size == 0:
        return
    is_cluster = _cluster_mask(inputs)[index.new_sites]
    vals = np.where(is_cluster, 1.0 - share_min, -share_min)
    cols = lp.columns["n"].start + np.arange(index.new_sites.size)
    lp.add_rows("hub_share", 1, np.zeros(cols.size, np.int64), cols, vals, 0.0, INF)


def add_hub_occupancy_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """hub_occupancy (上架率): Σ_hub (fitted + f + n) ≥ r·Σ_hub (built + n).

    Written Σ_hub f + (1−r)·Σ_hub n ≥ r·built − fitted: vacant racks must be fitted out (or new
    ones built, fitted by construction) until the clusters' occupancy reaches r.
    """
    r = inputs.hub_occupancy_min
    if r is None:
        return
    hub = _cluster_mask(inputs)
    rhs = r * float(inputs.sites["existing_mw"].to_numpy(float)[hub].sum()) - float(inputs.fitted_mw[hub].sum())
    f_hub = np.nonzero(hub[index.fitout_sites])[0]
    n_hub = np.nonzero(hub[index.new_sites])[0]
    f_start = lp.columns["f"].start if "f" in lp.columns else 0
    n_start = lp.columns["n"].start if "n" in lp.columns else 0
    cols = np.concatenate([f_start + f_hub, n_start + n_hub])
    vals = np.concatenate([np.ones(f_hub.size), np.full(n_hub.size, 1.0 - r)])
    lp.add_rows("hub_occupancy", 1, np.zeros(cols.size, np.int64), cols, vals, rhs, INF)


def _green_columns(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex, sites: np.ndarray):
    """(row position in ``sites``, column, annual MWh per unit) of the green power bought at ``sites``."""
    hours = inputs.hours
    position = np.full(len(inputs.sites), -1)
    position[sites] = np.arange(sites.size)
    rows, cols, vals = [], [], []
    g_member = np.nonzero(np.isin(index.green_sites, sites))[0]
    if g_member.size:
        num_t = hours.size
        g = np.repeat(g_member, num_t) * num_t + np.tile(np.arange(num_t), g_member.size)
        rows.append(position[index.green_sites[np.repeat(g_member, num_t)]])
        cols.append(lp.columns["g"].start + g)
        vals.append(np.tile(hours, g_member.size))
    c_member = np.nonzero(np.isin(index.certificate_sites, sites))[0]
    if c_member.size:
        num_w = index.certificate_windows
        rows.append(np.repeat(position[index.certificate_sites[c_member]], num_w))
        cols.append(lp.columns["c"].start + (c_member[:, None] * num_w + np.arange(num_w)).ravel())
        vals.append(np.ones(c_member.size * num_w))
    if not rows:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def new_capacity_energy_mwh(inputs: PlanInputs) -> np.ndarray:
    """Expected annual facility energy of one MW of new capacity at each site, (S,). [MWh/(MW·yr)]"""
    return inputs.sites["pue"].to_numpy(float) * inputs.new_capacity_load_factor * HOURS_PER_YEAR


def add_hub_green_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """hub_green: green power bought at each cluster ≥ r × the expected electricity of its new capacity.

    Σ_t w_t·g[s,t] + c[s] ≥ r·PUE[s]·L·8760·n[s] for every cluster that may build (L the expected
    load factor of new capacity). A cluster with no green power to buy cannot build at all.
    """
    r = inputs.hub_new_green_share_min
    if not r or index.new_sites.size == 0:
        return
    sites = index.new_sites[_cluster_mask(inputs)[index.new_sites]]
    if sites.size == 0:
        return
    pos, cols, vals = _green_columns(lp, inputs, index, sites)
    n_position = {site: j for j, site in enumerate(index.new_sites)}
    n_cols = lp.columns["n"].start + np.array([n_position[s] for s in sites])
    need = r * new_capacity_energy_mwh(inputs)[sites]
    lp.add_rows("hub_green", sites.size, np.concatenate([pos, np.arange(sites.size)]),
                np.concatenate([cols, n_cols]), np.concatenate([vals, -need]), 0.0, INF)


def add_green_share_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """green_share: green power bought (bundled and certificates) ≥ r × all the plan's electricity."""
    r = inputs.green_share_min
    if r is None:
        return
    all_sites = np.arange(len(inputs.sites))
    _, green_cols, green_vals = _green_columns(lp, inputs, index, all_sites)
    pos, t, load_cols = site_load_entries(lp, inputs, index, all_sites)
    facility = inputs.hours[t] * inputs.pue[pos, t]
    cols = np.concatenate([green_cols, load_cols])
    vals = np.concatenate([green_vals, -r * facility])
    lp.add_rows("green_share", 1, np.zeros(cols.size, np.int64), cols, vals, 0.0, INF)


def pue_capped_clusters(inputs: PlanInputs) -> np.ndarray:
    """Clusters with a PUE cap, each with its pue_hub row.

    Also a cluster whose PUE meets its cap in every slice of these inputs: an LP's rows then do
    not depend on which slices it spans (the days of a year plan share them).
    """
    if not inputs.hub_pue_caps:
        return np.zeros(0, np.int64)
    return np.nonzero(_cluster_mask(inputs) & np.isfinite(inputs.site_values("pue_cap")))[0]


def add_pue_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """pue_national: Σ w·(PUE − cap)·load ≤ 0 over all sites; pue_hub: the same at each cluster against its cap.

    With PUE given by site and season, the average PUE of a plan moves with where (and, for a
    cluster, when in the year) its load runs.
    """
    hours = inputs.hours
    pue = inputs.pue
    num_s = len(inputs.sites)
    if inputs.pue_cap_national is not None:
        pos, t, cols = site_load_entries(lp, inputs, index, np.arange(num_s))
        vals = hours[t] * (pue[pos, t] - inputs.pue_cap_national)
        lp.add_rows("pue_national", 1, np.zeros(cols.size, np.int64), cols, vals, -INF, 0.0)
    if inputs.hub_pue_caps:
        cap = inputs.site_values("pue_cap")
        capped = pue_capped_clusters(inputs)
        if capped.size:
            pos, t, cols = site_load_entries(lp, inputs, index, capped)
            vals = hours[t] * (pue[capped[pos], t] - cap[capped[pos]])
            lp.add_rows("pue_hub", capped.size, pos, cols, vals, -INF, 0.0)


def water_cap_provinces(inputs: PlanInputs) -> np.ndarray:
    """Provinces (positions) with a finite water cap."""
    if inputs.water_cap_m3 is None:
        return np.zeros(0, np.int64)
    return np.nonzero(np.isfinite(np.asarray(inputs.water_cap_m3, float)))[0]


def add_water_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """water_cap: Σ_{sites hosted in p} Σ_t w_t·WUE[s]·load[s,t] ≤ cap[p], for provinces with a cap. [m³/yr]"""
    capped = water_cap_provinces(inputs)
    if capped.size == 0:
        return
    host = inputs.sites["host_province"].to_numpy()
    provinces = inputs.provinces["province"].to_numpy()
    row_of = {provinces[p]: i for i, p in enumerate(capped)}
    sites = np.nonzero(np.isin(host, provinces[capped]))[0]
    pos, t, cols = site_load_entries(lp, inputs, index, sites)
    rows = np.array([row_of[h] for h in host[sites[pos]]], np.int64)
    vals = inputs.hours[t] * inputs.site_values("wue_l_per_kwh")[sites[pos]]
    upper = np.asarray(inputs.water_cap_m3, float)[capped]
    lp.add_rows("water_cap", capped.size, rows, cols, vals, -INF, upper)


def policy_shadow_prices(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex, duals: np.ndarray,
                         quantities) -> dict[str, float]:
    """Annual cost of tightening each binding policy by one unit of its setting. [CNY/yr per unit]

    Keys name the policy and the unit: ``hub_new_share_min_cny_per_pct``, ``hub_occupancy_min_cny_per_pct``,
    ``hub_new_green_share_min_cny_per_pct``, ``green_share_min_cny_per_pct``,
    ``pue_cap_national_cny_per_hundredth``, ``pue_cap.<site>_cny_per_hundredth`` and
    ``water_cap.<province>_cny_per_m3``. HiGHS's row dual is the change of cost per unit of the row's
    bound; the policy setting moves the row by its sensitivity at the optimum.

    Parameters
    ----------
    quantities : optimizer.extract.PlanQuantities
        The plan (loads, new and fitted-out capacity, green power, certificates).
    """
    rows = lp.rows
    prices: dict[str, float] = {}
    hub = _cluster_mask(inputs)
    it_load = np.zeros((len(inputs.sites), inputs.hours.size))
    np.add.at(it_load, index.triple_site, quantities.load)
    it_mwh = it_load @ inputs.hours
    facility_mwh = (inputs.pue * it_load) @ inputs.hours

    def dual(family: str) -> np.ndarray:
        block = rows[family]
        return duals[block.start:block.stop]

    if "hub_share" in rows:
        prices["hub_new_share_min_cny_per_pct"] = PCT * float(dual("hub_share")[0]) * float(quantities.new_mw.sum())
    if "hub_occupancy" in rows:
        built = float(inputs.sites["existing_mw"].to_numpy(float)[hub].sum())
        prices["hub_occupancy_min_cny_per_pct"] = PCT * float(dual("hub_occupancy")[0]) * (
            built + float(quantities.new_mw[hub].sum()))
    if "hub_green" in rows:
        sites = index.new_sites[hub[index.new_sites]]
        need = new_capacity_energy_mwh(inputs)[sites] * quantities.new_mw[sites]
        prices["hub_new_green_share_min_cny_per_pct"] = PCT * float(dual("hub_green") @ need)
    if "green_share" in rows:
        prices["green_share_min_cny_per_pct"] = PCT * float(dual("green_share")[0]) * float(facility_mwh.sum())
    if "pue_national" in rows:
        prices["pue_cap_national_cny_per_hundredth"] = -HUNDREDTH * float(dual("pue_national")[0]) * float(
            it_mwh.sum())
    if "pue_hub" in rows:
        for site, value in zip(pue_capped_clusters(inputs), dual("pue_hub"), strict=True):
            name = inputs.sites["site"].iloc[site]
            prices[f"pue_cap.{name}_cny_per_hundredth"] = -HUNDREDTH * float(value) * float(it_mwh[site])
    if "water_cap" in rows:
        provinces = inputs.provinces["province"].to_numpy()
        for p, value in zip(water_cap_provinces(inputs), dual("water_cap"), strict=True):
            prices[f"water_cap.{provinces[p]}_cny_per_m3"] = -float(value)
    return {key: (0.0 if abs(value) < 1e-9 else value) for key, value in prices.items()}
