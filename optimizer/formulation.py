"""The planning LP as arrays: columns, rows and coefficients, built with numpy, one function per family.

Both solve paths (PuLP, and a matrix handed straight to highspy) consume the same
:class:`LinearProgram`, so there is exactly one formulation. Symbols follow docs/formulation.md.
"""

from __future__ import annotations

import numpy as np
from edwc_data.units import HOURS_PER_YEAR

from optimizer.index import PlanIndex, day_windows, site_load_entries, window_means
from optimizer.inputs import PlanInputs
from optimizer.lp import INF, LinearProgram
from optimizer.network import (
    add_network,
    network_emission_coefficients,
    route_charge_cny_per_mw_1000km,
    transfer_cost_per_mwh,
)
from optimizer.policies import add_policy_constraints


def build_lp(inputs: PlanInputs) -> tuple[LinearProgram, PlanIndex]:
    """Build the planning LP of ``inputs``; see docs/formulation.md for the model."""
    lp = LinearProgram()
    index = add_variables(lp, inputs)
    add_deferral_variables(lp, inputs, index)
    add_demand_constraints(lp, inputs, index)
    add_deferral_constraints(lp, inputs, index)
    add_capacity_constraints(lp, inputs, index)
    add_network(lp, inputs, index)
    add_green_constraints(lp, inputs, index)
    add_carbon_constraints(lp, inputs, index)
    add_policy_constraints(lp, inputs, index)
    add_latency_cap_constraints(lp, inputs, index)
    return lp, index


def _site_energy_cost(inputs: PlanInputs, s_idx: np.ndarray) -> np.ndarray:
    """Cost of one MW of IT load at each of ``s_idx`` in each slice, (len, T): power, carbon, water. [CNY/MWh]"""
    sites = inputs.sites
    ef, _, _ = inputs.emission_factors()
    price = sites["price_cny_per_mwh"].to_numpy(float)
    per_facility_mwh = price + inputs.carbon_price_cny_per_tco2 * ef
    # WUE in L/kWh is m³ per MWh of IT energy.
    water = inputs.water_price_cny_per_m3 * inputs.site_values("wue_l_per_kwh")
    return per_facility_mwh[s_idx, None] * inputs.pue[s_idx] + water[s_idx, None]


def _route_cost_per_mwh(inputs: PlanInputs, p_idx, s_idx, k_idx):
    """Route latency, route charge and path-0 transfer energy of (p, s, k) triples. [CNY/MWh]"""
    # The route charge is per MW-year of mean load, i.e. per 8,760 MWh.
    network_per_mw_yr = route_charge_cny_per_mw_1000km(inputs)[k_idx] * inputs.distance_km[p_idx, s_idx] / 1000.0
    latency = inputs.triple_latency_ms(p_idx, s_idx, k_idx)
    return (inputs.latency_weight_cny_per_mwh_ms * latency + network_per_mw_yr / HOURS_PER_YEAR
            + transfer_cost_per_mwh(inputs, p_idx, s_idx, k_idx))


def add_variables(lp: LinearProgram, inputs: PlanInputs) -> PlanIndex:
    """Columns x[p,s,k,t] (load, MW), n[s] (new capacity), f[s] (fit-out of vacant capacity), g[s,t] (bundled
    green power, MW) and c[s] (green certificates, MWh/yr).

    x exists for classes that cannot defer load; deferrable classes get their own columns
    (:func:`add_deferral_variables`).
    """
    sites = inputs.sites
    hours = inputs.hours
    allowed = inputs.allowed()
    deferrable = inputs.deferrable_classes
    p_x, s_x, k_x = np.nonzero(allowed & ~deferrable[None, None, :])
    p_d, s_d, k_d = np.nonzero(allowed & deferrable[None, None, :])

    x_cost = (_site_energy_cost(inputs, s_x) + _route_cost_per_mwh(inputs, p_x, s_x, k_x)[:, None]) * hours[None, :]
    # A load never exceeds its demand: implied by the demand rows, but as bounds they let the
    # dual simplex flip bounds instead of pivoting (benchmarks/README.md, "Solver strategy").
    lp.add_columns("x", x_cost.ravel(), 0.0, inputs.demand_mw[p_x, k_x, :].ravel())

    max_new = sites["max_new_mw"].to_numpy(float)
    new_sites = np.nonzero(max_new > 0)[0]
    lp.add_columns("n", sites["capex_annual_cny_per_mw"].to_numpy(float)[new_sites], 0.0, max_new[new_sites])

    vacant = inputs.fitout_max_mw
    fitout_sites = np.nonzero(vacant > 1e-9)[0]
    if fitout_sites.size:
        lp.add_columns("f", inputs.site_values("fitout_capex_annual_cny_per_mw")[fitout_sites], 0.0,
                       vacant[fitout_sites])

    _, ef_green, ef_certificate = inputs.emission_factors()
    price = inputs.carbon_price_cny_per_tco2
    can_green = (sites["green_available_mw"].to_numpy(float) > 0) | (
        (sites["green_new_share"].to_numpy(float) > 0) & (max_new > 0)
    )
    green_sites = np.nonzero(can_green)[0]
    premium = sites["green_premium_cny_per_mwh"].to_numpy(float)
    g_cost = (premium[green_sites] + price * ef_green[green_sites])[:, None] * hours[None, :]
    # Without new-build green supply, availability is a plain column bound, not a row.
    has_new_green = (sites["green_new_share"].to_numpy(float)[green_sites] > 0) & (max_new[green_sites] > 0)
    available = sites["green_available_mw"].to_numpy(float)[green_sites, None] * inputs.green_profile[green_sites]
    g_upper = np.where(has_new_green[:, None], INF, available)
    lp.add_columns("g", g_cost.ravel(), 0.0, g_upper.ravel())

    certificate_sites = np.zeros(0, np.int64)
    num_windows = int(day_windows(inputs)[0].max(initial=0)) + 1
    if inputs.certificate_price_cny_per_mwh is not None:
        # Certificates for each day window's electricity: the same as for the year's (any annual
        # purchase splits over the windows within their room), and it keeps each day's rows its own.
        certificate_sites = np.arange(len(sites))
        lp.add_columns("c", np.repeat(inputs.certificate_price_cny_per_mwh + price * ef_certificate, num_windows),
                       0.0, INF)

    has_demand = inputs.demand_mw.sum(axis=2) > 0
    return PlanIndex(
        np.concatenate([p_x, p_d]),
        np.concatenate([s_x, s_d]),
        np.concatenate([k_x, k_d]),
        new_sites,
        green_sites,
        np.argwhere(has_demand & ~deferrable[None, :]),
        defer_pairs=np.argwhere(has_demand & deferrable[None, :]),
        defer_sites=np.unique(s_d),
        x_count=int(p_x.size),
        fitout_sites=fitout_sites,
        certificate_sites=certificate_sites,
        certificate_windows=num_windows,
    )


def add_deferral_variables(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """Columns of the deferrable classes: y[p,s,k,d], mu[s,d] and z[s,t].

    Deferrable load is only bound to serve each day's energy, so which province's job runs at
    which hour of a site is something the plan cannot tell apart. It is therefore stated as
    daily energy routes y (mean MW over day d from province p's class k to site s, carrying the
    route's latency and network cost) and one deferrable load profile per site, z[s,t] (MW,
    carrying the site's energy and carbon cost), with mu[s,d] its daily mean. This replaces
    P·S·K·T load columns by P·S·K·W + S·(T+W) (benchmarks/README.md, "Solver strategy").
    """
    if index.defer_pairs.size == 0:
        return
    hours = inputs.hours
    window, _ = day_windows(inputs)
    num_windows = window.max() + 1
    day_hours = np.bincount(window, hours)
    start = index.num_x_triples
    p_d, s_d, k_d = index.triple_province[start:], index.triple_site[start:], index.triple_workload[start:]
    route = _route_cost_per_mwh(inputs, p_d, s_d, k_d)
    mean_demand = window_means(inputs, inputs.demand_mw[p_d, k_d, :])  # (routes, W)
    lp.add_columns("y", (route[:, None] * day_hours[None, :]).ravel(), 0.0, mean_demand.ravel())
    num_j = index.defer_sites.size
    lp.add_columns("mu", np.zeros(num_j * num_windows), 0.0, INF)
    energy = _site_energy_cost(inputs, index.defer_sites)  # (J, T)
    lp.add_columns("z", (energy * hours[None, :]).ravel(), 0.0, INF)


def add_demand_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """Σ_s x[p,s,k,t] = D[p,k,t] for every (p, k) with demand of a class that cannot defer, every slice t."""
    num_periods = inputs.hours.size
    num_p, num_k = inputs.demand_mw.shape[:2]
    num_x = index.num_x_triples
    pair_row = np.full((num_p, num_k), -1)
    pair_row[index.demand_pairs[:, 0], index.demand_pairs[:, 1]] = np.arange(len(index.demand_pairs))
    triple_row = pair_row[index.triple_province[:num_x], index.triple_workload[:num_x]]
    t = np.tile(np.arange(num_periods), triple_row.size)
    triple = np.repeat(np.arange(triple_row.size), num_periods)
    rows = triple_row[triple] * num_periods + t
    cols = lp.columns["x"].start + triple * num_periods + t
    rhs = inputs.demand_mw[index.demand_pairs[:, 0], index.demand_pairs[:, 1], :].ravel()
    lp.add_rows("demand", rhs.size, rows, cols, np.ones(rows.size), rhs, rhs)


def add_deferral_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """Deferrable classes serve each day's energy; each site's deferrable load follows its z profile.

    - defer_energy: Σ_s y[p,s,k,d] = mean demand of (p, k) on day d, for every deferrable pair and day;
    - defer_site: Σ_{(p,k)} y[p,s,k,d] − mu[s,d] = 0;
    - defer_balance: Σ_{t∈d} (w_t / w̄_d)·z[s,t] − n_d·mu[s,d] = 0 (n_d slices in day d): the
      profile holds the day's energy;
    - defer_cap, with a peak factor f: z[s,t] − f·mu[s,d] ≤ 0.
    """
    if index.defer_pairs.size == 0:
        return
    num_periods = inputs.hours.size
    window, relative = day_windows(inputs)
    num_windows = window.max() + 1
    start = index.num_x_triples
    p_d, s_d, k_d = index.triple_province[start:], index.triple_site[start:], index.triple_workload[start:]
    num_routes, num_j = p_d.size, index.defer_sites.size
    y0, mu0, z0 = lp.columns["y"].start, lp.columns["mu"].start, lp.columns["z"].start
    route_day = np.arange(num_routes * num_windows)
    route = route_day // num_windows
    day = route_day % num_windows

    num_p, num_k = inputs.demand_mw.shape[:2]
    pair_row = np.full((num_p, num_k), -1)
    pair_row[index.defer_pairs[:, 0], index.defer_pairs[:, 1]] = np.arange(len(index.defer_pairs))
    rhs = window_means(inputs, inputs.demand_mw[index.defer_pairs[:, 0], index.defer_pairs[:, 1], :]).ravel()
    lp.add_rows("defer_energy", rhs.size, pair_row[p_d[route], k_d[route]] * num_windows + day,
                y0 + route_day, np.ones(route_day.size), rhs, rhs)

    site_pos = np.full(len(inputs.sites), -1)
    site_pos[index.defer_sites] = np.arange(num_j)
    mu_cols = mu0 + np.arange(num_j * num_windows)
    lp.add_rows("defer_site", num_j * num_windows,
                np.concatenate([site_pos[s_d[route]] * num_windows + day, np.arange(num_j * num_windows)]),
                np.concatenate([y0 + route_day, mu_cols]),
                np.concatenate([np.ones(route_day.size), -np.ones(num_j * num_windows)]), 0.0, 0.0)

    slices_per_day = np.bincount(window).astype(float)
    site_t = np.arange(num_j * num_periods)
    member, t = site_t // num_periods, site_t % num_periods
    lp.add_rows("defer_balance", num_j * num_windows,
                np.concatenate([member * num_windows + window[t], np.arange(num_j * num_windows)]),
                np.concatenate([z0 + site_t, mu_cols]),
                np.concatenate([relative[t], -np.tile(slices_per_day, num_j)]), 0.0, 0.0)

    if inputs.defer_peak_factor is not None:
        lp.add_rows("defer_cap", num_j * num_periods,
                    np.concatenate([site_t, site_t]),
                    np.concatenate([z0 + site_t, mu0 + member * num_windows + window[t]]),
                    np.concatenate([np.ones(site_t.size), np.full(site_t.size, -inputs.defer_peak_factor)]),
                    -INF, 0.0)


def add_capacity_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """Σ_{p,k} peak[k,t]·x[p,s,k,t] + z[s,t] − u·(n[s] + f[s]) ≤ u·fitted[s] for every site and slice.

    A slice carries its hours' mean load; the peak factor makes the capacity carry the slice's peak
    hour too. Capacity is what is fitted and in use: the fitted part of the built stock, vacant
    stock fitted out by the plan (f) and new build (n).
    """
    num_periods = inputs.hours.size
    num_s = len(inputs.sites)
    u_max = inputs.utilisation_max
    site, t, cols, factor = site_load_entries(lp, inputs, index, np.arange(num_s), peak=True)
    rows, all_cols, vals = [site * num_periods + t], [cols], [factor]
    for family, members in (("n", index.new_sites), ("f", index.fitout_sites)):
        if members.size == 0:
            continue
        rows.append(np.repeat(members, num_periods) * num_periods + np.tile(np.arange(num_periods), members.size))
        all_cols.append(lp.columns[family].start + np.repeat(np.arange(members.size), num_periods))
        vals.append(np.full(members.size * num_periods, -u_max))
    upper = np.repeat(u_max * inputs.fitted_mw, num_periods)
    lp.add_rows("capacity", num_s * num_periods, np.concatenate(rows), np.concatenate(all_cols),
                np.concatenate(vals), -INF, upper)


def add_green_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """Bundled green power within the site's power and its supply; certificates within the rest.

    - green_use: g[s,t] ≤ PUE[s,t]·(Σ x[·,s,·,t] + z[s,t]) (bundled power is used as it comes);
    - green_supply, where new build brings supply: g[s,t] ≤ G[s]·profile[s,t] + share[s]·PUE[s]·n[s]
      (elsewhere availability is the bound of g);
    - certificates: Σ_{t∈d} w_t·g[s,t] + c[s,d] ≤ Σ_{t∈d} w_t·PUE[s,t]·load[s,t] in each day window d
      (no MWh is made green twice).
    """
    num_periods = inputs.hours.size
    hours = inputs.hours
    pue = inputs.pue
    green = index.green_sites
    if green.size:
        g_start = lp.columns["g"].start
        g_rows = np.arange(green.size * num_periods)
        pos, t, cols = site_load_entries(lp, inputs, index, green)
        lp.add_rows("green_use", g_rows.size, np.concatenate([g_rows, pos * num_periods + t]),
                    np.concatenate([g_start + g_rows, cols]),
                    np.concatenate([np.ones(g_rows.size), -pue[green[pos], t]]), -INF, 0.0)

        share = inputs.sites["green_new_share"].to_numpy(float)[green]
        max_new = inputs.sites["max_new_mw"].to_numpy(float)[green]
        supplied = np.nonzero((share > 0) & (max_new > 0))[0]
        if supplied.size:
            annual_pue = inputs.sites["pue"].to_numpy(float)[green]
            new_column = {site: j for j, site in enumerate(index.new_sites)}
            n_cols = np.array([lp.columns["n"].start + new_column[green[j]] for j in supplied])
            local_rows = np.arange(supplied.size * num_periods)
            g_cols = g_start + (np.repeat(supplied, num_periods) * num_periods
                                + np.tile(np.arange(num_periods), supplied.size))
            available = (inputs.sites["green_available_mw"].to_numpy(float)[green][supplied, None]
                         * inputs.green_profile[green[supplied]])
            lp.add_rows("green_supply", local_rows.size, np.concatenate([local_rows, local_rows]),
                        np.concatenate([g_cols, np.repeat(n_cols, num_periods)]),
                        np.concatenate([np.ones(local_rows.size),
                                        np.repeat(-share[supplied] * annual_pue[supplied], num_periods)]),
                        -INF, available.ravel())

    certified = index.certificate_sites
    if certified.size:
        window, _ = day_windows(inputs)
        num_w = index.certificate_windows
        count = certified.size * num_w
        pos, t, cols = site_load_entries(lp, inputs, index, certified)
        rows = [np.arange(count), pos * num_w + window[t]]
        all_cols = [lp.columns["c"].start + np.arange(count), cols]
        vals = [np.ones(count), -hours[t] * pue[certified[pos], t]]
        position = np.full(len(inputs.sites), -1)
        position[certified] = np.arange(certified.size)
        if green.size:
            g_site = np.repeat(green, num_periods)
            rows.append(position[g_site] * num_w + np.tile(window, green.size))
            all_cols.append(lp.columns["g"].start + np.arange(green.size * num_periods))
            vals.append(np.tile(hours, green.size))
        lp.add_rows("certificates", count, np.concatenate(rows), np.concatenate(all_cols),
                    np.concatenate(vals), -INF, 0.0)


def emission_coefficients(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex,
                          accounting: str | None = None):
    """(columns, coefficients) of the plan's annual emissions under an accounting. [tCO2/yr]

    Σ_t w_t·(EF[s]·PUE[s,t]·load[s,t] + EF_g[s]·g[s,t]) + Σ_s EF_c[s]·c[s], with the three factors
    of :meth:`optimizer.inputs.PlanInputs.emission_factors` (default: the inputs' own accounting).
    """
    num_periods = inputs.hours.size
    hours = inputs.hours
    ef, ef_green, ef_certificate = inputs.emission_factors(accounting)
    all_sites = np.arange(len(inputs.sites))
    pos, t, cols = site_load_entries(lp, inputs, index, all_sites)
    parts_cols = [cols]
    parts_vals = [ef[pos] * inputs.pue[pos, t] * hours[t]]
    green = np.repeat(index.green_sites, num_periods)
    if green.size:
        parts_cols.append(lp.columns["g"].start + np.arange(green.size))
        parts_vals.append(ef_green[green] * np.tile(hours, index.green_sites.size))
    if index.certificate_sites.size:
        num_w = index.certificate_windows
        parts_cols.append(lp.columns["c"].start + np.arange(index.certificate_sites.size * num_w))
        parts_vals.append(np.repeat(ef_certificate[index.certificate_sites], num_w))
    network_cols, network_vals = network_emission_coefficients(lp, inputs, index, accounting)
    parts_cols.append(network_cols)
    parts_vals.append(network_vals)
    cols, vals = np.concatenate(parts_cols), np.concatenate(parts_vals)
    keep = vals != 0
    return cols[keep], vals[keep]


def emission_vector(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex,
                    accounting: str | None = None) -> np.ndarray:
    """Annual emissions per unit of each column, (num_cols,): the objective's carbon-price term. [tCO2/yr]

    The objective is the same LP at a carbon price of 0 plus ``price × emission_vector``, which is
    how :mod:`optimizer.warm` changes the price without building anything again.
    """
    cols, vals = emission_coefficients(lp, inputs, index, accounting)
    vector = np.zeros(lp.num_cols)
    np.add.at(vector, cols, vals)
    return vector


def latency_vector(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> np.ndarray:
    """Latency-weighted annual energy per unit of each column, (num_cols,). [MWh·ms/yr]

    Its product with the solution over the annual IT energy is the load-weighted one-way latency.
    Deferrable classes carry their energy on daily routes y (mean MW over a day window: MWh = y
    × the window's hours).
    """
    vector = np.zeros(lp.num_cols)
    latency = inputs.triple_latency_ms(index.triple_province, index.triple_site, index.triple_workload)
    num_x = index.num_x_triples
    x = lp.columns["x"]
    vector[x.start : x.stop] = (latency[:num_x, None] * inputs.hours[None, :]).ravel()
    if "y" in lp.columns:
        window, _ = day_windows(inputs)
        day_hours = np.bincount(window, inputs.hours)
        y = lp.columns["y"]
        vector[y.start : y.stop] = (latency[num_x:, None] * day_hours[None, :]).ravel()
    return vector


def add_latency_cap_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """Σ latency·MWh ≤ cap × annual IT energy, when ``latency_cap_ms`` is set (the ε-constraint on latency)."""
    if inputs.latency_cap_ms is None:
        return
    vector = latency_vector(lp, inputs, index)
    cols = np.nonzero(vector)[0]
    upper = inputs.latency_cap_ms * inputs.it_energy_mwh if np.isfinite(inputs.latency_cap_ms) else INF
    lp.add_rows("latency_cap", 1, np.zeros(cols.size, np.int64), cols, vector[cols], -INF, upper)


def add_carbon_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """Annual emissions ≤ cap, when a cap is set."""
    if inputs.carbon_cap_tco2 is None:
        return
    cols, vals = emission_coefficients(lp, inputs, index)
    lp.add_rows("carbon", 1, np.zeros(cols.size, np.int64), cols, vals, -INF, inputs.carbon_cap_tco2)
