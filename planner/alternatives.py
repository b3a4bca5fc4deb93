"""Near-optimal alternatives of a run (``edwc alternatives``): capacity ranges within a cost slack, and distinct plans.

From a verified run directory, the run's scenario is rebuilt and its LP solved to the optimum again
(its cost must be the run's); then, with the cost held within ``slack`` of it
(:class:`optimizer.nearoptimal.NearOptimalLP`), each cluster's and each region's new capacity (and
fit-out, where the plan has vacant capacity to fit out) is minimised and maximised: the range any
plan within the slack can have. Three plans as different from the optimum as the slack allows
(``max-west``, ``min-west``, ``max-spread``) are written as complete run directories, each verified
like any plan and readable by every command that reads a run.

``max-spread`` minimises the Herfindahl index of the clusters' new capacity, linearised at the
optimum: weight ``share_s − H`` on cluster s (its share of the optimum's cluster new build, minus
the optimum's index H), so clusters above the concentration lose build and the others gain it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from edwc_data.files import write_text_atomic
from edwc_data.outputs import check_replaceable, claim_folder, shown_path

from optimizer.nearoptimal import CapacityObjective, NearOptimalLP
from optimizer.results import Results
from planner.errors import ScenarioError
from planner.preprocess import build_inputs
from planner.run import results_from_plan
from planner.rundir import RunDirError, neutralise_formulas, read_run_checked, write_run
from planner.scenario import Scenario

#: The regions of the ranges: each site's ``hub_class``.
REGIONS = ("east", "west", "local")
#: The distinct plans written as run directories.
PLANS = ("max-west", "min-west", "max-spread")
#: Relative difference allowed between the run's cost and the re-solved optimum's. [-]
COST_MATCH = 1e-6
#: Columns of ``alternatives.csv``.
RANGE_COLUMNS = ["scope", "name", "quantity", "optimum_mw", "min_mw", "max_mw"]


@dataclass
class Alternatives:
    """What :func:`generate_alternatives` found and wrote.

    Attributes
    ----------
    ranges : pandas.DataFrame
        One row per cluster or region and quantity (``new_mw``, ``fitout_mw``): the run's value
        and the least and the most any plan within the slack has. [MW]
    plans : dict
        Plan name -> its Results (verified, cost within the slack).
    slack : float
    optimal_cost_cny : float
        The re-solved optimum's cost. [CNY/yr]
    solves : int
        Alternatives solved (ranges and plans).
    timings_s : dict
        ``optimum_s`` (build and solve of the optimum), ``alternatives_s`` (every other solve). [s]
    out_dir : Path or None
    run : Results or None
        The run the alternatives are of (as read back).
    """

    ranges: pd.DataFrame
    plans: dict[str, Results]
    slack: float
    optimal_cost_cny: float
    solves: int
    timings_s: dict[str, float] = field(default_factory=dict)
    out_dir: Path | None = None
    run: Results | None = None


def check_slack(value: object) -> float:
    """The slack as a number in (0, 1]; :class:`ScenarioError` (source ``--slack``) otherwise. [-]"""
    try:
        slack = float(value)
    except (TypeError, ValueError):
        slack = float("nan")
    if not 0.0 < slack <= 1.0:
        msg = (f"must be a number in (0, 1], the share above the optimal cost a plan may cost, got "
               f"{str(value)[:30]!r}. For example 0.02 for 2 %.")
        raise ScenarioError(msg, source="--slack")
    return slack


def default_out_dir(run_dir: Path | str) -> Path:
    """``<RUN_DIR>-alternatives`` beside the run directory."""
    run_dir = Path(run_dir)
    return run_dir.parent / f"{run_dir.name}-alternatives"


def load_run(run_dir: Path | str) -> tuple[Results, Scenario]:
    """Read a run directory as ``edwc check`` does (nothing trusted), refusing runs the plan LP did not make.

    Raises
    ------
    planner.rundir.RunDirError
        Not a complete, untampered run; a pathway run; a whole-year plan.
    """
    run_dir = Path(run_dir)
    results, scenario = read_run_checked(run_dir)
    where = shown_path(run_dir)
    if scenario.horizon.end_year is not None:
        msg = (f"is a pathway run (horizon to {scenario.horizon.end_year}). Give a single-year run: "
               "solve one year with --set horizon.end_year=null.")
        raise RunDirError(msg, source=where)
    if "year_plan" in results.metadata:
        msg = "is a whole-year plan (edwc run --year). Give a run on representative days."
        raise RunDirError(msg, source=where)
    return results, scenario


def _weights(sites: pd.DataFrame, mask: np.ndarray, quantity: str) -> tuple[np.ndarray, np.ndarray]:
    ones = mask.astype(float)
    zeros = np.zeros(len(sites))
    return (ones, zeros) if quantity == "new_mw" else (zeros, ones)


def spread_weights(sites: pd.DataFrame, new_mw: np.ndarray) -> np.ndarray:
    """Weights of the clusters' new capacity in the linearised Herfindahl index at ``new_mw`` (S,).

    ``share_s − H`` on each cluster that may build, 0 elsewhere; where the plan builds no cluster
    capacity, −1 on each (the index is undefined: spread means building in clusters at all).
    """
    clusters = (sites["kind"] == "cluster").to_numpy() & (sites["max_new_mw"].to_numpy(float) > 0)
    built = np.where(clusters, np.maximum(new_mw, 0.0), 0.0)
    total = built.sum()
    if total <= 0:
        return np.where(clusters, -1.0, 0.0)
    share = built / total
    return np.where(clusters, share - float(share @ share), 0.0)


def herfindahl(sites: pd.DataFrame, new_mw: np.ndarray) -> float:
    """Herfindahl index of the clusters' new capacity: 1 all in one cluster, 1/K spread over K. [-]"""
    clusters = (sites["kind"] == "cluster").to_numpy()
    built = np.maximum(np.asarray(new_mw, float)[clusters], 0.0)
    total = built.sum()
    return float(((built / total) ** 2).sum()) if total > 0 else 0.0


def _range_targets(sites: pd.DataFrame, has_fitout: np.ndarray) -> list[tuple[str, str, str, np.ndarray]]:
    """(scope, name, quantity, site mask) of every range: each cluster, then each region."""
    kind, hub_class = sites["kind"].to_numpy(), sites["hub_class"].to_numpy()
    quantities = ["new_mw"] + (["fitout_mw"] if has_fitout.any() else [])
    targets = []
    for quantity in quantities:
        for position in np.nonzero(kind == "cluster")[0]:
            targets.append(("cluster", str(sites["site"].iloc[position]), quantity,
                            np.arange(len(sites)) == position))
        targets += [("region", region, quantity, hub_class == region) for region in REGIONS]
    return targets


def find_alternatives(
    scenario: Scenario,
    slack: float,
    optimum_new_mw: np.ndarray | None = None,
    optimum_fitout_mw: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
    check_optimum: Callable[[float], None] | None = None,
) -> tuple[Alternatives, NearOptimalLP]:
    """Capacity ranges within ``slack`` of the optimal cost of ``scenario``, and the distinct plans (nothing written).

    Parameters
    ----------
    scenario : Scenario
        A validated single-year scenario.
    slack : float
        Share above the optimal cost a plan may cost, in (0, 1]. [-]
    optimum_new_mw, optimum_fitout_mw : numpy.ndarray, optional
        The plan whose capacity the table shows as ``optimum_mw`` (by site, in the inputs' order);
        default: the optimum solved here. [MW]
    progress : callable, optional
        ``progress(done, total)`` after each solve.
    check_optimum : callable, optional
        ``check_optimum(cost)`` with the optimal cost [CNY/yr] before any alternative is solved; it
        may raise to stop.

    Returns
    -------
    (Alternatives, NearOptimalLP)
        The alternatives, and the LP (its optimum and optimal cost).

    Raises
    ------
    ScenarioError
        A slack outside (0, 1], or a pathway scenario.
    optimizer.status.PlanInfeasible, optimizer.status.PlanNotSolved
        A solve was not proven optimal or failed verification.
    """
    slack = check_slack(slack)
    if scenario.horizon.end_year is not None:
        msg = (f"is a pathway to {scenario.horizon.end_year}: alternatives are of one year's plan. "
               "Set horizon.end_year to null.")
        raise ScenarioError(msg, source=f"scenario '{scenario.name}'", field="horizon.end_year")
    start = time.perf_counter()
    inputs = build_inputs(scenario)
    lp = NearOptimalLP(inputs, tolerance=scenario.solver.tolerance, time_limit_s=scenario.solver.time_limit_s)
    optimum_s = time.perf_counter() - start
    if check_optimum is not None:
        check_optimum(lp.optimal_cost_cny)
    start = time.perf_counter()
    lp.set_slack(slack)
    sites = inputs.sites
    if optimum_new_mw is None:
        optimum_new_mw = lp.optimum.sites["new_mw"].to_numpy(float)
        optimum_fitout_mw = lp.optimum.sites["fitout_mw"].to_numpy(float)
    has_fitout = np.zeros(len(sites), bool)
    has_fitout[lp.index.fitout_sites] = True
    can_build = np.zeros(len(sites), bool)
    can_build[lp.index.new_sites] = True
    targets = _range_targets(sites, has_fitout)
    total = 2 * len(targets) + 1
    done = 0
    rows, plans = [], {}
    solved: dict[tuple[str, bool], object] = {}
    for scope, name, quantity, mask in targets:
        column_mask = mask & (can_build if quantity == "new_mw" else has_fitout)
        optimum = float((optimum_new_mw if quantity == "new_mw" else optimum_fitout_mw)[mask].sum())
        bounds = []
        for maximise in (False, True):
            if not column_mask.any():  # no column: nothing to build there in any plan
                bounds.append(0.0)
            else:
                new_weight, fitout_weight = _weights(sites, column_mask, quantity)
                objective = CapacityObjective(f"{'max' if maximise else 'min'} {name} {quantity}",
                                              new_weight, fitout_weight, maximise)
                plan, value = lp.solve(objective)
                bounds.append(value)
                solved[(f"{scope}:{name}:{quantity}", maximise)] = plan
            done += 1
            if progress is not None:
                progress(done, total)
        rows.append({"scope": scope, "name": name, "quantity": quantity, "optimum_mw": optimum,
                     "min_mw": bounds[0], "max_mw": bounds[1]})
    ranges = pd.DataFrame(rows, columns=RANGE_COLUMNS)
    chosen = {"max-west": solved.get(("region:west:new_mw", True)),
              "min-west": solved.get(("region:west:new_mw", False))}
    spread = CapacityObjective("max spread (linearised Herfindahl of cluster new capacity)",
                               spread_weights(sites, lp.optimum.sites["new_mw"].to_numpy(float)),
                               np.zeros(len(sites)))
    chosen["max-spread"], _ = lp.solve(spread)
    done += 1
    if progress is not None:
        progress(done, total)
    for name in PLANS:
        plan = chosen[name]
        if plan is None:  # no west site can build: the optimum is both
            continue
        plan.metadata["alternative"]["plan"] = name
        plan.metadata["alternative"]["herfindahl"] = herfindahl(sites, plan.sites["new_mw"].to_numpy(float))
        plans[name] = results_from_plan(scenario, plan)
    timings = {"optimum_s": optimum_s, "alternatives_s": time.perf_counter() - start}
    return Alternatives(ranges, plans, slack, lp.optimal_cost_cny, lp.solves, timings), lp


def generate_alternatives(
    run_dir: Path | str,
    slack: float,
    out_dir: Path | str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Alternatives:
    """The ranges and distinct plans (:func:`find_alternatives`) of the run in ``run_dir``, written to ``out_dir``.

    Parameters
    ----------
    run_dir : path
        A run directory written by ``edwc run`` (validated, :func:`load_run`).
    slack : float
        Share above the optimal cost a plan may cost, in (0, 1]. [-]
    out_dir : path, optional
        Folder for ``alternatives.csv``, ``alternatives.json`` and one run directory per plan: new,
        empty or one this command wrote (default: ``<RUN_DIR>-alternatives``).
    progress : callable, optional
        ``progress(done, total)`` after each solve.

    Raises
    ------
    planner.rundir.RunDirError, ScenarioError
        The run directory or slack is refused, or the run's cost is not its scenario's optimum.
    edwc_data.outputs.OutputRefused
        The output folder (or a plan's folder in it) is not the tool's to write.
    optimizer.status.PlanInfeasible, optimizer.status.PlanNotSolved
        A solve was not proven optimal or failed verification.
    """
    slack = check_slack(slack)
    results, scenario = load_run(run_dir)
    out_dir = Path(default_out_dir(run_dir) if out_dir is None else out_dir)
    claim_folder(out_dir, "output", create=False)  # before any solve: ours, and writable
    for name in PLANS:
        if (out_dir / name).exists():
            check_replaceable(out_dir / name)
    order = build_inputs(scenario).sites["site"].to_numpy()
    run_sites = results.sites.set_index("site").reindex(order)
    if run_sites["new_mw"].isna().any() or len(run_sites) != len(results.sites):
        msg = "does not list the sites of its scenario once each: written by another version of the dataset. " \
              "Run the scenario again."
        raise RunDirError(msg, source=shown_path(Path(run_dir) / "sites.csv"))
    run_new = run_sites["new_mw"].to_numpy(float)
    run_cost = results.summary.total_cost_cny

    def same_cost(optimal_cost_cny: float) -> None:
        if abs(optimal_cost_cny - run_cost) > COST_MATCH * max(abs(run_cost), 1.0):
            msg = (f"the run's cost {run_cost:,.0f} CNY/yr is not the optimum of its scenario "
                   f"({optimal_cost_cny:,.0f}): it was written by another version of the model or dataset. "
                   "Run the scenario again.")
            raise RunDirError(msg, source=shown_path(Path(run_dir) / "summary.json"))

    found, lp = find_alternatives(scenario, slack, run_new, run_sites["fitout_mw"].to_numpy(float), progress,
                                  check_optimum=same_cost)
    found.run = results
    found.out_dir = write_alternatives(found, out_dir, herfindahl(lp.inputs.sites, run_new))
    return found


def write_alternatives(found: Alternatives, out_dir: Path | str, optimum_herfindahl: float) -> Path:
    """Write ``alternatives.csv``, ``alternatives.json`` and each plan's run directory into ``out_dir``.

    Files are written atomically (:mod:`edwc_data.files`), run directories through
    :func:`planner.rundir.write_run`; only into a folder the tool owns (created and marked if new).
    """
    folder = claim_folder(out_dir, "output")
    for name, results in found.plans.items():
        write_run(results, folder / name)
    write_text_atomic(folder / "alternatives.csv",
                      neutralise_formulas(found.ranges).to_csv(index=False, lineterminator="\r\n"))
    document = {
        "slack": found.slack,
        "optimal_cost_cny": found.optimal_cost_cny,
        "cost_cap_cny": found.optimal_cost_cny + found.slack * abs(found.optimal_cost_cny),
        "optimum_herfindahl": optimum_herfindahl,
        "solves": found.solves,
        "timings_s": found.timings_s,
        "plans": {name: {"run_dir": name, **results.metadata["alternative"],
                         "new_capacity_mw": results.summary.new_capacity_mw,
                         "new_capacity_west_mw": results.summary.new_capacity_west_mw}
                  for name, results in found.plans.items()},
    }
    write_text_atomic(folder / "alternatives.json",
                      json.dumps(document, indent=2, ensure_ascii=False, default=float) + "\n")
    return folder
