"""The run store: runs named from their edits, never overwritten, recorded in a catalog that is never clobbered.

Every run `edwc run` writes goes into a new directory (runs/<slug>, runs/<slug>-2, ...) and into
the SQLite catalog; `edwc runs` lists, filters, shows and removes them, deleting only directories
the tool created; a catalog file that is not the tool's is refused with exit code 2 and left as it was.
"""

import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from edwc_data.outputs import read_marker

from planner.cli import main
from planner.run import run_scenario
from planner.rundir import RUN_MARKER, new_run_dir, read_run, run_label, slug, write_run
from planner.runstore import (
    CATALOG_ENV,
    MISSING,
    PRESENT,
    REPLACED,
    CatalogError,
    catalog_path,
    check_catalog,
    get_run,
    list_runs,
    record_run,
    remove_run,
)
from planner.scenario import load_scenario

TINY = "time.hours_per_day=1"
PRICE = "carbon.price_cny_per_tco2=300"


@pytest.fixture(scope="module")
def tiny_results():
    return run_scenario(load_scenario(None, [TINY, PRICE]))


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A fresh current folder whose catalog is the default one, runs/catalog.sqlite."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CATALOG_ENV, raising=False)
    return tmp_path


def _run(*args):
    return CliRunner().invoke(main, ["run", "--no-map", *args])


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def test_a_run_is_named_from_its_edits():
    assert run_label("baseline", [PRICE]) == "baseline · carbon.price_cny_per_tco2=300"
    assert run_label("baseline", []) == "baseline"
    assert run_label("no-west", [TINY, " carbon.price_cny_per_tco2 = 300 "]) == \
        "no-west · time.hours_per_day=1, carbon.price_cny_per_tco2 = 300"
    assert slug(run_label("baseline", [PRICE]), 72) == "baseline-carbon-price-cny-per-tco2-300"


def test_two_runs_go_into_two_directories_and_the_first_is_kept(work):
    first = _run("--set", TINY, "--set", PRICE)
    assert first.exit_code == 0, first.output
    folder = work / "runs" / "baseline-time-hours-per-day-1-carbon-price-cny-per-tco2-300"
    before = _snapshot(folder)
    second = _run("--set", TINY, "--set", PRICE)
    assert second.exit_code == 0, second.output
    again = folder.with_name(folder.name + "-2")
    assert sorted(p.name for p in (work / "runs").iterdir()) == sorted(["catalog.sqlite", folder.name, again.name])
    assert _snapshot(folder) == before  # the first run is intact
    assert str(again) in second.output and "Recorded as run 2" in second.output
    entries = list_runs()
    assert [e.id for e in entries] == [1, 2]
    assert [e.path for e in entries] == [folder, again]
    assert {e.name for e in entries} == {"baseline · time.hours_per_day=1, carbon.price_cny_per_tco2=300"}
    assert entries[0].edits == [TINY, PRICE] and entries[0].scenario == "baseline"
    assert all(e.state == PRESENT for e in entries)
    assert read_run(folder).summary.total_cost_cny == pytest.approx(entries[0].figures["total_cost_cny"])
    # the catalog is beside the runs, and refers to them relative to itself: the folder can move
    assert catalog_path() == Path("runs/catalog.sqlite")
    stored = sqlite3.connect(work / "runs" / "catalog.sqlite").execute("SELECT path FROM runs").fetchall()
    assert stored == [(folder.name,), (again.name,)]


def test_a_users_folder_with_the_runs_name_is_passed_over(work):
    mine = work / "runs" / "baseline-time-hours-per-day-1"
    mine.mkdir(parents=True)
    (mine / "thesis.txt").write_text("mine")
    result = _run("--set", TINY)
    assert result.exit_code == 0, result.output
    assert (mine / "thesis.txt").read_text() == "mine" and sorted(p.name for p in mine.iterdir()) == ["thesis.txt"]
    assert list_runs()[0].path == mine.with_name(mine.name + "-2")


def test_a_failed_run_leaves_no_directory_and_no_entry(work):
    result = _run("--set", TINY, "--set", "workloads.finance.latency_max_ms=0.5")
    assert result.exit_code == 1 and "infeasible" in result.output, result.output
    assert not (work / "runs").exists() or list((work / "runs").iterdir()) == []
    assert list_runs() == []


def test_the_catalog_round_trips(tmp_path, tiny_results):
    catalog = tmp_path / "elsewhere" / "catalog.sqlite"
    run_dir = write_run(tiny_results, tmp_path / "a")
    entry = record_run(run_dir, "baseline · x=1", ["x=1"], tiny_results, kind="year", path=catalog)
    assert get_run(entry.id, catalog) == entry
    summary = tiny_results.summary
    assert (entry.name, entry.scenario, entry.edits, entry.kind, entry.status) == \
        ("baseline · x=1", summary.scenario, ["x=1"], "year", "optimal")
    assert entry.input_hash == tiny_results.metadata["input_hash"] == read_marker(run_dir)["input_hash"]
    assert entry.uid == read_marker(run_dir)["id"] and entry.created == read_marker(run_dir)["created"]
    assert entry.figures["total_cost_cny"] == pytest.approx(summary.total_cost_cny, rel=1e-12)
    assert entry.figures["emissions_tco2"] == pytest.approx(summary.emissions_tco2, rel=1e-12)
    assert entry.path == run_dir  # outside the catalog's folder: stored absolute
    other = record_run(run_dir, "other", [], tiny_results, path=catalog)
    assert [e.id for e in list_runs(name="X=", path=catalog)] == [entry.id]
    assert [e.id for e in list_runs(scenario=summary.scenario, path=catalog)] == [entry.id, other.id]
    assert list_runs(scenario="no-such", path=catalog) == []
    assert len(list_runs(status="optimal", path=catalog)) == 2 and list_runs(status=MISSING, path=catalog) == []


def test_writers_at_once_all_get_their_entry_and_their_own_directory(tmp_path, tiny_results):
    catalog = tmp_path / "catalog.sqlite"
    run_dir = write_run(tiny_results, tmp_path / "a")
    folders, errors = [], []

    def writer(number):
        try:
            folders.append(new_run_dir("baseline", tmp_path / "runs"))
            record_run(run_dir, f"run {number}", [], tiny_results, path=catalog)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(e.name for e in list_runs(path=catalog)) == sorted(f"run {n}" for n in range(8))
    assert sorted(p.name for p in folders) == sorted(["baseline", *(f"baseline-{n}" for n in range(2, 9))])


def test_remove_deletes_only_what_the_tool_created(work, tiny_results):
    owned = write_run(tiny_results, work / "runs" / "owned")
    a = record_run(owned, "owned", [], tiny_results)
    mine = work / "mine"  # a folder of the user's, recorded (its run directory was replaced by their files)
    mine.mkdir()
    (mine / "thesis.txt").write_text("four years of work")
    b = record_run(owned, "mine", [], tiny_results)
    with sqlite3.connect(work / "runs" / "catalog.sqlite") as connection:
        connection.execute("UPDATE runs SET path = ? WHERE id = ?", (str(mine), b.id))
    reused = write_run(tiny_results, work / "reused")
    c = record_run(reused, "first", [], tiny_results)
    write_run(tiny_results, reused)  # the same --out again: a later run now lives there
    d = record_run(reused, "second", [], tiny_results)
    assert [e.state for e in list_runs()] == [PRESENT, MISSING, REPLACED, PRESENT]

    result = CliRunner().invoke(main, ["runs", "remove", str(b.id)])
    assert result.exit_code == 0, result.output
    assert "was kept" in result.output and "did not create it" in result.output
    assert (mine / "thesis.txt").read_text() == "four years of work"
    assert remove_run(c.id) == (c, REPLACED) and (reused / RUN_MARKER).exists()  # the later run is kept
    result = CliRunner().invoke(main, ["runs", "remove", str(a.id)])
    assert result.exit_code == 0 and "and its directory" in result.output
    assert not owned.exists()
    assert [e.id for e in list_runs()] == [d.id]
    gone = CliRunner().invoke(main, ["runs", "remove", str(a.id)])
    assert gone.exit_code == 2 and f"no run with id {a.id}" in gone.output


@pytest.mark.parametrize("content", ["garbage", "foreign-db", "empty", "link"])
def test_a_catalog_that_is_not_the_tools_is_refused_and_left_as_it_was(work, content):
    catalog = work / "runs" / "catalog.sqlite"
    catalog.parent.mkdir()
    if content == "garbage":
        catalog.write_bytes(b"SQLite format 3\x00 but then nothing sensible" * 10)
    elif content == "foreign-db":
        with sqlite3.connect(catalog) as connection:
            connection.execute("CREATE TABLE runs (id INTEGER, thesis TEXT)")
            connection.execute("INSERT INTO runs VALUES (1, 'four years')")
        connection.close()
    elif content == "empty":
        catalog.touch()
    else:
        (work / "target.sqlite").write_bytes(b"x")
        catalog.symlink_to(work / "target.sqlite")
    before = _snapshot(work)
    for args in (["run", "--no-map", "--set", TINY], ["runs"], ["runs", "show", "1"], ["runs", "remove", "1"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.output, result.output
        assert lines[0].startswith("runs/catalog.sqlite | ") and "nothing was written" in lines[0]
        assert _snapshot(work) == before, args  # no run directory, the file unchanged
    with pytest.raises(CatalogError, match="catalog"):
        check_catalog()


def test_a_run_whose_directory_is_gone_shows_as_missing(work):
    assert _run("--set", TINY).exit_code == 0
    assert _run("--set", TINY, "--set", PRICE).exit_code == 0
    first, second = list_runs()
    shutil.rmtree(first.path)
    listing = CliRunner().invoke(main, ["runs"])
    assert listing.exit_code == 0, listing.output
    rows = listing.output.strip().splitlines()
    assert rows[0].split()[:3] == ["id", "name", "status"]
    assert "missing" in rows[1] and "optimal" in rows[2]
    assert [e.id for e in list_runs(status="missing")] == [first.id]
    only = CliRunner().invoke(main, ["runs", "--status", "missing"])
    assert len(only.output.strip().splitlines()) == 2
    zh = CliRunner().invoke(main, ["runs", "--lang", "zh", "--name", "carbon"])
    assert "目录缺失" not in zh.output and "编号" in zh.output and len(zh.output.strip().splitlines()) == 2
    shown = CliRunner().invoke(main, ["runs", "show", str(first.id)])
    assert shown.exit_code == 0 and "missing" in shown.output and "time.hours_per_day=1" in shown.output
    removed = CliRunner().invoke(main, ["runs", "remove", str(first.id)])
    assert removed.exit_code == 0 and "already gone" in removed.output


def test_a_recorded_run_directory_still_checks_out(work):
    assert _run("--set", TINY).exit_code == 0
    entry = list_runs()[0]
    result = CliRunner().invoke(main, ["check", str(entry.path), "--executor", "serial", "--year-hours", "24",
                                       "--no-progress"])
    assert result.exit_code == 0, result.output
    assert (entry.path / "check.json").is_file() and entry.state == PRESENT


def test_no_runs_yet(work):
    result = CliRunner().invoke(main, ["runs"])
    assert result.exit_code == 0 and "No runs recorded yet" in result.output
    assert not (work / "runs").exists()


def test_listing_the_runs_loads_no_numerical_stack(work):
    from test_startup import probe

    result = probe(["runs"], ["runs", "--help"])
    assert result["codes"] == [0, 0] and result["loaded"] == []


RECORDER = """
import sys
from planner.rundir import read_run
from planner.runstore import record_run

results = read_run(sys.argv[1])
for number in range(int(sys.argv[3])):
    record_run(sys.argv[1], f"{sys.argv[2]} {number}", [], results)
"""


def test_two_processes_record_at_once(tmp_path, tiny_results, monkeypatch):
    monkeypatch.setenv(CATALOG_ENV, str(tmp_path / "catalog.sqlite"))
    run_dir = write_run(tiny_results, tmp_path / "a")
    writers = [subprocess.Popen([sys.executable, "-c", RECORDER, str(run_dir), name, "25"], stderr=subprocess.PIPE)
               for name in ("left", "right")]
    for number in range(25):  # and this process too, meanwhile
        record_run(run_dir, f"here {number}", [], tiny_results)
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err.decode()
    entries = list_runs()
    assert sorted(e.name for e in entries) == sorted(f"{w} {n}" for w in ("left", "right", "here") for n in range(25))
    assert len({e.id for e in entries}) == 75
