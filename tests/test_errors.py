"""Errors are data: every exception pickles with its attributes, crosses every executor as itself, and the CLI
ends every failure in one line with an honest exit code.
"""

import pickle

import pytest
from click.testing import CliRunner
from edwc_data.files import FileRefused
from edwc_data.outputs import OutputRefused

from optimizer.status import PlanInfeasible, PlanNotSolved, PlanStatus
from planner.cli import main
from planner.errors import PlanTooLarge, ScenarioError
from planner.parallel import open_executor
from planner.run import run_scenario
from planner.rundir import RunDirError
from planner.scenario import load_scenario
from planner.sizing import check_plan_size
from planner.studies import StudyError
from planner.yearcheck import CheckError
from ui.engine import JobFailed

INFEASIBLE = ["time.hours_per_day=1", "workloads.finance.latency_max_ms=0.5"]


def _input_errors():
    return [cls("what is wrong, got 5. Fix it.", source="file.yaml", field="a.b")
            for cls in (ScenarioError, StudyError, CheckError, RunDirError, PlanTooLarge)]


@pytest.mark.parametrize("error", _input_errors(), ids=lambda e: type(e).__name__)
def test_every_input_error_pickles_with_its_attributes(error):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error) == "file.yaml: a.b | what is wrong, got 5. Fix it."
    assert (copy.message, copy.source, copy.field) == (error.message, "file.yaml", "a.b")
    assert isinstance(copy, ScenarioError | ValueError)


@pytest.mark.parametrize("error", [FileRefused("is not a regular file. Give a file.", source="x.yaml"),
                                   OutputRefused("is not ours. Give a new folder.", source="mine")],
                         ids=lambda e: type(e).__name__)
def test_file_errors_pickle_with_their_attributes(error):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error) and copy.source == error.source


def test_solver_errors_pickle_with_status_and_diagnosis():
    with pytest.raises(PlanInfeasible) as raised:
        run_scenario(load_scenario(None, INFEASIBLE))
    error = raised.value
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is PlanInfeasible and str(copy) == str(error) and copy.status == PlanStatus.INFEASIBLE
    assert copy.diagnosis and [c.sentence() for c in copy.diagnosis] == [c.sentence() for c in error.diagnosis]
    timed_out = pickle.loads(pickle.dumps(PlanNotSolved("stopped at the time limit", status="time_limit")))
    assert type(timed_out) is PlanNotSolved and timed_out.status == PlanStatus.TIME_LIMIT


def test_an_app_job_failure_pickles():
    assert pickle.loads(pickle.dumps(JobFailed("worker_lost"))).label == "worker_lost"


@pytest.mark.parametrize("executor", ["serial", "local", "dask"])
def test_a_workers_errors_reach_the_caller_as_themselves(executor):
    infeasible = load_scenario(None, INFEASIBLE)
    bomb = load_scenario(None, ["time.representative=identical", "time.days=366", "time.hours_per_day=24",
                                 "solver.memory_budget_gb=1"])
    with open_executor(executor, workers=1) as pool:
        infeasible_outcome = list(pool.map_unordered(run_scenario, [infeasible]))
        bomb_outcome = list(pool.map_unordered(check_plan_size, [bomb]))
    [(_, value, exc)] = infeasible_outcome
    assert value is None and type(exc) is PlanInfeasible and exc.status == PlanStatus.INFEASIBLE
    assert "Finance" in str(exc) and exc.diagnosis and exc.diagnosis[0].constraint == "latency"
    [(_, value, exc)] = bomb_outcome
    assert type(exc) is PlanTooLarge and exc.field == "time" and "over the budget" in exc.message


# ------------------------------------------------------------------------------ the command line

def _boom(exc):
    def raising(*_args, **_kwargs):
        raise exc
    return raising


@pytest.mark.parametrize(("exc", "code", "words"), [
    (ZeroDivisionError("division by zero"), 3, ["internal error (ZeroDivisionError", "--debug"]),
    (KeyError("summary"), 3, ["internal error (KeyError"]),
    (KeyboardInterrupt(), 130, ["interrupted"]),
    (PermissionError(13, "Permission denied", "/some/file"), 2, ["/some/file | Permission denied"]),
    (ValueError("x.yaml | bad value. Fix it."), 2, ["x.yaml | bad value"]),
    (PlanNotSolved("gave up", status="time_limit"), 1, ["time_limit: gave up"]),
    (MemoryError(), 2, ["out of memory"]),
])
def test_every_failure_ends_in_one_line_with_an_honest_exit_code(exc, code, words, monkeypatch, tmp_path):
    import planner.cli.run_command as run_command

    monkeypatch.setattr(run_command, "run_scenario_checked", _boom(exc))
    result = CliRunner().invoke(main, ["run", "--no-map", "--set", "time.hours_per_day=1", "--out",
                                       str(tmp_path / "out")])
    assert result.exit_code == code, (result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and all(word in lines[0] for word in words), lines
    assert not (tmp_path / "out").exists()


def test_debug_shows_the_traceback(monkeypatch, tmp_path):
    import planner.cli.run_command as run_command

    monkeypatch.setattr(run_command, "run_scenario_checked", _boom(ZeroDivisionError("division by zero")))
    for args in (["run", "--debug"], ["--debug", "run"]):
        result = CliRunner().invoke(main, [*args, "--no-map", "--set", "time.hours_per_day=1", "--out",
                                           str(tmp_path / "out")])
        assert isinstance(result.exception, ZeroDivisionError), (args, result.output)


def test_an_error_while_reading_options_is_one_line_too(tmp_path):
    result = CliRunner().invoke(main, ["run", "--no-map", "--out", ""])
    assert result.exit_code == 2 and result.output.strip().splitlines() == [
        "'' | is an empty path. Name a new folder, such as runs/mine."]


def test_terminal_escape_codes_in_names_are_printed_escaped(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text('name: "\\e[2J\\e]0;owned\\a"\nbase: baseline\nset: {time.hours_per_day: 1}\n'
                     "grid: {carbon.price_cny_per_tco2: [0]}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["sweep", str(study), "--out", str(tmp_path / "out"), "--executor", "serial",
                                       "--no-progress", "--no-plots"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b[2J" in result.output
