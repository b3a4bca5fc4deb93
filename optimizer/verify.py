"""Recompute every constraint from the extracted plan, independently of the LP matrix, before trusting it."""

from __future__ import annotations

import numpy as np

from optimizer.extract import PlanQuantities, site_load
from optimizer.formulation import PlanIndex, day_windows, window_means
from optimizer.inputs import PlanInputs

#: A row's violation is measured against its own scale, but never against less than this share of
#: its family's unit scale (the largest scale of that kind in the plan: power, emissions, latency).
#: So a row a million times smaller than the largest of its kind is checked to 1e-6 x 1e-6 of
#: that largest, and a plan that is tiny as a whole (1e-318 MW) is checked relative to itself:
#: no absolute floor (such as 1 MW) can make a wrong plan pass. [-]
RELATIVE_FLOOR = 1e-6
#: A connection counts as used (its latency limit applies) above this share of the power unit scale. [-]
USED_SHARE = 1e-9


def _worst(excess: np.ndarray, scale: np.ndarray | float, unit: float) -> float:
    """Largest ``excess / max(|scale|, RELATIVE_FLOOR * unit)``; an excess over a zero denominator is infinite."""
    excess = np.maximum(np.asarray(excess, float), 0.0)
    if excess.size == 0:
        return 0.0
    denominator = np.maximum(np.abs(np.broadcast_to(np.asarray(scale, float), excess.shape)),
                             RELATIVE_FLOOR * abs(float(unit)))
    ratio = np.divide(excess, denominator, out=np.where(excess > 0, np.inf, 0.0), where=denominator > 0)
    return float(np.max(ratio))


def _unit(*values: np.ndarray | float) -> float:
    """The largest finite magnitude among ``values``: a family's unit scale."""
    largest = 0.0
    for value in values:
        array = np.abs(np.asarray(value, float))
        array = array[np.isfinite(array)]
        if array.size:
            largest = max(largest, float(array.max()))
    return largest


def constraint_violations(inputs: PlanInputs, index: PlanIndex, q: PlanQuantities) -> dict[str, float]:
    """Largest relative violation of each constraint family by the plan.

    Recomputed from the physical quantities (loads, new capacity, green power) and the inputs,
    not from the LP matrix, so an error in building the LP shows up here too.

    Returns
    -------
    dict
        Family name -> largest violation, relative to the constraint's own scale, or to
        ``RELATIVE_FLOOR`` times its family's unit scale where that is larger. 0 means satisfied.
    """
    sites, hours = inputs.sites, inputs.hours
    num_p, num_k, num_t = inputs.demand_mw.shape
    violations: dict[str, float] = {}
    max_new = sites["max_new_mw"].to_numpy(float)
    cap = inputs.utilisation_max * (sites["existing_mw"].to_numpy(float) + q.new_mw)
    pue = sites["pue"].to_numpy(float)
    mw = _unit(inputs.demand_mw, cap, max_new)  # the plan's unit scale of power [MW]

    served = np.zeros((num_p, num_k, num_t))
    np.add.at(served, (index.triple_province, index.triple_workload), q.load)
    if q.unserved_mw is not None:  # a dispatch may leave demand unserved, at a price
        violations["unserved"] = _worst(-q.unserved_mw, 0.0, mw)
        served = served + q.unserved_mw
    # Deferrable classes must serve each day's energy; the others their demand in every slice.
    deferrable = inputs.deferrable_classes
    fixed = ~deferrable
    violations["demand"] = _worst(np.abs(served - inputs.demand_mw)[:, fixed], inputs.demand_mw[:, fixed], mw)
    if deferrable.any():
        window, relative = day_windows(inputs)
        num_windows = window.max() + 1

        def per_day(values):
            flat = values.reshape(-1, num_t) * relative
            return np.stack([np.bincount(window, row, minlength=num_windows) for row in flat])

        daily_served = per_day(served[:, deferrable])
        daily_demand = per_day(inputs.demand_mw[:, deferrable])
        violations["demand"] = max(
            violations["demand"], _worst(np.abs(daily_served - daily_demand), daily_demand, _unit(daily_demand))
        )
        if inputs.defer_peak_factor is not None:
            # A site's deferrable load stays within the peak factor × its mean of the day.
            is_deferred = deferrable[index.triple_workload]
            deferred = np.zeros((len(sites), num_t))
            np.add.at(deferred, index.triple_site[is_deferred], q.load[is_deferred])
            peak = inputs.defer_peak_factor * window_means(inputs, deferred)[:, window]
            violations["deferral"] = _worst(deferred - peak, peak, mw)

    it_load = site_load(inputs, index, q.load)
    violations["capacity"] = _worst(it_load - cap[:, None], cap[:, None], mw)

    violations["bounds"] = max(
        _worst(-q.load, 0.0, mw), _worst(-q.new_mw, 0.0, mw), _worst(q.new_mw - max_new, max_new, mw),
        _worst(-q.green_mw, 0.0, mw),
    )

    available = (
        sites["green_available_mw"].to_numpy(float)[:, None] * inputs.green_profile
        + (sites["green_new_share"].to_numpy(float) * pue * q.new_mw)[:, None]
    )
    violations["green"] = max(
        _worst(q.green_mw - pue[:, None] * it_load, pue[:, None] * it_load, mw * _unit(pue)),
        _worst(q.green_mw - available, available, mw * _unit(pue)),
    )

    ef = sites["ef_tco2_per_mwh"].to_numpy(float)
    if inputs.carbon_cap_tco2 is not None:
        emissions = float(ef @ ((pue[:, None] * it_load - q.green_mw) @ hours))
        # Unit: the emissions of serving every MWh at the dirtiest site. [tCO2/yr]
        tco2 = _unit(inputs.carbon_cap_tco2, _unit(ef) * _unit(pue) * inputs.it_energy_mwh)
        violations["carbon"] = _worst(np.array([emissions - inputs.carbon_cap_tco2]), inputs.carbon_cap_tco2, tco2)

    if inputs.hub_new_share_min:
        is_cluster = (sites["kind"] == "cluster").to_numpy()
        total_new = q.new_mw.sum()
        shortfall = inputs.hub_new_share_min * total_new - q.new_mw[is_cluster].sum()
        violations["hub_share"] = _worst(np.array([shortfall]), total_new, mw)

    finite_latency = inputs.latency_ms[np.isfinite(inputs.latency_ms)]
    ms = _unit(finite_latency)  # the plan's unit scale of latency [ms]
    if inputs.latency_cap_ms is not None and np.isfinite(inputs.latency_cap_ms):
        energy = q.load @ hours
        total = float(energy.sum())
        mean_latency = float(energy @ inputs.latency_ms[index.triple_province, index.triple_site]) / total if (
            total > 0) else 0.0
        violations["latency_cap"] = _worst(np.array([mean_latency - inputs.latency_cap_ms]), inputs.latency_cap_ms,
                                           ms)

    limit = inputs.workloads["latency_max_ms"].to_numpy(float)[index.triple_workload]
    latency = inputs.latency_ms[index.triple_province, index.triple_site]
    used = q.load.max(axis=1, initial=0.0) > USED_SHARE * mw
    violations["latency"] = _worst(np.where(used, latency - limit, 0.0), limit[np.isfinite(limit)].min(initial=1.0),
                                   ms)
    return violations
