"""The one loader of the default dataset: tables, hourly-profile tables and scalar defaults."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    import pandas as pd

#: Files of the default dataset (installed as the package ``edwc_data``; the repository's ``data/``).
TABLE_FILES = {
    "provinces": "provinces.csv",
    "sites": "sites.csv",
    "workloads": "workloads.csv",
    "diurnal": "diurnal.csv",
    "green_profiles": "green_profiles.csv",
    "green_mix": "green_mix.csv",
    "demand_weekly": "demand_weekly.csv",
    "climate": "climate.csv",
    "grid_regions": "grid_regions.csv",
    "published": "published.csv",
    "network_nodes": "network_nodes.csv",
    "network_links": "network_links.csv",
}


def data_dir() -> Path:
    """Folder holding the default dataset."""
    return Path(__file__).resolve().parent


def scenario_dir() -> Path:
    """Folder holding the shipped scenarios (``baseline``, ``policy-2025``, ...)."""
    return data_dir() / "scenarios"


def studies_dir() -> Path:
    """Folder holding the shipped example studies."""
    return data_dir() / "studies"


@functools.cache
def _read_tables() -> dict[str, pd.DataFrame]:
    # Imported here: commands that only list scenarios or show help start without pandas.
    import pandas as pd

    folder = data_dir()
    tables = {}
    for key, name in TABLE_FILES.items():
        frame = pd.read_csv(folder / name, encoding="utf-8")
        index = {"provinces": "province", "sites": "site", "workloads": "workload", "published": "figure"}.get(key)
        if index:
            frame = frame.set_index(index, drop=False)
            frame.index.name = index
        tables[key] = frame
    return tables


def load_tables() -> dict[str, pd.DataFrame]:
    """The default tables, as fresh copies the caller may change.

    Returns
    -------
    dict of pandas.DataFrame
        ``provinces`` (indexed by province id), ``sites`` (the 10 clusters, by site id),
        ``workloads`` (by workload id) and ``diurnal`` (relative demand by hour of day, mean 1).
    """
    return {key: frame.copy() for key, frame in _read_tables().items()}


@functools.cache
def _read_defaults() -> dict[str, Any]:
    with open(data_dir() / "defaults.yaml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_defaults() -> dict[str, Any]:
    """Scalar defaults of every scenario (``data/defaults.yaml``), as a fresh nested dict."""
    return copy.deepcopy(_read_defaults())
