"""Trust nothing read back: a run directory is checked like a scenario file before `check`, `map` or `growth` use it.

Each case tampers with one file of a real run directory (or removes it, or puts a FIFO, a device
or a huge file in its place) and expects every reader to refuse it with one line naming the file,
exit code 2, nothing written into the folder and no traceback.
"""

import json
import os
import shutil

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from planner.cli import main
from planner.pathway import run_and_write
from planner.run import run_scenario
from planner.rundir import RUN_FILES, RUN_MARKER, RunDirError, read_run, write_run
from planner.scenario import load_scenario

TINY = ["time.hours_per_day=1"]


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    return write_run(run_scenario(load_scenario(None, TINY)), tmp_path_factory.mktemp("good") / "run")


@pytest.fixture(scope="module")
def good_pathway(tmp_path_factory):
    scenario = load_scenario(None, [*TINY, "horizon.end_year=2026"])
    out = tmp_path_factory.mktemp("pathway") / "run"
    run_and_write(scenario, out)
    return out


def _json(name, change):
    def tamper(folder):
        data = json.loads((folder / name).read_text())
        change(data)
        (folder / name).write_text(json.dumps(data))  # json writes NaN as NaN, as a hand edit might
    return tamper


def _csv(name, change):
    def tamper(folder):
        frame = pd.read_csv(folder / name)
        change(frame)
        frame.to_csv(folder / name, index=False)
    return tamper


def _yaml(change):
    def tamper(folder):
        document = yaml.safe_load((folder / "scenario.yaml").read_text())
        change(document)
        (folder / "scenario.yaml").write_text(yaml.safe_dump(document))
    return tamper


def _write(name, data: bytes):
    def tamper(folder):
        (folder / name).unlink()
        (folder / name).write_bytes(data)
    return tamper


def _truncate(name):
    def tamper(folder):
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 2])
    return tamper


def _replace_with(name, make):
    def tamper(folder):
        (folder / name).unlink()
        make(folder / name)
    return tamper


def _sparse(path):
    with open(path, "wb") as handle:
        handle.truncate(2_000_000)


def _set(key, value):
    def change(data):
        data[key] = value
    return change


def _carbon_price(document):
    document["carbon"]["price_cny_per_tco2"] = 500.0


def _days_true(document):
    document["time"]["days"] = True


def _remove(name):
    return lambda folder: (folder / name).unlink()


CASES = {
    **{f"missing_{name}": (_remove(name), "missing") for name in RUN_FILES},
    "missing_marker": (_remove(RUN_MARKER), RUN_MARKER),
    "marker_garbage": (_write(RUN_MARKER, b"not json"), RUN_MARKER),
    "marker_of_a_study": (_write(RUN_MARKER, b'{"tool": "edwc-planner", "kind": "study"}'), RUN_MARKER),
    "scenario_alias_bomb": (_write("scenario.yaml", b"a: &a [1, 1]\nb: [*a, *a]\n"), "aliases"),
    "scenario_python_tag": (_write("scenario.yaml", b"name: !!python/object/apply:os.system ['true']\n"), "tag"),
    "scenario_of_another_run": (_yaml(_carbon_price), "input hash"),
    "scenario_days_true": (_yaml(_days_true), "true/false"),
    "scenario_fifo": (_replace_with("scenario.yaml", os.mkfifo), "not a regular file"),
    "scenario_device": (_replace_with("scenario.yaml", lambda p: p.symlink_to("/dev/zero")), "not a regular file"),
    "scenario_huge": (_replace_with("scenario.yaml", _sparse), "limit"),
    "metadata_truncated": (_truncate("metadata.json"), "not valid JSON"),
    "metadata_a_list": (_write("metadata.json", b"[]"), "mapping"),
    "metadata_other_hash": (_json("metadata.json", _set("input_hash", "0" * 64)), "input hash"),
    "metadata_nan_violation": (_json("metadata.json", _set("max_violation", float("nan"))), "max_violation"),
    "summary_truncated": (_truncate("summary.json"), "not valid JSON"),
    "summary_nan_cost": (_json("summary.json", _set("total_cost_cny", float("nan"))), "finite"),
    "summary_missing_figure": (_json("summary.json", lambda d: d.pop("total_cost_cny")), "missing"),
    "sites_nan_capacity": (_csv("sites.csv", lambda f: f.__setitem__("new_mw", float("nan"))), "finite number"),
    "sites_text_capacity": (_csv("sites.csv", lambda f: f.__setitem__("existing_mw", "lots")), "finite number"),
    "sites_infinite": (_csv("sites.csv", lambda f: f.__setitem__("capacity_mw", float("inf"))), "finite number"),
    "sites_missing_column": (_csv("sites.csv", lambda f: f.pop("utilisation")), "column"),
    "sites_garbage": (_write("sites.csv", bytes(range(256)) * 4), "sites.csv"),
    "provinces_fractional_adcode": (_csv("provinces.csv", lambda f: f.__setitem__("adcode", 110000.5)), "whole"),
    "flows_garbage": (_write("flows.parquet", b"PAR1" + os.urandom(500)), "cannot be read as a table"),
    "flows_truncated": (_truncate("flows.parquet"), "cannot be read as a table"),
    "flows_fifo": (_replace_with("flows.parquet", os.mkfifo), "not a regular file"),
}


@pytest.fixture
def tampered(good_run, tmp_path, request):
    tamper, word = CASES[request.param]
    folder = tmp_path / "run"
    shutil.copytree(good_run, folder, symlinks=True)
    tamper(folder)
    return folder, word


def _listing(folder):
    return sorted((p.name, p.stat().st_size if p.is_file() else None) for p in folder.iterdir())


@pytest.mark.parametrize("tampered", sorted(CASES), indirect=True)
@pytest.mark.parametrize("command", ["check", "map", "growth"])
def test_a_tampered_run_directory_is_refused_in_one_line(tampered, command, tmp_path):
    folder, word = tampered
    before = _listing(folder)
    args = {"check": ["check", str(folder), "--executor", "serial", "--no-progress", "--year-hours", "24"],
            "map": ["map", str(folder), "--format", "png"],
            "growth": ["growth", str(folder), "--out", str(tmp_path / "figures")]}[command]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], lines
    assert "Traceback" not in result.output
    assert _listing(folder) == before  # nothing written into it
    assert not (tmp_path / "figures").exists()


def test_the_untampered_run_reads_back(good_run):
    results = read_run(good_run)
    assert results.summary.total_cost_cny > 0 and results.metadata["input_hash"]
    assert (results.sites["new_mw"] >= -1e-6).all()


def test_a_file_in_place_of_a_run_directory_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match="not a folder"):
        read_run(tmp_path / "notes.txt")


@pytest.mark.parametrize(("change", "word"), [
    (lambda frame: frame.__setitem__("region", "../../evil"), "unknown region"),
    (lambda frame: frame.__setitem__("Y_plan", float("inf")), "finite number"),
    (lambda frame: frame.pop("tau_plan"), "column"),
])
def test_a_tampered_growth_table_is_refused(good_pathway, tmp_path, change, word):
    folder = tmp_path / "run"
    shutil.copytree(good_pathway, folder)
    frame = pd.read_csv(folder / "growth.csv")
    change(frame)
    frame.to_csv(folder / "growth.csv", index=False)
    result = CliRunner().invoke(main, ["growth", str(folder), "--out", str(tmp_path / "figures")])
    assert result.exit_code == 2 and word in result.output, result.output
    assert not (tmp_path / "figures").exists() and not list(tmp_path.glob("**/evil*"))


def test_the_untampered_pathway_gives_its_growth_figures(good_pathway, tmp_path):
    result = CliRunner().invoke(main, ["growth", str(good_pathway), "--out", str(tmp_path / "figures"),
                                       "--formats", "png"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "figures" / "growth_paths.png").exists()
