"""The planning LP as arrays: columns, rows and coefficients, built with numpy, one function per family.

Both solve paths (PuLP, and a matrix handed straight to highspy) consume the same
:class:`LinearProgram`, so there is exactly one formulation. Symbols follow docs/formulation.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from edwc_data.units import HOURS_PER_YEAR

from optimizer.inputs import PlanInputs
from optimizer.lp import INF, LinearProgram


@dataclass
class PlanIndex:
    """Which LP column is which plan quantity.

    Attributes
    ----------
    triple_province, triple_site, triple_workload : numpy.ndarray, shape (L,)
        The allowed (p, s, k) connections. The first ``num_x_triples`` are classes that cannot
        defer load: the load column of triple i in slice t is ``x.start + i*T + t``. The rest are
        routes of deferrable classes (see ``add_deferral_variables``): route i (counted from
        ``num_x_triples``) carries ``y.start + i*W + d`` on day window d.
    new_sites : numpy.ndarray
        Sites with a new-capacity column, in column order.
    green_sites : numpy.ndarray
        Sites with green-power columns; column of green site j in slice t is ``g.start + j*T + t``.
    demand_pairs : numpy.ndarray, shape (R, 2)
        (p, k) of each demand row group of a class that cannot defer load; the row of pair r in
        slice t is ``demand.start + r*T + t``.
    defer_pairs : numpy.ndarray, shape (Rd, 2)
        (p, k) with demand of a deferrable class; its row on day window d is ``defer_energy.start + r*W + d``.
    defer_sites : numpy.ndarray
        Sites reached by deferrable routes; site j's deferrable load in slice t is ``z.start + j*T + t``
        and its mean over day window d is ``mu.start + j*W + d``.
    x_count : int, optional
        Number of triples with x columns (None: all).
    """

    triple_province: np.ndarray
    triple_site: np.ndarray
    triple_workload: np.ndarray
    new_sites: np.ndarray
    green_sites: np.ndarray
    demand_pairs: np.ndarray
    defer_pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    defer_sites: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x_count: int | None = None

    @property
    def num_x_triples(self) -> int:
        """Triples with x columns: those of classes that cannot defer load."""
        return int(self.triple_site.size if self.x_count is None else self.x_count)


def _site_load_rows(index: PlanIndex, num_periods: int, sites: np.ndarray):
    """Triplets (site position in ``sites``, t, load column) summing x over (p, k) for each site."""
    x_sites = index.triple_site[: index.num_x_triples]
    position = np.full(max(index.triple_site.max(initial=-1), sites.max(initial=-1)) + 1, -1)
    position[sites] = np.arange(sites.size)
    triples = np.nonzero(np.isin(x_sites, sites))[0]
    t = np.tile(np.arange(num_periods), triples.size)
    triple = np.repeat(triples, num_periods)
    return position[x_sites[triple]], t, triple * num_periods + t


def _deferred_load_rows(lp: LinearProgram, index: PlanIndex, num_periods: int, sites: np.ndarray):
    """Triplets (site position in ``sites``, t, absolute z column) of the deferrable load at each site."""
    if "z" not in lp.columns or sites.size == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    position = np.full(max(index.defer_sites.max(initial=-1), sites.max(initial=-1)) + 1, -1)
    position[sites] = np.arange(sites.size)
    members = np.nonzero(np.isin(index.defer_sites, sites))[0]
    t = np.tile(np.arange(num_periods), members.size)
    member = np.repeat(members, num_periods)
    return position[index.defer_sites[member]], t, lp.columns["z"].start + member * num_periods + t


def build_lp(inputs: PlanInputs) -> tuple[LinearProgram, PlanIndex]:
    """Build the planning LP of ``inputs``; see docs/formulation.md for the model."""
    lp = LinearProgram()
    index = add_variables(lp, inputs)
    add_deferral_variables(lp, inputs, index)
    add_demand_constraints(lp, inputs, index)
    add_deferral_constraints(lp, inputs, index)
    add_capacity_constraints(lp, inputs, index)
    add_green_constraints(lp, inputs, index)
    add_carbon_constraints(lp, inputs, index)
    add_policy_constraints(lp, inputs, index)
    add_latency_cap_constraints(lp, inputs, index)
    return lp, index


def _route_cost_per_mwh(inputs: PlanInputs, p_idx, s_idx, k_idx):
    """(Site energy and carbon cost [CNY/MWh], route latency and network cost [CNY/MWh]) of triples."""
    sites, workloads = inputs.sites, inputs.workloads
    pue = sites["pue"].to_numpy(float)
    ef = sites["ef_tco2_per_mwh"].to_numpy(float)
    price = sites["price_cny_per_mwh"].to_numpy(float)
    energy = (price[s_idx] + inputs.carbon_price_cny_per_tco2 * ef[s_idx]) * pue[s_idx]
    # Network cost is per MW-year of mean load, i.e. per 8,760 MWh.
    network_per_mw_yr = (
        workloads["data_intensity_cny_per_mw_1000km"].to_numpy(float)[k_idx] * inputs.distance_km[p_idx, s_idx] / 1000.0
    )
    route = inputs.latency_weight_cny_per_mwh_ms * inputs.latency_ms[p_idx, s_idx] + network_per_mw_yr / HOURS_PER_YEAR
    return energy, route


def add_variables(lp: LinearProgram, inputs: PlanInputs) -> PlanIndex:
    """Columns x[p,s,k,t] (load, MW, at most its demand), n[s] (new capacity, MW) and g[s,t] (green power, MW).

    x exists for classes that cannot defer load; deferrable classes get their own columns
    (:func:`add_deferral_variables`).
    """
    sites = inputs.sites
    hours = inputs.hours
    allowed = inputs.allowed()
    deferrable = inputs.deferrable_classes
    p_x, s_x, k_x = np.nonzero(allowed & ~deferrable[None, None, :])
    p_d, s_d, k_d = np.nonzero(allowed & deferrable[None, None, :])

    energy, route = _route_cost_per_mwh(inputs, p_x, s_x, k_x)
    x_cost = (energy + route)[:, None] * hours[None, :]
    # A load never exceeds its demand: implied by the demand rows, but as bounds they let the
    # dual simplex flip bounds instead of pivoting (benchmarks/README.md, "Solver strategy").
    lp.add_columns("x", x_cost.ravel(), 0.0, inputs.demand_mw[p_x, k_x, :].ravel())

    ef = sites["ef_tco2_per_mwh"].to_numpy(float)
    max_new = sites["max_new_mw"].to_numpy(float)
    new_sites = np.nonzero(max_new > 0)[0]
    lp.add_columns("n", sites["capex_annual_cny_per_mw"].to_numpy(float)[new_sites], 0.0, max_new[new_sites])

    can_green = (sites["green_available_mw"].to_numpy(float) > 0) | (
        (sites["green_new_share"].to_numpy(float) > 0) & (max_new > 0)
    )
    green_sites = np.nonzero(can_green)[0]
    premium = sites["green_premium_cny_per_mwh"].to_numpy(float)
    g_cost = (premium[green_sites] - inputs.carbon_price_cny_per_tco2 * ef[green_sites])[:, None] * hours[None, :]
    # Without new-build green supply, availability is a plain column bound, not a row.
    has_new_green = (sites["green_new_share"].to_numpy(float)[green_sites] > 0) & (max_new[green_sites] > 0)
    available = sites["green_available_mw"].to_numpy(float)[green_sites, None] * inputs.green_profile[green_sites]
    g_upper = np.where(has_new_green[:, None], INF, available)
    lp.add_columns("g", g_cost.ravel(), 0.0, g_upper.ravel())

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
    )


def day_windows(inputs: PlanInputs) -> tuple[np.ndarray, np.ndarray]:
    """(window of each slice (T,), slice weight relative to its window's mean weight (T,)).

    A window is one ``day`` of the periods table: deferrable load moves within it.
    """
    _, window = np.unique(inputs.periods["day"].to_numpy(), return_inverse=True)
    hours = inputs.hours
    mean = np.bincount(window, hours) / np.bincount(window)
    return window, hours / mean[window]


def window_means(inputs: PlanInputs, values: np.ndarray) -> np.ndarray:
    """Hours-weighted mean of ``values`` (..., T) over each day window: (..., W)."""
    window, _ = day_windows(inputs)
    hours = inputs.hours
    num_windows = window.max(initial=-1) + 1
    flat = values.reshape(-1, values.shape[-1])
    sums = np.stack([np.bincount(window, row * hours, minlength=num_windows) for row in flat]) if flat.size else (
        np.zeros((flat.shape[0], num_windows)))
    return (sums / np.bincount(window, hours, minlength=num_windows)).reshape(*values.shape[:-1], num_windows)


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
    _, route = _route_cost_per_mwh(inputs, p_d, s_d, k_d)
    mean_demand = window_means(inputs, inputs.demand_mw[p_d, k_d, :])  # (routes, W)
    lp.add_columns("y", (route[:, None] * day_hours[None, :]).ravel(), 0.0, mean_demand.ravel())
    num_j = index.defer_sites.size
    lp.add_columns("mu", np.zeros(num_j * num_windows), 0.0, INF)
    energy, _ = _route_cost_per_mwh(inputs, np.zeros(num_j, int), index.defer_sites, np.zeros(num_j, int))
    lp.add_columns("z", (energy[:, None] * hours[None, :]).ravel(), 0.0, INF)


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
    """Σ_{p,k} x[p,s,k,t] + z[s,t] − u_max·n[s] ≤ u_max·cap0[s] for every site and slice."""
    num_periods = inputs.hours.size
    num_s = len(inputs.sites)
    u_max = inputs.utilisation_max
    site, t, col = _site_load_rows(index, num_periods, np.arange(num_s))
    rows = [site * num_periods + t]
    cols = [lp.columns["x"].start + col]
    vals = [np.ones(col.size)]
    new_site = np.repeat(index.new_sites, num_periods)
    new_t = np.tile(np.arange(num_periods), index.new_sites.size)
    rows.append(new_site * num_periods + new_t)
    cols.append(lp.columns["n"].start + np.repeat(np.arange(index.new_sites.size), num_periods))
    vals.append(np.full(new_site.size, -u_max))
    site, t, z_col = _deferred_load_rows(lp, index, num_periods, np.arange(num_s))
    rows.append(site * num_periods + t)
    cols.append(z_col)
    vals.append(np.ones(z_col.size))
    cap0 = inputs.sites["existing_mw"].to_numpy(float)
    upper = np.repeat(u_max * cap0, num_periods)
    lp.add_rows(
        "capacity", num_s * num_periods, np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), -INF, upper
    )


def add_green_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """g[s,t] ≤ PUE[s]·(Σ x[·,s,·,t] + z[s,t]); g[s,t] ≤ G[s]·profile[s,t] + share[s]·PUE[s]·n[s].

    The second family exists only where new build brings green supply; elsewhere availability is
    the bound of g.
    """
    num_periods = inputs.hours.size
    green = index.green_sites
    if green.size == 0:
        return
    pue = inputs.sites["pue"].to_numpy(float)
    g_start = lp.columns["g"].start
    g_rows = np.arange(green.size * num_periods)
    site_pos, t, col = _site_load_rows(index, num_periods, green)
    z_pos, z_t, z_col = _deferred_load_rows(lp, index, num_periods, green)
    rows = np.concatenate([g_rows, site_pos * num_periods + t, z_pos * num_periods + z_t])
    cols = np.concatenate([g_start + g_rows, lp.columns["x"].start + col, z_col])
    vals = np.concatenate([np.ones(g_rows.size), -pue[green][site_pos], -pue[green][z_pos]])
    lp.add_rows("green_use", g_rows.size, rows, cols, vals, -INF, 0.0)

    share = inputs.sites["green_new_share"].to_numpy(float)[green]
    max_new = inputs.sites["max_new_mw"].to_numpy(float)[green]
    supplied = np.nonzero((share > 0) & (max_new > 0))[0]
    if supplied.size == 0:
        return
    new_column = {site: j for j, site in enumerate(index.new_sites)}
    n_cols = np.array([lp.columns["n"].start + new_column[green[j]] for j in supplied])
    local_rows = np.arange(supplied.size * num_periods)
    g_cols = g_start + (np.repeat(supplied, num_periods) * num_periods + np.tile(np.arange(num_periods), supplied.size))
    rows = np.concatenate([local_rows, local_rows])
    cols = np.concatenate([g_cols, np.repeat(n_cols, num_periods)])
    vals = np.concatenate([np.ones(local_rows.size), np.repeat(-share[supplied] * pue[green][supplied], num_periods)])
    available = (
        inputs.sites["green_available_mw"].to_numpy(float)[green][supplied, None]
        * inputs.green_profile[green[supplied]]
    )
    lp.add_rows("green_supply", local_rows.size, rows, cols, vals, -INF, available.ravel())


def emission_coefficients(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex):
    """(columns, coefficients) of annual emissions Σ_t w_t·EF[s]·(PUE[s]·(load[s,t] + z[s,t]) − g[s,t]). [tCO2/yr]"""
    num_periods = inputs.hours.size
    hours = inputs.hours
    ef = inputs.sites["ef_tco2_per_mwh"].to_numpy(float)
    pue = inputs.sites["pue"].to_numpy(float)
    num_x = index.num_x_triples
    triple = np.repeat(np.arange(num_x), num_periods)
    t = np.tile(np.arange(num_periods), num_x)
    x_vals = (ef * pue)[index.triple_site[triple]] * hours[t]
    x_cols = lp.columns["x"].start + triple * num_periods + t
    green = np.repeat(index.green_sites, num_periods)
    g_t = np.tile(np.arange(num_periods), index.green_sites.size)
    g_vals = -ef[green] * hours[g_t]
    g_cols = lp.columns["g"].start + np.arange(green.size)
    z_pos, z_t, z_cols = _deferred_load_rows(lp, index, num_periods, index.defer_sites)
    z_vals = (ef * pue)[index.defer_sites[z_pos]] * hours[z_t]
    return np.concatenate([x_cols, g_cols, z_cols]), np.concatenate([x_vals, g_vals, z_vals])


def emission_vector(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> np.ndarray:
    """Annual emissions per unit of each column, (num_cols,): the objective's carbon-price term. [tCO2/yr]

    The objective is the same LP at a carbon price of 0 plus ``price × emission_vector``, which is
    how :mod:`optimizer.warm` changes the price without building anything again.
    """
    cols, vals = emission_coefficients(lp, inputs, index)
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
    latency = inputs.latency_ms[index.triple_province, index.triple_site]
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


def add_policy_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """Σ_{hub clusters} n[s] ≥ m·Σ_s n[s], written as Σ_hub (1−m)·n − Σ_local m·n ≥ 0."""
    share_min = inputs.hub_new_share_min
    if not share_min or index.new_sites.size == 0:
        return
    is_cluster = (inputs.sites["kind"].to_numpy() == "cluster")[index.new_sites]
    vals = np.where(is_cluster, 1.0 - share_min, -share_min)
    cols = lp.columns["n"].start + np.arange(index.new_sites.size)
    lp.add_rows("hub_share", 1, np.zeros(cols.size, np.int64), cols, vals, 0.0, INF)
