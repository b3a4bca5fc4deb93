"""Recompute every constraint from the extracted plan, independently of the LP matrix, before trusting it."""

from __future__ import annotations

import numpy as np

from optimizer.extract import PlanQuantities, site_load
from optimizer.formulation import PlanIndex, day_windows, window_means
from optimizer.inputs import PlanInputs


def _worst(excess: np.ndarray, scale: np.ndarray | float) -> float:
    # Relative violation: a capacity of 3,000 MW off by 1e-6 MW is fine; scale never below 1.
    if np.size(excess) == 0:
        return 0.0
    return float(np.max(np.maximum(excess, 0.0) / np.maximum(np.abs(scale), 1.0)))


def constraint_violations(inputs: PlanInputs, index: PlanIndex, q: PlanQuantities) -> dict[str, float]:
    """Largest relative violation of each constraint family by the plan.

    Recomputed from the physical quantities (loads, new capacity, green power) and the inputs,
    not from the LP matrix, so an error in building the LP shows up here too.

    Returns
    -------
    dict
        Family name -> largest violation, relative to the constraint's own scale (at least 1
        in its unit). 0 means satisfied.
    """
    sites, hours = inputs.sites, inputs.hours
    num_p, num_k, num_t = inputs.demand_mw.shape
    violations: dict[str, float] = {}

    served = np.zeros((num_p, num_k, num_t))
    np.add.at(served, (index.triple_province, index.triple_workload), q.load)
    if q.unserved_mw is not None:  # a dispatch may leave demand unserved, at a price
        violations["unserved"] = _worst(-q.unserved_mw, 1.0)
        served = served + q.unserved_mw
    # Deferrable classes must serve each day's energy; the others their demand in every slice.
    deferrable = inputs.deferrable_classes
    fixed = ~deferrable
    violations["demand"] = _worst(np.abs(served - inputs.demand_mw)[:, fixed], inputs.demand_mw[:, fixed])
    if deferrable.any():
        window, relative = day_windows(inputs)
        num_windows = window.max() + 1

        def per_day(values):
            flat = values.reshape(-1, num_t) * relative
            return np.stack([np.bincount(window, row, minlength=num_windows) for row in flat])

        daily_served = per_day(served[:, deferrable])
        daily_demand = per_day(inputs.demand_mw[:, deferrable])
        violations["demand"] = max(
            violations["demand"], _worst(np.abs(daily_served - daily_demand), daily_demand)
        )
        if inputs.defer_peak_factor is not None:
            # A site's deferrable load stays within the peak factor × its mean of the day.
            is_deferred = deferrable[index.triple_workload]
            deferred = np.zeros((len(sites), num_t))
            np.add.at(deferred, index.triple_site[is_deferred], q.load[is_deferred])
            cap = inputs.defer_peak_factor * window_means(inputs, deferred)[:, window]
            violations["deferral"] = _worst(deferred - cap, cap)

    cap = inputs.utilisation_max * (sites["existing_mw"].to_numpy(float) + q.new_mw)
    it_load = site_load(inputs, index, q.load)
    violations["capacity"] = _worst(it_load - cap[:, None], cap[:, None])

    max_new = sites["max_new_mw"].to_numpy(float)
    violations["bounds"] = max(
        _worst(-q.load, 1.0), _worst(-q.new_mw, 1.0), _worst(q.new_mw - max_new, max_new), _worst(-q.green_mw, 1.0)
    )

    pue = sites["pue"].to_numpy(float)
    available = (
        sites["green_available_mw"].to_numpy(float)[:, None] * inputs.green_profile
        + (sites["green_new_share"].to_numpy(float) * pue * q.new_mw)[:, None]
    )
    violations["green"] = max(
        _worst(q.green_mw - pue[:, None] * it_load, pue[:, None] * it_load),
        _worst(q.green_mw - available, available),
    )

    if inputs.carbon_cap_tco2 is not None:
        ef = sites["ef_tco2_per_mwh"].to_numpy(float)
        emissions = float(ef @ ((pue[:, None] * it_load - q.green_mw) @ hours))
        violations["carbon"] = _worst(np.array([emissions - inputs.carbon_cap_tco2]), inputs.carbon_cap_tco2)

    if inputs.hub_new_share_min:
        is_cluster = (sites["kind"] == "cluster").to_numpy()
        total_new = q.new_mw.sum()
        shortfall = inputs.hub_new_share_min * total_new - q.new_mw[is_cluster].sum()
        violations["hub_share"] = _worst(np.array([shortfall]), total_new)

    if inputs.latency_cap_ms is not None and np.isfinite(inputs.latency_cap_ms):
        energy = q.load @ hours
        mean_latency = float(energy @ inputs.latency_ms[index.triple_province, index.triple_site]) / max(
            float(energy.sum()), 1e-12)
        violations["latency_cap"] = _worst(np.array([mean_latency - inputs.latency_cap_ms]), inputs.latency_cap_ms)

    limit = inputs.workloads["latency_max_ms"].to_numpy(float)[index.triple_workload]
    latency = inputs.latency_ms[index.triple_province, index.triple_site]
    used = q.load.max(axis=1, initial=0.0) > 1e-9
    violations["latency"] = _worst(np.where(used, latency - limit, 0.0), limit[np.isfinite(limit)].min(initial=1.0))
    return violations
