"""The backbone network as a decision: traffic on precomputed paths, link capacity, new bandwidth, transfer energy.

Symbols follow docs/formulation.md ("The network"). Traffic of a load column is ``a[k] = ι[k]·κ`` Gbit/s
per MW (ι the class's traffic intensity, κ the peak factor), so every flow here is a busy-hour flow.
Each (origin node o, site s) pair has its shortest path on the existing links (path 0) and, towards a
site that candidate direct links reach, the best path over one of them (path 1). Path 0 carries what
path 1 does not, so only path 1 needs a column ``h`` (per slice); the new capacity ``b[l]`` of a link
is decided once for the year.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from edwc_data.units import FIBRE_MS_PER_KM

from optimizer.index import day_windows, window_means
from optimizer.lp import INF, LinearProgram

if TYPE_CHECKING:
    from optimizer.index import PlanIndex
    from optimizer.inputs import PlanInputs

#: GB carried by 1 Gbit/s in one hour: 3,600 s / 8 bits per byte. [GB/(Gbit/s·h)]
GB_PER_GBPS_HOUR = 450.0
#: Earth radius for great-circle lengths. [km]
EARTH_RADIUS_KM = 6371.0
#: Accountings of the links' emission factors, as :data:`optimizer.inputs.ACCOUNTINGS`.
_ACCOUNTINGS = ("location", "market", "marginal")


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance between points given in degrees (broadcasting). [km]"""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, float)) for v in (lat1, lon1, lat2, lon2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


@dataclass
class NetworkInputs:
    """The backbone, its paths and the traffic of each class: what the network rows need.

    Attributes
    ----------
    nodes : pandas.DataFrame
        N rows: node, name_zh, name_en, kind ('backbone' or 'cluster'; a cluster node's id is its site id),
        province, lat, lon.
    links : pandas.DataFrame
        L rows: link, from, to, kind ('backbone', 'access', 'direct'), candidate (bool), length_km [km],
        existing_gbps [Gbit/s], latency_ms (one-way, hop included) [ms], cost_cny_per_gbps_yr (annualised
        cost of 1 Gbit/s more over the whole link) [CNY/(Gbit/s·yr)], price_cny_per_mwh (electricity where
        its equipment runs: the mean of its end provinces) [CNY/MWh] and ef_<accounting>_tco2_per_mwh [tCO2/MWh].
    province_node : numpy.ndarray, shape (P,)
        Node each province attaches to (its own backbone point, else the nearest).
    path_origin, path_site : numpy.ndarray, shape (R,)
        Origin node and site (position in the plan's site table) of each path.
    path_direct : numpy.ndarray of bool, shape (R,)
        True for a path over a candidate direct link (path 1), False for the existing shortest path (path 0).
    path_latency_ms : numpy.ndarray, shape (R,)
        One-way latency from the origin node to the site along the path. [ms]
    path_link_ptr, path_links : numpy.ndarray
        The links of path r are ``path_links[path_link_ptr[r]:path_link_ptr[r + 1]]``.
    access_ms : numpy.ndarray, shape (P,)
        One-way latency from the province's representative point to its node. [ms]
    traffic_gbps_per_mw : numpy.ndarray, shape (K,)
        ι: sustained wide-area traffic per MW of IT load, by class. [Gbit/s per MW]
    peak_factor : float
        κ: busy-hour traffic over the slice's mean. [-]
    transfer_kwh_per_gb : float
        Network electricity per GB carried. [kWh/GB]
    route_factor : float
        Route over great-circle length of the existing links (for the route charge's recalibration). [-]
    cost_cny_per_gbps_km_yr : float
        Annualised cost of new capacity. [CNY/(Gbit/s·km·yr)]
    expandable : bool
        May the plan add capacity (False: a dispatch of a plan's links, :func:`fixed_links`).
    """

    nodes: pd.DataFrame
    links: pd.DataFrame
    province_node: np.ndarray
    path_origin: np.ndarray
    path_site: np.ndarray
    path_direct: np.ndarray
    path_latency_ms: np.ndarray
    path_link_ptr: np.ndarray
    path_links: np.ndarray
    access_ms: np.ndarray
    traffic_gbps_per_mw: np.ndarray
    peak_factor: float
    transfer_kwh_per_gb: float
    route_factor: float = 1.6
    cost_cny_per_gbps_km_yr: float = 0.0
    expandable: bool = True
    _lookup: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def num_paths(self) -> int:
        """R: paths in the network."""
        return int(self.path_origin.size)

    def path_link_list(self, r: int) -> np.ndarray:
        """Links of path ``r``."""
        return self.path_links[self.path_link_ptr[r] : self.path_link_ptr[r + 1]]

    def path_index(self, num_sites: int) -> np.ndarray:
        """(N, S, 2) path number of (origin node, site, direct?), -1 where there is none."""
        key = ("path_index", num_sites)
        if key not in self._lookup:
            table = np.full((len(self.nodes), num_sites, 2), -1)
            table[self.path_origin, self.path_site, self.path_direct.astype(int)] = np.arange(self.num_paths)
            self._lookup[key] = table
        return self._lookup[key]

    def route_latency_ms(self, num_sites: int, direct: bool) -> np.ndarray:
        """(P, S) one-way latency from each province to each site on path 1 (direct) or 0; inf where none. [ms]"""
        paths = self.path_index(num_sites)[self.province_node, :, int(direct)]
        latency = np.where(paths >= 0, self.path_latency_ms[np.maximum(paths, 0)], np.inf)
        return latency + self.access_ms[:, None]

    def path_energy_mwh_per_gbps_h(self) -> float:
        """Network electricity of 1 Gbit/s of mean traffic for one hour on any path. [MWh]"""
        return GB_PER_GBPS_HOUR * self.transfer_kwh_per_gb / 1000.0

    def path_mean(self, column: str) -> np.ndarray:
        """(R,) a link quantity where each path's transfer energy is counted: its pair's existing path's links,
        averaged by length.

        Every GB takes the same electricity on either path; only where it is used could differ. Both
        paths of a pair count it on path 0, which keeps the path-1 flows free of costs a millionth
        the size of the rest (they would scale the near-optimal LPs' cost row badly, optimizer/nearoptimal.py).
        """
        values = self.links[column].to_numpy(float)
        length = self.links["length_km"].to_numpy(float)
        out = np.zeros(self.num_paths)
        for r in range(self.num_paths):
            links = self.path_link_list(r)
            out[r] = float(values[links] @ length[links] / length[links].sum()) if links.size else 0.0
        num_sites = int(self.path_site.max(initial=-1)) + 1
        path0 = self.path_index(num_sites)[self.path_origin, self.path_site, 0]
        return np.where(path0 >= 0, out[np.maximum(path0, 0)], out)


def fixed_links(net: NetworkInputs, capacity_gbps: np.ndarray) -> NetworkInputs:
    """The network with each link's capacity fixed at ``capacity_gbps`` (L,) and no expansion. [Gbit/s]"""
    links = net.links.copy()
    links["existing_gbps"] = np.asarray(capacity_gbps, float)
    return dataclasses.replace(net, links=links, expandable=False, _lookup={})


def route_charge_cny_per_mw_1000km(inputs: PlanInputs) -> np.ndarray:
    """(K,) the per-MW·1000 km route charge the LP keeps beside the explicit network. [CNY/(MW·1000 km·yr)]

    ``data_intensity_cny_per_mw_1000km`` was calibrated as the whole cost of moving a class's data.
    With the network in the LP, new bandwidth is priced on the links, so the charge keeps the rest:
    the calibrated figure less the bandwidth a MW needs over 1,000 km of great circle,
    ι·κ·c_bw·route_factor·1000 (never below zero). Without a network it is the calibrated figure.
    """
    charge = inputs.workloads["data_intensity_cny_per_mw_1000km"].to_numpy(float)
    net = inputs.network
    if net is None:
        return charge
    bandwidth = net.traffic_gbps_per_mw * net.peak_factor * net.cost_cny_per_gbps_km_yr * net.route_factor * 1000.0
    return np.maximum(charge - bandwidth, 0.0)


@dataclass
class _Routing:
    """Which triples load which pair, and the pairs' paths (local to one LP build)."""

    triples: np.ndarray  # triples on the network (index into the plan's triples)
    pair: np.ndarray  # pair of each of those triples
    pair_path0: np.ndarray  # (Q,) path 0 of each pair
    pair_path1: np.ndarray  # (Q,) path 1 of each pair, -1 where none
    on_direct: np.ndarray  # bool, per routed triple: within its class's limit on path 1
    only_direct: np.ndarray  # bool, per routed triple: within its limit on path 1 only
    split_pairs: np.ndarray  # pairs with a path 1, in h column order
    used_links: np.ndarray  # links on any path, in b column order


def routing(inputs: PlanInputs, index: PlanIndex) -> _Routing | None:
    """The triples that travel the backbone and their pairs' paths (None without a network)."""
    net = inputs.network
    if net is None:
        return None
    num_s = len(inputs.sites)
    paths = net.path_index(num_s)
    p, s, k = index.triple_province, index.triple_site, index.triple_workload
    origin = net.province_node[p]
    path0 = paths[origin, s, 0]
    triples = np.nonzero(path0 >= 0)[0]
    o, s = origin[triples], s[triples]
    pair_keys, pair = np.unique(o * num_s + s, return_inverse=True)
    pair_o, pair_s = pair_keys // num_s, pair_keys % num_s
    pair_path0, pair_path1 = paths[pair_o, pair_s, 0], paths[pair_o, pair_s, 1]
    limit = inputs.workloads["latency_max_ms"].to_numpy(float)[k[triples]]
    access = net.access_ms[p[triples]]
    path1 = pair_path1[pair]
    lat1 = np.where(path1 >= 0, net.path_latency_ms[np.maximum(path1, 0)] + access, np.inf)
    lat0 = net.path_latency_ms[pair_path0[pair]] + access
    on_direct = lat1 <= limit
    only_direct = on_direct & (lat0 > limit)
    split = np.nonzero(pair_path1 >= 0)[0]
    used = [net.path_link_list(r) for r in np.concatenate([pair_path0, pair_path1[split]])]
    used_links = np.unique(np.concatenate(used)) if used else np.zeros(0, np.int64)
    return _Routing(triples, pair, pair_path0, pair_path1, on_direct, only_direct, split, used_links)


def _expand(net: NetworkInputs, paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``paths``, link) for every link of every path in ``paths``, in order."""
    start = net.path_link_ptr[paths]
    count = net.path_link_ptr[paths + 1] - start
    repeat = np.repeat(np.arange(paths.size), count)
    offset = np.arange(repeat.size) - np.repeat(np.cumsum(count) - count, count)
    return repeat, net.path_links[start[repeat] + offset]


def _traffic_entries(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex, triples: np.ndarray):
    """(triple position in ``triples``, t, load column, traffic per MW) of the triples' load in every slice.

    A class that cannot defer has a column per slice (x); a deferrable route has one per day window (y),
    whose mean load over the day is taken as its traffic in each slice of the day.
    """
    net = inputs.network
    num_t = inputs.hours.size
    num_x = index.num_x_triples
    window, _ = day_windows(inputs)
    num_w = int(window.max(initial=0)) + 1
    pos = np.repeat(np.arange(triples.size), num_t)
    t = np.tile(np.arange(num_t), triples.size)
    triple = triples[pos]
    is_x = triple < num_x
    cols = np.where(is_x, lp.columns["x"].start + triple * num_t + t, 0)
    if "y" in lp.columns:
        cols = np.where(is_x, cols, lp.columns["y"].start + (triple - num_x) * num_w + window[t])
    a = net.traffic_gbps_per_mw[index.triple_workload[triple]] * net.peak_factor
    return pos, t, cols, a


def add_network(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex) -> None:
    """Columns h[q,t] (path-1 flow of pair q), b[l] (new capacity of link l) and the network's rows.

    - net_link: Σ_{i: l∈path0(i)} a_i·load[i,t] + Σ_{q: l∈path1(q)} h[q,t] − Σ_{q: l∈path0(q)} h[q,t]
      − b[l] ≤ B[l] (existing capacity) for every used link and slice;
    - net_direct_max: h[q,t] ≤ Σ_{i∈q within its limit on path 1} a_i·load[i,t] (path 0 carries the rest,
      and only what may take it);
    - net_direct_min: h[q,t] ≥ Σ_{i∈q within its limit on path 1 only} a_i·load[i,t].

    h costs nothing: a pair's transfer energy is on the load columns (:func:`transfer_cost_per_mwh`),
    counted on its existing path whichever path carries it (:meth:`NetworkInputs.path_mean`); b costs
    the link's annualised capacity cost.
    """
    route = routing(inputs, index)
    if route is None or route.triples.size == 0:
        return
    net = inputs.network
    hours = inputs.hours
    num_t = hours.size
    num_q2 = route.split_pairs.size
    if num_q2:
        lp.add_columns("h", np.zeros(num_q2 * num_t), 0.0, INF)
    links = net.links
    # No link needs more than the whole busy-hour traffic of the plan: a finite bound keeps a year
    # plan's master bounded while its cuts are few (optimizer/master.py).
    peak_traffic = float(inputs.demand_mw.max(axis=2).sum(axis=0) @ net.traffic_gbps_per_mw) * net.peak_factor
    if not net.expandable:
        peak_traffic = 0.0
    lp.add_columns("b", links["cost_cny_per_gbps_yr"].to_numpy(float)[route.used_links], 0.0, max(peak_traffic, 0.0))

    link_pos = np.full(len(links), -1)
    link_pos[route.used_links] = np.arange(route.used_links.size)
    pos, t, cols, a = _traffic_entries(lp, inputs, index, route.triples)
    # Load on path 0, link by link: each entry repeated once per link of its pair's path 0.
    entry_path = route.pair_path0[route.pair[pos]]
    repeat, link = _expand(net, entry_path)
    rows = [link_pos[link] * num_t + t[repeat]]
    all_cols, vals = [cols[repeat]], [a[repeat]]
    split_pos = np.full(route.pair_path0.size, -1)
    split_pos[route.split_pairs] = np.arange(num_q2)
    slices = np.arange(num_t)
    for j, q in enumerate(route.split_pairs):
        h_cols = lp.columns["h"].start + j * num_t + slices
        for sign, r in ((1.0, route.pair_path1[q]), (-1.0, route.pair_path0[q])):
            for link in net.path_link_list(r):
                rows.append(link_pos[link] * num_t + slices)
                all_cols.append(h_cols)
                vals.append(np.full(num_t, sign))
    b_rows = np.arange(route.used_links.size * num_t)
    rows.append(b_rows)
    all_cols.append(lp.columns["b"].start + b_rows // num_t)
    vals.append(-np.ones(b_rows.size))
    existing = links["existing_gbps"].to_numpy(float)[route.used_links]
    lp.add_rows("net_link", route.used_links.size * num_t, np.concatenate(rows), np.concatenate(all_cols),
                np.concatenate(vals), -INF, np.repeat(existing, num_t))
    if num_q2 == 0:
        return

    def split_rows(family, members, lower, upper, pairs):
        """Rows h[q,t] − Σ_{members of q} a·load over ``pairs`` (positions among the split pairs)."""
        row_of = np.full(num_q2, -1)
        row_of[pairs] = np.arange(pairs.size)
        q_pos = split_pos[route.pair[pos]]
        keep = members[pos] & (q_pos >= 0)
        h_rows = np.arange(pairs.size * num_t)
        h_cols = lp.columns["h"].start + np.repeat(pairs, num_t) * num_t + np.tile(np.arange(num_t), pairs.size)
        lp.add_rows(family, pairs.size * num_t,
                    np.concatenate([h_rows, row_of[q_pos[keep]] * num_t + t[keep]]),
                    np.concatenate([h_cols, cols[keep]]),
                    np.concatenate([np.ones(h_rows.size), -a[keep]]), lower, upper)

    # Every split pair bounds its path-1 flow (by 0 where no triple may take path 1); only pairs
    # with triples that must take it get a lower bound (elsewhere it would read h ≥ 0).
    split_rows("net_direct_max", route.on_direct, -INF, 0.0, np.arange(num_q2))
    must = np.unique(split_pos[route.pair[route.only_direct]])
    if must.size:
        split_rows("net_direct_min", route.only_direct, 0.0, INF, must)


def path_factors(inputs: PlanInputs, accounting: str | None = None) -> np.ndarray:
    """(R,) emission factor of each path's network electricity under an accounting. [tCO2/MWh]"""
    net = inputs.network
    return net.path_mean(f"ef_{accounting or inputs.carbon_accounting}_tco2_per_mwh")


def transfer_mwh_per_mwh(inputs: PlanInputs, k_idx: np.ndarray) -> np.ndarray:
    """Network electricity per MWh of IT energy served over the backbone, by class of each triple. [MWh/MWh]"""
    net = inputs.network
    return net.traffic_gbps_per_mw[k_idx] * net.path_energy_mwh_per_gbps_h()


def _path0_of(inputs: PlanInputs, p_idx: np.ndarray, s_idx: np.ndarray) -> np.ndarray:
    """Path 0 of each (province, site), -1 where the pair does not travel the backbone."""
    net = inputs.network
    return net.path_index(len(inputs.sites))[net.province_node[p_idx], s_idx, 0]


def transfer_cost_per_mwh(inputs: PlanInputs, p_idx, s_idx, k_idx) -> np.ndarray:
    """Cost of the network electricity on path 0 per MWh of IT energy of (p, s, k) triples (carbon priced). [CNY/MWh]"""
    if inputs.network is None:
        return np.zeros(np.asarray(p_idx).size)
    path0 = _path0_of(inputs, p_idx, s_idx)
    price = inputs.network.path_mean("price_cny_per_mwh") + inputs.carbon_price_cny_per_tco2 * path_factors(inputs)
    return np.where(path0 >= 0, transfer_mwh_per_mwh(inputs, k_idx) * price[np.maximum(path0, 0)], 0.0)


def network_emission_coefficients(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex,
                                  accounting: str | None = None):
    """(columns, coefficients) of the network electricity's annual emissions. [tCO2/yr]"""
    route = routing(inputs, index)
    empty = np.zeros(0, np.int64), np.zeros(0)
    if route is None or route.triples.size == 0:
        return empty
    net = inputs.network
    hours = inputs.hours
    ef = path_factors(inputs, accounting)
    pos, t, cols, a = _traffic_entries(lp, inputs, index, route.triples)
    # The traffic entries carry busy-hour flows; energy follows the mean (÷ κ). A y column is a day's
    # mean load: its slices' hours add up to the day's.
    per_gbps_h = net.path_energy_mwh_per_gbps_h() / net.peak_factor
    return cols, a * per_gbps_h * hours[t] * ef[route.pair_path0[route.pair[pos]]]


# ---------------------------------------------------------------------------------------------
# The solved network: flows, new capacity, checks and the links table
# ---------------------------------------------------------------------------------------------

@dataclass
class NetworkFlows:
    """The network part of a solution.

    Attributes
    ----------
    direct_gbps : numpy.ndarray, shape (Q2, T)
        h: busy-hour flow on path 1 of each pair that has one (the LP's order). [Gbit/s]
    new_gbps : numpy.ndarray, shape (L,)
        b: new capacity of each link (0 on links no path uses). [Gbit/s]
    link_duals : numpy.ndarray, shape (L, T)
        Duals of the link rows (HiGHS sign; 0 where a link has none). [CNY per Gbit/s]
    """

    direct_gbps: np.ndarray
    new_gbps: np.ndarray
    link_duals: np.ndarray


def extract_network(inputs: PlanInputs, lp: LinearProgram, index: PlanIndex, values: np.ndarray,
                    duals: np.ndarray | None) -> NetworkFlows | None:
    """The network columns of a solution (None when the LP has none)."""
    if "b" not in lp.columns:
        return None
    route = routing(inputs, index)
    num_l, num_t = len(inputs.network.links), inputs.hours.size
    direct = np.zeros((route.split_pairs.size, num_t))
    if "h" in lp.columns:
        direct = values[lp.columns["h"].start : lp.columns["h"].stop].reshape(-1, num_t)
    new = np.zeros(num_l)
    new[route.used_links] = values[lp.columns["b"].start : lp.columns["b"].stop]
    link_duals = np.zeros((num_l, num_t))
    if duals is not None:
        block = lp.rows["net_link"]
        link_duals[route.used_links] = duals[block.start : block.stop].reshape(-1, num_t)
    return NetworkFlows(direct, new, link_duals)


def summed_flows(parts: list[tuple[NetworkFlows | None, np.ndarray]], group_of_part: list[int],
                 group_hours: np.ndarray) -> NetworkFlows | None:
    """The flows of a year plan's table periods from its days: (day's flows, day's slice hours) per day.

    A period's path-1 flow is its days' hour-weighted mean (costs and energy are linear in flow ×
    hours, so they add up to the days'); new capacity is the year's; duals add up.
    """
    if not parts or parts[0][0] is None:
        return None
    first = parts[0][0]
    num_g = group_hours.size
    direct = np.zeros((first.direct_gbps.shape[0], num_g))
    duals = np.zeros((first.link_duals.shape[0], num_g))
    for (flows, hours), group in zip(parts, group_of_part, strict=True):
        direct[:, group] += flows.direct_gbps @ hours
        duals[:, group] += flows.link_duals.sum(axis=1)
    return NetworkFlows(direct / group_hours[None, :], first.new_gbps, duals)


def pair_traffic(inputs: PlanInputs, index: PlanIndex, load: np.ndarray, route: _Routing, members: np.ndarray):
    """(Q, T) busy-hour traffic of each pair's ``members`` triples, recomputed from the loads. [Gbit/s]

    Deferrable routes count their day's mean load in each slice of the day, as the LP does.
    """
    net = inputs.network
    num_t = inputs.hours.size
    window, _ = day_windows(inputs)
    chosen = route.triples[members]
    rows = load[chosen]
    deferred = chosen >= index.num_x_triples
    if deferred.any():
        rows = rows.copy()
        rows[deferred] = window_means(inputs, rows[deferred])[:, window]
    a = net.traffic_gbps_per_mw[index.triple_workload[chosen]] * net.peak_factor
    out = np.zeros((route.pair_path0.size, num_t))
    np.add.at(out, route.pair[members], a[:, None] * rows)
    return out


def path_flows(inputs: PlanInputs, index: PlanIndex, load: np.ndarray, flows: NetworkFlows):
    """(routing, (R, T) busy-hour flow on every path) from the loads and the path-1 flows. [Gbit/s]"""
    route = routing(inputs, index)
    total = pair_traffic(inputs, index, load, route, np.ones(route.triples.size, bool))
    direct = np.zeros_like(total)
    direct[route.split_pairs] = flows.direct_gbps
    out = np.zeros((inputs.network.num_paths, inputs.hours.size))
    out[route.pair_path0] += total - direct
    has1 = route.pair_path1 >= 0
    out[route.pair_path1[has1]] += direct[has1]
    return route, out


def link_loads(inputs: PlanInputs, flows_by_path: np.ndarray) -> np.ndarray:
    """(L, T) busy-hour flow on each link, summed over the paths through it. [Gbit/s]"""
    net = inputs.network
    out = np.zeros((len(net.links), flows_by_path.shape[1]))
    path, link = _expand(net, np.arange(net.num_paths))
    np.add.at(out, link, flows_by_path[path])
    return out


def network_violations(inputs: PlanInputs, index: PlanIndex, load: np.ndarray, flows: NetworkFlows | None,
                       unit: float) -> dict[str, float]:
    """Largest relative violation of the network families, recomputed from loads, path flows and new capacity.

    ``unit`` is the plan's unit scale of traffic [Gbit/s]. Families: net_link (link load within existing
    plus new capacity), net_direct (path-1 flow within what may take it, at least what must) and
    net_bounds (no negative flow or capacity).
    """
    from optimizer.verify import _worst

    if inputs.network is None or flows is None:
        return {}
    route, by_path = path_flows(inputs, index, load, flows)
    cap = inputs.network.links["existing_gbps"].to_numpy(float) + flows.new_gbps
    on_links = link_loads(inputs, by_path)
    out = {"net_link": _worst(on_links - cap[:, None], cap[:, None], unit)}
    if route.split_pairs.size:
        may = pair_traffic(inputs, index, load, route, route.on_direct)[route.split_pairs]
        must = pair_traffic(inputs, index, load, route, route.only_direct)[route.split_pairs]
        out["net_direct"] = max(_worst(flows.direct_gbps - may, may, unit),
                                _worst(must - flows.direct_gbps, must, unit))
    out["net_bounds"] = max(_worst(-by_path, 0.0, unit), _worst(-flows.new_gbps, 0.0, unit))
    return out


def network_costs(inputs: PlanInputs, index: PlanIndex, load: np.ndarray, flows: NetworkFlows | None,
                  accountings=_ACCOUNTINGS) -> dict[str, np.ndarray]:
    """Per site (S,): new-bandwidth cost, transfer electricity and its cost and emissions, from the plan.

    Keys: bandwidth_cost_cny (b × annualised cost, shared by the sites in proportion to their
    traffic over each link, [CNY/yr]), transfer_mwh [MWh/yr], transfer_cost_cny (electricity at the
    links' provinces, [CNY/yr]) and transfer_<accounting>_tco2 [tCO2/yr].
    """
    num_s = len(inputs.sites)
    zeros = np.zeros(num_s)
    out = {"bandwidth_cost_cny": zeros, "transfer_mwh": zeros, "transfer_cost_cny": zeros,
           **{f"transfer_{a}_tco2": zeros for a in accountings}}
    if inputs.network is None or flows is None:
        return out
    net = inputs.network
    hours = inputs.hours
    _, by_path = path_flows(inputs, index, load, flows)
    mwh = (by_path @ hours) * net.path_energy_mwh_per_gbps_h() / net.peak_factor  # (R,)
    site = net.path_site

    def per_site(values):
        return np.bincount(site, values, minlength=num_s)

    out["transfer_mwh"] = per_site(mwh)
    out["transfer_cost_cny"] = per_site(mwh * net.path_mean("price_cny_per_mwh"))
    for accounting in accountings:
        out[f"transfer_{accounting}_tco2"] = per_site(mwh * path_factors(inputs, accounting))
    # Each link's new-capacity cost, shared by the sites whose traffic it carries (evenly where it carries none).
    link_cost = flows.new_gbps * net.links["cost_cny_per_gbps_yr"].to_numpy(float)
    share = np.zeros((len(net.links), num_s))
    for r in range(net.num_paths):
        share[net.path_link_list(r), site[r]] += float(by_path[r] @ hours)
    totals = share.sum(axis=1, keepdims=True)
    served = np.unique(site)
    even = np.zeros(num_s)
    even[served] = 1.0 / max(served.size, 1)
    share = np.where(totals > 0, share / np.where(totals > 0, totals, 1.0), even[None, :])
    out["bandwidth_cost_cny"] = link_cost @ share
    return out


def link_peaks(inputs: PlanInputs, index: PlanIndex, load: np.ndarray, flows: NetworkFlows | None) -> np.ndarray:
    """(L,) largest busy-hour flow of each link over the slices. [Gbit/s]"""
    if inputs.network is None or flows is None:
        return np.zeros(0)
    _, by_path = path_flows(inputs, index, load, flows)
    return link_loads(inputs, by_path).max(axis=1, initial=0.0)


def link_table(inputs: PlanInputs, index: PlanIndex, load: np.ndarray, flows: NetworkFlows | None,
               peak: np.ndarray | None = None) -> pd.DataFrame:
    """One row per link: from, to, length_km, existing_gbps, new_gbps, peak_flow_gbps, utilisation, cost_cny,
    shadow_price (annual value of 1 Gbit/s more existing capacity [CNY/(Gbit/s·yr)]).

    ``peak`` replaces the slices' largest flow (a year plan's, taken from its days' hours).
    """
    from optimizer.results import LINK_COLUMNS as columns

    if inputs.network is None or flows is None:
        return pd.DataFrame(columns=columns)
    links = inputs.network.links
    if peak is None:
        peak = link_peaks(inputs, index, load, flows)
    capacity = links["existing_gbps"].to_numpy(float) + flows.new_gbps
    table = links[["link", "from", "to", "kind", "length_km", "existing_gbps"]].copy()
    table["new_gbps"] = flows.new_gbps
    table["peak_flow_gbps"] = peak
    table["utilisation"] = np.divide(peak, capacity, out=np.zeros(len(links)), where=capacity > 1e-9)
    table["cost_cny"] = flows.new_gbps * links["cost_cny_per_gbps_yr"].to_numpy(float)
    table["shadow_price"] = -flows.link_duals.sum(axis=1) + 0.0  # + 0.0: no "-0.0" in the table
    return table[columns].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Building the network from the tables, and the placement rules
# ---------------------------------------------------------------------------------------------

def build_network(nodes: pd.DataFrame, links: pd.DataFrame, provinces: pd.DataFrame, sites: pd.DataFrame,
                  workloads: pd.DataFrame, province_factors: pd.DataFrame, *, route_factor: float,
                  direct_route_factor: float, hop_ms: float, access_route_factor: float, access_overhead_ms: float,
                  existing_scale: float, link_existing_gbps: dict[str, float], cost_cny_per_gbps_km_yr: float,
                  transfer_kwh_per_gb: float, peak_factor: float) -> NetworkInputs:
    """The network inputs: link lengths, latencies and costs, each province's node, and the paths to every site.

    Parameters
    ----------
    nodes, links : pandas.DataFrame
        network_nodes.csv and network_links.csv.
    provinces : pandas.DataFrame
        P rows with province, lat, lon (the plan's order).
    sites : pandas.DataFrame
        The plan's site table; cluster sites whose id is a node get paths.
    workloads : pandas.DataFrame
        K rows with traffic_gbps_per_mw.
    province_factors : pandas.DataFrame
        Indexed by province: price_cny_per_mwh and ef_<accounting>_tco2_per_mwh of its electricity.
    route_factor, direct_route_factor : float
        Route over great-circle length of existing and candidate direct links. [-]
    hop_ms : float
        One-way delay per link. [ms]
    access_route_factor, access_overhead_ms : float
        The latency model of the leg from a province's representative point to its node. [-], [ms]
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    nodes = nodes.reset_index(drop=True)
    node_pos = {n: i for i, n in enumerate(nodes["node"])}
    links = links.copy().reset_index(drop=True)
    candidate = links["candidate"].astype(str).str.lower().isin(["true", "1"]).to_numpy()
    links["candidate"] = candidate
    a = links["from"].map(node_pos).to_numpy()
    b = links["to"].map(node_pos).to_numpy()
    lat, lon = nodes["lat"].to_numpy(float), nodes["lon"].to_numpy(float)
    links["length_km"] = links["great_circle_km"].to_numpy(float) * np.where(candidate, direct_route_factor,
                                                                              route_factor)
    links["latency_ms"] = links["length_km"] * FIBRE_MS_PER_KM + hop_ms
    existing = links["existing_gbps"].to_numpy(float) * existing_scale
    for name, value in link_existing_gbps.items():
        existing[(links["link"] == name).to_numpy()] = value
    links["existing_gbps"] = existing
    links["cost_cny_per_gbps_yr"] = links["length_km"] * cost_cny_per_gbps_km_yr
    ends = [nodes["province"].to_numpy()[a], nodes["province"].to_numpy()[b]]
    for column in province_factors.columns:
        values = province_factors[column]
        links[column] = (values.reindex(ends[0]).to_numpy(float) + values.reindex(ends[1]).to_numpy(float)) / 2

    # Provinces attach to their own backbone point, else the nearest one.
    backbone = np.nonzero((nodes["kind"] == "backbone").to_numpy())[0]
    own = {p: i for i, p in zip(backbone, nodes["province"].to_numpy()[backbone], strict=True)}
    p_lat, p_lon = provinces["lat"].to_numpy(float), provinces["lon"].to_numpy(float)
    to_backbone = great_circle_km(p_lat[:, None], p_lon[:, None], lat[None, backbone], lon[None, backbone])
    province_node = np.array([own.get(p, backbone[np.argmin(to_backbone[i])])
                              for i, p in enumerate(provinces["province"])])
    access_km = great_circle_km(p_lat, p_lon, lat[province_node], lon[province_node])
    access_ms = access_overhead_ms + access_km * access_route_factor * FIBRE_MS_PER_KM

    # Existing links carry traffic both ways between backbone points; into a cluster only (no transit).
    is_cluster = (nodes["kind"] == "cluster").to_numpy()
    exist = np.nonzero(~candidate)[0]
    forward = exist[~is_cluster[a[exist]]]
    backward = exist[~is_cluster[b[exist]]]
    src = np.concatenate([a[forward], b[backward]])
    dst = np.concatenate([b[forward], a[backward]])
    edge = np.concatenate([forward, backward])
    num_n = len(nodes)
    weight = links["latency_ms"].to_numpy(float)[edge]
    graph = csr_matrix((weight, (src, dst)), shape=(num_n, num_n))
    edge_of = {(int(u), int(v)): int(e) for u, v, e in zip(src, dst, edge, strict=True)}
    origins = np.unique(province_node)
    dist, pred = dijkstra(graph, indices=origins, return_predecessors=True)

    def walk(row: int, target: int) -> list[int]:
        out, v = [], target
        while v != origins[row]:
            u = int(pred[row, v])
            out.append(edge_of[(u, v)])
            v = u
        return out[::-1]

    site_ids = sites["site"].to_numpy()
    cluster_sites = [(j, node_pos[sid]) for j, sid in enumerate(site_ids)
                     if sid in node_pos and is_cluster[node_pos[sid]]]
    link_latency = links["latency_ms"].to_numpy(float)
    rows = []  # (origin, site, direct, latency, links)
    for row, o in enumerate(origins):
        for j, v in cluster_sites:
            if np.isfinite(dist[row, v]):
                rows.append((o, j, False, float(dist[row, v]), walk(row, v)))
            best = None
            for c in np.nonzero(candidate & (b == v))[0]:
                start = a[c]
                if start == o or np.isfinite(dist[row, start]):
                    latency = (0.0 if start == o else float(dist[row, start])) + link_latency[c]
                    if best is None or latency < best[0]:
                        best = (latency, ([] if start == o else walk(row, start)) + [int(c)])
            if best is not None:
                rows.append((o, j, True, best[0], best[1]))
    lengths = np.array([len(r[4]) for r in rows], np.int64)
    return NetworkInputs(
        nodes=nodes[["node", "name_zh", "name_en", "kind", "province", "lat", "lon"]],
        links=links,
        province_node=province_node,
        path_origin=np.array([r[0] for r in rows], np.int64),
        path_site=np.array([r[1] for r in rows], np.int64),
        path_direct=np.array([r[2] for r in rows], bool),
        path_latency_ms=np.array([r[3] for r in rows], float),
        path_link_ptr=np.concatenate([[0], np.cumsum(lengths)]),
        path_links=np.array([e for r in rows for e in r[4]], np.int64),
        access_ms=access_ms,
        traffic_gbps_per_mw=workloads["traffic_gbps_per_mw"].to_numpy(float),
        peak_factor=peak_factor,
        transfer_kwh_per_gb=transfer_kwh_per_gb,
        route_factor=route_factor,
        cost_cny_per_gbps_km_yr=cost_cny_per_gbps_km_yr,
    )


def placement_rules(province_ids: np.ndarray, province_grid: np.ndarray, site_host: np.ndarray,
                    site_grid: np.ndarray, distance_km: np.ndarray, workload_ids: np.ndarray, *,
                    residency: dict[str, str], dr_min_separation_km: dict[str, float],
                    dr_other_grid_region: list[str]) -> np.ndarray | None:
    """(P, S, K) where a class may run under data residency and disaster recovery (None: no rule set).

    - residency 'province': the site is in the origin province; 'grid_region': in its grid region;
    - dr_min_separation_km: the site lies at least that far (great circle) from the origin;
    - dr_other_grid_region: the site lies outside the origin's grid region.
    """
    if not (residency or dr_min_separation_km or dr_other_grid_region):
        return None
    same_province = site_host[None, :] == province_ids[:, None]
    same_grid = site_grid[None, :] == province_grid[:, None]
    mask = np.ones((province_ids.size, site_host.size, workload_ids.size), bool)
    for k, workload in enumerate(workload_ids):
        rule = residency.get(workload)
        if rule == "province":
            mask[:, :, k] &= same_province
        elif rule == "grid_region":
            mask[:, :, k] &= same_grid
        if workload in dr_min_separation_km:
            mask[:, :, k] &= distance_km >= dr_min_separation_km[workload]
        if workload in dr_other_grid_region:
            mask[:, :, k] &= ~same_grid
    return mask
