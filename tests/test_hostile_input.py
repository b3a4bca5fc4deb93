"""Hostile input: every malformed scenario file is refused in one line, fast, writing nothing.

The corpus lives in tests/hostile/, one problem per file; tests/hostile/expected.csv names the
field each must blame (empty when the whole file is at fault) and a word its message must hold.
The loader is also fuzzed: random documents and random text raise ScenarioError or load.
"""

import csv
import re
import string
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.cli import main
from planner.scenario import MAX_FILE_BYTES, ScenarioError, load_scenario, parse_yaml_text, resolve_scenario

HOSTILE = Path(__file__).parent / "hostile"
EXPECTED = list(csv.DictReader((HOSTILE / "expected.csv").open(encoding="utf-8")))
LINE = re.compile(r"^(?P<file>[^:|]+?)(: (?P<field>\S+))? \| (?P<message>.+)$")


def _refused_in_one_line(path: Path, tmp_path: Path, field: str, word: str) -> str:
    out = tmp_path / "out"
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["run", str(path), "--no-map", "--out", str(out)])
    elapsed_s = time.perf_counter() - start
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    line = lines[0]
    match = LINE.match(line)
    assert match, line
    assert match["file"] == path.name
    assert (match["field"] or "") == field, line
    assert word in match["message"], line
    # A fix follows the diagnosis: at least two sentences.
    assert re.search(r"\.\s+\(?[A-Z'a-z]", match["message"]), line
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [path.name] * (path.parent == tmp_path)
    assert elapsed_s < 1.0, f"{path.name} took {elapsed_s:.2f} s"
    return line


def test_the_corpus_has_at_least_50_files_each_in_the_manifest():
    files = sorted(p.name for p in HOSTILE.glob("*.yaml"))
    assert len(files) >= 50
    assert files == sorted(row["file"] for row in EXPECTED)


@pytest.mark.parametrize("row", EXPECTED, ids=[row["file"] for row in EXPECTED])
def test_hostile_file_is_refused(row, tmp_path):
    _refused_in_one_line(HOSTILE / row["file"], tmp_path, row["field"], row["word"])


def test_file_over_the_size_limit_is_refused(tmp_path):
    big = tmp_path / "big.yaml"
    line = "# " + "x" * 98 + "\n"
    big.write_text(line * (MAX_FILE_BYTES // len(line) + 1), encoding="utf-8")
    assert big.stat().st_size > MAX_FILE_BYTES
    message = _refused_in_one_line(big, tmp_path, "", "limit")
    assert f"{MAX_FILE_BYTES:,}-byte limit" in message


def test_a_folder_is_refused(tmp_path):
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    result = CliRunner().invoke(main, ["run", str(folder), "--no-map", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "folder" in result.output
    assert not (tmp_path / "out").exists()


def test_an_empty_file_is_fine_all_defaults(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_bytes(b"")
    assert load_scenario(empty).to_dict() == load_scenario("baseline").to_dict() | {"name": "empty",
                                                                                     "description": ""}


@pytest.mark.parametrize(("assignment", "field", "word"), [
    ("carbon.cap_tco2=[&a 1, *a]", "carbon.cap_tco2", "aliases"),
    ("name=!!python/name:os.system", "name", "tag"),
    ("name=" + "[" * 100 + "]" * 100, "name", "nested"),
    ("sites.qingyang.pue=0.5", "sites.qingyang.pue", "greater than or equal to 1"),
    ("carbonprice", "carbonprice", "KEY=VALUE"),
])
def test_hostile_set_overrides_are_refused(assignment, field, word, tmp_path):
    result = CliRunner().invoke(main, ["run", "--no-map", "--out", str(tmp_path / "o"), "--set", assignment])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"--set: {field} | ") and word in lines[0], lines


# ---------------------------------------------------------------------------------------------
# Fuzzing the loader
# ---------------------------------------------------------------------------------------------

FIELD_NAMES = ["name", "year", "demand", "time", "latency", "costs", "carbon", "policy", "sites", "provinces",
               "workloads", "solver", "measured", "pue", "existing_mw", "max_new_mw", "price_cny_per_tco2",
               "cap_tco2", "qingyang", "beijing", "finance", "share", "latency_max_ms", "one_way_ms", "province",
               "site", "enabled", "days", "hours_per_day", "backend", "utilisation_max", "national_it_load_mw"]
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=12), st.integers(-5, 5), st.booleans(), st.none())
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.sampled_from(["none", "auto", "highs", "beijing", "qingyang", "local_beijing"]),
)
documents = st.dictionaries(
    keys,
    st.recursive(scalars, lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
                 max_leaves=12),
    max_size=6,
)
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(documents)
def test_resolve_scenario_raises_only_scenario_error(document):
    start = time.perf_counter()
    try:
        resolve_scenario(document, source="fuzz.yaml")
    except ScenarioError as exc:
        assert "\n" not in str(exc)
    assert time.perf_counter() - start < 1.0


YAML_ALPHABET = string.ascii_letters + string.digits + " \t\n:-[]{},&*!|>'\"#%@`?.~_=+\\" + "éé数"
yaml_like = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=YAML_ALPHABET, max_size=200),
    st.lists(st.sampled_from(["carbon:", "  price_cny_per_tco2: ", "- ", "&a ", "*a ", "!!python/object ",
                              "[", "]", "{", "}", "\n", "  ", "1e999", ".nan", "sites:", "qingyang:", "pue: 0",
                              "? ", ": ", "<<: ", "!!binary ", "'", '"', "---\n", "...\n", "%YAML 1.1\n"]),
             max_size=40).map("".join),
)


@FUZZ
@given(yaml_like)
def test_parse_yaml_text_raises_only_scenario_error(text):
    start = time.perf_counter()
    try:
        document = parse_yaml_text(text, "fuzz.yaml")
    except ScenarioError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(document, dict)
        try:
            resolve_scenario(document, source="fuzz.yaml")
        except ScenarioError as exc:
            assert "\n" not in str(exc)
    assert time.perf_counter() - start < 1.0
