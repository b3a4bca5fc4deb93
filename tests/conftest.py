"""Shared fixtures: the default scenario's inputs are built once per session."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/lp_cases.py


@pytest.fixture(scope="session")
def default_inputs():
    from planner.preprocess import build_inputs
    from planner.scenario import load_scenario

    return build_inputs(load_scenario())
