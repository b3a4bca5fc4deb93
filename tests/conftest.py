"""Shared fixtures: the default inputs built once per session; the tool's cache and run catalog in temporary places."""

import contextlib
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/lp_cases.py


@contextlib.contextmanager
def _environ(name: str, value):
    """The environment variable ``name`` set to ``value`` for the block, then as it was."""
    saved = os.environ.get(name)
    os.environ[name] = str(value)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


@pytest.fixture(scope="session", autouse=True)
def cache_folder(tmp_path_factory):
    """The tool's cache folder (edwc_data.cache) for this test session: never the user's own."""
    folder = tmp_path_factory.mktemp("edwc-cache")
    with _environ("EDWC_CACHE_DIR", folder):
        yield folder


@pytest.fixture(scope="session", autouse=True)
def run_catalog(tmp_path_factory):
    """The run catalog (planner.runstore) for this test session: never one in the repository or the user's."""
    path = tmp_path_factory.mktemp("edwc-runs") / "catalog.sqlite"
    with _environ("EDWC_RUN_CATALOG", path):
        yield path


@pytest.fixture(scope="session")
def default_inputs():
    from planner.preprocess import build_inputs
    from planner.scenario import load_scenario

    return build_inputs(load_scenario())
