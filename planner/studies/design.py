"""Study designs: the base scenario, the keys and factors a study varies, distributions, and the runs they give."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import os
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

import numpy as np
from edwc_data.tables import load_tables, scenario_dir
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from planner.safe_yaml import shown_key
from planner.scenario import (
    ProvinceOverride,
    Scenario,
    ScenarioError,
    SiteOverride,
    WorkloadOverride,
    read_yaml_file,
    resolve_scenario,
    set_dotted,
    shipped_scenarios,
)
from planner.studies.table import MAX_RUNS, SUMMARY_KEYS


class StudyError(ScenarioError):
    """Bad study input (file, grid, distributions, options): one line naming field and fix."""


def _fail(field: str, message: str, source: str = "study") -> NoReturn:
    raise StudyError(message, source=source, field=field)


@dataclasses.dataclass
class BaseScenario:
    """The scenario a study varies.

    Attributes
    ----------
    document : dict
        The scenario's own settings, with the study's ``set`` overrides applied.
    name, source : str
        Scenario name and the file name used in messages.
    scenario : Scenario
        ``document`` resolved and validated.
    """

    document: dict[str, Any]
    name: str
    source: str
    scenario: Scenario


def _plain(value: Any) -> Any:
    # numpy scalars from sampling become Python numbers, so pydantic and YAML take them.
    return value.item() if isinstance(value, np.generic) else value


def load_base(
    base: str | Path | dict | Scenario, overrides: dict[str, Any] | None = None, relative_to: Path | None = None
) -> BaseScenario:
    """Read the base scenario of a study and apply its ``set`` overrides.

    Parameters
    ----------
    base : str, path, dict or Scenario
        A scenario file, a shipped scenario name, a scenario document, or a resolved Scenario.
    overrides : dict, optional
        Dotted key -> value, applied before validation (the study file's ``set``).
    relative_to : path, optional
        Folder a relative file name is looked up in first (the study file's).

    Raises
    ------
    ScenarioError
    """
    if isinstance(base, Scenario):
        document, name, source = base.to_dict(), base.name, base.name
    elif isinstance(base, dict):
        document = copy.deepcopy(base)
        name = str(document.get("name", "study"))
        source = name
    else:
        path = _find_scenario(str(base), relative_to)
        document, name, source = read_yaml_file(path), path.stem, path.name
    for key, value in (overrides or {}).items():
        set_dotted(document, key, _plain(value))
    scenario = resolve_scenario(document, (), name=name, source=source)
    return BaseScenario(document, scenario.name, source, scenario)


def _find_scenario(base: str, relative_to: Path | None) -> Path:
    candidates = [relative_to / base] if relative_to is not None else []
    candidates.append(Path(base))
    for candidate in candidates:
        if os.path.lexists(candidate) and not candidate.is_dir():
            return candidate  # read_yaml_file refuses what is not a regular file
    shipped = scenario_dir() / f"{base}.yaml"
    if Path(base).suffix == "" and shipped.exists():
        return shipped
    names = ", ".join(shipped_scenarios())
    msg = f"no such file or shipped scenario. Give a YAML path or one of: {names}."
    raise ScenarioError(msg,
                        source=shown_key(base, 120))


def check_key(key: str, factors: dict[str, list[str]] | None = None) -> None:
    """Check that a dotted key names one scenario setting (or a factor).

    Raises
    ------
    ValueError
        With a message saying what is wrong and how to fix it.
    """
    if factors and key in factors:
        return
    parts = key.split(".")
    tables = load_tables()
    sections = {
        "sites": (set(tables["sites"].index) | {f"local_{p}" for p in tables["provinces"].index}, SiteOverride),
        "provinces": (set(tables["provinces"].index), ProvinceOverride),
        "workloads": (set(tables["workloads"].index), WorkloadOverride),
    }
    if parts[0] in sections:
        ids, model = sections[parts[0]]
        if len(parts) != 3:
            msg = f"{parts[0]} keys have the form {parts[0]}.<id>.<field>, got {key!r}"
            raise ValueError(msg)
        if parts[1] not in ids:
            known = ", ".join(sorted(ids)[:10])
            msg = f"unknown {parts[0][:-1]} id {parts[1]!r}. Known ids include: {known}"
            raise ValueError(msg)
        if parts[2] not in model.model_fields:
            msg = f"unknown field {parts[2]!r}. Fields: {', '.join(model.model_fields)}"
            raise ValueError(msg)
        return
    if parts[:2] == ["horizon", "demand_growth"]:
        if len(parts) != 3 or parts[2] not in tables["workloads"].index:
            msg = f"horizon.demand_growth keys need a workload id, got {key!r}"
            raise ValueError(msg)
        return
    model: type[BaseModel] | None = Scenario
    for depth, part in enumerate(parts):
        if model is None:
            msg = f"{'.'.join(parts[:depth])} is a single value; {key!r} goes below it"
            raise ValueError(msg)
        if part not in model.model_fields:
            fields = ", ".join(model.model_fields)
            under = f" under {'.'.join(parts[:depth])}" if depth else ""
            msg = f"unknown key {part!r}{under}. Known: {fields}"
            raise ValueError(msg)
        annotation = model.model_fields[part].annotation
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    if model is not None:
        fields = ", ".join(model.model_fields)
        msg = f"{key!r} is a section, not a value. Name one of its fields: {fields}"
        raise ValueError(msg)


def factor_base_values(base: BaseScenario, factors: dict[str, list[str]]) -> dict[str, float]:
    """Base-scenario value of every key a factor scales (the tables' value where not overridden)."""
    from planner.preprocess import build_inputs

    keys = sorted({key for keys in factors.values() for key in keys})
    if not keys:
        return {}
    inputs = build_inputs(base.scenario)
    sites = inputs.sites.set_index("site")
    workloads = inputs.workloads.set_index("workload")
    provinces = load_tables()["provinces"]
    province_fields = {
        "local_pue": "local_pue",
        "local_existing_mw": "local_existing_mw",
        "price_cny_per_mwh": "price_cny_per_mwh",
        "ef_tco2_per_mwh": "ef_tco2_per_mwh",
    }
    document = base.scenario.to_dict()
    values: dict[str, float] = {}
    for key in keys:
        parts = key.split(".")
        value: Any = None
        if parts[0] == "sites" and parts[2] != "enabled":
            if parts[1] not in sites.index:
                msg = f"factor key {key} | site {parts[1]} is disabled in the base scenario. Enable it or drop the key."
                raise ValueError(msg)
            value = sites.loc[parts[1], parts[2]]
        elif parts[0] == "workloads":
            value = workloads.loc[parts[1], parts[2]]
        elif parts[0] == "provinces" and parts[2] in province_fields:
            override = getattr(base.scenario.provinces.get(parts[1]) or ProvinceOverride(), parts[2])
            value = override if override is not None else provinces.loc[parts[1], province_fields[parts[2]]]
        else:
            value = document
            for part in parts:
                value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, bool) or not isinstance(_plain(value), int | float):
            msg = f"factor key {key} | has no numeric base value (got {value!r}). Scale numeric settings only."
            raise ValueError(msg)
        values[key] = float(value)
    return values


def scenario_values(
    values: dict[str, Any], factors: dict[str, list[str]], base_values: dict[str, float]
) -> dict[str, Any]:
    """The dotted-key settings of one run: varied keys as given, factors times their base values."""
    settings: dict[str, Any] = {}
    for key, value in values.items():
        value = _plain(value)
        if key in factors:
            for scaled in factors[key]:
                # An unlimited latency stays unlimited whatever the factor.
                base_value = base_values[scaled]
                # Twelve significant digits drop float noise (350 × 1.4 = 489.99999999999994).
                settings[scaled] = "none" if math.isinf(base_value) else float(f"{base_value * value:.12g}")
        else:
            settings[key] = value
    return settings


def build_variant(base: BaseScenario, settings: dict[str, Any], source: str) -> Scenario:
    """The base scenario with ``settings`` (dotted key -> value) applied, validated."""
    document = copy.deepcopy(base.document)
    for key, value in settings.items():
        set_dotted(document, key, value)
    return resolve_scenario(document, (), name=base.name, source=source)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_boolean_numbers(cls, data: Any) -> Any:
        # pydantic would read `low: true` as 1.0; refuse it (the discriminator field rules out a
        # per-field validator here, see planner.scenario.StrictModel).
        if isinstance(data, dict):
            for name, value in data.items():
                if isinstance(value, bool) and name in cls.model_fields and name != "dist":
                    msg = f"{name} must be a number, not a true/false value"
                    raise ValueError(msg)
        return data


#: A bound or parameter of a distribution: finite and within the magnitudes a scenario holds, so
#: that draws (and ``high - low``) stay finite.
Bound = Annotated[float, Field(ge=-1e15, le=1e15)]
#: Largest seed accepted (numpy takes any non-negative integer; a study table stores it as int64).
MAX_SEED = 2**63 - 1


class UniformDistribution(_Strict):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: Bound
    high: Bound

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low < self.high:
            msg = f"low must be below high, got low={self.low:g}, high={self.high:g}"
            raise ValueError(msg)
        return self

    def draw(self, rng: np.random.Generator, size: int) -> list[Any]:
        return rng.uniform(self.low, self.high, size).tolist()

    def quantile(self, u: np.ndarray) -> list[Any]:
        """Values at the unit coordinates ``u`` (the inverse of the distribution function)."""
        return (self.low + np.asarray(u, float) * (self.high - self.low)).tolist()


class NormalDistribution(_Strict):
    """Normal with ``mean`` and standard deviation ``sd``, clipped to [``low``, ``high``]."""

    dist: Literal["normal"]
    mean: Bound
    sd: Annotated[float, Field(gt=0.0, le=1e15)]
    low: Bound | None = None
    high: Bound | None = None

    @model_validator(mode="after")
    def _ordered(self):
        if self.low is not None and self.high is not None and not self.low < self.high:
            msg = f"low must be below high, got low={self.low:g}, high={self.high:g}"
            raise ValueError(msg)
        return self

    def draw(self, rng: np.random.Generator, size: int) -> list[Any]:
        values = rng.normal(self.mean, self.sd, size)
        low = -np.inf if self.low is None else self.low
        high = np.inf if self.high is None else self.high
        return np.clip(values, low, high).tolist()

    def quantile(self, u: np.ndarray) -> list[Any]:
        """Values at the unit coordinates ``u``, clipped like the draws (u kept inside (0, 1))."""
        from scipy.stats import norm

        from planner.studies.sensitivity import clip_quantile

        values = norm.ppf(clip_quantile(u), self.mean, self.sd)
        low = -np.inf if self.low is None else self.low
        high = np.inf if self.high is None else self.high
        return np.clip(values, low, high).tolist()


class TriangularDistribution(_Strict):
    """Triangular between ``low`` and ``high`` with its peak at ``mode``."""

    dist: Literal["triangular"]
    low: Bound
    mode: Bound
    high: Bound

    @model_validator(mode="after")
    def _ordered(self):
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            got = f"{self.low:g}, {self.mode:g}, {self.high:g}"
            msg = f"need low <= mode <= high and low < high, got {got}"
            raise ValueError(msg)
        return self

    def draw(self, rng: np.random.Generator, size: int) -> list[Any]:
        return rng.triangular(self.low, self.mode, self.high, size).tolist()

    def quantile(self, u: np.ndarray) -> list[Any]:
        """Values at the unit coordinates ``u`` (the inverse of the distribution function)."""
        from scipy.stats import triang

        width = self.high - self.low
        return triang.ppf(np.asarray(u, float), (self.mode - self.low) / width, self.low, width).tolist()


class DiscreteDistribution(_Strict):
    """One of ``values``, with ``probabilities`` (equal when not given)."""

    dist: Literal["discrete"]
    values: Annotated[list[Any], Field(min_length=1)]
    probabilities: list[Annotated[float, Field(ge=0.0)]] | None = None

    @model_validator(mode="after")
    def _probabilities(self):
        if self.probabilities is not None:
            if len(self.probabilities) != len(self.values):
                msg = (
                    f"probabilities has {len(self.probabilities)} entries for "
                    f"{len(self.values)} values; "
                    "give one per value"
                )
                raise ValueError(msg)
            if abs(sum(self.probabilities) - 1.0) > 1e-9:
                msg = f"probabilities must add up to 1, got {sum(self.probabilities):.6g}"
                raise ValueError(msg)
        return self

    def draw(self, rng: np.random.Generator, size: int) -> list[Any]:
        # Draw positions rather than values so the values keep their own types ('none', ints).
        picks = rng.choice(len(self.values), size=size, p=self.probabilities)
        return [self.values[i] for i in picks]

    def quantile(self, u: np.ndarray) -> list[Any]:
        """The value whose cumulative probability first exceeds each unit coordinate ``u``."""
        weights = self.probabilities or [1.0 / len(self.values)] * len(self.values)
        picks = np.searchsorted(np.cumsum(weights), np.asarray(u, float), side="right")
        return [self.values[i] for i in np.minimum(picks, len(self.values) - 1)]


Distribution = Annotated[
    UniformDistribution | NormalDistribution | TriangularDistribution | DiscreteDistribution,
    Field(discriminator="dist"),
]


def _distribution(spec: Any) -> BaseModel:
    from pydantic import TypeAdapter

    return TypeAdapter(Distribution).validate_python(spec)


@dataclasses.dataclass
class RunSpec:
    """One run of a study: its number, the varied values and, in Monte Carlo, its sample number."""

    run: int
    values: dict[str, Any]
    sample: int | None = None


def design_runs(
    grid: dict[str, list] | None = None,
    samples: int | None = None,
    distributions: dict[str, Any] | None = None,
    seed: int = 0,
    sampling: str = "random",
    sensitivity: str | None = None,
) -> list[RunSpec]:
    """The runs of a study: the full factorial of ``grid``, times ``samples`` draws where given.

    With ``sampling='random'`` samples are drawn key by key, in the order the distributions are
    given, with ``numpy.random.default_rng(seed)``. ``'lhs'`` and ``'sobol'`` spread them over a Latin
    hypercube or a Sobol' sequence, and ``sensitivity`` ('sobol' or 'morris') lays out the design those
    indices need (:mod:`planner.studies.sensitivity`); then ``samples`` is its base size. Every grid
    point sees the same draws.
    """
    grid = grid or {}
    points = [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())] or [{}]
    if not samples:
        return [RunSpec(i, point) for i, point in enumerate(points)]
    specs = {key: _as_distribution(spec) for key, spec in (distributions or {}).items()}
    if sampling == "random" and sensitivity is None:
        rng = np.random.default_rng(seed)
        columns = {key: spec.draw(rng, samples) for key, spec in specs.items()}
        count = samples
    else:
        from planner.studies.sensitivity import unit_points

        unit = unit_points(sampling, len(specs), samples, seed, sensitivity)
        columns = {key: spec.quantile(unit[:, i]) for i, (key, spec) in enumerate(specs.items())}
        count = len(unit)
    draws = [{key: column[i] for key, column in columns.items()} for i in range(count)]
    runs = []
    for point in points:
        for sample, draw in enumerate(draws):
            runs.append(RunSpec(len(runs), {**point, **draw}, sample))
    return runs


def _as_distribution(spec: Any):
    return spec if isinstance(spec, BaseModel) else _distribution(spec)


def check_output_keys(outputs, source: str = "study") -> None:
    """Refuse output names that are not scalar figures of a plan's summary."""
    unknown = [key for key in outputs if key not in SUMMARY_KEYS]
    if unknown:
        known = ", ".join(SUMMARY_KEYS)
        _fail("outputs", f"unknown summary figure {unknown[0]!r}. Known: {known}.", source=source)


def check_seed(seed: Any) -> None:
    """Refuse a seed that is not a whole number from 0 to 2**63 - 1 (numpy refuses negative seeds)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed <= MAX_SEED:
        _fail("seed", f"must be a whole number from 0 to 2**63 - 1, got {seed!r}. Give such a seed.")


def _check_design(grid, samples, distributions, factors, outputs, keep_runs, out_dir, seed=0,
                  sampling="random", sensitivity=None) -> None:
    from planner.studies.sensitivity import METHODS, SAMPLINGS, run_count

    fail = _fail

    check_seed(seed)
    if sampling not in SAMPLINGS:
        fail("sampling", f"must be one of {', '.join(SAMPLINGS)}, got {sampling!r}.")
    if sensitivity is not None:
        if sensitivity not in METHODS:
            fail("sensitivity", f"must be one of {', '.join(METHODS)}, got {sensitivity!r}.")
        if grid:
            fail("grid", f"a {sensitivity} sensitivity study varies its distributions only. "
                 "Move the grid's keys into distributions, or drop sensitivity.")
        if sampling != "random":
            fail("sampling", f"sensitivity: {sensitivity} lays out its own samples. Drop sampling.")
        if sensitivity == "sobol" and samples and samples & (samples - 1):
            fail("samples", f"Sobol' indices need a power of two (e.g. 64 or 128), got {samples}.")
    if not grid and not samples:
        fail("grid", "nothing to vary. Give a grid of values and/or samples with distributions.")
    if samples is not None and (not isinstance(samples, int) or isinstance(samples, bool) or samples < 1):
        fail("samples", f"must be a positive whole number, got {samples!r}.")
    if samples and not distributions:
        fail("distributions", "samples needs a distribution for at least one key. Add distributions.")
    if distributions and not samples:
        fail("samples", "distributions are given but no number of samples. Set samples.")
    for name, keys in factors.items():
        if "." in name or not name:
            fail(f"factors.{name}", "a factor name is one word without dots. Rename it.")
        if not keys:
            fail(f"factors.{name}", "lists no keys. Give the dotted keys it multiplies.")
        for key in keys:
            try:
                check_key(key)
            except ValueError as exc:
                fail(f"factors.{name}", f"{exc}.")
    for section, keys in (("grid", grid), ("distributions", distributions)):
        for key in keys:
            try:
                check_key(key, factors)
            except ValueError as exc:
                fail(f"{section}.{key}", f"{exc}.")
    for key, values in grid.items():
        if not isinstance(values, list | tuple) or not values:
            fail(f"grid.{key}", "must be a non-empty list of values.")
    both = set(grid) & set(distributions)
    if both:
        fail(f"grid.{sorted(both)[0]}", "is both in the grid and sampled. Keep it in one of them.")
    for key, spec in distributions.items():
        try:
            _as_distribution(spec)
        except ValidationError as exc:
            first = exc.errors()[0]
            fail(f"distributions.{key}", f"{first['msg'].rstrip('.')}. See docs/studies.md for the forms.")
    total = math.prod(len(v) for v in grid.values()) * (samples or 1)
    if sensitivity is not None and samples:
        total = run_count(sensitivity, len(distributions), samples)
    if total > MAX_RUNS:
        fail("grid", f"{total:,} runs, over the {MAX_RUNS:,} a study may hold. Split the study.")
    check_output_keys(outputs)
    if keep_runs and out_dir is None:
        fail("keep_runs", "needs an output folder. Give out_dir.")


def _checked_factor_values(base: BaseScenario, factors: dict[str, list[str]]) -> dict[str, float]:
    try:
        return factor_base_values(base, factors)
    except ValueError as exc:
        where, _, message = str(exc).partition(" | ")
        _fail(f"factors ({where})", message)

