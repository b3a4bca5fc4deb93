"""Multi-year pathways: plans solved year by year, capacity carried forward, growth implied."""

# The pathway is myopic: each planned year is an ordinary single-year plan (built, solved and
# verified like `edwc run`) whose existing capacity is what earlier years built, less what has
# retired. The new capacity's overnight capex, set against national gross fixed investment, gives
# the compute share τ of investment year by year; the growth model of the 2023 compute report
# (planner/growth.py) turns that τ path into output paths, against a counterfactual in which τ
# stays at its baseline. Regions are the provinces hosting east-hub clusters, those hosting
# west-hub clusters, and the rest; they add up to the nation (docs/pathway.md).

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from edwc_data.tables import load_tables

from optimizer.diagnose import precheck_conflicts
from optimizer.results import Results
from optimizer.status import PlanInfeasible, PlanNotSolved
from planner.growth import (
    Calibration,
    GrowthParams,
    balanced_growth_state,
    preset_params,
    simulate,
)
from planner.growth_regions import bound_to_nation, simulate_regions
from planner.preprocess import build_inputs, capital_recovery_factor
from planner.run import run_scenario
from planner.rundir import neutralise_formulas, write_run
from planner.scenario import Scenario, ScenarioError, resolve_scenario

__all__ = [
    "EXISTING_RETIREMENT",
    "PATHWAY_FILES",
    "REGIONS",
    "Pathway",
    "build_limit_factor",
    "check_pathway_capacity",
    "investment_table",
    "planned_years",
    "province_regions",
    "run_and_write",
    "run_pathway",
    "scenario_growth_params",
    "served_capex",
    "simulate_pathway_growth",
    "write_pathway",
    "year_scenario",
]

#: Regions of the growth model, in display order.
REGIONS = ("east_hubs", "west_hubs", "rest")
#: How the capacity existing in the first year retires: never within the horizon, or linearly
#: over ``costs.lifetime_years`` (its vintages are unknown, so a uniform age spread is assumed).
EXISTING_RETIREMENT = ("none", "linear")
#: Files a pathway adds to the final year's run directory.
PATHWAY_FILES = ("pathway.csv", "pathway_sites.csv", "growth.csv", "pathway_scenario.yaml")
#: Initial output of the national economy in the growth model (index units); regions start at
#: their GDP share of it.
Y0_INDEX = 100.0
#: Consumption rule of the growth simulations (see planner.growth.simulate).
CONSUMPTION = "exact"


@dataclass
class Pathway:
    """A plan over several years and the growth it implies.

    Attributes
    ----------
    scenario : Scenario
        The pathway scenario as given (``horizon.end_year`` set).
    years : list of int
        Planned years: ``year, year + step, …, end_year``.
    results : dict of int to Results
        Each planned year's verified plan; its ``scenario`` is the derived single-year scenario
        (carried capacity as ``sites.<id>.existing_mw``).
    table : pandas.DataFrame
        ``pathway.csv``: one row per planned year (demand, capacity, load, emissions, cost, capex
        by region and τ by region).
    sites : pandas.DataFrame
        ``pathway_sites.csv``: one row per planned year and site (existing, retired, new,
        capacity, capex).
    investment : pandas.DataFrame
        One row per calendar year: gross fixed investment, baseline compute investment, the
        plan's capex and τ, nationally and by region.
    growth : pandas.DataFrame
        ``growth.csv``: long table by region (``national`` first) and calendar year of plan and
        counterfactual τ, output Y, consumption C and their growth rates, with the calibration.
    params : GrowthParams
        Growth-model parameters with A calibrated at the baseline τ.
    growth_summary : dict
        Headline growth figures, written into the final year's ``summary.json`` (``pathway``).
    existing_retirement : str
        One of ``EXISTING_RETIREMENT``.
    timings_s : dict of int to float
        Wall time of each planned year. [s]
    """

    scenario: Scenario
    years: list[int]
    results: dict[int, Results]
    table: pd.DataFrame
    sites: pd.DataFrame
    investment: pd.DataFrame
    growth: pd.DataFrame
    params: GrowthParams
    growth_summary: dict
    existing_retirement: str = "none"
    timings_s: dict[int, float] = field(default_factory=dict)

    @property
    def final(self) -> Results:
        """The last planned year's Results, its summary extended by the growth figures."""
        last = self.results[self.years[-1]]
        row = self.table.iloc[-1]
        costs = {key: float(row[key]) for key in ("total_cost_cny", "carried_capex_annual_cny", "annual_cost_cny")}
        # total_cost_cny is the year's own plan (as the summary's headline); annual_cost_cny adds earlier builds.
        summary = dataclasses.replace(last.summary, pathway={"year": self.years[-1], **costs, **self.growth_summary})
        metadata = {
            **last.metadata,
            "pathway": {
                "scenario": self.scenario.name,
                "input_hash": self.scenario.input_hash(),
                "years": self.years,
                "existing_retirement": self.existing_retirement,
                "timings_s": {str(year): t for year, t in self.timings_s.items()},
            },
        }
        return dataclasses.replace(last, summary=summary, metadata=metadata)


# ----------------------------------------------------------------------------- years and regions

def planned_years(scenario: Scenario) -> list[int]:
    """Years solved: ``year``, ``year + step_years``, … and always ``end_year`` itself.

    A single-year scenario (``end_year`` null) gives ``[year]``. When the step does not divide
    the horizon, the last interval is shorter.
    """
    end = scenario.horizon.end_year
    if end is None:
        return [scenario.year]
    years = list(range(scenario.year, end + 1, scenario.horizon.step_years))
    if years[-1] != end:
        years.append(end)
    return years


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


def _demand_factors(scenario: Scenario, workloads: pd.Index, year: int) -> pd.Series:
    """(1 + g_k)^(year − scenario.year) per workload class; classes without a rate do not grow."""
    rates = scenario.horizon.demand_growth
    age = year - scenario.year
    return pd.Series([(1.0 + rates.get(k, 0.0)) ** age for k in workloads], index=workloads)


def build_limit_factor(scenario: Scenario, previous: int, year: int) -> float:
    """Multiple of the first year's ``max_new_mw`` that planned ``year`` may build.

    The planned year stands for the calendar years (previous, year]; calendar year k allows
    ``(1 + horizon.build_limit_growth)^(k − scenario.year)`` times the first year's limit.
    """
    growth = 1.0 + scenario.horizon.build_limit_growth
    return float(sum(growth ** (k - scenario.year) for k in range(previous + 1, year + 1)))


def year_scenario(scenario: Scenario, year: int, existing_mw: pd.Series | None = None,
                  max_new_mw: pd.Series | None = None, base_shares: pd.Series | None = None,
                  occupancy: pd.Series | None = None, fitout_max_share: float | None = None) -> Scenario:
    """The single-year scenario solved for one planned year of a pathway.

    Demand of class k is the first year's demand × (1 + g_k)^(year − scenario.year): the
    national load is scaled by the share-weighted factor and the class shares renormalised.

    Parameters
    ----------
    scenario : Scenario
        The pathway scenario.
    year : int
        The planned year.
    existing_mw, max_new_mw : pandas.Series, optional
        Per site id (clusters and ``local_<province>``): capacity standing at the start of the
        year and the most that may be built in it. [MW]
    occupancy : pandas.Series, optional
        Per site id: the share of the standing capacity fitted and in use (earlier years' fit-outs
        and new build carried forward). [-]
    base_shares : pandas.Series, optional
        Class shares of the first year's demand (default: from the scenario's tables).
    fitout_max_share : float, optional
        The fit-out limit of this planned year, when it stands for several years (default: the
        scenario's). [-]

    Returns
    -------
    Scenario
        ``year`` set, ``horizon.end_year`` null (it is a one-year plan), demand grown, and the
        site overrides applied.
    """
    if base_shares is None:
        base_shares = build_inputs(scenario).workloads.set_index("workload")["share"].astype(float)
    document = copy.deepcopy(scenario.to_dict())
    document["year"] = year
    document["horizon"]["end_year"] = None
    factors = _demand_factors(scenario, base_shares.index, year)
    grown = base_shares * factors
    national = scenario.demand.national_it_load_mw * float(grown.sum())
    document["demand"]["national_it_load_mw"] = national
    workloads = document.setdefault("workloads", {})
    for workload, share in (grown / grown.sum()).items():
        workloads.setdefault(workload, {})["share"] = float(share)
    if fitout_max_share is not None:
        document["policy"]["fitout_max_share"] = float(fitout_max_share)
    sites = document.setdefault("sites", {})
    for column, values in (("existing_mw", existing_mw), ("max_new_mw", max_new_mw), ("occupancy", occupancy)):
        if values is None:
            continue
        for site, value in values.items():
            sites.setdefault(site, {})[column] = float(value)
    return resolve_scenario(document, name=scenario.name,
                            source=f"scenario '{scenario.name}' (pathway year {year})")


# ----------------------------------------------------------------------------- investment and τ

def _capex_per_mw(scenario: Scenario, kind: pd.Series) -> pd.Series:
    """Overnight capex per MW of each site; local sites pay ``local_capex_factor`` more. [CNY/MW]"""
    costs = scenario.costs
    capex = costs.capex_usd_per_mw * costs.fx_cny_per_usd
    return pd.Series(np.where(kind == "local", capex * costs.local_capex_factor, capex),
                     index=kind.index)


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


# ----------------------------------------------------------------------------- the pathway

def _not_solved(exc: PlanNotSolved, scenario: Scenario, year: int) -> PlanNotSolved:
    message = f"scenario '{scenario.name}', pathway year {year} | {exc.status}: {exc}"
    shortfall = [c for c in exc.diagnosis or () if getattr(c, "constraint", None) == "capacity"]
    if shortfall:  # earlier years built only what they needed; the year's own limit is too small
        message = (f"{message.rstrip('.')}. The pathway's year is short by "
                   f"{sum(c.amount for c in shortfall) / 1e3:,.1f} GW; to fix: {PATHWAY_CAPACITY_FIX}")
    return type(exc)(message, status=exc.status, diagnosis=exc.diagnosis)


PATHWAY_CAPACITY_FIX = ("raise horizon.build_limit_growth or sites.<id>.max_new_mw, lower "
                        "horizon.demand_growth.<class>, or end the pathway earlier (horizon.end_year)")


def check_pathway_capacity(scenario: Scenario, existing_retirement: str = "none") -> None:
    """Before any solve: each planned year's peak demand fits what could stand in it at most.

    The most that can stand in planned year t is the first year's capacity (less its linear
    retirement, if chosen), every earlier planned year's whole build limit still within its life,
    and year t's own limit (:func:`build_limit_factor`), all fitted, at ``utilisation_max``. A
    year whose peak exceeds it cannot be planned whatever earlier years build. The myopic plan
    builds less than its limits, so a year can still fail later in the solve; that message
    names the year too.

    Raises
    ------
    optimizer.status.PlanInfeasible
        Naming the first such year, its peak demand, the capacity that could stand, the
        shortfall in GW and the fields that fix it.
    """
    years = planned_years(scenario)
    if len(years) < 2:
        return
    first = build_inputs(scenario)
    base = first.sites.set_index("site")
    base_shares = first.workloads.set_index("workload")["share"].astype(float)
    existing0, max_new0 = base["existing_mw"].astype(float), base["max_new_mw"].astype(float)
    lifetime = scenario.costs.lifetime_years
    limits: dict[int, pd.Series] = {}
    previous = years[0] - 1
    for year in years:
        limits[year] = max_new0 * build_limit_factor(scenario, previous, year)
        previous = year
        if year == years[0]:
            continue  # the first year is the plain single-year plan: its own pre-check applies
        age = year - years[0]
        remaining = 1.0 if existing_retirement == "none" else max(0.0, 1.0 - age / lifetime)
        standing = existing0 * remaining + sum(
            (limits[v] for v in limits if v < year and year - v < lifetime), existing0 * 0.0)
        derived = year_scenario(scenario, year, standing, limits[year], base_shares, standing * 0.0 + 1.0)
        inputs = build_inputs(derived)
        short = [c for c in precheck_conflicts(inputs) if c.constraint == "capacity"]
        if not short:
            continue
        capacity = inputs.utilisation_max * float(
            (inputs.sites["existing_mw"] + inputs.sites["max_new_mw"]).sum())
        gap_mw = short[0].amount
        message = (
            f"scenario '{scenario.name}', pathway year {year} | infeasible before solving: peak demand "
            f"{(capacity + gap_mw) / 1e3:,.1f} GW exceeds the {capacity / 1e3:,.1f} GW that could stand "
            f"at {inputs.utilisation_max:.0%} utilisation even if every planned year built its whole limit "
            f"(short by {gap_mw / 1e3:,.1f} GW). To fix: {PATHWAY_CAPACITY_FIX}"
        )
        raise PlanInfeasible(message, diagnosis=short)


def run_pathway(scenario: Scenario, existing_retirement: str = "none",
                progress: Callable[[int, Results], None] | None = None) -> Pathway:
    """Solve a plan year by year (myopic) and simulate the growth its investment implies.

    Each planned year is built with :func:`year_scenario` and solved and verified with
    :func:`planner.run.run_scenario`. Capacity new in year v stands in every later year t with
    ``t − v < costs.lifetime_years``; ``max_new_mw`` is a yearly limit growing at
    ``horizon.build_limit_growth``, and a planned year ``gap`` years after the previous one may
    build the limits of those ``gap`` calendar years (:func:`build_limit_factor`).

    Parameters
    ----------
    scenario : Scenario
        A validated scenario; ``horizon.end_year`` null gives a one-year pathway.
    existing_retirement : {"none", "linear"}
        The first year's existing capacity never retires within the horizon (default), or
        retires linearly over ``costs.lifetime_years``.
    progress : callable, optional
        ``progress(year, results)`` after each solved year (e.g. to print a line).

    Returns
    -------
    Pathway

    Raises
    ------
    optimizer.solve.PlanInfeasible, optimizer.solve.PlanNotSolved
        A year could not be planned; the message names the year. Earlier years are lost.
    planner.scenario.ScenarioError
        The investment settings give a compute share of investment outside (0, 1).
    """
    if existing_retirement not in EXISTING_RETIREMENT:
        msg = (f"existing_retirement must be one of {EXISTING_RETIREMENT}, "
               f"got {existing_retirement!r}")
        raise ValueError(msg)
    _check_baseline(scenario)  # before hours of solving, not after
    check_pathway_capacity(scenario, existing_retirement)
    years = planned_years(scenario)
    first = build_inputs(scenario)
    base_sites = first.sites.set_index("site")
    base_shares = first.workloads.set_index("workload")["share"].astype(float)
    existing0 = base_sites["existing_mw"].astype(float)
    max_new0 = base_sites["max_new_mw"].astype(float)
    lifetime = scenario.costs.lifetime_years
    region_of = province_regions()
    capex_per_mw = _capex_per_mw(scenario, base_sites["kind"])

    vintages: dict[int, pd.Series] = {}
    investments: dict[int, pd.Series] = {}  # overnight capex of each planned year, by site [CNY]
    results: dict[int, Results] = {}
    timings: dict[int, float] = {}
    site_rows, rows = [], []
    previous, standing_before = years[0] - 1, existing0 * 0.0
    # Capacity in use carries forward: what the first year found fitted, then each year's fit-outs and builds.
    in_use = existing0 * base_sites["occupancy"].astype(float)
    for year in years:
        start = time.perf_counter()
        age = year - years[0]
        remaining = 1.0 if existing_retirement == "none" else max(0.0, 1.0 - age / lifetime)
        carried = sum((new for built, new in vintages.items() if year - built < lifetime),
                      existing0 * 0.0)
        existing = existing0 * remaining + carried
        gap = year - previous
        occupancy = (in_use / existing.where(existing > 0)).fillna(1.0).clip(0.0, 1.0)
        # A planned year standing for `gap` years may build and fit out that many years' worth.
        share = scenario.policy.fitout_max_share
        max_new = max_new0 * build_limit_factor(scenario, previous, year)
        derived = year_scenario(scenario, year, existing, max_new, base_shares, occupancy,
                                None if share is None else min(1.0, share * gap))
        try:
            res = run_scenario(derived)
        except PlanNotSolved as exc:
            raise _not_solved(exc, scenario, year) from None
        sites = res.sites.set_index("site")
        # The LP may return -1e-12 for an unbuilt site; keep the carried stock non-negative.
        new = sites["new_mw"].reindex(existing0.index).fillna(0.0).clip(lower=0.0)
        vintages[year] = new
        retired = (standing_before - existing).clip(lower=0.0)
        fitout = sites["fitout_mw"].reindex(existing0.index).fillna(0.0).clip(lower=0.0)
        # The year's investment: new build, and vacant racks fitted out at their share of its cost.
        capex = (new + scenario.costs.fitout_capex_factor * fitout) * capex_per_mw
        investments[year] = capex
        host_region = sites["host_province"].map(region_of).reindex(existing0.index)
        site_rows.append(pd.DataFrame({
            "year": year, "site": existing0.index, "kind": base_sites["kind"].to_numpy(),
            "hub_class": base_sites["hub_class"].to_numpy(), "region": host_region.to_numpy(),
            "existing_mw": existing.to_numpy(), "retired_mw": retired.to_numpy(),
            "new_mw": new.to_numpy(), "capacity_mw": (existing + new).to_numpy(),
            "max_new_mw": max_new.to_numpy(),
            "mean_load_mw": sites["mean_load_mw"].reindex(existing0.index).to_numpy(),
            "capex_cny": capex.to_numpy(),
        }))
        rows.append(_year_row(year, res, sites, existing, new, retired, capex, host_region))
        for region, value in served_capex(res.flows, capex, region_of).items():
            rows[-1][f"compute_capex_served_{region}_cny"] = float(value)
        # The year's LP prices only its own new build; capacity built in earlier planned years
        # still within its life keeps costing its annuity, which a year's full cost must include.
        carried_capex = sum(
            float(investments[built].sum()) for built in investments
            if built < year and year - built < lifetime
        ) * capital_recovery_factor(scenario.costs.discount_rate, lifetime)
        rows[-1]["carried_capex_annual_cny"] = carried_capex
        rows[-1]["annual_cost_cny"] = rows[-1]["total_cost_cny"] + carried_capex
        results[year] = res
        standing_before = existing + new
        in_use = sites["capacity_mw"].reindex(existing0.index).fillna(0.0).clip(lower=0.0)
        previous = year
        timings[year] = time.perf_counter() - start
        if progress is not None:
            progress(year, res)

    table = pd.DataFrame(rows).set_index("year")
    capex_by_year = table[[f"compute_capex_{r}_cny" for r in REGIONS]]
    capex_by_year.columns = list(REGIONS)
    served_by_year = table[[f"compute_capex_served_{r}_cny" for r in REGIONS]]
    served_by_year.columns = list(REGIONS)
    investment = investment_table(scenario, _spread_capex(capex_by_year, years),
                                  _spread_capex(served_by_year, years))
    growth, params, growth_summary = simulate_pathway_growth(scenario, investment)
    for column in ("gfcf_cny", "baseline_compute_cny", "tau_baseline", "tau",
                   *(f"tau_{r}" for r in REGIONS), *(f"tau_served_{r}" for r in REGIONS)):
        table[column] = investment.loc[years, column].to_numpy()
    table["growth_calibration"] = params.calibration_note
    return Pathway(scenario, years, results, table.reset_index(),
                   pd.concat(site_rows, ignore_index=True), investment, growth, params,
                   growth_summary, existing_retirement, timings)


def _year_row(year: int, res: Results, sites: pd.DataFrame, existing: pd.Series, new: pd.Series,
              retired: pd.Series, capex: pd.Series, host_region: pd.Series) -> dict:
    s = res.summary
    hub_class = sites["hub_class"].reindex(existing.index)
    capacity = existing + new
    load = sites["mean_load_mw"].reindex(existing.index)
    row = {
        "year": year,
        "demand_mw": s.mean_demand_mw,
        "peak_demand_mw": s.peak_demand_mw,
        "existing_mw": float(existing.sum()),
        "retired_mw": float(retired.sum()),
        "new_mw": float(new.sum()),
        "capacity_mw": float(capacity.sum()),
    }
    for cls in ("east", "west", "local"):
        mask = hub_class == cls
        row[f"capacity_{cls}_mw"] = float(capacity[mask].sum())
        row[f"new_{cls}_mw"] = float(new[mask].sum())
        row[f"load_{cls}_mw"] = float(load[mask].sum())
    row.update({
        "west_share": s.west_share,
        "hub_share": s.hub_share,
        "emissions_tco2": s.emissions_tco2,
        "total_cost_cny": s.total_cost_cny,
        "compute_capex_cny": float(capex.sum()),
    })
    for region in REGIONS:
        row[f"compute_capex_{region}_cny"] = float(capex[host_region == region].sum())
    return row


# ----------------------------------------------------------------------------- files

def write_pathway(pathway: Pathway, out_dir: Path | str,
                  extras: Callable[[Results, Path], None] | None = None) -> Path:
    """Write the final year's run directory plus the pathway files, atomically.

    The folder holds everything :func:`planner.rundir.write_run` writes for the last planned
    year (its ``summary.json`` extended by the growth figures, its ``scenario.yaml`` the derived
    one-year scenario) and ``pathway.csv``, ``pathway_sites.csv``, ``growth.csv`` and
    ``pathway_scenario.yaml`` (the pathway scenario, to rerun it with ``edwc run``).

    Parameters
    ----------
    pathway : Pathway
    out_dir : path
    extras : callable, optional
        ``extras(results, folder)`` for further files (maps of the final year).

    Returns
    -------
    Path
        ``out_dir``.
    """
    def add_pathway_files(results: Results, folder: Path) -> None:
        neutralise_formulas(pathway.table).to_csv(folder / "pathway.csv", index=False)
        neutralise_formulas(pathway.sites).to_csv(folder / "pathway_sites.csv", index=False)
        neutralise_formulas(pathway.growth).to_csv(folder / "growth.csv", index=False)
        (folder / "pathway_scenario.yaml").write_text(
            yaml.safe_dump(pathway.scenario.to_dict(), sort_keys=False, allow_unicode=True),
            encoding="utf-8")
        if extras is not None:
            extras(results, folder)

    return write_run(pathway.final, out_dir, extras=add_pathway_files)


def run_and_write(scenario: Scenario, out_dir: Path | str,
                  extras: Callable[[Results, Path], None] | None = None,
                  progress: Callable[[int, Results], None] | None = None) -> Pathway:
    """Run a pathway (:func:`run_pathway`) and write it (:func:`write_pathway`): ``edwc run``'s
    path when ``horizon.end_year`` is set.

    Returns
    -------
    Pathway
        ``pathway.final`` is what the run directory's summary holds.
    """
    pathway = run_pathway(scenario, progress=progress)
    write_pathway(pathway, out_dir, extras)
    return pathway
