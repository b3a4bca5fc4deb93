"""The tables of a year plan: every verified day summed into a few periods (months), peaks from the hours.

A year of hourly flows would be millions of rows. The year plan's tables therefore hold one period per
group of days (the months of the year, or each representative day of a reduced year), each the mean
load over its hours: energy, cost, emissions and every share sum exactly over the days, so the tables
are :func:`optimizer.extract.build_tables` of those periods. What a mean hides is taken from the
hours instead: each site's peak load and utilisation, the peak demand and the load moved within days.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from optimizer.decompose import YearPlan, day_slices
from optimizer.extract import PlanQuantities, build_tables
from optimizer.formulation import build_lp
from optimizer.inputs import PlanInputs
from optimizer.network import link_table, summed_flows
from optimizer.plan import OptimisedPlan
from optimizer.solve import solver_versions
from optimizer.status import PlanNotSolved, PlanStatus


def _grouped_inputs(inputs: PlanInputs, groups: list[str]) -> tuple[PlanInputs, np.ndarray, list[str]]:
    """Inputs with one slice per group of days (hours-weighted means); the group of each day and the labels."""
    labels = list(dict.fromkeys(groups))
    group_of_day = np.array([labels.index(g) for g in groups])
    slices = day_slices(inputs)
    group_of_slice = np.empty(inputs.hours.size, int)
    for day, members in enumerate(slices):
        group_of_slice[members] = group_of_day[day]
    hours = inputs.hours
    group_hours = np.bincount(group_of_slice, hours, minlength=len(labels))

    def means(values: np.ndarray) -> np.ndarray:
        flat = values.reshape(-1, values.shape[-1]) * hours
        summed = np.stack([np.bincount(group_of_slice, row, minlength=len(labels)) for row in flat])
        return (summed / group_hours).reshape(*values.shape[:-1], len(labels))

    periods = pd.DataFrame({"period": labels, "day": np.arange(1, len(labels) + 1), "hour": 0, "hours": group_hours})
    timed = {"demand_mw": means(inputs.demand_mw), "green_profile": means(inputs.green_profile)}
    for name in ("pue_profile", "peak_ratio"):  # PUE is replaced by the plan's own mean (year_tables)
        if getattr(inputs, name) is not None:
            timed[name] = means(getattr(inputs, name))
    grouped = dataclasses.replace(inputs, periods=periods, **timed)
    return grouped, group_of_day, labels


def year_tables(inputs: PlanInputs, plan: YearPlan, groups: list[str] | None = None,
                tolerance: float = 1e-6) -> OptimisedPlan:
    """Flows, sites, provinces and summary of a verified year plan.

    Parameters
    ----------
    inputs : PlanInputs
        The inputs the year was planned on (every day a window).
    plan : YearPlan
        From :func:`optimizer.decompose.plan_year`.
    groups : list of str, optional
        Label of the table period of each day (e.g. its month, '2025-01'); one period per day when
        omitted.
    tolerance : float
        Largest accepted relative difference between the tables' total cost and the plan's. [-]

    Raises
    ------
    PlanNotSolved
        Status 'residual' when the tables do not add up to the plan's cost.
    """
    num_days = len(plan.days)
    groups = groups if groups is not None else [f"d{d + 1:03d}" for d in range(num_days)]
    grouped, group_of_day, labels = _grouped_inputs(inputs, groups)
    _, index = build_lp(grouped)
    num_g = len(labels)
    group_hours = grouped.hours
    num_s = len(inputs.sites)
    load_mwh = np.zeros((num_g, *plan.days[0]["load_mwh"].shape))
    green_mwh = np.zeros((num_s, num_g))
    capacity_dual = np.zeros((num_s, num_g))
    for day, figures in zip(group_of_day, plan.days, strict=True):
        load_mwh[day] += figures["load_mwh"]
        green_mwh[:, day] += figures["green_mwh"]
        capacity_dual[:, day] += figures["capacity_dual"]
    # A group's PUE is its energy's: facility over IT energy of the plan's own days (PUE changes by day),
    # so that cost and emissions of the groups sum to the days'.
    it_mwh = np.zeros((num_s, num_g))
    facility_mwh = np.zeros((num_s, num_g))
    for day, figures in zip(group_of_day, plan.days, strict=True):
        it_mwh[:, day] += figures["totals"].it_mwh
        facility_mwh[:, day] += figures["totals"].facility_mwh
    pue = np.divide(facility_mwh, it_mwh, out=grouped.pue.copy(), where=it_mwh > 0)
    grouped = dataclasses.replace(grouped, pue_profile=pue)
    triples = (index.triple_province, index.triple_site, index.triple_workload)
    load = np.stack([load_mwh[g][triples] for g in range(num_g)], axis=1) / group_hours
    quantities = PlanQuantities(
        load=load,
        new_mw=plan.days[0]["new_mw"],
        green_mw=green_mwh / group_hours,
        capacity_duals=capacity_dual,
        carbon_dual=None,
        hub_share_dual=None,
        fitout_mw=plan.days[0]["fitout_mw"],
        certificate_mwh=plan.totals.certificate_mwh,
        network=summed_flows([figures["network"] for figures in plan.days], group_of_day, group_hours),
    )
    flows, sites, provinces, summary = build_tables(grouped, index, quantities)
    # Peaks are the hours', not the months' means.
    peak = np.max([figures["site_peak_mw"] for figures in plan.days], axis=0)
    capacity = sites["capacity_mw"].to_numpy(float)
    sites["peak_load_mw"] = peak
    sites["utilisation"] = np.divide(peak, capacity, out=np.zeros(capacity.size), where=capacity > 0)
    summary = dataclasses.replace(
        summary,
        peak_demand_mw=float(inputs.demand_mw.sum(axis=(0, 1)).max()),
        shifted_mwh=float(sum(figures["shifted_mwh"] for figures in plan.days)),
    )
    scale = max(abs(plan.upper_bound_cny), 1.0)
    difference = abs(summary.total_cost_cny - plan.upper_bound_cny) / scale
    if not difference <= tolerance:
        msg = (f"year plan | the tables cost {summary.total_cost_cny:,.0f} CNY/yr against the plan's "
               f"{plan.upper_bound_cny:,.0f} ({difference:.1e} relative)")
        raise PlanNotSolved(msg, status=PlanStatus.RESIDUAL)
    metadata = {
        "status": str(PlanStatus.OPTIMAL),
        "model_status": "Optimal",
        "backend": "highs-year",
        **solver_versions(),
        "max_violation": plan.metadata["max_violation"],
        "objective_cny": plan.upper_bound_cny,
        "objective_gap": difference,
        "duality_gap": plan.metadata["max_duality_gap"],
        "year_plan": {
            "days": num_days,
            "periods": labels,
            "upper_bound_cny": plan.upper_bound_cny,
            "lower_bound_cny": plan.lower_bound_cny,
            "gap": plan.gap,
            "iterations": plan.metadata["iterations"],
            "cuts": plan.metadata["cuts"],
            "first_stage": plan.structure.first_stage,
            "master_rows": plan.structure.master_rows,
            "coupling_rows": plan.structure.coupling.families,
            "annual_violations": plan.metadata.get("annual_violations", {}),
            "unserved_penalty_cny_per_mwh": plan.penalty_cny_per_mwh,
            "max_day_violation": plan.metadata["max_violation"],
            "max_day_duality_gap": plan.metadata["max_duality_gap"],
            "history": plan.history,
        },
        "timings_s": {"decomposition_s": plan.metadata["wall_s"]},
    }
    links = None
    if grouped.network is not None:  # link peaks are the days' busiest slices, not the periods' means
        links = link_table(grouped, index, load, quantities.network,
                           peak=np.max([figures["link_peak_gbps"] for figures in plan.days], axis=0))
    return OptimisedPlan(flows, sites, provinces, summary, metadata, links)
