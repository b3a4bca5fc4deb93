"""Generate docs/scenario.md, the reference of every scenario field, from the schema itself.

python -m planner.schema_doc > docs/scenario.md
"""

from __future__ import annotations

import sys
import types
import typing

from edwc_data.tables import load_defaults
from pydantic import BaseModel

from planner.scenario import FutureSample, FutureSpec, ProvinceOverride, Scenario, SiteOverride, WorkloadOverride


def _type_name(annotation) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(arg) for arg in args)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"mapping of id to {_type_name(args[1])}"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _rows(model: type[BaseModel], prefix: str, defaults: dict) -> list[str]:
    rows = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = info.annotation
        sub = next(
            (
                a
                for a in typing.get_args(annotation) + (annotation,)
                if isinstance(a, type) and issubclass(a, BaseModel)
            ),
            None,
        )
        if sub is not None and name not in ("sites", "provinces", "workloads"):
            rows.extend(_rows(sub, f"{path}.", defaults.get(name) or {}))
            continue
        default = defaults.get(name, info.default if info.default is not None else "")
        if default is ... or type(default).__name__ == "PydanticUndefinedType":
            default = ""
        description = (info.description or "").replace("|", "/")
        rows.append(f"| `{path}` | {_type_name(annotation)} | `{default}` | {description} |")
    return rows


def render() -> str:
    """The markdown reference."""
    header = "| field | type | default | meaning [unit] |\n|---|---|---|---|"
    lines = [
        "# Scenario files",
        "",
        "A scenario is a YAML file; every field is optional and falls back to the default dataset",
        "(`data/defaults.yaml` and the tables in `data/`, sources in `data/SOURCES.md`). Unknown keys are",
        "refused. Any field can also be set on the command line: `edwc run --set carbon.cap_tco2=1.2e8`.",
        "This page is generated from the schema (`python -m planner.schema_doc`).",
        "",
        "## Settings",
        "",
        header,
        *_rows(Scenario, "", load_defaults()),
        "",
    ]
    for title, key, model in (
        ("Sites: `sites.<site id>.<field>` (cluster ids, or `local_<province id>`)", "sites", SiteOverride),
        ("Provinces: `provinces.<province id>.<field>`", "provinces", ProvinceOverride),
        ("Workload classes: `workloads.<workload id>.<field>`", "workloads", WorkloadOverride),
    ):
        lines += [
            f"## {title}",
            "",
            "Defaults come from the table `data/" + key + ".csv`.",
            "",
            header,
            *_rows(model, f"{key}.<id>.", {}),
            "",
        ]
    lines += [
        "## Futures of a stochastic plan: `futures` (docs/robust.md)",
        "",
        "Either a list of futures, each `futures.<i>.<field>`:",
        "",
        header,
        *_rows(FutureSpec, "futures.<i>.", {}),
        "",
        "or futures drawn from a study's distributions, each with probability 1/`sample`:",
        "",
        header,
        *_rows(FutureSample, "futures.", {}),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render())
