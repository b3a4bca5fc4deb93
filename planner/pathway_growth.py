"""The growth a pathway implies: regions, the compute share τ of investment by year, and output paths.

Regions are the provinces hosting east-hub clusters, those hosting west-hub clusters, and the
rest; they add up to the nation. The plan's capex by year, set against national gross fixed
investment, gives τ; the growth model of the 2023 compute report (planner/growth.py) turns the
τ path into output paths against a counterfactual at the baseline τ (docs/pathway.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from edwc_data.tables import load_tables

from planner.growth import Calibration, GrowthParams, balanced_growth_state, preset_params, simulate
from planner.growth_regions import bound_to_nation, simulate_regions
from planner.scenario import Scenario, ScenarioError

#: Regions of the growth model, in display order.
REGIONS = ("east_hubs", "west_hubs", "rest")
#: Initial output of the national economy in the growth model (index units); regions start at
#: their GDP share of it.
Y0_INDEX = 100.0
#: Consumption rule of the growth simulations (see planner.growth.simulate).
CONSUMPTION = "exact"


def province_regions() -> pd.Series:
    """Region of each province: ``east_hubs``, ``west_hubs`` or ``rest``.

    A province belongs to a hub region when it hosts a national cluster of that class in the
    default dataset (成渝 counts as east, as the programme classes it); every other province is
    ``rest``. Fixed by the dataset, so disabling a cluster in a scenario does not move provinces.

    Returns
    -------
    pandas.Series
        Indexed by province id, in the order of ``data/provinces.csv``.
    """
    tables = load_tables()
    region = pd.Series("rest", index=tables["provinces"].index, name="region")
    clusters = tables["sites"]
    for hub_class, name in (("west", "west_hubs"), ("east", "east_hubs")):
        region[clusters.loc[clusters["hub_class"] == hub_class, "host_province"].unique()] = name
    return region


def _region_gdp_shares() -> pd.Series:
    gdp = load_tables()["provinces"]["gdp_2023_100m_cny"].astype(float)
    shares = gdp.groupby(province_regions()).sum() / gdp.sum()
    return shares.reindex(list(REGIONS))


def investment_table(scenario: Scenario, capex_by_region: pd.DataFrame,
                     served_by_region: pd.DataFrame | None = None) -> pd.DataFrame:
    """Yearly gross fixed investment, baseline compute investment, plan capex and τ by region.

    ``total_t = gfcf_cny × (1 + gfcf_growth)^(t − year)``; ``baseline_t = baseline_compute_share
    × total_t``; ``τ_t = (baseline_t + capex_t) / total_t``. A region gets the national totals
    times its GDP share (``data/provinces.csv``) and the capex built in its provinces.

    Parameters
    ----------
    scenario : Scenario
        The pathway scenario (``investment`` settings).
    capex_by_region : pandas.DataFrame
        Indexed by calendar year, one column per region of ``REGIONS``: the plan's compute
        capex spent in that year, by where it is built. [CNY/yr]
    served_by_region : pandas.DataFrame, optional
        The same capex by the region whose demand the capacity serves (:func:`served_capex`);
        adds ``compute_capex_served_<r>_cny`` and ``tau_served_<r>``, the τ the growth model uses
        for region r. [CNY/yr]

    Returns
    -------
    pandas.DataFrame
        Indexed by ``year``: ``gfcf_cny``, ``baseline_compute_cny``, ``compute_capex_cny``,
        ``tau_baseline``, ``tau`` and, per region r, ``gfcf_<r>_cny``,
        ``compute_capex_<r>_cny`` and ``tau_<r>``.
    """
    inv = scenario.investment
    years = capex_by_region.index
    shares = _region_gdp_shares()
    total = inv.gfcf_cny * (1.0 + inv.gfcf_growth) ** (years.to_numpy() - scenario.year)
    table = pd.DataFrame(index=pd.Index(years, name="year"))
    table["gfcf_cny"] = total
    table["baseline_compute_cny"] = inv.baseline_compute_share * total
    table["compute_capex_cny"] = capex_by_region[list(REGIONS)].sum(axis=1).to_numpy()
    table["tau_baseline"] = inv.baseline_compute_share
    table["tau"] = (table["baseline_compute_cny"] + table["compute_capex_cny"]) / total
    for region in REGIONS:
        regional_total = total * shares[region]
        capex = capex_by_region[region].to_numpy()
        table[f"gfcf_{region}_cny"] = regional_total
        table[f"compute_capex_{region}_cny"] = capex
        baseline = inv.baseline_compute_share * regional_total
        table[f"tau_{region}"] = (baseline + capex) / regional_total
        if served_by_region is not None:
            served = served_by_region[region].to_numpy()
            table[f"compute_capex_served_{region}_cny"] = served
            table[f"tau_served_{region}"] = (baseline + served) / regional_total
    return table


def served_capex(flows: pd.DataFrame, capex: pd.Series, region_of: pd.Series) -> pd.Series:
    """A year's compute capex attributed to the regions whose demand the capacity serves.

    Each site's capex is split by the energy it serves to each region's provinces that year; a
    site that serves nothing is split like the national demand. A west-hub campus serving
    eastern demand thus counts as compute capital of the east, where its output is used.

    Parameters
    ----------
    flows : pandas.DataFrame
        The year's ``Results.flows`` (province, site, hours, load_mw).
    capex : pandas.Series
        Capex of the year per site. [CNY]
    region_of : pandas.Series
        Region of each province (:func:`province_regions`).

    Returns
    -------
    pandas.Series
        Indexed by ``REGIONS``; sums to ``capex.sum()``. [CNY]
    """
    energy = (flows["load_mw"] * flows["hours"]).groupby(
        [flows["site"], flows["province"].map(region_of)]).sum().unstack(fill_value=0.0)
    energy = energy.reindex(columns=list(REGIONS), fill_value=0.0)
    national = energy.sum() / energy.to_numpy().sum()
    shares = energy.div(energy.sum(axis=1), axis=0).reindex(capex.index)
    shares.loc[shares.isna().any(axis=1)] = national.to_numpy()
    return shares.mul(capex, axis=0).sum().reindex(list(REGIONS))


def _spread_capex(capex_by_year: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Spread each planned year's capex evenly over the calendar years since the previous one.

    Capacity new in planned year y was built over the years (previous planned year, y]; the
    first planned year's capex falls in that year. Rows: every calendar year of the horizon.
    """
    calendar = pd.RangeIndex(years[0], years[-1] + 1, name="year")
    spread = pd.DataFrame(0.0, index=calendar, columns=capex_by_year.columns)
    previous = years[0] - 1
    for year in years:
        gap = year - previous
        spread.loc[previous + 1:year] = (capex_by_year.loc[year] / gap).to_numpy()
        previous = year
    return spread


# ----------------------------------------------------------------------------- growth

def _check_baseline(scenario: Scenario) -> None:
    tau0 = scenario.investment.baseline_compute_share
    if not 0.0 < tau0 < 1.0:
        source = f"scenario '{scenario.name}'"
        message = (f"must lie in (0, 1) for the growth model, got {tau0}. Give the compute share "
                   "of investment without the plan, e.g. 0.024.")
        raise ScenarioError(message, source=source, field="investment.baseline_compute_share")


def _check_tau(scenario: Scenario, investment: pd.DataFrame) -> None:
    columns = [c for c in ("tau", *(f"tau{kind}_{r}" for kind in ("", "_served") for r in REGIONS))
               if c in investment]
    values = investment[columns].to_numpy()
    if not np.all((values > 0) & (values < 1)):
        outside = investment[columns].stack().loc[lambda s: (s <= 0) | (s >= 1)]
        (year, column), value = outside.index[0], outside.iloc[0]
        source = f"scenario '{scenario.name}'"
        message = (f"the compute share of investment {column} in {year} is {value:.4g}, outside "
                   "(0, 1). Raise investment.gfcf_cny or lower the plan's capex.")
        raise ScenarioError(message, source=source, field="investment")


def scenario_growth_params(scenario: Scenario) -> GrowthParams:
    """Growth-model parameters of a scenario (``growth``), A calibrated at its baseline τ.

    The ``calibrated`` preset takes α = 1 − ``compute_elasticity`` and
    β = ``compute_elasticity`` − ``services_share``; the ``report`` preset keeps the 2023 compute
    report's α = 0.4, β = 0.3. Either way A is set so that the yearly balanced path grows at
    ``investment.growth_target`` at ``investment.baseline_compute_share`` (timing "discrete").

    Returns
    -------
    GrowthParams
        ``.preset`` names the set; ``.calibration_note`` is the caption of every growth figure.
    """
    _check_baseline(scenario)
    settings, inv = scenario.growth, scenario.investment
    elasticities = {}
    if settings.preset == "calibrated":
        elasticities = {"alpha": 1.0 - settings.compute_elasticity,
                        "beta": settings.compute_elasticity - settings.services_share}
    calibration = Calibration(inv.growth_target, inv.baseline_compute_share, "discrete")
    return preset_params(settings.preset, sigma=settings.sigma, delta=settings.delta, rho=settings.rho,
                         calibration=calibration, **elasticities)


def simulate_pathway_growth(scenario: Scenario, investment: pd.DataFrame
                            ) -> tuple[pd.DataFrame, GrowthParams, dict]:
    """Output paths of the plan's τ path against the baseline τ, nationally and by region.

    Parameters come from the scenario's ``growth`` section (:func:`scenario_growth_params`), A
    calibrated so that the yearly balanced path grows at ``investment.growth_target`` at the
    baseline τ: the counterfactual then grows at exactly the target and any difference is the
    plan's τ. Every economy starts on its balanced growth path at the baseline τ, the nation at
    Y = 100 and each region at 100 × its GDP share. A region's τ is that of the compute serving its
    demand (``tau_served_<r>`` when given); its simulated levels are scaled to add up to the
    national path (:func:`planner.growth_regions.bound_to_nation`).

    Returns
    -------
    (growth, params, summary)
        ``growth`` is the long table written to ``growth.csv``; ``params`` the calibrated
        parameters; ``summary`` the headline figures for ``summary.json``.
    """
    _check_baseline(scenario)
    _check_tau(scenario, investment)
    inv = scenario.investment
    tau0 = inv.baseline_compute_share
    params = scenario_growth_params(scenario)
    years = len(investment)
    start = int(investment.index[0])
    note = params.calibration_note

    def run(tau_path, y0):
        state = balanced_growth_state(params, tau0, y0)
        return simulate(params, tau_path, state.K0, state.H0, years, CONSUMPTION, start)

    frames = {"national": (run(investment["tau"].to_numpy(), Y0_INDEX), run(tau0, Y0_INDEX))}
    shares = _region_gdp_shares()
    specs_plan, specs_cf = {}, {}
    for region in REGIONS:
        state = balanced_growth_state(params, tau0, Y0_INDEX * shares[region])
        served = f"tau_served_{region}" if f"tau_served_{region}" in investment else f"tau_{region}"
        specs_plan[region] = {"tau_path": investment[served].to_numpy(),
                              "K0": state.K0, "H0": state.H0}
        specs_cf[region] = {"tau_path": tau0, "K0": state.K0, "H0": state.H0}
    # Regions share one nation: their levels are scaled to add up to the national paths.
    paths_plan = bound_to_nation(simulate_regions(params, specs_plan, years, CONSUMPTION, start)[0],
                                 frames["national"][0])
    paths_cf = bound_to_nation(simulate_regions(params, specs_cf, years, CONSUMPTION, start)[0],
                               frames["national"][1])
    for region in REGIONS:
        frames[region] = (paths_plan[paths_plan["region"] == region].set_index("year"),
                          paths_cf[paths_cf["region"] == region].set_index("year"))

    rows = []
    for region, (plan, cf) in frames.items():
        rows.append(pd.DataFrame({
            "region": region,
            "year": plan.index.to_numpy(),
            "tau_plan": plan["tau"].to_numpy(),
            "tau_counterfactual": cf["tau"].to_numpy(),
            "Y_plan": plan["Y"].to_numpy(),
            "Y_counterfactual": cf["Y"].to_numpy(),
            "g_Y_plan": plan["g_Y"].to_numpy(),
            "g_Y_counterfactual": cf["g_Y"].to_numpy(),
            "C_plan": plan["C"].to_numpy(),
            "C_counterfactual": cf["C"].to_numpy(),
            "g_C_plan": plan["g_C"].to_numpy(),
            "g_C_counterfactual": cf["g_C"].to_numpy(),
            "output_gap": (plan["Y"] / cf["Y"] - 1.0).to_numpy(),
        }))
    growth = pd.concat(rows, ignore_index=True)
    growth["calibration"] = note
    growth["consumption"] = CONSUMPTION

    def mean_rate(frame: pd.DataFrame) -> float | None:
        # Mean yearly growth over the horizon; none for a one-year pathway.
        if len(frame) < 2:
            return None
        return float((frame["Y"].iloc[-1] / frame["Y"].iloc[0]) ** (1.0 / (len(frame) - 1)) - 1.0)

    summary = {
        "growth_rate_plan": mean_rate(frames["national"][0]),
        "growth_rate_counterfactual": mean_rate(frames["national"][1]),
        "growth_rate_plan_by_region": {r: mean_rate(frames[r][0]) for r in REGIONS},
        "growth_rate_counterfactual_by_region": {r: mean_rate(frames[r][1]) for r in REGIONS},
        "output_gap_end": float(frames["national"][0]["Y"].iloc[-1]
                                / frames["national"][1]["Y"].iloc[-1] - 1.0),
        "tau_baseline": float(tau0),
        "tau_plan_mean": float(investment["tau"].mean()),
        "tau_plan_max": float(investment["tau"].max()),
        "tau_plan_mean_by_region": {r: float(investment[f"tau_{r}"].mean()) for r in REGIONS},
        "pathway_years": [start, start + years - 1],
        "pathway_compute_capex_cny": float(investment["compute_capex_cny"].sum()),
        "growth_calibration": note,
        "growth_consumption": CONSUMPTION,
        "growth_regions": "east_hubs / west_hubs: provinces hosting east / west hub clusters; "
                          "rest: the other provinces; each starts at its 2023 GDP share",
    }
    return growth, params, summary
