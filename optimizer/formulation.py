"""The planning LP as arrays: columns, rows and coefficients, built with numpy, one function per family.

Both solve paths (PuLP, and a matrix handed straight to highspy) consume the same
:class:`LinearProgram`, so there is exactly one formulation. Symbols follow docs/formulation.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from optimizer.inputs import PlanInputs

HOURS_PER_YEAR = 8760.0
INF = np.inf


@dataclass
class Block:
    """A contiguous range of columns or rows belonging to one family."""

    family: str
    start: int
    stop: int


@dataclass
class LinearProgram:
    """min c·x  subject to  row_lower ≤ A·x ≤ row_upper,  col_lower ≤ x ≤ col_upper.

    Rows are equalities (lower = upper), ≤ rows (lower = -inf) or ≥ rows (upper = inf);
    no ranged rows, so every backend can state them with a single sense.
    """

    cost: list[np.ndarray] = field(default_factory=list)
    col_lower: list[np.ndarray] = field(default_factory=list)
    col_upper: list[np.ndarray] = field(default_factory=list)
    columns: dict[str, Block] = field(default_factory=dict)
    rows: dict[str, Block] = field(default_factory=dict)
    _coo_rows: list[np.ndarray] = field(default_factory=list)
    _coo_cols: list[np.ndarray] = field(default_factory=list)
    _coo_vals: list[np.ndarray] = field(default_factory=list)
    _row_lower: list[np.ndarray] = field(default_factory=list)
    _row_upper: list[np.ndarray] = field(default_factory=list)
    num_cols: int = 0
    num_rows: int = 0

    def add_columns(self, family: str, cost, lower, upper) -> Block:
        """Append a family of columns and return its block."""
        cost = np.asarray(cost, float)
        count = cost.size
        self.cost.append(cost)
        self.col_lower.append(np.broadcast_to(np.asarray(lower, float), count).copy())
        self.col_upper.append(np.broadcast_to(np.asarray(upper, float), count).copy())
        block = Block(family, self.num_cols, self.num_cols + count)
        self.columns[family] = block
        self.num_cols += count
        return block

    def add_rows(self, family: str, count: int, row, col, val, lower, upper) -> Block:
        """Append ``count`` rows given as triplets with row numbers local to the family."""
        block = Block(family, self.num_rows, self.num_rows + count)
        val = np.asarray(val, float)
        keep = val != 0  # explicit zeros slow HiGHS's row loading down
        self._coo_rows.append(np.asarray(row, np.int64)[keep] + self.num_rows)
        self._coo_cols.append(np.asarray(col, np.int64)[keep])
        self._coo_vals.append(val[keep])
        self._row_lower.append(np.broadcast_to(np.asarray(lower, float), count).copy())
        self._row_upper.append(np.broadcast_to(np.asarray(upper, float), count).copy())
        self.rows[family] = block
        self.num_rows += count
        return block

    def arrays(self):
        """(c, col_lower, col_upper, A as CSR, row_lower, row_upper)."""

        def cat(parts):
            return np.concatenate(parts) if parts else np.zeros(0)

        matrix = sp.csr_matrix(
            (cat(self._coo_vals), (cat(self._coo_rows).astype(np.int64), cat(self._coo_cols).astype(np.int64))),
            shape=(self.num_rows, self.num_cols),
        )
        matrix.sum_duplicates()
        return (
            cat(self.cost),
            cat(self.col_lower),
            cat(self.col_upper),
            matrix,
            cat(self._row_lower),
            cat(self._row_upper),
        )


@dataclass
class PlanIndex:
    """Which LP column is which plan quantity.

    Attributes
    ----------
    triple_province, triple_site, triple_workload : numpy.ndarray, shape (L,)
        The allowed (p, s, k) connections; load column of triple i in slice t is
        ``x.start + i*T + t``.
    new_sites : numpy.ndarray
        Sites with a new-capacity column, in column order.
    green_sites : numpy.ndarray
        Sites with green-power columns; column of green site j in slice t is ``g.start + j*T + t``.
    demand_pairs : numpy.ndarray, shape (R, 2)
        (p, k) of each demand row group; the row of pair r in slice t is ``demand.start + r*T + t``.
    """

    triple_province: np.ndarray
    triple_site: np.ndarray
    triple_workload: np.ndarray
    new_sites: np.ndarray
    green_sites: np.ndarray
    demand_pairs: np.ndarray


def _site_load_rows(index: PlanIndex, num_periods: int, sites: np.ndarray):
    """Triplets (site position in ``sites``, t, load column) summing x over (p, k) for each site."""
    position = np.full(max(index.triple_site.max(initial=-1), sites.max(initial=-1)) + 1, -1)
    position[sites] = np.arange(sites.size)
    triples = np.nonzero(np.isin(index.triple_site, sites))[0]
    t = np.tile(np.arange(num_periods), triples.size)
    triple = np.repeat(triples, num_periods)
    return position[index.triple_site[triple]], t, triple * num_periods + t


def build_lp(inputs: PlanInputs) -> tuple[LinearProgram, PlanIndex]:
    """Build the planning LP of ``inputs``; see docs/formulation.md for the model."""
    lp = LinearProgram()
    index = add_variables(lp, inputs)
    add_demand_constraints(lp, inputs, index)
    add_capacity_constraints(lp, inputs, index)
    add_green_constraints(lp, inputs, index)
    add_carbon_constraints(lp, inputs, index)
    add_policy_constraints(lp, inputs, index)
    return lp, index


def add_variables(lp: LinearProgram, inputs: PlanInputs) -> PlanIndex:
    """Columns x[p,s,k,t] (load, MW), n[s] (new capacity, MW) and g[s,t] (green power, MW), with their costs."""
    sites, workloads = inputs.sites, inputs.workloads
    hours = inputs.hours
    p_idx, s_idx, k_idx = np.nonzero(inputs.allowed())

    pue = sites["pue"].to_numpy(float)
    ef = sites["ef_tco2_per_mwh"].to_numpy(float)
    price = sites["price_cny_per_mwh"].to_numpy(float)
    carbon_price = inputs.carbon_price_cny_per_tco2
    # Energy, carbon and latency costs accrue per MWh; network cost per MW-year of mean load.
    per_mwh = (price[s_idx] + carbon_price * ef[s_idx]) * pue[
        s_idx
    ] + inputs.latency_weight_cny_per_mwh_ms * inputs.latency_ms[p_idx, s_idx]
    network_per_mw_yr = (
        workloads["data_intensity_cny_per_mw_1000km"].to_numpy(float)[k_idx] * inputs.distance_km[p_idx, s_idx] / 1000.0
    )
    x_cost = per_mwh[:, None] * hours[None, :] + network_per_mw_yr[:, None] * (hours[None, :] / HOURS_PER_YEAR)
    lp.add_columns("x", x_cost.ravel(), 0.0, INF)

    max_new = sites["max_new_mw"].to_numpy(float)
    new_sites = np.nonzero(max_new > 0)[0]
    lp.add_columns("n", sites["capex_annual_cny_per_mw"].to_numpy(float)[new_sites], 0.0, max_new[new_sites])

    can_green = (sites["green_available_mw"].to_numpy(float) > 0) | (
        (sites["green_new_share"].to_numpy(float) > 0) & (max_new > 0)
    )
    green_sites = np.nonzero(can_green)[0]
    premium = sites["green_premium_cny_per_mwh"].to_numpy(float)
    g_cost = (premium[green_sites] - carbon_price * ef[green_sites])[:, None] * hours[None, :]
    # Without new-build green supply, availability is a plain column bound, not a row.
    has_new_green = (sites["green_new_share"].to_numpy(float)[green_sites] > 0) & (max_new[green_sites] > 0)
    available = sites["green_available_mw"].to_numpy(float)[green_sites, None] * inputs.green_profile[green_sites]
    g_upper = np.where(has_new_green[:, None], INF, available)
    lp.add_columns("g", g_cost.ravel(), 0.0, g_upper.ravel())

    demand_total = inputs.demand_mw.sum(axis=2)
    demand_pairs = np.argwhere(demand_total > 0)
    return PlanIndex(p_idx, s_idx, k_idx, new_sites, green_sites, demand_pairs)


def add_demand_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """Σ_s x[p,s,k,t] = D[p,k,t] for every (p, k) with demand and every slice t."""
    num_periods = inputs.hours.size
    num_p, num_k = inputs.demand_mw.shape[:2]
    pair_row = np.full((num_p, num_k), -1)
    pair_row[index.demand_pairs[:, 0], index.demand_pairs[:, 1]] = np.arange(len(index.demand_pairs))
    triple_row = pair_row[index.triple_province, index.triple_workload]
    t = np.tile(np.arange(num_periods), triple_row.size)
    triple = np.repeat(np.arange(triple_row.size), num_periods)
    rows = triple_row[triple] * num_periods + t
    cols = lp.columns["x"].start + triple * num_periods + t
    rhs = inputs.demand_mw[index.demand_pairs[:, 0], index.demand_pairs[:, 1], :].ravel()
    lp.add_rows("demand", rhs.size, rows, cols, np.ones(rows.size), rhs, rhs)


def add_capacity_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """Σ_{p,k} x[p,s,k,t] − u_max·n[s] ≤ u_max·cap0[s] for every site and slice."""
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
    cap0 = inputs.sites["existing_mw"].to_numpy(float)
    upper = np.repeat(u_max * cap0, num_periods)
    lp.add_rows(
        "capacity", num_s * num_periods, np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), -INF, upper
    )


def add_green_constraints(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """g[s,t] ≤ PUE[s]·Σ x[·,s,·,t]; g[s,t] ≤ G[s]·profile[s,t] + share[s]·PUE[s]·n[s] where new build brings green."""
    num_periods = inputs.hours.size
    green = index.green_sites
    if green.size == 0:
        return
    pue = inputs.sites["pue"].to_numpy(float)
    g_start = lp.columns["g"].start
    g_rows = np.arange(green.size * num_periods)
    site_pos, t, col = _site_load_rows(index, num_periods, green)
    rows = np.concatenate([g_rows, site_pos * num_periods + t])
    cols = np.concatenate([g_start + g_rows, lp.columns["x"].start + col])
    vals = np.concatenate([np.ones(g_rows.size), -pue[green][site_pos]])
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
    """(columns, coefficients) of annual emissions Σ_t w_t·EF[s]·(PUE[s]·load[s,t] − g[s,t]). [tCO2/yr]"""
    num_periods = inputs.hours.size
    hours = inputs.hours
    ef = inputs.sites["ef_tco2_per_mwh"].to_numpy(float)
    pue = inputs.sites["pue"].to_numpy(float)
    triple = np.repeat(np.arange(index.triple_site.size), num_periods)
    t = np.tile(np.arange(num_periods), index.triple_site.size)
    x_vals = (ef * pue)[index.triple_site[triple]] * hours[t]
    x_cols = lp.columns["x"].start + triple * num_periods + t
    green = np.repeat(index.green_sites, num_periods)
    g_t = np.tile(np.arange(num_periods), index.green_sites.size)
    g_vals = -ef[green] * hours[g_t]
    g_cols = lp.columns["g"].start + np.arange(green.size)
    return np.concatenate([x_cols, g_cols]), np.concatenate([x_vals, g_vals])


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
