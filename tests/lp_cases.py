"""Tiny hand-made planning problems whose optimum can be worked out on paper."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.inputs import PlanInputs


def site(
    name,
    *,
    kind="cluster",
    hub_class="east",
    serves="",
    pue=1.0,
    existing=0.0,
    max_new=0.0,
    price=100.0,
    ef=0.5,
    green=0.0,
    premium=0.0,
    green_new_share=0.0,
    capex_annual=0.0,
):
    """One site row with PlanInputs' columns (units as in PlanInputs)."""
    return {
        "site": name,
        "name_zh": name,
        "name_en": name,
        "kind": kind,
        "hub_class": hub_class,
        "host_province": serves or "p1",
        "serves": serves,
        "lat": 0.0,
        "lon": 0.0,
        "pue": pue,
        "existing_mw": existing,
        "max_new_mw": max_new,
        "price_cny_per_mwh": price,
        "ef_tco2_per_mwh": ef,
        "green_available_mw": green,
        "green_premium_cny_per_mwh": premium,
        "green_new_share": green_new_share,
        "capex_cny_per_mw": capex_annual * 10,
        "capex_annual_cny_per_mw": capex_annual,
    }


def make_inputs(
    sites,
    demand_mw,
    latency_ms,
    *,
    distance_km=None,
    latency_max_ms=(np.inf,),
    data_intensity=(0.0,),
    hours=(8760.0,),
    utilisation_max=1.0,
    carbon_price=0.0,
    carbon_cap=None,
    hub_share=None,
    latency_weight=0.0,
    provinces=None,
    carbon_accounting="market",
):
    """PlanInputs from plain lists.

    demand_mw has shape (P, K, T); latency_ms and distance_km have shape (P, S). Emissions are
    counted market-based with each site's ``ef`` as its residual factor: green power bought is
    netted at that factor, which is what the hand-worked cases assume.
    """
    demand = np.asarray(demand_mw, float)
    num_p, num_k, num_t = demand.shape
    provinces = provinces or [f"p{i + 1}" for i in range(num_p)]
    latency = np.asarray(latency_ms, float)
    return PlanInputs(
        provinces=pd.DataFrame(
            {
                "province": provinces,
                "adcode": range(110000, 110000 + num_p),
                "name_zh": provinces,
                "name_en": provinces,
                "lat": 0.0,
                "lon": 0.0,
            }
        ),
        sites=pd.DataFrame(sites),
        workloads=pd.DataFrame(
            {
                "workload": [f"k{k + 1}" for k in range(num_k)],
                "name_zh": "k",
                "name_en": [f"k{k + 1}" for k in range(num_k)],
                "group": "batch",
                "latency_max_ms": list(latency_max_ms),
                "data_intensity_cny_per_mw_1000km": list(data_intensity),
            }
        ),
        periods=pd.DataFrame(
            {"period": [f"t{t}" for t in range(num_t)], "day": 1, "hour": range(num_t), "hours": list(hours)}
        ),
        demand_mw=demand,
        distance_km=np.zeros_like(latency) if distance_km is None else np.asarray(distance_km, float),
        latency_ms=latency,
        green_profile=np.ones((len(sites), num_t)),
        utilisation_max=utilisation_max,
        carbon_price_cny_per_tco2=carbon_price,
        carbon_cap_tco2=carbon_cap,
        hub_new_share_min=hub_share,
        latency_weight_cny_per_mwh_ms=latency_weight,
        carbon_accounting=carbon_accounting,
    )
