"""Hostile input: every malformed scenario file is refused in one line, writing nothing.

The corpus lives in tests/hostile/, one problem per file; tests/hostile/expected.csv names the
field each must blame (empty when the whole file is at fault) and a word its message must hold.
Some files are symbolic links to devices and loops (a file that is not a regular file must never
be opened for reading). FIFOs and sparse files are made here. The loader is also fuzzed: random
documents and random text raise ScenarioError or load.
"""

import csv
import os
import re
import string
import subprocess
import sys
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
    result = CliRunner().invoke(main, ["run", str(path), "--no-map", "--out", str(out)])
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
    return line


def test_the_corpus_has_at_least_130_files_each_in_the_manifest():
    files = sorted(p.name for p in HOSTILE.glob("*.yaml"))
    assert len(files) >= 130
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
    (tmp_path / "link.yaml").symlink_to(folder)  # a link to a folder is a folder
    result = CliRunner().invoke(main, ["run", str(tmp_path / "link.yaml"), "--no-map", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "folder" in result.output and not (tmp_path / "out").exists()


def test_a_sparse_file_over_the_limit_is_refused_without_reading_it(tmp_path):
    sparse = tmp_path / "sparse.yaml"
    with open(sparse, "wb") as handle:
        handle.truncate(10 * 2**30)  # 10 GiB that take no disk: only the size is looked at
    message = _refused_in_one_line(sparse, tmp_path, "", "limit")
    assert "10,737,418,240 bytes" in message


FIFO_RUN = """
import os, sys
from click.testing import CliRunner
from planner.cli import main
result = CliRunner().invoke(main, sys.argv[1:])
print(result.exit_code)
print(result.output.strip())
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("command", ["run", "sweep", "pareto"])
def test_a_fifo_is_refused_without_waiting_for_a_writer(command, tmp_path):
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    args = {"run": ["run", str(fifo), "--no-map", "--out", str(tmp_path / "out")],
            "sweep": ["sweep", str(fifo), "--out", str(tmp_path / "out"), "--executor", "serial"],
            "pareto": ["pareto", str(fifo), "--out", str(tmp_path / "out"), "--executor", "serial"]}[command]
    # In a subprocess, so that a regression (opening the FIFO, which waits for a writer for ever)
    # fails this test at the timeout instead of hanging the suite.
    result = subprocess.run([sys.executable, "-c", FIFO_RUN, *args], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    code, *lines = result.stdout.strip().splitlines()
    assert code == "2", result.stdout + result.stderr
    assert len(lines) == 1 and "not a regular file" in lines[0], lines
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("name", "secret"), [
    ("private_key.yaml", "b3BlbnNzaC1rZXktdjEAAAAA"),
    ("dotenv.yaml", "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"),
    ("value_secret.yaml", "sk_live_51HxEXAMPLEsecretEXAMPLEsecretEXAMPLEsecretEXAMPLEsecretEXAMPLEsecret"),
])
def test_a_message_never_echoes_a_files_content(name, secret, tmp_path):
    result = CliRunner().invoke(main, ["run", str(HOSTILE / name), "--no-map", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert secret not in result.output and len(result.output) < 400, result.output


def test_the_environment_of_the_process_is_not_echoed(tmp_path, monkeypatch):
    monkeypatch.setenv("EDWC_TEST_SECRET", "do-not-print-this-token")
    result = CliRunner().invoke(main, ["run", "/proc/self/environ", "--no-map", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "do-not-print-this-token" not in result.output


def test_deep_nesting_is_named_whatever_the_parser_says(monkeypatch, tmp_path):
    # libyaml 0.2.5 (in newer PyYAML wheels) gives up on deep flow nesting with its own error
    # before it emits the events that show the depth; the message must not depend on it.
    import yaml

    import planner.safe_yaml as safe_yaml

    def parser_that_gives_up(text, Loader):  # noqa: N803 - yaml.parse's own name
        message = "exceeded max depth of 1000"
        raise yaml.YAMLError(message)
        yield

    monkeypatch.setattr(safe_yaml.yaml, "parse", parser_that_gives_up)
    message = _refused_in_one_line(HOSTILE / "deep_nesting.yaml", tmp_path, "", "nested")
    assert "32 levels" in message and "1000" not in message
    # A shallow document the parser gives up on is still refused as not valid YAML.
    shallow = tmp_path / "shallow"
    shallow.mkdir()
    bad = shallow / "bad.yaml"
    bad.write_text("carbon: [1, 2]\n", encoding="utf-8")
    _refused_in_one_line(bad, shallow, "", "not valid YAML")


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
    (".".join(["a"] * 1000) + "=1", None, "parts"),  # a 1000-part key recursed before
    ("time.days=1:30", "time.days", "base-60"),
    ("time.days=true", "time.days", "true/false"),
    ("carbon.price_cny_per_tco2=off", "carbon.price_cny_per_tco2", "yes/no word"),
])
def test_hostile_set_overrides_are_refused(assignment, field, word, tmp_path):
    result = CliRunner().invoke(main, ["run", "--no-map", "--out", str(tmp_path / "o"), "--set", assignment])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], lines
    assert lines[0].startswith(f"--set: {field} | " if field else "--set: "), lines
    assert not (tmp_path / "o").exists()


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
    try:
        resolve_scenario(document, source="fuzz.yaml")
    except ScenarioError as exc:
        assert "\n" not in str(exc)


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
