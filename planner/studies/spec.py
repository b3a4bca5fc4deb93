"""Study files: what to vary, how and what to keep, validated before anything runs (docs/studies.md)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from edwc_data.tables import studies_dir
from pydantic import Field, ValidationError

from planner.safe_yaml import shown_key, shown_value
from planner.scenario import ScenarioError, StrictModel, read_yaml_file
from planner.studies.design import (
    MAX_SEED,
    BaseScenario,
    Distribution,
    StudyError,
    _check_design,
    _checked_factor_values,
    _fail,
    check_key,
    check_output_keys,
    load_base,
)
from planner.studies.sweeps import sweep
from planner.studies.table import DEFAULT_OUTPUTS, MAX_RUNS


class ParetoSettings(StrictModel):
    """The ``pareto`` section of a study file."""

    x: Literal["emissions_tco2", "load_weighted_latency_ms"] = Field(
        default="emissions_tco2", description="Frontier axis against total cost."
    )
    points: Annotated[int, Field(ge=3, le=500)] = Field(default=20, description="Points, both ends included.")


class StudyFile(StrictModel):
    """A study file: what to vary, how, and what to keep (docs/studies.md)."""

    name: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="Study name (default: the file name)."
    )
    description: str = Field(default="", max_length=4000, description="Free text.")
    base: str = Field(default="baseline", description="Scenario file (relative to the study file) or shipped name.")
    set: dict[str, Any] = Field(default_factory=dict, description="Dotted key -> value applied to the base.")
    factors: dict[str, Annotated[list[str], Field(min_length=1)]] = Field(
        default_factory=dict, description="Factor name -> dotted keys whose base values it multiplies."
    )
    grid: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(
        default_factory=dict, description="Dotted key or factor -> values (full factorial)."
    )
    samples: Annotated[int, Field(ge=1, le=MAX_RUNS)] | None = Field(default=None, description="Monte Carlo draws.")
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = Field(default=0, description="Seed of the draws (0 to 2**63 - 1).")
    distributions: dict[str, Distribution] = Field(default_factory=dict, description="Key -> distribution.")
    sampling: Literal["random", "lhs", "sobol"] = Field(
        default="random", description="How samples spread: numpy draws, a Latin hypercube or a Sobol' sequence."
    )
    sensitivity: Literal["sobol", "morris"] | None = Field(
        default=None,
        description="Global sensitivity indices of the outputs: Sobol' (samples × (keys + 2) runs, samples a "
        "power of two) or Morris screening (samples trajectories, samples × (keys + 1) runs).",
    )
    outputs: list[str] | None = Field(default=None, description="Summary figures to keep.")
    pareto: ParetoSettings | None = Field(default=None, description="Frontier settings.")


@dataclasses.dataclass
class Study:
    """A validated study file.

    Attributes
    ----------
    name : str
    path : Path
    spec : StudyFile
    base : BaseScenario
    """

    name: str
    path: Path
    spec: StudyFile
    base: BaseScenario

    @property
    def varied(self) -> list[str]:
        """The keys the study varies: its grid, then the sampled keys not in the grid."""
        return list(self.spec.grid) + [key for key in self.spec.distributions if key not in self.spec.grid]

    def record(self) -> dict[str, Any]:
        """What ``study.json`` records of the study file."""
        spec = self.spec
        return {
            "name": self.name,
            "description": spec.description,
            "base": spec.base,
            "set": spec.set,
            "grid": spec.grid,
            "samples": spec.samples,
            "seed": spec.seed,
            "factors": spec.factors,
            "distributions": {key: value.model_dump() for key, value in spec.distributions.items()},
            "sampling": spec.sampling,
            "sensitivity": spec.sensitivity,
            "outputs": spec.outputs,
            "varied": self.varied,
            "study_file": str(self.path),
        }

    @property
    def has_runs(self) -> bool:
        """Whether the study varies anything (a grid or samples), as opposed to a frontier only."""
        return bool(self.spec.grid or self.spec.samples)


def _study_error(source: str, error: ValidationError) -> StudyError:
    first = error.errors()[0]
    field = ".".join(shown_key(part) for part in first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        message = "unknown key. Check the spelling against docs/studies.md or remove it."
    elif kind == "missing":
        message = "required field is missing. Add it (see docs/studies.md)."
    elif kind == "union_tag_invalid" or kind == "union_tag_not_found":
        message = f"{first['msg'].rstrip('.')}. Use dist: uniform, normal, triangular or discrete."
    else:
        text = first["msg"].rstrip(".").removeprefix("Value error, ")
        message = f"{text}, got {shown_value(first.get('input'))}. See docs/studies.md."
    extra = len(error.errors()) - 1
    if extra:
        message += f" ({extra} more problem{'s' if extra > 1 else ''} after this one.)"
    return StudyError(message, source=source, field=field)


def load_study(path: str | Path) -> Study:
    """Read and validate a study file (or a shipped study name such as ``carbon-price-sweep``).

    Raises
    ------
    StudyError
        One line: ``<file>: <field> | <what>. <fix>.``
    """
    path = Path(path)
    if not path.exists() and path.suffix == "" and (studies_dir() / f"{path.name}.yaml").exists():
        path = studies_dir() / f"{path.name}.yaml"
    source = shown_key(path.name, 120)
    try:
        document = read_yaml_file(path, source)
    except ScenarioError as exc:
        raise StudyError(exc.message, source=source, field=exc.field) from None
    try:
        spec = StudyFile.model_validate(document)
    except ValidationError as exc:
        raise _study_error(source, exc) from None
    for key in spec.set:
        try:
            check_key(key)
        except ValueError as exc:
            msg = f"{exc}."
            raise StudyError(msg, source=source, field=f"set.{shown_key(key)}") from None
    try:
        base = load_base(spec.base, spec.set, relative_to=path.parent)
    except ScenarioError as exc:
        message = exc.message
        field = f"set.{exc.field}" if exc.field in spec.set else "base"
        if field == "base" and exc.field:
            message = f"{exc.source}: {exc.field}: {message}"
        raise StudyError(message, source=source, field=field) from None
    try:
        _check_design(
            spec.grid,
            spec.samples,
            spec.distributions,
            spec.factors,
            tuple(spec.outputs or DEFAULT_OUTPUTS),
            False,
            None,
            spec.seed,
            spec.sampling,
            spec.sensitivity,
        ) if (spec.grid or spec.samples) else _check_outputs(spec)
        _checked_factor_values(base, spec.factors)
    except StudyError as exc:
        raise exc.relocated(source=source) from None
    return Study(spec.name or path.stem, path, spec, base)


def _check_outputs(spec: StudyFile) -> None:
    if spec.pareto is None:
        msg = "nothing to do. Give a grid, samples with distributions, or a pareto section."
        _fail("grid", msg)
    check_output_keys(spec.outputs or ())


def run_study(study: Study, out_dir: str | Path | None = None, **options) -> pd.DataFrame:
    """Run a study file's sweep (grid and/or samples); ``options`` as :func:`sweep`."""
    spec = study.spec
    return sweep(
        study.base.scenario,
        grid=spec.grid,
        samples=spec.samples,
        seed=spec.seed,
        distributions=spec.distributions,
        factors=spec.factors,
        outputs=spec.outputs,
        out_dir=out_dir,
        sampling=spec.sampling,
        sensitivity=spec.sensitivity,
        **options,
    )

