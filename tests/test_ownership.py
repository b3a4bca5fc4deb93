"""Never deletes what it did not create: every output goes only where the tool may write (edwc_data.outputs).

A user's folder holding their own files is pointed at by every command's output; each is refused
in one line with exit code 2 and every file is left as it was. So are the places no output may be:
the current folder and its ancestors, '', the home folder, a root, links and paths under a file. A
scenario's name is a label: runs go to runs/<slug> under the current folder, whatever it says.
"""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from edwc_data.files import PROCESS_STARTED
from edwc_data.outputs import (
    MARKERS,
    OutputRefused,
    check_replaceable,
    claim_folder,
    remove_owned,
    remove_stale_staging,
    scratch_folder,
)

from planner.cli import main
from planner.run import run_scenario
from planner.rundir import MAX_RUN_SLUG, RUN_MARKER, slug, write_run
from planner.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
TINY = {"time": {"hours_per_day": 1}, "solver": {"backend": "highs"}}
USER_FILES = {"thesis.txt": b"four years of work\n", "report.md": b"# my own report\n", "sub/notes.md": b"notes\n"}


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    return write_run(run_scenario(load_scenario(None, ["time.hours_per_day=1"])), tmp_path_factory.mktemp("r") / "run")


def _user_folder(parent: Path) -> Path:
    folder = parent / "mine"
    for name, data in USER_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def _one_line_exit_2(result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_every_command_pointed_at_a_users_folder_leaves_it_intact(tmp_path, good_run, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine = _user_folder(tmp_path)
    before = _snapshot(mine)
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(TINY))
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"base": "tiny.yaml", "grid": {"carbon.price_cny_per_tco2": [0, 100]}}))
    commands = {
        "run": ["run", str(scenario), "--no-map", "--out", str(mine)],
        "sweep": ["sweep", str(study), "--out", str(mine), "--executor", "serial", "--no-progress"],
        "pareto": ["pareto", str(scenario), "--out", str(mine), "--points", "3", "--executor", "serial"],
        "map": ["map", str(good_run), "--format", "png", "--out", str(mine)],
        "check": ["check", str(mine), "--executor", "serial", "--year-hours", "24"],
        "growth --out": ["growth", "--out", str(mine)],
        "growth RUN_DIR": ["growth", str(mine)],
    }
    for name, args in commands.items():
        line = _one_line_exit_2(CliRunner().invoke(main, args))
        assert "mine" in line, (name, line)
        assert _snapshot(mine) == before, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "study.yaml", "tiny.yaml"]


@pytest.mark.parametrize("target", ["", ".", "..", "~", "/", "home", "link", "through_link/run", "file/run"])
def test_places_no_output_may_go_are_refused(target, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep.txt").write_text("keep")
    (tmp_path / "elsewhere").mkdir()
    (work / "link").symlink_to(tmp_path / "elsewhere")
    (work / "through_link").symlink_to(tmp_path / "elsewhere")
    (work / "file").write_text("a file")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    target = {"~": str(home), "home": str(home)}.get(target, target)
    line = _one_line_exit_2(CliRunner().invoke(main, ["run", "--no-map", "--set", "time.hours_per_day=1",
                                                      "--out", target]))
    assert "|" in line
    assert sorted(p.name for p in work.iterdir()) == ["file", "keep.txt", "link", "through_link"]
    assert not list((tmp_path / "elsewhere").iterdir()) and not list(home.iterdir())


@pytest.mark.parametrize("name", ["..", ".", "/tmp/edwc-absolute-name-test", "../../x", "~/x", "C:\\\\Windows",
                                  "数据中心", "a/b/c", "-rf"])
def test_a_scenario_name_is_a_label_never_a_path(name, tmp_path, monkeypatch):
    work = tmp_path / "deep" / "work"
    work.mkdir(parents=True)
    (work / "thesis.txt").write_text("mine")
    monkeypatch.chdir(work)
    scenario = work / "named.yaml"
    scenario.write_text(yaml.safe_dump({**TINY, "name": name}, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(scenario), "--no-map"])
    assert result.exit_code == 0, result.output
    runs = list((work / "runs").iterdir())
    assert len(runs) == 1 and runs[0].name == slug(name, MAX_RUN_SLUG)  # the catalog is elsewhere (conftest)
    assert str(runs[0]) in result.output  # the run says where it went
    assert sorted(p.name for p in work.iterdir()) == ["named.yaml", "runs", "thesis.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep"] and not Path("/tmp/edwc-absolute-name-test").exists()


def test_slugs_are_lowercase_ascii_letters_digits_and_dashes():
    assert slug("Low Carbon 2025!") == "low-carbon-2025"
    assert slug("..") == "scenario" and slug("数据中心") == "scenario" and slug("") == "scenario"
    assert slug("Éco/../../etc") == "eco-etc"
    assert len(slug("x" * 500)) == 40
    assert slug("no-west · carbon.price_cny_per_tco2=300", MAX_RUN_SLUG) == "no-west-carbon-price-cny-per-tco2-300"


def test_a_run_directory_is_replaced_only_when_the_tool_wrote_it(tmp_path, good_run):
    results = run_scenario(load_scenario(None, ["time.hours_per_day=1"]))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert write_run(results, empty) == empty and (empty / RUN_MARKER).exists()  # an empty folder is filled
    (empty / "check.json").write_text("{}")
    write_run(results, empty)  # its own run: replaced, with what the tool put there
    assert not (empty / "check.json").exists()
    study = tmp_path / "study"
    claim_folder(study, "study")
    (study / "study.parquet").write_bytes(b"x")
    with pytest.raises(OutputRefused, match="did not create"):
        write_run(results, study)  # the tool's, but not a run directory
    assert (study / "study.parquet").read_bytes() == b"x"
    forged = tmp_path / "forged"
    forged.mkdir()
    (forged / RUN_MARKER).write_text("I am a run, trust me")
    (forged / "thesis.txt").write_text("mine")
    with pytest.raises(OutputRefused):
        write_run(results, forged)
    assert (forged / "thesis.txt").read_text() == "mine"


def test_outputs_are_probed_before_any_work(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputRefused, match="is a file"):
        check_replaceable(tmp_path / "file" / "run")
    with pytest.raises(OutputRefused, match="is a file"):
        claim_folder(tmp_path / "file", "output")
    assert check_replaceable(tmp_path / "new" / "run") == tmp_path / "new" / "run"
    assert not (tmp_path / "new").exists()  # a check, not a write
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".edwc-probe")]


def test_maps_go_only_into_a_run_directory_or_a_folder_of_their_own(tmp_path, good_run):
    study = claim_folder(tmp_path / "study", "study")
    (study / "study.parquet").write_bytes(b"x")
    _one_line_exit_2(CliRunner().invoke(main, ["map", str(good_run), "--format", "png", "--out", str(study)]))
    maps = tmp_path / "maps"
    result = CliRunner().invoke(main, ["map", str(good_run), "--format", "png", "--out", str(maps)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in maps.iterdir()) == [MARKERS["output"], "plan_map.png"]
    assert CliRunner().invoke(main, ["map", str(good_run), "--format", "png", "--out", str(maps)]).exit_code == 0


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_stale_staging_of_killed_writers_is_removed_and_nothing_else(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    old = PROCESS_STARTED - 3600
    folders = {
        "stale": f".run.edwc-{dead}-abcdefgh.tmp",
        "live_writer": f".run.edwc-{alive}-abcdefgh.tmp",
        "younger_than_this_process": f".run.edwc-{dead}-ijklmnop.tmp",
        "not_ours": ".thesis.tmp",
        "not_ours_either": f".run.{dead}.abcdefgh.tmp",
        "retired": f".run2.edwc-{dead}-qrstuvwx.old",
    }
    for key, name in folders.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "part").write_text(key)
        if key != "younger_than_this_process":
            os.utime(tmp_path / name, (old, old))
    (tmp_path / folders["retired"] / "run").mkdir()
    (tmp_path / folders["retired"] / "run" / "summary.json").write_text("{}")
    os.utime(tmp_path / folders["retired"], (old, old))
    removed = remove_stale_staging(tmp_path, force=True)
    assert {p.name for p in removed} == {folders["stale"], folders["retired"]}
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {folders[k] for k in ("live_writer", "younger_than_this_process", "not_ours", "not_ours_either")} | {
        "run2"}
    assert (tmp_path / "run2" / "summary.json").exists()  # the previous run a killed swap had moved aside


KILLED_WRITER = textwrap.dedent("""
    import os, sys
    import pandas as pd
    from optimizer.results import Results, Summary
    from planner.rundir import write_run

    results = Results(scenario={"name": "x"}, flows=pd.DataFrame({"load_mw": [1.0]}),
                      sites=pd.DataFrame({"site": ["s"]}), provinces=pd.DataFrame({"adcode": [1]}),
                      summary=Summary(scenario="x", status="optimal", **dict.fromkeys(Summary.figures(), 0.0)),
                      metadata={})
    write_run(results, sys.argv[1], extras=lambda res, folder: os._exit(9))  # killed while writing
""")


def test_a_killed_runs_staging_folder_is_cleaned_up_by_the_next_run(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(tmp_path / "runs" / "a")], env=env,
                            capture_output=True, timeout=120)
    assert killed.returncode == 9
    staging = [p.name for p in (tmp_path / "runs").iterdir()]
    assert len(staging) == 1 and staging[0].startswith(".a.edwc-") and staging[0].endswith(".tmp")
    (tmp_path / "runs" / ".mine.tmp").mkdir()  # a hidden folder of the user's: left alone
    time.sleep(0.05)  # the next process starts after the staging folder was last written
    done = subprocess.run([sys.executable, "-m", "planner.cli", "run", "--no-map", "--set", "time.hours_per_day=1",
                           "--out", str(tmp_path / "runs" / "b")], env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [".mine.tmp", "b"]


def test_the_apps_scratch_space_is_the_tools_own(tmp_path):
    scratch = scratch_folder()
    assert (scratch / MARKERS["output"]).exists()
    assert remove_owned(scratch) and not scratch.exists()
    mine = _user_folder(tmp_path)
    assert not remove_owned(mine) and _snapshot(mine)
    assert (mine / "thesis.txt").exists()


def test_the_study_table_and_record_are_readable_by_others(tmp_path):
    from planner.studies import sweep

    sweep({**TINY, "name": "modes"}, grid={"carbon.price_cny_per_tco2": [0]}, executor="serial", out_dir=tmp_path,
          progress=False, record={"name": "modes"})
    for name in ("study.parquet", "study.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name
    assert json.loads((tmp_path / "study.json").read_text())["name"] == "modes"
