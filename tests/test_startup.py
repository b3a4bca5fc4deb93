"""Light commands start light: ``edwc --help`` and ``edwc scenarios`` import no numerical stack.

Checked in a fresh interpreter, so the imports of other tests in this process cannot hide one.
"""

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "numpy", "scipy", "highspy", "pulp", "matplotlib", "geopandas", "pyarrow")

PROBE = """
import json, sys
from click.testing import CliRunner
import planner.cli
outputs = [CliRunner().invoke(planner.cli.main, args) for args in [{args}]]
print(json.dumps({{"codes": [o.exit_code for o in outputs], "texts": [o.output for o in outputs],
                   "loaded": sorted(m for m in {heavy} if m in sys.modules)}}))
"""


def probe(*commands: list[str]) -> dict:
    code = PROBE.format(args=", ".join(repr(c) for c in commands), heavy=repr(HEAVY))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_command_line_loads_no_numerical_stack():
    result = probe()
    assert result["loaded"] == []


@pytest.mark.parametrize("command", [["--help"], ["scenarios"], ["run", "--help"], ["check", "--help"]])
def test_light_commands_load_no_numerical_stack(command):
    result = probe(command)
    assert result["codes"] == [0]
    assert result["loaded"] == [], f"edwc {' '.join(command)} imported {result['loaded']}"
    if command == ["scenarios"]:
        assert "baseline" in result["texts"][0].split()
    else:
        assert "Usage:" in result["texts"][0]
