"""Nothing lost: run directories appear complete or not at all, and exports cannot carry formulas.

Two kinds of kill. Real ones: ``edwc run`` in a subprocess, SIGKILLed after a random delay.
Exhaustive ones: a forked writer that dies (``os._exit``, no clean-up) at the n-th executed line of
planner/rundir.py, for every n until the write completes.
"""

import csv
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from optimizer.results import Results, Summary
from planner.rundir import RUN_FILES, RUN_MARKER, neutralise_formulas, write_run

REPO = Path(__file__).resolve().parents[1]


def _state(run_dir: Path) -> str:
    """'absent', 'incomplete', or the tag of the complete run found there (every file and the marker)."""
    if not run_dir.exists():
        return "absent"
    try:
        if not {*RUN_FILES, RUN_MARKER} <= {p.name for p in run_dir.iterdir()}:
            return "incomplete"
        return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))["scenario"]
    except Exception:  # noqa: BLE001 - any failure to read means not complete
        return "incomplete"


def _leftovers_are_hidden(folder: Path, runs: set[str]) -> None:
    # Staging folders of killed writers may remain; they must never look like a run.
    for entry in folder.iterdir():
        if entry.name not in runs:
            assert entry.name.startswith("."), entry.name
            assert entry.name.endswith((".tmp", ".old")), entry.name


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_runs_killed_at_random_moments_leave_nothing_or_a_complete_directory(tmp_path):
    rng = random.Random(20240515)
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def command(out):
        return [sys.executable, "-m", "planner.cli", "run", "--no-map", "--backend", "highs", "--out", str(out)]

    start = time.perf_counter()
    subprocess.run(command(tmp_path / "full"), check=True, capture_output=True, cwd=tmp_path, env=env, timeout=300)
    full_s = time.perf_counter() - start
    assert set(RUN_FILES) <= {p.name for p in (tmp_path / "full").iterdir()}
    states = []
    for i in range(7):
        out = tmp_path / f"run{i}"
        process = subprocess.Popen(command(out), cwd=tmp_path, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, 1.1 * full_s))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        states.append(_state(out))
    assert set(states) <= {"absent", "baseline"}, states
    _leftovers_are_hidden(tmp_path, {"full", *(f"run{i}" for i in range(7))})


CRASH_SCRIPT = textwrap.dedent('''
    """Write runs in forked children that die at the n-th line of planner/rundir.py or data/files.py, for every n."""
    import json
    import os
    import sys

    import pandas as pd

    from edwc_data import files
    from optimizer.results import Results, Summary
    from planner import rundir

    def results(tag):
        return Results(
            scenario={"name": tag}, flows=pd.DataFrame({"province": ["p1"], "load_mw": [1.0]}),
            sites=pd.DataFrame({"site": ["s1"], "name_en": ["=1+1"]}),
            provinces=pd.DataFrame({"province": ["p1"], "adcode": [110000]}),
            summary=Summary(scenario=tag, status="optimal", **dict.fromkeys(Summary.figures(), 0.0)),
            metadata={"scenario": tag},
        )

    def die_at_line(n):
        count = 0

        def tracer(frame, event, arg):
            nonlocal count
            if frame.f_code.co_filename not in (rundir.__file__, files.__file__):
                return None
            if event == "line":
                count += 1
                if count == n:
                    os._exit(137)  # like SIGKILL: no finally, no clean-up
            return tracer

        sys.settrace(tracer)

    def state(path):
        if not os.path.exists(path):
            return "absent"
        try:
            if not {*rundir.RUN_FILES, rundir.RUN_MARKER} <= set(os.listdir(path)):
                return "incomplete"
            with open(os.path.join(path, "summary.json"), encoding="utf-8") as handle:
                return json.load(handle)["scenario"]
        except Exception:
            return "incomplete"

    folder, mode = sys.argv[1], sys.argv[2]
    outcomes = []
    for n in range(1, 10_000):
        target = os.path.join(folder, f"{mode}{n}")
        if mode == "rerun":
            rundir.write_run(results("old"), target)
        pid = os.fork()
        if pid == 0:
            die_at_line(n)
            rundir.write_run(results("new"), target)
            sys.settrace(None)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        outcomes.append({"line": n, "exit": code, "state": state(target)})
        if code == 0:
            break
    print(json.dumps(outcomes))
''')


def _crash_everywhere(tmp_path: Path, mode: str) -> list[dict]:
    result = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(tmp_path), mode], capture_output=True,
                            text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)
    assert result.returncode == 0, result.stderr
    outcomes = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcomes[-1]["exit"] == 0 and outcomes[-1]["state"] == "new"
    assert len(outcomes) > 10  # the writer really was interrupted at many points
    return outcomes


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_write_killed_at_any_line_leaves_nothing_or_the_complete_run(tmp_path):
    outcomes = _crash_everywhere(tmp_path, "fresh")
    assert {o["state"] for o in outcomes} <= {"absent", "new"}, outcomes
    _leftovers_are_hidden(tmp_path, {f"fresh{o['line']}" for o in outcomes})


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_rewrite_killed_at_any_line_keeps_the_previous_run_or_the_new_one(tmp_path):
    outcomes = _crash_everywhere(tmp_path, "rerun")
    lost = [o["line"] for o in outcomes if o["state"] not in ("old", "new")]
    assert not lost, f"the previous run was not in place after a kill at rundir.py line steps {lost}"
    _leftovers_are_hidden(tmp_path, {f"rerun{o['line']}" for o in outcomes})


def _results(name_en: list[str], province_names: list[str]) -> Results:
    return Results(
        scenario={"name": "formulas"},
        flows=pd.DataFrame({"province": ["p1"], "site": ["s1"], "load_mw": [1.0]}),
        sites=pd.DataFrame({"site": [f"s{i}" for i in range(len(name_en))], "name_en": name_en,
                            "new_mw": [-1.5] * len(name_en)}),
        provinces=pd.DataFrame({"province": [f"p{i}" for i in range(len(province_names))],
                                "adcode": [110000 + i for i in range(len(province_names))],
                                "name_en": province_names}),
        summary=Summary(scenario="formulas", status="optimal", **dict.fromkeys(Summary.figures(), 0.0)),
        metadata={},
    )


HOSTILE_NAMES = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\rcmd", " =2+2",
                 "  @SUM(A1)", "Qingyang cluster", "Gui'an  cluster"]


def _should_be_neutral(text: str) -> bool:
    return text.startswith(("=", "+", "-", "@", "\t", "\r")) or text.lstrip(" \t\r\n").startswith(("=", "+", "-", "@"))


def test_csv_exports_neutralise_formulas(tmp_path):
    written = write_run(_results(HOSTILE_NAMES, list(reversed(HOSTILE_NAMES))), tmp_path / "run")
    for table in ("sites.csv", "provinces.csv"):
        with open(written / table, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        names = [row["name_en"] for row in rows]
        for name in names:
            assert not _should_be_neutral(name), (table, name)
        assert set(names) == {"'" + n if _should_be_neutral(n) else n for n in HOSTILE_NAMES}
    # Numbers are numbers, even negative ones: only text is neutralised.
    with open(written / "sites.csv", encoding="utf-8", newline="") as handle:
        assert [row["new_mw"] for row in csv.DictReader(handle)] == ["-1.5"] * len(HOSTILE_NAMES)
    assert (pd.read_csv(written / "sites.csv")["new_mw"] == -1.5).all()


def test_neutralise_formulas_leaves_the_input_alone():
    frame = pd.DataFrame({"name": ["=1", "ok", None], "value": [-1.0, 2.0, 3.0]})
    neutral = neutralise_formulas(frame)
    assert neutral["name"].tolist()[:2] == ["'=1", "ok"] and pd.isna(neutral["name"].iloc[2])
    assert neutral["value"].tolist() == [-1.0, 2.0, 3.0]
    assert frame["name"].tolist()[:2] == ["=1", "ok"]


def test_a_failing_write_keeps_the_previous_run_and_leaves_no_staging(tmp_path):
    out = tmp_path / "run"
    write_run(_results(["old"], ["p"]), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def failing_extras(results, folder):
        (folder / "plan_map.png").write_bytes(b"half a map")
        raise KeyboardInterrupt  # Ctrl-C while the map is drawn

    with pytest.raises(KeyboardInterrupt):
        write_run(_results(["new"], ["p"]), out, extras=failing_extras)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_extras_may_write_subfolders(tmp_path):
    def map_tiles(results, folder):
        (folder / "tiles").mkdir()
        (folder / "tiles" / "0.png").write_bytes(b"png")

    out = write_run(_results(["a"], ["p"]), tmp_path / "run", extras=map_tiles)
    assert (out / "tiles" / "0.png").read_bytes() == b"png"
