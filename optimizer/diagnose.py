"""Explain why a plan cannot exist, in words a planner can act on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.inputs import PlanInputs


@dataclass
class Conflict:
    """One reason a scenario has no plan.

    Attributes
    ----------
    constraint : str
        Constraint family: 'latency', 'capacity', 'carbon', 'hub_share', ...
    where : str
        The province, class, site or 'national' it concerns.
    amount : float
        By how much it fails, in ``unit``.
    unit : str
    message : str
        One sentence for the planner.
    """

    constraint: str
    where: str
    amount: float
    unit: str
    message: str


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
        latency = np.where(reachable[p], inputs.latency_ms[p], np.inf)
        nearest = int(np.argmin(latency))
        limit = float(workloads["latency_max_ms"].iloc[k])
        mean_mw = float(demand[p, k].mean())
        where = f"{provinces['province'].iloc[p]}/{workloads['workload'].iloc[k]}"
        if np.isfinite(latency[nearest]):
            tail = f"nearest is {sites['name_en'].iloc[nearest]} at {latency[nearest]:.1f} ms"
        else:
            tail = "no site is enabled that can serve it"
        conflicts.append(Conflict(
            "latency", where, latency[nearest] - limit, "ms",
            f"{workloads['name_en'].iloc[k]} demand of {provinces['name_en'].iloc[p]} ({mean_mw:,.0f} MW) "
            f"has no site within its {limit:g} ms limit; {tail}",
        ))

    capacity = inputs.utilisation_max * (sites["existing_mw"].to_numpy(float) + sites["max_new_mw"].to_numpy(float))
    peak = float(demand.sum(axis=(0, 1)).max(initial=0.0))
    if peak > capacity.sum() * (1 + 1e-9):
        conflicts.append(Conflict(
            "capacity", "national", peak - capacity.sum(), "MW",
            f"peak demand of {peak:,.0f} MW exceeds the {capacity.sum():,.0f} MW all enabled sites can carry "
            f"at {inputs.utilisation_max:.0%} utilisation, even fully expanded",
        ))
    return conflicts


def explain_infeasible(inputs: PlanInputs) -> str:
    """One line saying why ``inputs`` has no plan, for when the solver proved infeasibility."""
    conflicts = precheck_conflicts(inputs)
    if conflicts:
        more = f" (and {len(conflicts) - 1} more conflicts)" if len(conflicts) > 1 else ""
        return conflicts[0].message + more
    parts = ["demand", "site capacity and expansion limits"]
    if inputs.carbon_cap_tco2 is not None:
        parts.append(f"the carbon cap of {inputs.carbon_cap_tco2 / 1e6:,.2f} MtCO2")
    if inputs.hub_new_share_min:
        parts.append(f"the {inputs.hub_new_share_min:.0%} hub share of new capacity")
    return "no plan meets " + ", ".join(parts[:-1]) + " and " + parts[-1] + " together"
