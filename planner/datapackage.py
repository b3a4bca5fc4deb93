"""The default dataset (``data/*.csv``) as a frictionless Data Package: the tables, typed and sourced.

:func:`package_descriptor` describes every CSV table of ``data/`` as a resource: each field with
its type (read from the table), its unit (from the ``_mw``, ``_cny_per_mwh``, ... suffix the
project's names carry) and its source and status (the blanket row of ``data/sources.csv``); each
resource with the sources its fields cite. :func:`write_datapackage` copies the tables byte for
byte beside ``datapackage.json`` (https://specs.frictionlessdata.io/data-package/).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

from edwc_data.files import write_atomic
from edwc_data.labels import t
from edwc_data.tables import data_dir

#: Units of a column, by the end of its name (longest first wins) or its whole name.
UNIT_SUFFIXES = {
    "_cny_per_mw_1000km": "CNY/(MW·1000 km)/yr",
    "_gbps_per_mw": "Gbit/s per MW",
    "_tco2_per_mwh": "tCO2/MWh",
    "_cny_per_mwh": "CNY/MWh",
    "_l_per_kwh": "L/kWh",
    "_100m_cny": "100 million CNY",
    "_mwh": "MWh",
    "_mw": "MW",
    "_gbps": "Gbit/s",
    "_km": "km",
    "_ms": "ms",
    "_share": "1",
    "_factor": "1",
    "_cv": "1",
    "_pue": "1",
    "_hour": "h",
}
UNIT_NAMES = {"lat": "degree_north", "lon": "degree_east", "pue": "1", "pue_cap": "1", "occupancy": "1",
              "share": "1", "hour": "h", "month": "month"}
#: Frictionless field types of pandas dtype kinds.
FIELD_TYPES = {"i": "integer", "u": "integer", "f": "number", "b": "boolean"}


def column_unit(name: str) -> str | None:
    """Unit of a dataset column from its name (``price_cny_per_mwh`` -> ``CNY/MWh``), None if unknown."""
    if name in UNIT_NAMES:
        return UNIT_NAMES[name]
    for suffix in sorted(UNIT_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return UNIT_SUFFIXES[suffix]
    return None


def _register(folder: Path) -> list[dict[str, str]]:
    with open(folder / "sources.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _resource(path: Path, register: list[dict[str, str]]) -> dict[str, Any]:
    import pandas as pd

    frame = pd.read_csv(path, encoding="utf-8")
    rows = [row for row in register if row["file"] == path.name]
    # The blanket row (rows = *) describes a whole column; per-row overrides only add sources.
    blanket = {row["field"]: row for row in rows if row["rows"] == "*"}
    fields = []
    for column in frame.columns:
        field: dict[str, Any] = {"name": column, "type": FIELD_TYPES.get(frame[column].dtype.kind, "string")}
        if column in blanket:
            row = blanket[column]
            status = "firm" if row["status"] == "F" else "estimate"
            field["description"] = f"{status}: {row['source']}"
        unit = column_unit(column)
        if unit is not None and field["type"] in ("integer", "number"):
            field["unit"] = unit
        fields.append(field)
    sources = list(dict.fromkeys(row["source"] for row in rows))
    return {
        "name": path.stem.replace("_", "-"),
        "path": path.name,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": {"fields": fields},
        **({"sources": [{"title": source} for source in sources]} if sources else {}),
    }


def package_descriptor(folder: Path | str | None = None) -> dict[str, Any]:
    """The ``datapackage.json`` content of the CSV tables in ``folder`` (default: the shipped ``data/``)."""
    folder = Path(folder) if folder is not None else data_dir()
    register = _register(folder)
    return {
        "profile": "tabular-data-package",
        "name": "edwc-planner-data",
        "title": t("datapackage_title", "en"),
        "title_zh": t("datapackage_title", "zh"),
        "description": "Default tables of EDWC Planner. Every number's source and status (F firm, E estimate) "
                       "is in sources.csv and SOURCES.md; licences are those of the cited publications.",
        "resources": [_resource(path, register) for path in sorted(folder.glob("*.csv"))],
    }


def write_datapackage(out_dir: Path | str) -> Path:
    """Copy ``data/*.csv`` and ``SOURCES.md`` into ``out_dir`` and write ``datapackage.json``; returns its path.

    ``out_dir`` must already be claimed by the caller (:func:`edwc_data.outputs.claim_folder`).
    """
    out_dir, folder = Path(out_dir), data_dir()
    descriptor = package_descriptor(folder)
    for name in [resource["path"] for resource in descriptor["resources"]] + ["SOURCES.md"]:
        write_atomic(out_dir / name, lambda tmp, source=folder / name: shutil.copyfile(source, tmp))
    text = json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"
    return write_atomic(out_dir / "datapackage.json", lambda tmp: tmp.write_text(text, encoding="utf-8"))
