"""Shared fixtures: the default scenario's inputs are built once per session; the tool's cache in a temporary folder."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/lp_cases.py


@pytest.fixture(scope="session", autouse=True)
def cache_folder(tmp_path_factory):
    """The tool's cache folder (edwc_data.cache) for this test session: never the user's own."""
    folder = tmp_path_factory.mktemp("edwc-cache")
    saved = os.environ.get("EDWC_CACHE_DIR")
    os.environ["EDWC_CACHE_DIR"] = str(folder)
    yield folder
    if saved is None:
        os.environ.pop("EDWC_CACHE_DIR", None)
    else:
        os.environ["EDWC_CACHE_DIR"] = saved


@pytest.fixture(scope="session", autouse=True)
def run_catalog(tmp_path_factory):
    """The run catalog (planner.runstore) for this test session: never one in the repository or the user's."""
    path = tmp_path_factory.mktemp("edwc-runs") / "catalog.sqlite"
    saved = os.environ.get("EDWC_RUN_CATALOG")
    os.environ["EDWC_RUN_CATALOG"] = str(path)
    yield path
    if saved is None:
        os.environ.pop("EDWC_RUN_CATALOG", None)
    else:
        os.environ["EDWC_RUN_CATALOG"] = saved


@pytest.fixture(scope="session")
def default_inputs():
    from planner.preprocess import build_inputs
    from planner.scenario import load_scenario

    return build_inputs(load_scenario())
