"""Scenario files: ``--set`` overrides, the validated schema and cross-table checks (YAML reading: safe_yaml)."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from edwc_data.tables import load_defaults, load_tables, scenario_dir
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from planner.errors import ScenarioError
from planner.safe_yaml import (
    MAX_FILE_BYTES,
    MAX_NESTING,
    load_yaml,
    parse_yaml_bytes,
    parse_yaml_text,
    read_yaml_file,
    shown_key,
    shown_value,
)
from planner.scenario_messages import format_validation_error

__all__ = [
    "MAX_FILE_BYTES", "MAX_NESTING", "ScenarioError", "Scenario", "load_scenario", "parse_override", "parse_yaml_bytes",
    "parse_yaml_text", "read_yaml_file", "resolve_scenario", "set_dotted", "shipped_scenarios",
]

#: Most parts of a dotted ``--set`` key; the deepest setting has four (``latency.measured.0.site``).
MAX_KEY_PARTS = 8


def _number_types(annotation: Any) -> tuple[bool, bool]:
    """(does the annotation take a number, does it take a boolean), looking through unions and Annotated."""
    origin = typing.get_origin(annotation)
    if annotation is bool:
        return False, True
    if annotation in (int, float):
        return True, False
    if origin is Literal:
        values = typing.get_args(annotation)
        return (any(isinstance(v, int | float) and not isinstance(v, bool) for v in values),
                any(isinstance(v, bool) for v in values))
    if origin is Annotated:
        return _number_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        parts = [_number_types(arg) for arg in typing.get_args(annotation)]
        return any(n for n, _ in parts), any(b for _, b in parts)
    return False, False


def _dict_value_annotation(annotation: Any) -> Any:
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) is dict:
        return typing.get_args(annotation)[1]
    return None


class StrictModel(BaseModel):
    """A schema section: unknown keys refused, NaN refused, and no boolean where a number is expected.

    pydantic would read ``days: true`` as one day and ``price: false`` as 0; a yes/no value where a
    count or an amount belongs is a mistake the user must see.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool):
            values = [value]
        elif isinstance(value, dict) and any(isinstance(v, bool) for v in value.values()):
            values = list(value.values())
        else:
            return value
        takes_number, takes_bool, in_dict = _field_number_types(cls, info.field_name)
        if takes_number and not takes_bool and (in_dict or len(values) == 1 and value is values[0]):
            msg = "bool_number"
            raise PydanticCustomError(msg, "a number is expected, not a true/false value")
        return value


@functools.cache
def _field_number_types(model: type[BaseModel], name: str) -> tuple[bool, bool, bool]:
    """(takes a number, takes a boolean, is a mapping of them) for a field of a schema model."""
    annotation = model.model_fields[name].annotation
    inner = _dict_value_annotation(annotation)
    if inner is not None:
        return (*_number_types(inner), True)
    return (*_number_types(annotation), False)


# ---------------------------------------------------------------------------------------------
# Schema. Every field is required here: the defaults come from data/defaults.yaml and the tables,
# merged in before validation, so that every default number lives in data/ with its source.
# ---------------------------------------------------------------------------------------------

_Strict = StrictModel


Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0, lt=1e15)]
Positive = Annotated[float, Field(gt=0.0, lt=1e15)]


class DemandSettings(_Strict):
    """National IT demand and how it is split over provinces."""

    national_it_load_mw: Positive = Field(description="Mean national IT load of the planning year. [MW]")
    scale: Positive = Field(description="Multiplier on the national demand. [-]")
    within_year_growth: Annotated[float, Field(ge=-0.5, le=2.0)] = Field(
        description="Growth of demand through the planning year (December runs this much above January, "
        "compounded); the year's mean stays national_it_load_mw. Used by clustered days and the year check. [-/yr]"
    )
    gdp_blend: Share = Field(
        description="Weight of GDP in a province's demand weight; the rest follows AI-firm location. [-]"
    )
    ai_firm_share_hub_regions: Share = Field(
        description="Share of AI firms located in 京津冀, 长三角 and 珠三角. [-]"
    )


class TimeSettings(_Strict):
    """Time slices: ``days`` representative days of ``hours_per_day`` slices each (docs/time-resolution.md)."""

    days: Annotated[int, Field(ge=1, le=366)] = Field(description="Representative days. [-]")
    hours_per_day: Literal[1, 2, 3, 4, 6, 8, 12, 24] = Field(
        description="Slices per day; each covers 24/hours_per_day hours of the day. [-]"
    )
    representative: Literal["identical", "clustered"] = Field(
        default="clustered",
        description="How the days are chosen. 'identical': copies of one mean day, flat green power and PUE, "
        "each day weighted 365/days. 'clustered': days picked by clustering the year's hourly green "
        "power and demand (tsam, at most 365), each weighted by the days it stands for.",
    )
    extreme_days: bool = Field(
        default=True,
        description="With clustered days, add the year's peak-demand days (the national peak, and the peak of "
        "each demand shape) as days of their own, so the plan's capacity covers the whole year.",
    )
    defer_within_day: bool = Field(
        default=False,
        description="Let deferrable workload classes (workloads.csv 'deferrable') move load between the "
        "hours of a day, each day's energy kept.",
    )
    defer_peak_factor: Annotated[float, Field(ge=1.0, le=24.0)] | None = Field(
        default=None,
        description="Most deferrable load a site may run in one slice, as a multiple of its deferrable "
        "mean load that day; null for no limit (capacity still limits it). [-]",
    )

    @field_validator("representative")
    @classmethod
    def _clustered_days_within_year(cls, value: str, info) -> str:
        days = info.data.get("days")
        if value == "clustered" and days is not None and days > 365:
            msg = f"clustered days must be at most 365 (the year's days), got days={days}"
            raise ValueError(msg)
        return value


class MeasuredLatency(_Strict):
    """A measured one-way latency that overrides the model for one province–site pair."""

    province: str = Field(description="Origin province id.")
    site: str = Field(description="Site id.")
    one_way_ms: Annotated[float, Field(gt=0.0, le=1000.0)] = Field(description="One-way latency. [ms]")


class LatencySettings(_Strict):
    """The fibre latency model: ``overhead_ms + km × route_factor × 0.0049``."""

    overhead_ms: Annotated[float, Field(ge=0.0, le=100.0)] = Field(description="Fixed delay. [ms]")
    route_factor: Annotated[float, Field(ge=1.0, le=5.0)] = Field(
        description="Fibre route length over great-circle distance. [-]"
    )
    measured: list[MeasuredLatency] = Field(default_factory=list, description="Measured pairs.")
    mean_cap_ms: Annotated[float, Field(gt=0.0, le=1000.0)] | None = Field(
        default=None,
        description="Cap on the plan's load-weighted mean one-way latency, on top of each class's own "
        "limit (the ε-constraint of the cost–latency frontier); null for none. [ms]",
    )


class CostSettings(_Strict):
    """Investment and operating cost assumptions."""

    capex_usd_per_mw: Positive = Field(description="Data-centre capex per MW of IT load. [USD/MW]")
    fx_cny_per_usd: Positive = Field(description="Exchange rate. [CNY/USD]")
    discount_rate: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(description="Real discount rate. [-/yr]")
    lifetime_years: Annotated[float, Field(gt=0.0, le=100.0)] = Field(description="Asset life. [yr]")
    local_capex_factor: Positive = Field(description="Capex of local sites relative to clusters. [-]")
    fitout_capex_factor: Annotated[float, Field(ge=0.0, le=2.0)] = Field(
        description="Capex of fitting out a built but vacant rack, relative to a new build. [-]"
    )
    certificate_price_cny_per_mwh: NonNeg | None = Field(
        description="Price of a green certificate (绿证, 1 MWh); null when none are on offer. [CNY/MWh]"
    )
    water_price_cny_per_m3: NonNeg = Field(description="Price of water at data centres. [CNY/m³]")
    latency_weight_cny_per_mwh_ms: NonNeg = Field(
        description="Cost of latency users see, per MWh served and ms one-way. [CNY/(MWh·ms)]"
    )


class CarbonSettings(_Strict):
    """Carbon price and optional cap on the plan's emissions, and how emissions are counted (docs/carbon.md)."""

    price_cny_per_tco2: NonNeg = Field(description="Carbon price. [CNY/tCO2]")
    cap_tco2: NonNeg | None = Field(description="Cap on annual emissions; null for none. [tCO2/yr]")
    accounting: Literal["location", "market", "marginal"] = Field(
        description="Emissions the price and the cap apply to. 'location': every MWh at its province's grid "
        "average, green purchases change nothing; 'market': bought green power (bundled and certificates) at "
        "zero, the rest at the residual mix; 'marginal': the regional grid's operating margin, less bundled "
        "green power. All three are reported."
    )
    residual_factor_ratio: Annotated[float, Field(ge=1.0, le=3.0)] = Field(
        description="Residual-mix factor over the grid average (the national ratio, applied to every province). [-]"
    )


class PolicySettings(_Strict):
    """Operating limits and the programme's policies, each a constraint that may bind (docs/formulation.md)."""

    utilisation_max: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        description="Largest load as a share of fitted (occupied) IT capacity. [-]"
    )
    local_max_new_share: NonNeg = Field(
        description="New local capacity allowed in the year, as a share of built local capacity. [-]"
    )
    fitout_max_share: Share | None = Field(
        description="Most of a site's built capacity fitted out within the year (its 上架率 rises by at most "
        "this); null for no limit beyond the vacant racks. [-]"
    )
    hub_new_share_min: Share | None = Field(
        description="Least share of new capacity built in the 10 hub clusters; null for none. [-]"
    )
    hub_new_green_share_min: Share | None = Field(
        description="Least green share (bundled or certificates) of the expected electricity of new hub capacity; "
        "null for none. [-]"
    )
    new_capacity_load_factor: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        description="Expected mean load of new capacity over its size, for the green requirement. [-]"
    )
    hub_occupancy_min: Share | None = Field(
        description="Least 上架率 of the hub clusters together: fitted over built capacity; null for none. [-]"
    )
    pue_cap_national: Annotated[float, Field(ge=1.0, le=3.0)] | None = Field(
        description="Cap on the average PUE of all the plan's data centres (facility over IT energy); "
        "null for none. [-]"
    )
    hub_pue_caps: bool = Field(description="Hold each hub cluster's annual PUE within its cap (sites.csv pue_cap).")
    green_share_min: Share | None = Field(
        description="Least green share (bundled or certificates) of all data-centre electricity; null for none. [-]"
    )


class SiteOverride(_Strict):
    """Changes to one site (cluster ``<id>`` or local site ``local_<province>``)."""

    enabled: bool | None = Field(default=None, description="False removes the site from the plan.")
    pue: Annotated[float, Field(ge=1.0, le=3.0)] | None = Field(default=None, description="PUE. [-]")
    existing_mw: NonNeg | None = Field(default=None, description="Built IT capacity (rated racks). [MW]")
    occupancy: Share | None = Field(default=None, description="上架率: share of built capacity fitted and in use. [-]")
    pue_cap: Annotated[float, Field(ge=1.0, le=3.0)] | None = Field(default=None, description="Hub PUE cap. [-]")
    wue_l_per_kwh: Annotated[float, Field(ge=0.0, le=10.0)] | None = Field(
        default=None, description="Water per IT energy. [L/kWh]"
    )
    max_new_mw: NonNeg | None = Field(default=None, description="Most new IT capacity. [MW]")
    price_cny_per_mwh: Positive | None = Field(default=None, description="Grid power price. [CNY/MWh]")
    green_available_mw: NonNeg | None = Field(default=None, description="Bundled green power on offer. [MW]")
    green_premium_cny_per_mwh: NonNeg | None = Field(
        default=None, description="Price of green power above grid power. [CNY/MWh]"
    )


class ProvinceOverride(_Strict):
    """Changes to one origin province."""

    demand_weight: NonNeg | None = Field(
        default=None, description="Demand weight replacing the GDP/AI blend (renormalised). [-]"
    )
    price_cny_per_mwh: Positive | None = Field(default=None, description="Power price. [CNY/MWh]")
    ef_tco2_per_mwh: Annotated[float, Field(ge=0.0, le=2.0)] | None = Field(
        default=None, description="Grid emission factor. [tCO2/MWh]"
    )
    local_existing_mw: NonNeg | None = Field(default=None, description="Built local IT capacity. [MW]")
    local_occupancy: Share | None = Field(default=None, description="上架率 of local capacity. [-]")
    local_pue: Annotated[float, Field(ge=1.0, le=3.0)] | None = Field(default=None, description="[-]")
    water_cap_m3: NonNeg | None = Field(
        default=None, description="Cap on the water the province's data centres use. [m³/yr]"
    )


class WorkloadOverride(_Strict):
    """Changes to one workload class."""

    latency_max_ms: Annotated[float, Field(gt=0.0, le=1000.0)] | Literal["none"] | None = Field(
        default=None, description="One-way latency limit, or 'none' for no limit. [ms]"
    )
    data_intensity_cny_per_mw_1000km: NonNeg | None = Field(
        default=None, description="Network cost per MW carried per 1,000 km. [CNY/(MW·1000 km·yr)]"
    )
    share: Share | None = Field(default=None, description="Share of national IT demand. [-]")
    traffic_gbps_per_mw: NonNeg | None = Field(
        default=None, description="Sustained wide-area traffic per MW of IT load. [Gbit/s per MW]"
    )
    deferrable: bool | None = Field(
        default=None,
        description="True lets the class move load within a day when time.defer_within_day is on.",
    )


class NetworkSettings(_Strict):
    """The backbone network as a decision: link capacity, new bandwidth, transfer energy, residency and recovery.

    See docs/network.md. Off (``enabled: false``), routes cost per MW·1000 km only, as before.
    """

    enabled: bool = Field(description="Route traffic over the backbone links and decide new bandwidth.")
    route_factor: Annotated[float, Field(ge=1.0, le=5.0)] = Field(
        description="Fibre route over great-circle length of backbone and access links. [-]"
    )
    direct_route_factor: Annotated[float, Field(ge=1.0, le=5.0)] = Field(
        description="Fibre route over great-circle length of candidate direct hub links. [-]"
    )
    hop_ms: Annotated[float, Field(ge=0.0, le=100.0)] = Field(description="One-way delay per link traversed. [ms]")
    existing_scale: NonNeg = Field(description="Multiplier on the links' existing capacity. [-]")
    link_existing_gbps: dict[str, NonNeg] = Field(
        default_factory=dict, description="Existing capacity of named links, replacing the table's. [Gbit/s]"
    )
    cost_cny_per_gbps_km_yr: NonNeg = Field(
        description="Annualised cost of new link capacity. [CNY/(Gbit/s·km·yr)]"
    )
    transfer_kwh_per_gb: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        description="Network electricity per GB carried. [kWh/GB]"
    )
    peak_factor: Annotated[float, Field(ge=1.0, le=10.0)] = Field(
        description="Peak-hour traffic over a slice's mean traffic; links carry the peak. [-]"
    )
    residency: dict[str, Literal["province", "grid_region"]] = Field(
        default_factory=dict,
        description="Classes whose data must stay in the origin's province or grid region (own local site or "
        "a cluster there).",
    )
    dr_min_separation_km: dict[str, NonNeg] = Field(
        default_factory=dict,
        description="Disaster recovery: least great-circle distance from origin to site, by class. [km]",
    )
    dr_other_grid_region: list[str] = Field(
        default_factory=list, description="Disaster recovery: classes that must run outside the origin's grid region."
    )


class HorizonSettings(_Strict):
    """A plan over several years: solved year by year (myopic) or as one LP (foresight), capacity carried forward."""

    end_year: Annotated[int, Field(ge=2000, le=2100)] | None = Field(
        description="Last planned year; null plans the single year ``year``."
    )
    step_years: Annotated[int, Field(ge=1, le=10)] = Field(description="Years between planned years. [yr]")
    demand_growth: dict[str, Annotated[float, Field(ge=-0.5, le=2.0)]] = Field(
        description="Annual growth of demand by workload class. [-/yr]"
    )
    build_limit_growth: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        description="Annual growth of every site's max_new_mw after the first planned year. [-/yr]"
    )
    mode: Literal["myopic", "foresight"] = Field(description="Year by year, or one LP over all years (docs/pathway.md)")
    discount_rate: Annotated[float, Field(ge=0.0, le=0.5)] = Field(description="Of later years' costs. [-/yr]")
    salvage: Literal["annuity", "none"] = Field(description="Capex as annuities while standing, or overnight if built")


class InvestmentSettings(_Strict):
    """National investment, for the compute share τ of investment that drives the growth model."""

    gfcf_cny: Positive = Field(description="Gross fixed capital formation in the year ``year``. [CNY/yr]")
    gfcf_growth: Annotated[float, Field(ge=-0.5, le=0.5)] = Field(description="Its annual growth. [-/yr]")
    baseline_compute_share: Share = Field(
        description="Compute (ICT) investment as a share of gross fixed investment without the plan. [-]"
    )
    growth_target: Annotated[float, Field(ge=-0.1, le=0.2)] = Field(
        description="Growth the growth model is calibrated to at the baseline τ. [-/yr]"
    )


class GrowthSettings(_Strict):
    """Parameters of the compute-capital growth model (planner/growth.py, docs/growth.md)."""

    preset: Literal["calibrated", "report"] = Field(
        description="'calibrated': the output elasticities below (Chinese data); 'report': the 2023 compute "
        "report's illustrative set (α = 0.4, β = 0.3), which ignores the two elasticities below."
    )
    compute_elasticity: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        description="Output elasticity of compute capital, 1 − α (GDP growth per 1 % more compute). [-]"
    )
    services_share: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        description="Revenue share of compute services in output, 1 − α − β; below compute_elasticity. [-]"
    )
    sigma: Annotated[float, Field(gt=0.0, le=20.0)] = Field(
        description="Relative risk aversion (inverse intertemporal elasticity of substitution). [-]"
    )
    delta: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(description="Depreciation of both capitals. [-/yr]")
    rho: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(description="Households' utility discount rate. [-/yr]")

    @model_validator(mode="after")
    def _services_within_compute(self):
        if self.preset == "calibrated" and not self.services_share < self.compute_elasticity:
            msg = (f"services_share ({self.services_share:g}) must be below compute_elasticity "
                   f"({self.compute_elasticity:g}): compute capital used directly needs a positive share")
            raise ValueError(msg)
        return self


class SolverSettings(_Strict):
    """How the LP is solved."""

    backend: Literal["auto", "pulp", "highs"] = Field(
        default="auto",
        description="'pulp' builds with PuLP; 'highs' hands the same matrix to highspy; 'auto' uses "
        "PuLP for small models and the matrix for national-size ones (see benchmarks/README.md).",
    )
    time_limit_s: Annotated[float, Field(gt=0.0, le=86_400.0)] = Field(
        default=600.0, description="Wall-clock limit of one solve. [s]"
    )
    tolerance: Annotated[float, Field(gt=0.0, le=1e-2)] = Field(
        default=1e-6,
        description="Largest accepted constraint violation, relative to the row's scale (never below a "
        "millionth of the largest scale of its constraint family; docs/reliability.md). [-]",
    )
    memory_budget_gb: Annotated[float, Field(gt=0.0, le=100_000.0)] | None = Field(
        default=None,
        description="Most memory the LP may take, as estimated before it is built; null for half of this "
        "machine's available memory. A larger scenario is refused with its estimated size. [GB]",
    )


#: Most futures a stochastic plan lists or samples (the memory budget usually allows fewer). [-]
MAX_FUTURES = 50


class FutureSpec(_Strict):
    """One future of a two-stage stochastic plan (docs/robust.md)."""

    name: Annotated[str, Field(min_length=1, max_length=60)] = Field(description="Name of the future.")
    probability: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        description="Its probability; the futures' add up to 1. [-]")
    description: str = Field(default="", max_length=2000, description="Free text.")
    set: dict[str, Any] = Field(default_factory=dict, description="Its edits of the scenario, in the dotted form "
                                "of --set (demand.scale: 1.3, sites.qingyang.price_cny_per_mwh: 400).")


class FutureSample(_Strict):
    """Futures drawn from a study's distributions, each with probability 1/sample."""

    sample: Annotated[int, Field(ge=1, le=MAX_FUTURES)] = Field(description="Number of futures drawn. [-]")
    study: Annotated[str, Field(min_length=1, max_length=300)] = Field(
        description="Study file (or shipped study name) whose distributions and factors are drawn from.")
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = Field(default=0, description="Seed of the draws.")


class RiskSettings(_Strict):
    """Risk aversion of a stochastic plan: CVaR of the cost in the objective."""

    cvar_alpha: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        description="CVaR level α: the mean cost of the dearest 1 − α of the futures' probability. [-]")
    cvar_weight: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        description="Weight ω of CVaR in the objective (1 − ω on the expected cost). [-]")


class Scenario(_Strict):
    """A complete, validated scenario: defaults merged with the user's file and ``--set`` overrides."""

    name: Annotated[str, Field(min_length=1, max_length=100)] = Field(description="Scenario name.")
    description: str = Field(default="", max_length=2000, description="Free text.")
    year: Annotated[int, Field(ge=2000, le=2100)] = Field(description="Planning year.")
    demand: DemandSettings
    time: TimeSettings
    latency: LatencySettings
    costs: CostSettings
    carbon: CarbonSettings
    policy: PolicySettings
    sites: dict[str, SiteOverride] = Field(default_factory=dict, description="Changes to sites (below).")
    provinces: dict[str, ProvinceOverride] = Field(
        default_factory=dict, description="Changes to provinces (below)."
    )
    workloads: dict[str, WorkloadOverride] = Field(
        default_factory=dict, description="Changes to workload classes (below)."
    )
    network: NetworkSettings
    horizon: HorizonSettings
    investment: InvestmentSettings
    growth: GrowthSettings
    solver: SolverSettings = Field(default_factory=SolverSettings)
    futures: Annotated[
        Annotated[Annotated[list[FutureSpec], Field(min_length=1, max_length=MAX_FUTURES)], Tag("list")]
        | Annotated[FutureSample, Tag("model-sample")],
        Discriminator(lambda value: "list" if isinstance(value, list) else "model-sample"),
    ] | None = Field(
        default=None, description="Futures of a two-stage stochastic plan (docs/robust.md); null plans one future.")
    risk: RiskSettings | None = Field(default=None, description="CVaR in a stochastic plan's objective; null: "
                                      "expected cost only.")

    @field_validator("name")
    @classmethod
    def _printable_name(cls, value: str) -> str:
        if not value.isprintable():
            msg = "must be printable text"
            raise ValueError(msg)
        return value

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain data (what ``scenario.yaml`` holds)."""
        return self.model_dump(mode="json", exclude_none=False)

    def input_hash(self) -> str:
        """SHA-256 of the resolved scenario and the default dataset it draws on."""
        payload = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(payload.encode())
        digest.update(_dataset_fingerprint().encode())
        return digest.hexdigest()


@functools.cache
def _dataset_fingerprint() -> str:
    tables = load_tables()
    parts = [tables[key].to_csv(index=False) for key in sorted(tables)]
    return hashlib.sha256("".join(parts).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Overrides and resolving
# ---------------------------------------------------------------------------------------------

def parse_override(assignment: str) -> tuple[list[str], Any]:
    """Split one ``--set dotted.key=value`` into its key path and YAML-parsed value.

    The value goes through the same guards as a file (no anchors, tags or deep nesting, YAML 1.2
    values); a value that is not valid YAML is taken as text.
    """
    source = "--set"
    key, sep, value = assignment.partition("=")
    path = [part.strip() for part in key.split(".")]
    if not sep or not all(path):
        msg = (
            f"expected KEY=VALUE such as carbon.price_cny_per_tco2=200, got {shown_value(assignment)}. "
            "Write the setting's dotted name, '=' and its value."
        )
        raise ScenarioError(
            msg, source=source, field=shown_key(key),
        )
    if len(path) > MAX_KEY_PARTS:
        msg = (
            f"the key has {len(path):,} parts; settings have at most {MAX_KEY_PARTS}. "
            "Name one setting, such as sites.qingyang.pue."
        )
        raise ScenarioError(
            msg, source=source, field=shown_key(key),
        )
    try:
        parsed = load_yaml(value, source) if value.strip() else None
    except ScenarioError as exc:
        raise exc.relocated(source, shown_key(key)) from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):
        parsed = value
    return path, parsed


def set_dotted(document: dict[str, Any], path: list[str] | str, value: Any) -> None:
    """Set ``value`` at a dotted key (``"carbon.cap_tco2"`` or its parts), creating sections on the way."""
    if isinstance(path, str):
        path = path.split(".")
    node = document
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[path[-1]] = value


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def resolve_scenario(
    document: dict[str, Any] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    name: str = "scenario",
    source: str = "scenario",
) -> Scenario:
    """Merge a scenario document onto the defaults, apply ``--set`` overrides, validate and check.

    Parameters
    ----------
    document : dict, optional
        The scenario's own settings (may be empty).
    overrides : sequence of str
        ``dotted.key=value`` assignments applied after the document.
    name : str
        Name used when the document sets none.
    source : str
        File name used in error messages.
    """
    document = copy.deepcopy(document or {})
    for assignment in overrides:
        path, value = parse_override(assignment)
        set_dotted(document, path, value)
    _reject_non_finite(document, source, "")
    merged = _merge(load_defaults(), document)
    merged.setdefault("name", name)
    try:
        scenario = Scenario.model_validate(merged)
    except ValidationError as exc:
        error = format_validation_error(source, exc)
        # Blame --set, not the file, when the offending field came from an override.
        set_fields = {assignment.partition("=")[0].strip() for assignment in overrides}
        if error.field in set_fields:
            error = error.relocated(source="--set")
        raise error from None
    check_scenario(scenario, source)
    return scenario


def _reject_non_finite(node: Any, source: str, path: str) -> None:
    # pydantic would report NaN in a union field only vaguely; name it here precisely.
    pending = [(node, path)]
    while pending:
        node, path = pending.pop()
        if isinstance(node, dict):
            pending.extend(
                (value, f"{path}.{shown_key(key)}" if path else shown_key(key)) for key, value in node.items()
            )
        elif isinstance(node, list | tuple):
            pending.extend((value, f"{path}.{i}" if path else str(i)) for i, value in enumerate(node))
        elif isinstance(node, float) and not math.isfinite(node):
            msg = f"must be a finite number, got {node}. Give a number."
            raise ScenarioError(msg, source=source, field=path)


def load_scenario(
    path: Path | str | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> Scenario:
    """Load a scenario from a file, a shipped scenario name, or the defaults.

    Parameters
    ----------
    path : path or str, optional
        A YAML file, or the name of a shipped scenario (``baseline``, ``policy-2025``,
        ``low-carbon``, ``no-west``). None means the defaults (the national baseline).
    overrides : sequence of str
        ``--set`` assignments such as ``carbon.price_cny_per_tco2=200``.

    Raises
    ------
    ScenarioError
        On any bad input, with one line naming the file, the field and the fix.
    """
    if path is None:
        path = "baseline"
    candidate = Path(path)
    if not candidate.exists() and candidate.suffix == "":
        shipped = scenario_dir() / f"{candidate.name}.yaml"
        if shipped.exists():
            candidate = shipped
        else:
            names = ", ".join(shipped_scenarios())
            msg = f"no such file or shipped scenario. Give a YAML path or one of: {names}."
            raise ScenarioError(msg,
                                source=shown_key(path, 120))
    document = read_yaml_file(candidate)
    return resolve_scenario(document, overrides, name=candidate.stem, source=candidate.name)


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped with the dataset."""
    return sorted(p.stem for p in scenario_dir().glob("*.yaml"))


@functools.cache
def _dataset_ids() -> tuple[frozenset, tuple, frozenset, tuple]:
    """(province ids, cluster ids in order, workload ids, (workload, share) pairs) of the default tables."""
    tables = load_tables()
    shares = tuple(tables["workloads"]["share"].astype(float).items())
    return (frozenset(tables["provinces"].index), tuple(tables["sites"].index), frozenset(tables["workloads"].index),
            shares)


@functools.cache
def _link_ids() -> frozenset:
    """Link ids of the default network table."""
    return frozenset(load_tables()["network_links"]["link"])


def check_scenario(scenario: Scenario, source: str = "scenario") -> None:
    """Cross-table checks the schema cannot make: ids exist, shares add up, something can serve.

    Every problem found is collected into one message.
    """
    provinces, clusters, workloads, table_shares = _dataset_ids()
    sites = set(clusters) | {f"local_{p}" for p in provinces}
    problems: list[tuple[str, str]] = []

    def unknown(kind: str, ids: set[str], known: set[str], field: str) -> None:
        for item in sorted(ids - known, key=str):
            hint = ", ".join(sorted(known)[:12])
            problems.append((f"{field}.{shown_key(item)}", f"unknown {kind} id. Use a known id such as: {hint}."))

    unknown("site", set(scenario.sites), sites, "sites")
    unknown("province", set(scenario.provinces), provinces, "provinces")
    unknown("workload", set(scenario.workloads), workloads, "workloads")
    unknown("workload", set(scenario.horizon.demand_growth), workloads, "horizon.demand_growth")
    network = scenario.network
    unknown("workload", set(network.residency), workloads, "network.residency")
    unknown("workload", set(network.dr_min_separation_km), workloads, "network.dr_min_separation_km")
    unknown("workload", set(network.dr_other_grid_region), workloads, "network.dr_other_grid_region")
    unknown("link", set(network.link_existing_gbps), _link_ids(), "network.link_existing_gbps")
    if scenario.horizon.end_year is not None and scenario.horizon.end_year < scenario.year:
        problems.append(("horizon.end_year", f"is before the plan's year {scenario.year}. Give a later year or null."))
    for index, pair in enumerate(scenario.latency.measured):
        if pair.province not in provinces:
            problems.append((f"latency.measured.{index}.province",
                             f"unknown province id {shown_value(pair.province)}. Use a province id of "
                             "data/provinces.csv such as 'beijing'."))
        if pair.site not in sites:
            problems.append((f"latency.measured.{index}.site",
                             f"unknown site id {shown_value(pair.site)}. Use a cluster id of data/sites.csv "
                             "or local_<province id>."))

    first_of: dict[tuple[str, str], int] = {}
    for index, pair in enumerate(scenario.latency.measured):
        earlier = first_of.setdefault((pair.province, pair.site), index)
        if earlier != index and scenario.latency.measured[earlier].one_way_ms != pair.one_way_ms:
            problems.append((f"latency.measured.{index}",
                             f"repeats the pair {shown_value(pair.province)}–{shown_value(pair.site)} of "
                             f"latency.measured.{earlier} with another latency ({pair.one_way_ms:g} ms against "
                             f"{scenario.latency.measured[earlier].one_way_ms:g} ms). Keep one measurement per pair."))

    shares = dict(table_shares)
    for workload, override in scenario.workloads.items():
        if override.share is not None and workload in shares:
            shares[workload] = override.share
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        problems.append(("workloads", f"shares must add up to 1, got {total:.6f}. Rescale the shares."))

    problems.extend(_future_problems(scenario))
    enabled_clusters = [s for s in clusters if (scenario.sites.get(s) or SiteOverride()).enabled is not False]
    if scenario.policy.hub_new_share_min and not enabled_clusters:
        problems.append(("policy.hub_new_share_min",
                         "is set but every hub cluster is disabled. Enable a cluster or set it to null."))
    if problems:
        field, message = problems[0]
        if len(problems) > 1:
            message += f" ({len(problems) - 1} more problem{'s' if len(problems) > 2 else ''}.)"
        raise ScenarioError(message, source=source, field=field)


def _future_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """Probabilities that do not add up to 1, repeated names, risk without futures (the rest: planner.robust)."""
    problems = []
    futures = scenario.futures
    if isinstance(futures, list):
        total = sum(future.probability for future in futures)
        if abs(total - 1.0) > 1e-6:
            problems.append(("futures.probability", f"the futures' probabilities add up to {total:.6g}, not 1. "
                             "Rescale them."))
        names = [future.name for future in futures]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            problems.append(("futures.name", f"repeats {shown_value(repeated[0])}. Name each future once."))
    if scenario.risk is not None and futures is None:
        problems.append(("risk", "is set but the scenario has no futures. Add futures or set risk to null."))
    return problems
