"""Refusing what the machine cannot hold: a scenario's LP size, estimated from the scenario before anything is built.

The dimensions come from the scenario and the default tables alone (provinces, enabled sites,
classes, ``time.days × time.hours_per_day`` slices), with every cluster taken as reachable (with the
network on, every cluster within a class's limit on its faster backbone path), so the estimate
(:func:`optimizer.size.estimate_lp_size`) is an upper bound and costs milliseconds. A plan
whose estimated memory is over the budget (``solver.memory_budget_gb``, or half of this machine's
available memory) is refused with :class:`planner.errors.PlanTooLarge` (exit code 2): its size and
what to do. The command line, studies, pathways and the app all check here.
"""

from __future__ import annotations

from optimizer.size import BYTES_PER_GB, DEFAULT_BUDGET_SHARE, LPSize, estimate_lp_size, memory_budget_bytes
from planner.errors import PlanTooLarge
from planner.scenario import Scenario, SiteOverride, _dataset_ids


def _deferrable_flags(scenario: Scenario) -> dict[str, bool]:
    """Which classes defer load within the day (none unless ``time.defer_within_day``)."""
    if not scenario.time.defer_within_day:
        return {}
    from edwc_data.tables import load_tables

    workloads = load_tables()["workloads"]
    flags = workloads["deferrable"].astype(bool).to_dict() if "deferrable" in workloads else {}
    for workload, override in scenario.workloads.items():
        if override.deferrable is not None:
            flags[workload] = override.deferrable
    return {k: bool(v) for k, v in flags.items()}


def _deferrable_classes(scenario: Scenario) -> int:
    return sum(_deferrable_flags(scenario).values())


def _backbone(scenario: Scenario):
    """The scenario's backbone on the default tables, every cluster in (a few milliseconds: 26 nodes)."""
    import pandas as pd
    from edwc_data.tables import load_tables

    from optimizer.network import build_network

    tables = load_tables()
    settings = scenario.network
    network = build_network(
        tables["network_nodes"], tables["network_links"], tables["provinces"].reset_index(drop=True),
        tables["sites"].reset_index(drop=True), tables["workloads"], pd.DataFrame(index=tables["provinces"].index),
        route_factor=settings.route_factor, direct_route_factor=settings.direct_route_factor,
        hop_ms=settings.hop_ms, access_route_factor=scenario.latency.route_factor,
        access_overhead_ms=scenario.latency.overhead_ms, existing_scale=settings.existing_scale,
        link_existing_gbps=settings.link_existing_gbps, cost_cny_per_gbps_km_yr=settings.cost_cny_per_gbps_km_yr,
        transfer_kwh_per_gb=settings.transfer_kwh_per_gb, peak_factor=settings.peak_factor,
    )
    return tables, network


def _network_dimensions(scenario: Scenario, enabled: set[str]) -> tuple[dict, float | None, float | None]:
    """The backbone's sizes for :func:`estimate_lp_size`, and (allowed share, deferrable share) of the triples.

    With the network on, a cluster is reachable by a (province, class) only within the class's
    latency limit on its faster path (a measured pair counts as reachable), so the shares come from
    the paths; without it, (None, None): every cluster counts.
    """
    if not scenario.network.enabled:
        return {}, None, None
    import numpy as np

    tables, network = _backbone(scenario)
    hops = int((network.path_link_ptr[1:] - network.path_link_ptr[:-1]).max(initial=0))
    sizes = {"network_links": len(network.links), "network_split_pairs": int(network.path_direct.sum()),
             "network_path_links": hops}
    clusters = tables["sites"]["site"].to_numpy()
    latency = np.minimum(network.route_latency_ms(len(clusters), direct=False),
                         network.route_latency_ms(len(clusters), direct=True))
    provinces = list(tables["provinces"]["province"])
    for pair in scenario.latency.measured:
        if pair.site in clusters and pair.province in provinces:
            latency[provinces.index(pair.province), list(clusters).index(pair.site)] = 0.0
    workloads = tables["workloads"]
    limits = workloads["latency_max_ms"].astype(float).fillna(np.inf).to_dict()
    for workload, override in scenario.workloads.items():
        if override.latency_max_ms is not None:
            limits[workload] = np.inf if override.latency_max_ms == "none" else float(override.latency_max_ms)
    on = np.array([c in enabled for c in clusters])
    locals_on = np.array([f"local_{p}" in enabled for p in provinces])
    per_class = np.array([((latency[:, on] <= limits[k]).sum(axis=1) + locals_on).sum() for k in workloads.index])
    num_sites = max(len(enabled), 1)
    total = float(per_class.sum())
    share = total / (len(provinces) * num_sites * len(workloads))
    flags = _deferrable_flags(scenario)
    deferrable = sum(float(n) for k, n in zip(workloads.index, per_class, strict=True) if flags.get(k))
    return sizes, share, (deferrable / total if total else 0.0)


def estimate_plan_size(scenario: Scenario) -> LPSize:
    """Upper bound on the size of the scenario's planning LP (one planned year), from the scenario alone."""
    provinces, clusters, workloads, _ = _dataset_ids()

    def enabled(site: str) -> bool:
        return (scenario.sites.get(site) or SiteOverride()).enabled is not False

    num_clusters = sum(enabled(site) for site in clusters)
    num_locals = sum(enabled(f"local_{province}") for province in provinces)
    num_sites = max(num_clusters + num_locals, 1)
    classes = len(workloads)
    green = num_clusters + sum(
        1 for site, override in scenario.sites.items()
        if site.startswith("local_") and (override.green_available_mw or 0) > 0
    )
    time = scenario.time
    days = time.days
    if time.representative == "clustered" and time.extreme_days:
        # The peak days join the clustered ones: at most the national peak and one per demand shape.
        from edwc_data.tables import load_tables

        days = min(days + 1 + int(load_tables()["workloads"]["shape"].nunique()), 365)
    policy = scenario.policy
    families = sum((
        policy.hub_occupancy_min is not None, bool(policy.hub_new_green_share_min),
        policy.green_share_min is not None, policy.pue_cap_national is not None, policy.hub_pue_caps,
        any(p.water_cap_m3 is not None for p in scenario.provinces.values()),
    ))
    enabled_sites = {s for s in clusters if enabled(s)} | {f"local_{p}" for p in provinces if enabled(f"local_{p}")}
    network, allowed, deferrable = _network_dimensions(scenario, enabled_sites)
    return estimate_lp_size(
        len(provinces), num_sites, classes, days * time.hours_per_day,
        # Each (province, class) reaches at most every cluster (within its limit, with the network) and its
        # own local site.
        allowed_share=min((num_clusters + 1) / num_sites, 1.0) if allowed is None else min(allowed, 1.0),
        days=days,
        deferrable_share=_deferrable_classes(scenario) / max(classes, 1) if deferrable is None else deferrable,
        green_sites=green,
        carbon_cap=scenario.carbon.cap_tco2 is not None,
        latency_cap=scenario.latency.mean_cap_ms is not None,
        hub_share=bool(scenario.policy.hub_new_share_min),
        defer_peak_factor=time.defer_peak_factor is not None,
        policy_families=families,
        **network,
        backend=scenario.solver.backend,
    )


def check_plan_size(scenario: Scenario, source: str | None = None, cap_bytes: int | None = None) -> LPSize:
    """Refuse a scenario whose LP would not fit in the memory budget, before anything is built.

    Parameters
    ----------
    scenario : Scenario
    source : str, optional
        Where the scenario came from, for the message (default: ``scenario '<name>'``).
    cap_bytes : int, optional
        A hard ceiling the scenario's own budget cannot raise (the app's worker limit). [bytes]

    Returns
    -------
    optimizer.size.LPSize
        The estimate, when it fits.

    Raises
    ------
    planner.errors.PlanTooLarge
        One line: the estimated size, the budget and what to do.
    """
    size = estimate_plan_size(scenario)
    budget = memory_budget_bytes(scenario.solver.memory_budget_gb)
    what = (f"solver.memory_budget_gb = {scenario.solver.memory_budget_gb:g}" if scenario.solver.memory_budget_gb
            else f"{DEFAULT_BUDGET_SHARE:.0%} of this machine's available memory")
    if cap_bytes is not None and (budget is None or cap_bytes < budget):
        budget, what = cap_bytes, "the limit of this server's solver processes"
    if budget is None or size.memory_bytes <= budget:
        return size
    days, per_day = scenario.time.days, scenario.time.hours_per_day
    msg = (
        f"{days * per_day:,} time slices ({days} day{'s' if days > 1 else ''} × {per_day} per day) give an LP of "
        f"{size.describe()}, over the budget of {budget / BYTES_PER_GB:,.3g} GB ({what}). Plan on fewer slices: "
        "fewer time.days or time.hours_per_day, or clustered days (time.representative: clustered, about 12 days), "
        "then check the plan over the whole year with `edwc check`; or raise solver.memory_budget_gb on a machine "
        "that has the memory."
    )
    raise PlanTooLarge(
        msg,
        source=source or f"scenario '{scenario.name}'", field="time",
    )
