"""Explain why a plan cannot exist, in words a planner can act on.

Two layers. :func:`precheck_conflicts` finds what is visible without solving (demand with no
site inside its latency limit, national capacity below peak demand). When the solver proves
infeasibility anyway, :func:`diagnose_infeasible` re-solves *elastic* copies of the same LP, in
which each constraint family may be broken at a price, through penalised non-negative slack
columns:

- unserved demand per (province, class, slice) on the demand rows [MW],
- capacity shortfall per site on its capacity rows [MW of load],
- carbon-cap excess on the carbon row [tCO2/yr],
- hub-share shortfall on the hub_share row [MW of new hub capacity],
- a shortfall or excess on each row of every other policy family (``POLICY_FAMILIES``: 上架率,
  green shares, PUE caps, water caps), in the row's own unit.

The families are relaxed in order (physical limits first, then the policy rules), so the
report blames the rule that actually fails: capacity and latency with the policies switched off;
then each policy alone, the others off; then the least achievable emissions under every other
constraint, which is compared with the carbon cap.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from optimizer.formulation import build_lp, emission_vector, latency_vector
from optimizer.index import PlanIndex, window_means
from optimizer.inputs import PlanInputs
from optimizer.lp import LinearProgram
from optimizer.solve import solve_lp
from optimizer.status import PlanNotSolved

#: Policy row families of optimizer/policies.py judged one by one after the physical limits (the hub
#: share has its own phase, as the carbon cap has).
POLICY_FAMILIES = ("hub_occupancy", "hub_green", "green_share", "pue_national", "pue_hub", "water_cap")

#: Order in which conflicts are reported: the physical ones first, as fixing them may fix the rest.
FAMILY_ORDER = ("latency", "demand", "capacity", "hub_share", *POLICY_FAMILIES, "carbon", "latency_cap",
                "unknown")

#: Penalty on unserved demand relative to capacity shortfall (per MW, slice-weighted): new
#: capacity beyond the limits names a place to act on, unserved demand only says "too much".
UNSERVED_PENALTY = 1e3

#: A slack counts as a conflict above this share of its scale (peak demand, cap, new capacity).
RELATIVE_TOLERANCE = 1e-6


@dataclass
class Conflict:
    """One reason a scenario has no plan.

    Attributes
    ----------
    constraint : str
        Constraint family: 'latency', 'demand', 'capacity', 'carbon', 'hub_share' or 'unknown'.
    where : str
        The id it concerns: '<province>/<workload>', a site id, or 'national'.
    amount : float
        By how much it fails, in ``unit``.
    unit : str
    message : str
        One sentence for the planner, naming the constraint, the place and the amount.
    fix : str
        What to change to remove the conflict (one short sentence, no final full stop).
    """

    constraint: str
    where: str
    amount: float
    unit: str
    message: str
    fix: str = field(default="")

    def sentence(self) -> str:
        """``message`` and ``fix`` as one line."""
        return f"{self.message}. {self.fix}" if self.fix else self.message


def _mw(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.3g}"


def _tco2(value: float) -> str:
    # Caps in the national model are tens of MtCO2; hand-made cases are thousands of tonnes.
    if abs(value) >= 1e5:
        return f"{value / 1e6:,.4g} MtCO2"
    return f"{value:,.6g} tCO2"


def _peak_to_carry_mw(inputs: PlanInputs) -> float:
    """Least load all sites together must carry in some slice. [MW]

    The national peak of demand; with deferrable classes, the larger of the other classes' peak
    and the largest daily mean of all demand, since deferrable load may leave the peak hour.
    """
    demand = inputs.demand_mw
    # Capacity carries each slice's peak hour: the classes' demand times their peak factors.
    peak = inputs.peak[None, :, :] * demand
    total = demand.sum(axis=(0, 1))
    deferrable = inputs.deferrable_classes
    if not deferrable.any():
        return float(peak.sum(axis=(0, 1)).max(initial=0.0))
    fixed_peak = peak[:, ~deferrable].sum(axis=(0, 1)).max(initial=0.0)
    return float(max(fixed_peak, window_means(inputs, total).max(initial=0.0)))


def precheck_conflicts(inputs: PlanInputs) -> list[Conflict]:
    """Conflicts visible without solving: unreachable demand and too little capacity overall."""
    conflicts: list[Conflict] = []
    demand = inputs.demand_mw
    allowed = inputs.allowed()
    sites, provinces, workloads = inputs.sites, inputs.provinces, inputs.workloads
    is_cluster = (sites["kind"] == "cluster").to_numpy()
    own_local = sites["serves"].to_numpy()[None, :] == provinces["province"].to_numpy()[:, None]
    reachable = is_cluster[None, :] | own_local
    for p, k in np.argwhere((demand.sum(axis=2) > 0) & ~allowed.any(axis=1)):
        latency = np.where(reachable[p], inputs.eligible_latency_ms[p], np.inf)
        nearest = int(np.argmin(latency)) if latency.size else 0
        limit = float(workloads["latency_max_ms"].iloc[k])
        mean_mw = float(demand[p, k].mean())
        where = f"{provinces['province'].iloc[p]}/{workloads['workload'].iloc[k]}"
        if latency.size and np.isfinite(latency[nearest]):
            tail = f"nearest is {sites['name_en'].iloc[nearest]} at {latency[nearest]:.1f} ms"
            amount = float(latency[nearest] - limit)
        else:
            tail = "no site is enabled that can serve it"
            amount = float("inf")
        conflicts.append(Conflict(
            "latency", where, amount, "ms",
            f"{workloads['name_en'].iloc[k]} demand of {provinces['name_en'].iloc[p]} "
            f"({mean_mw:,.0f} MW) has no site within its {limit:g} ms limit; {tail}",
            "Raise the class's latency_max_ms, enable a nearer site or give a measured latency",
        ))

    # Fitted capacity, all the fit-out the year allows and every new build the site may take.
    ceiling = inputs.fitted_mw + inputs.fitout_max_mw + sites["max_new_mw"].to_numpy(float)
    capacity = float(inputs.utilisation_max * ceiling.sum())
    peak = _peak_to_carry_mw(inputs)
    if peak > capacity * (1 + 1e-9):
        conflicts.append(Conflict(
            "capacity", "national", peak - capacity, "MW",
            f"national peak demand of {peak:,.0f} MW exceeds the capacity of all enabled sites, "
            f"{capacity:,.0f} MW at {inputs.utilisation_max:.0%} utilisation even fully expanded",
            "Lower demand, enable sites or raise max_new_mw, policy.fitout_max_share or utilisation_max",
        ))
    return conflicts


# ---------------------------------------------------------------------------------------------
# The elastic LP
# ---------------------------------------------------------------------------------------------

@dataclass
class ElasticSlacks:
    """Slack columns added to an LP, one array of row numbers (in the original LP) per family.

    Attributes
    ----------
    unserved_rows : numpy.ndarray
        Demand row of each unserved-demand column (one per demand row).
    shortfall_sites : numpy.ndarray
        Site of each capacity-shortfall column (one per site, on all its slices).
    has_carbon, has_hub_share : bool
        Whether a carbon-excess and a hub-share-shortfall column exist.
    policies : tuple of str
        Policy families of ``lp`` (``POLICY_FAMILIES``), each with a slack column ``<family>_slack``
        per row.
    """

    unserved_rows: np.ndarray
    shortfall_sites: np.ndarray
    has_carbon: bool
    has_hub_share: bool
    policies: tuple[str, ...] = ()


def elastic_slacks(lp: LinearProgram, inputs: PlanInputs) -> ElasticSlacks:
    """Which slack columns :func:`build_elastic_lp` adds to ``lp``."""
    demand = lp.rows["demand"]
    return ElasticSlacks(
        unserved_rows=np.arange(demand.start, demand.stop),
        shortfall_sites=np.arange(len(inputs.sites)),
        has_carbon="carbon" in lp.rows,
        has_hub_share="hub_share" in lp.rows,
        policies=tuple(family for family in POLICY_FAMILIES if family in lp.rows),
    )


def build_elastic_lp(
    lp: LinearProgram,
    inputs: PlanInputs,
    cost: np.ndarray,
    penalties: dict[str, np.ndarray | float],
    slack_upper: dict[str, np.ndarray | float] | None = None,
) -> LinearProgram:
    """A copy of ``lp`` with penalised slack columns that let each constraint family fail.

    Parameters
    ----------
    lp : LinearProgram
        The plan's LP (:func:`optimizer.formulation.build_lp`).
    inputs : PlanInputs
    cost : numpy.ndarray, shape (lp.num_cols,)
        Objective on the original columns (zeros for a pure feasibility question, emissions to
        find the least achievable emissions).
    penalties : dict
        Cost per unit of slack, by slack family: 'unserved' [per MW in a slice], 'shortfall'
        [per MW], 'carbon_excess' [per tCO2], 'hub_shortfall' [per MW], '<policy>_slack' [per
        unit of the policy's rows]. A penalty of 0 with no upper bound switches the family's
        constraint off.
    slack_upper : dict, optional
        Upper bounds of the slack columns by family (default: unbounded).

    Returns
    -------
    LinearProgram
        Columns: the original families, then 'unserved', 'shortfall', 'carbon_excess' and
        'hub_shortfall' (the last two when ``lp`` has those rows); rows as in ``lp``.
    """
    slack_upper = slack_upper or {}
    slacks = elastic_slacks(lp, inputs)
    num_t = inputs.hours.size
    elastic = lp.copy(cost=cost)

    def add(family: str, size: int, slack_rows, slack_cols, slack_vals) -> None:
        nonlocal elastic
        penalty = np.broadcast_to(np.asarray(penalties.get(family, 0.0), float), size)
        elastic = elastic.with_slack(family, penalty, slack_upper.get(family, np.inf), slack_rows, slack_cols,
                                     slack_vals)

    # Σ_s x + unserved = D: the unserved part of each demand row.
    size = slacks.unserved_rows.size
    add("unserved", size, slacks.unserved_rows, np.arange(size), np.ones(size))
    # Σ x − u·n − shortfall ≤ u·cap0: one shortfall per site, shared by all its slices.
    capacity = lp.rows["capacity"]
    num_s = slacks.shortfall_sites.size
    add("shortfall", num_s, capacity.start + np.arange(num_s * num_t),
        np.repeat(np.arange(num_s), num_t), -np.ones(num_s * num_t))
    if slacks.has_carbon:
        add("carbon_excess", 1, [lp.rows["carbon"].start], [0], [-1.0])
    if slacks.has_hub_share:
        add("hub_shortfall", 1, [lp.rows["hub_share"].start], [0], [1.0])
    row_lower = lp.arrays()[4]
    for family in slacks.policies:
        block = lp.rows[family]
        count = block.stop - block.start
        # A ≥ row is met with slack added to its side, a ≤ row with slack taken off.
        sign = 1.0 if np.isfinite(row_lower[block.start]) else -1.0
        add(f"{family}_slack", count, np.arange(block.start, block.stop), np.arange(count), np.full(count, sign))
    return elastic


def _slack(elastic: LinearProgram, values: np.ndarray, family: str) -> np.ndarray:
    block = elastic.columns.get(family)
    return values[block.start:block.stop] if block else np.zeros(0)


# ---------------------------------------------------------------------------------------------
# Diagnosis
# ---------------------------------------------------------------------------------------------

def diagnose_infeasible(
    inputs: PlanInputs, lp: LinearProgram | None = None, index: PlanIndex | None = None,
    time_limit_s: float = 600.0,
) -> list[Conflict]:
    """Every conflict that keeps ``inputs`` from having a plan, most fundamental first.

    Parameters
    ----------
    inputs : PlanInputs
    lp, index : optional
        The already built LP of ``inputs`` (built here when not given).
    time_limit_s : float
        Limit for each elastic solve. [s]

    Returns
    -------
    list of Conflict
        Empty only if ``inputs`` has a plan after all. When the elastic solves fail, one
        'unknown' conflict naming the constraint families in play.
    """
    conflicts = precheck_conflicts(inputs)
    if conflicts:
        return conflicts
    if lp is None or index is None or "latency_cap" in lp.rows:
        # A cap on the mean latency is judged last, against the least any plan can reach: the
        # phases before it see the LP without that row.
        lp, index = build_lp(dataclasses.replace(inputs, latency_cap_ms=None))
    try:
        conflicts = _elastic_conflicts(inputs, lp, index, time_limit_s)
    except PlanNotSolved as exc:
        return [_unknown(inputs, f"the relaxed model could not be solved either ({exc})")]
    return sorted(conflicts, key=lambda c: FAMILY_ORDER.index(c.constraint))


def _elastic_conflicts(
    inputs: PlanInputs, lp: LinearProgram, index: PlanIndex, time_limit_s: float
) -> list[Conflict]:
    num_t = inputs.hours.size
    zero_cost = np.zeros(lp.num_cols)
    # Weighted by the slices' hours, the lightest slice (a peak day's) still at UNSERVED_PENALTY per MW.
    slice_weight = inputs.hours / max(float(inputs.hours.min()), 1e-9)
    demand_rows = lp.rows["demand"].stop - lp.rows["demand"].start
    unserved_penalty = UNSERVED_PENALTY * np.tile(slice_weight, demand_rows // num_t)

    def solve(model: LinearProgram):
        return solve_lp(model, backend="highs", time_limit_s=time_limit_s)

    # 1. Physical: demand, latency (by construction of the columns) and capacity, policies off.
    penalties = {"unserved": unserved_penalty, "shortfall": 1.0}
    physical = build_elastic_lp(lp, inputs, zero_cost, penalties)
    solution = solve(physical)
    unserved = _slack(physical, solution.values, "unserved")
    shortfall = _slack(physical, solution.values, "shortfall")
    scale = max(float(inputs.demand_mw.sum(axis=(0, 1)).max(initial=0.0)), 1.0)
    unserved = np.where(unserved > RELATIVE_TOLERANCE * scale, unserved, 0.0)
    shortfall = np.where(shortfall > RELATIVE_TOLERANCE * scale, shortfall, 0.0)
    conflicts = _unserved_conflicts(inputs, index, unserved) + _capacity_conflicts(
        inputs, lp, index, physical, solution.values, shortfall)
    # Later phases may use the physical slack found here, no more.
    physical_upper = {"unserved": unserved, "shortfall": shortfall}

    # 2. The hub share alone (carbon cap off).
    hub_short = 0.0
    if "hub_share" in lp.rows:
        model = build_elastic_lp(lp, inputs, zero_cost, {"hub_shortfall": 1.0}, physical_upper)
        solution = solve(model)
        hub_short = float(_slack(model, solution.values, "hub_shortfall")[0])
        new_mw = solution.values[lp.columns["n"].start:lp.columns["n"].stop]
        if hub_short > RELATIVE_TOLERANCE * max(float(new_mw.sum()), 1.0):
            conflicts.append(_hub_conflict(inputs, index, new_mw, hub_short))
        else:
            hub_short = 0.0

    # 2b. Each other policy alone: the least it must be broken by, the other policies off.
    policy_upper: dict[str, np.ndarray | float] = {"hub_shortfall": hub_short}
    for family in POLICY_FAMILIES:
        if family not in lp.rows:
            continue
        model = build_elastic_lp(lp, inputs, zero_cost, {f"{family}_slack": 1.0},
                                 {**physical_upper, "hub_shortfall": hub_short})
        solution = solve(model)
        slack = _slack(model, solution.values, f"{family}_slack")
        found = _policy_conflicts(inputs, index, family, slack, solution.values, lp)
        conflicts.extend(found)
        policy_upper[f"{family}_slack"] = slack if found else 0.0

    # 3. The carbon cap against the least achievable emissions under everything else.
    carbon_excess = 0.0
    if "carbon" in lp.rows:
        model = build_elastic_lp(lp, inputs, emission_vector(lp, inputs, index), {},
                                 {**physical_upper, **policy_upper})
        least = solve(model).objective
        cap = float(inputs.carbon_cap_tco2)
        if least > cap + RELATIVE_TOLERANCE * max(cap, 1.0):
            conflicts.append(_carbon_conflict(inputs, cap, least))
            carbon_excess = least - cap

    # 4. A cap on the mean latency against the least achievable mean latency under everything else.
    if inputs.latency_cap_ms is not None and np.isfinite(inputs.latency_cap_ms):
        model = build_elastic_lp(lp, inputs, latency_vector(lp, inputs, index), {},
                                 {**physical_upper, **policy_upper, "carbon_excess": carbon_excess})
        least = solve(model).objective / max(inputs.it_energy_mwh, 1e-12)
        cap = float(inputs.latency_cap_ms)
        if least > cap + RELATIVE_TOLERANCE * max(cap, 1.0):
            conflicts.append(Conflict(
                "latency_cap", "national", least - cap, "ms",
                f"the cap of {cap:.3g} ms on the plan's load-weighted mean latency is below the least "
                f"achievable {least:.3g} ms with the sites enabled",
                "Raise latency.mean_cap_ms or enable sites nearer to the demand",
            ))

    if not conflicts:
        reason = "the relaxed model meets every constraint, so the verdict is likely numerical"
        conflicts.append(_unknown(inputs, reason))
    return conflicts


def _unserved_conflicts(
    inputs: PlanInputs, index: PlanIndex, unserved: np.ndarray
) -> list[Conflict]:
    num_t = inputs.hours.size
    provinces, workloads = inputs.provinces, inputs.workloads
    conflicts = []
    by_pair = unserved.reshape(-1, num_t).max(axis=1)
    for r in np.nonzero(by_pair > 0)[0]:
        p, k = index.demand_pairs[r]
        where = f"{provinces['province'].iloc[p]}/{workloads['workload'].iloc[k]}"
        conflicts.append(Conflict(
            "demand", where, float(by_pair[r]), "MW",
            f"{_mw(by_pair[r])} MW of {workloads['name_en'].iloc[k]} demand of "
            f"{provinces['name_en'].iloc[p]} cannot be served by any site within its latency limit",
            "Raise the class's latency_max_ms or the capacity of the sites near it",
        ))
    return conflicts


def _capacity_conflicts(
    inputs: PlanInputs,
    lp: LinearProgram,
    index: PlanIndex,
    elastic: LinearProgram,
    values: np.ndarray,
    shortfall: np.ndarray,
) -> list[Conflict]:
    sites, provinces, workloads = inputs.sites, inputs.provinces, inputs.workloads
    num_t = inputs.hours.size
    u_max = inputs.utilisation_max
    x = elastic.columns["x"]
    load = values[x.start:x.stop].reshape(-1, num_t)
    # x holds the classes that cannot defer; deferrable load is one profile z per site. Capacity
    # carries each slice's peak hour, so loads count with their classes' peak factors.
    num_x = index.num_x_triples
    load = load * inputs.peak[index.triple_workload[:num_x]]
    all_site_load = np.zeros((len(sites), num_t))
    np.add.at(all_site_load, index.triple_site[:num_x], load)
    if "z" in elastic.columns:
        z = elastic.columns["z"]
        all_site_load[index.defer_sites] += values[z.start:z.stop].reshape(-1, num_t)
    # Demand with nowhere else to go: every site within its reach falls short too. Read off the
    # connections, not the elastic solution, which may park movable load at any of tied sites.
    allowed = inputs.allowed()  # (P, S, K)
    short = shortfall > 0
    # A site that can hold nothing is no way out either, wherever the elastic solve put the shortfall.
    empty = inputs.fitted_mw + inputs.fitout_max_mw + sites["max_new_mw"].to_numpy(float) <= 0
    bound = allowed.any(axis=1) & ~(allowed & ~(short | empty)[None, :, None]).any(axis=1)  # (P, K)
    limits = workloads["latency_max_ms"].to_numpy(float)
    mean_demand = inputs.demand_mw.mean(axis=2)
    conflicts = []
    for s in np.nonzero(short)[0]:
        site_load = all_site_load[s]
        peak_t = int(np.argmax(site_load)) if site_load.size else 0
        pairs = np.argwhere(bound & allowed[:, s, :])
        # Tightest latency limit first: that demand is the one truly bound to the site.
        order = sorted(pairs.tolist(), key=lambda pk: (limits[pk[1]], -mean_demand[pk[0], pk[1]]))
        users = [f"{workloads['name_en'].iloc[k]} of {provinces['name_en'].iloc[p]}" for p, k in order[:3]]
        fitted = float(inputs.fitted_mw[s])
        fitout = float(inputs.fitout_max_mw[s])
        max_new = float(sites["max_new_mw"].iloc[s])
        missing_mw = float(shortfall[s]) / u_max
        users_text = f" (mainly {', '.join(users)})" if users else ""
        conflicts.append(Conflict(
            "capacity", str(sites["site"].iloc[s]), missing_mw, "MW",
            f"capacity of {sites['name_en'].iloc[s]} falls {_mw(missing_mw)} MW short: its "
            f"{_mw(fitted)} MW in use, at most {_mw(fitout)} MW of vacant racks fitted out and {_mw(max_new)} MW "
            f"new carry {_mw(u_max * (fitted + fitout + max_new))} MW at {u_max:.0%} utilisation, but the demand "
            f"within its latency reach that has nowhere else to go{users_text} peaks at "
            f"{_mw(float(site_load[peak_t]))} MW",
            "Raise the site's existing_mw or max_new_mw, or loosen the latency limits that bind "
            "this demand to it",
        ))
    return conflicts


def _hub_conflict(
    inputs: PlanInputs, index: PlanIndex, new_mw: np.ndarray, short_mw: float
) -> Conflict:
    share_min = float(inputs.hub_new_share_min)
    is_cluster = (inputs.sites["kind"].to_numpy() == "cluster")[index.new_sites]
    hub_new = float(new_mw[is_cluster].sum())
    total_new = float(new_mw.sum())
    cluster_room = float(inputs.sites.loc[inputs.sites["kind"] == "cluster", "max_new_mw"].sum())
    return Conflict(
        "hub_share", "national", short_mw, "MW",
        f"the national rule that at least {share_min:.0%} of new capacity be built in the hub "
        f"clusters cannot be met: the plan needs {_mw(total_new)} MW of new capacity, but the hub "
        f"clusters can add only {_mw(hub_new)} MW ({hub_new / max(total_new, 1e-12):.0%}; their "
        f"max_new_mw total {_mw(cluster_room)} MW), {_mw(short_mw)} MW short",
        "Lower policy.hub_new_share_min or raise the hub clusters' max_new_mw",
    )


def _policy_conflicts(inputs: PlanInputs, index: PlanIndex, family: str, slack: np.ndarray,
                      values: np.ndarray, lp: LinearProgram) -> list[Conflict]:
    """The rows of one policy family that no plan can meet, in words: how far, and what to change."""
    it_mwh = max(float(inputs.it_energy_mwh), 1e-12)
    # What a slack is small against: the built stock [MW], the IT energy [MWh], a m³ of water.
    scale = {"hub_occupancy": max(float(inputs.sites["existing_mw"].sum()), 1.0), "water_cap": 1.0}.get(
        family, it_mwh)
    rows = np.nonzero(slack > RELATIVE_TOLERANCE * scale)[0]
    sites, provinces = inputs.sites, inputs.provinces
    out = []
    for j in rows:
        amount = float(slack[j])
        if family == "hub_occupancy":
            r = float(inputs.hub_occupancy_min)
            out.append(Conflict(
                family, "clusters", amount, "MW",
                f"the hub clusters' 上架率 of at least {r:.0%} cannot be reached: with at most "
                f"{_mw(float(inputs.fitout_max_mw[sites['kind'] == 'cluster'].sum()))} MW of vacant racks fitted "
                f"out in the year they stay {_mw(amount)} MW of racks in use short",
                "Lower policy.hub_occupancy_min or raise policy.fitout_max_share"))
        elif family == "hub_green":
            site = sites["site"].iloc[index.new_sites[(sites["kind"] == "cluster").to_numpy()[index.new_sites]][j]]
            out.append(Conflict(
                family, str(site), amount, "MWh/yr",
                f"new capacity at {site} cannot be matched with {inputs.hub_new_green_share_min:.0%} green power: "
                f"{amount / 1e6:,.3g} TWh/yr short of what its new capacity would need",
                "Lower policy.hub_new_green_share_min, offer certificates or raise the site's green power"))
        elif family == "green_share":
            share = float(inputs.green_share_min)
            offer = "" if inputs.certificate_price_cny_per_mwh is not None else " and no certificates on offer"
            out.append(Conflict(
                family, "national", amount, "MWh/yr",
                f"at least {share:.0%} of the electricity cannot be bought green with the bundled green power "
                f"available{offer}: {amount / 1e6:,.3g} TWh/yr short",
                "Lower policy.green_share_min, offer certificates (costs.certificate_price_cny_per_mwh) or "
                "raise green_available_mw"))
        elif family == "pue_national":
            cap = float(inputs.pue_cap_national)
            out.append(Conflict(
                family, "national", amount / it_mwh, "PUE",
                f"the national PUE cap of {cap:.3g} cannot be met: the least average PUE any plan reaches with "
                f"these sites is {cap + amount / it_mwh:.3f}",
                "Raise policy.pue_cap_national or lower the sites' pue"))
        elif family == "pue_hub":
            cap = inputs.site_values("pue_cap")
            capped = np.nonzero((sites["kind"] == "cluster").to_numpy() & np.isfinite(cap)
                                & (inputs.pue.max(axis=1, initial=0.0) > cap))[0]
            site = sites["site"].iloc[capped[j]]
            out.append(Conflict(
                family, str(site), amount, "MWh/yr",
                f"{site} cannot keep its annual PUE within its cap of {cap[capped[j]]:.3g} with the load that can "
                f"only run there: {amount:,.0f} MWh/yr of facility energy over",
                f"Raise sites.{site}.pue_cap, lower its pue or loosen the latency limits that bind load to it"))
        else:  # water_cap
            capped = np.nonzero(np.isfinite(np.asarray(inputs.water_cap_m3, float)))[0]
            province = provinces["province"].iloc[capped[j]]
            cap = float(np.asarray(inputs.water_cap_m3, float)[capped[j]])
            out.append(Conflict(
                family, str(province), amount, "m3",
                f"the water cap of {cap:,.0f} m³/yr in {provinces['name_en'].iloc[capped[j]]} cannot be met: "
                f"the load that can only run at its sites needs {amount:,.0f} m³/yr more",
                f"Raise provinces.{province}.water_cap_m3 or lower its sites' wue_l_per_kwh"))
    return out


def _carbon_conflict(inputs: PlanInputs, cap: float, least: float) -> Conflict:
    rules = " and the hub share in force" if inputs.hub_new_share_min else ""
    means = ("by moving load to cleaner grids" if inputs.carbon_accounting == "location"
             else "with the green power available")
    return Conflict(
        "carbon", "national", least - cap, "tCO2",
        f"the national carbon cap of {_tco2(cap)} ({inputs.carbon_accounting}-based) is below the least "
        f"achievable {_tco2(least)} {means}{rules}",
        "Raise carbon.cap_tco2, count emissions another way (carbon.accounting) or enable cleaner sites"
        if inputs.carbon_accounting == "location" else "Raise carbon.cap_tco2 or make more green power available",
    )


def _unknown(inputs: PlanInputs, reason: str) -> Conflict:
    parts = ["demand", "site capacity and expansion limits"]
    if inputs.carbon_cap_tco2 is not None:
        parts.append(f"the carbon cap of {_tco2(inputs.carbon_cap_tco2)}")
    if inputs.hub_new_share_min:
        parts.append(f"the {inputs.hub_new_share_min:.0%} hub share of new capacity")
    if inputs.latency_cap_ms is not None and np.isfinite(inputs.latency_cap_ms):
        parts.append(f"the {inputs.latency_cap_ms:.3g} ms cap on mean latency")
    together = ", ".join(parts[:-1]) + " and " + parts[-1]
    return Conflict("unknown", "national", float("nan"), "",
                    f"no plan meets {together} together; {reason}",
                    "Rerun with --debug and a tighter solver tolerance")


def explain_conflicts(conflicts: list[Conflict]) -> str:
    """One line for the planner: the first conflict in full, and how many more there are."""
    if not conflicts:
        return "no conflict found"
    line = conflicts[0].sentence()
    if len(conflicts) > 1:
        others = ", ".join(f"{c.constraint} at {c.where}" for c in conflicts[1:4])
        more = f", {len(conflicts) - 4} more" if len(conflicts) > 4 else ""
        plural = "s" if len(conflicts) > 2 else ""
        line += f" (and {len(conflicts) - 1} more conflict{plural}: {others}{more})"
    return line


def explain_infeasible(inputs: PlanInputs, conflicts: list[Conflict] | None = None) -> str:
    """One line saying why ``inputs`` has no plan, for when the solver proved infeasibility."""
    return explain_conflicts(diagnose_infeasible(inputs) if conflicts is None else conflicts)
