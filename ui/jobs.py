"""Work the app hands to its process pool: solves, pathways, maps and export files, as plain data in and out."""

# Every function here runs in a worker process (or inline in tests). Arguments are plain data
# (a validated scenario's dict, Results the solver produced) and never bytes a user uploaded.
# What a solve gave, failure included, comes back as an outcome (errors are data): the pages
# show a status and a message, whatever went wrong in the worker.

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optimizer.status import PlanStatus

if TYPE_CHECKING:
    from optimizer.results import Results


@dataclass
class PlanOutcome:
    """What solving one scenario gave.

    Attributes
    ----------
    status : PlanStatus
        ``optimal`` with Results, the ``PlanNotSolved.status`` ('infeasible', 'time_limit', …), or
        ``bad_input`` when the scenario failed validation in the worker.
    results : optimizer.results.Results or None
        The verified plan when solved.
    message : str
        One line: the solver's or diagnosis's explanation when not solved.
    conflicts : list of str
        One sentence per conflict of an infeasible scenario (``Conflict.sentence()``).
    solve_s : float
        Wall time in the worker. [s]
    """

    status: PlanStatus
    results: Any = None
    message: str = ""
    conflicts: list[str] = field(default_factory=list)
    solve_s: float = 0.0

    @property
    def solved(self) -> bool:
        return self.status == PlanStatus.OPTIMAL


#: Address space a worker takes before any plan: interpreter, libraries, thread arenas. [bytes]
WORKER_BASE_ADDRESS_BYTES = 2_000_000_000


def init_worker(memory_limit_bytes: int | None = None) -> None:
    """Start a worker: limit its address space (so one plan cannot sink the server), then warm it up."""
    if memory_limit_bytes:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = memory_limit_bytes if hard == resource.RLIM_INFINITY else min(memory_limit_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    warm_up()


def plan_budget_bytes() -> int | None:
    """The most memory a plan may take in this process: its address-space limit less the libraries' share. [bytes]

    None where no limit is set (inline jobs, the command line): then the scenario's own budget applies.
    """
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    return max(soft - WORKER_BASE_ADDRESS_BYTES, 0)


def _check_size(scenario) -> None:
    from planner.sizing import check_plan_size

    check_plan_size(scenario, source=f"scenario '{scenario.name}'", cap_bytes=plan_budget_bytes())


def warm_up() -> None:
    """Import the planner in a fresh worker so the first solve does not pay for it."""
    import geo.maps  # noqa: F401
    import planner.run  # noqa: F401
    from planner.scenario import load_scenario

    load_scenario()  # reads and caches the default tables


def _scenario(scenario_dict: dict[str, Any]):
    from planner.scenario import Scenario, check_scenario

    scenario = Scenario.model_validate(scenario_dict)
    check_scenario(scenario, f"scenario '{scenario.name}'")
    return scenario


def solve_plan(scenario_dict: dict[str, Any]) -> PlanOutcome:
    """Solve a validated scenario given as its ``to_dict()``.

    Returns
    -------
    PlanOutcome
    """
    from optimizer.status import PlanNotSolved
    from planner.run import run_scenario
    from planner.scenario import ScenarioError

    start = time.perf_counter()
    try:
        scenario = _scenario(scenario_dict)
        _check_size(scenario)  # the same estimate as the command line, within this worker's limit
        results = run_scenario(scenario)
    except ScenarioError as exc:
        return PlanOutcome(PlanStatus.BAD_INPUT, message=str(exc), solve_s=time.perf_counter() - start)
    except PlanNotSolved as exc:
        conflicts = [c.sentence() for c in (exc.diagnosis or []) if hasattr(c, "sentence")]
        return PlanOutcome(exc.status, message=str(exc), conflicts=conflicts,
                           solve_s=time.perf_counter() - start)
    return PlanOutcome(PlanStatus.OPTIMAL, results=results, solve_s=time.perf_counter() - start)


def solve_pathway(scenario_dict: dict[str, Any]) -> dict[str, Any]:
    """Solve a multi-year pathway and return its tables (no per-year Results, to keep it small).

    Returns
    -------
    dict
        ``status`` (a PlanStatus: optimal, or why not), ``message``, and when solved ``table`` (pathway.csv),
        ``growth`` (growth.csv), ``summary`` (headline growth figures), ``years``, ``mode`` and
        ``compare`` (a foresight pathway's myopic comparison, else None).
    """
    from optimizer.status import PlanNotSolved
    from planner.pathway_foresight import plan_pathway
    from planner.scenario import ScenarioError

    start = time.perf_counter()
    try:
        scenario = _scenario(scenario_dict)
        _check_size(scenario)
        # In horizon.mode; a foresight pathway with the myopic plan beside it.
        pathway = plan_pathway(scenario, cap_bytes=plan_budget_bytes())
    except ScenarioError as exc:  # also PlanTooLarge: a foresight LP over the budget
        return {"status": PlanStatus.BAD_INPUT, "message": str(exc)}
    except PlanNotSolved as exc:
        return {"status": exc.status, "message": str(exc)}
    return {
        "status": PlanStatus.OPTIMAL,
        "message": "",
        "mode": pathway.mode,
        "compare": pathway.solve.get("myopic"),
        "years": list(pathway.years),
        "table": pathway.table,
        "growth": pathway.growth,
        "summary": pathway.growth_summary,
        "solve_s": time.perf_counter() - start,
    }


def read_stored_run(run_dir: str) -> PlanOutcome:
    """A run directory of the run store read back (validated, :func:`planner.rundir.read_run`).

    Returns
    -------
    PlanOutcome
        ``optimal`` with its Results, or ``bad_input`` with the one-line reason it does not check out.
    """
    from planner.rundir import read_run
    from planner.scenario import ScenarioError

    start = time.perf_counter()
    try:
        results = read_run(run_dir)
    except ScenarioError as exc:
        return PlanOutcome(PlanStatus.BAD_INPUT, message=str(exc), solve_s=time.perf_counter() - start)
    return PlanOutcome(PlanStatus.OPTIMAL, results=results, solve_s=time.perf_counter() - start)


def pareto_frontier(scenario_dict: dict[str, Any], x: str, points: int):
    """The frontier of :func:`planner.studies.frontiers` along ``x``, solved in this worker.

    Returns
    -------
    pandas.DataFrame
        One row per point, from the loosest cap to the tightest (see ``pareto``).
    """
    from planner.studies import pareto

    scenario = _scenario(scenario_dict)
    _check_size(scenario)
    # "serial": this worker walks the caps on one warm LP; the pool's other worker stays free.
    return pareto(scenario, x=x, y="total_cost_cny", points=points, executor="serial", progress=False)


def near_optimal_alternatives(scenario_dict: dict[str, Any], slack: float) -> dict[str, Any]:
    """Capacity ranges within ``slack`` of the optimal cost (:func:`planner.alternatives.find_alternatives`).

    Returns
    -------
    dict
        ``status``, ``message``; when solved, ``ranges`` (the table of ``alternatives.csv``),
        ``names`` (site -> English and Chinese name), ``optimal_cost_cny`` and ``plans`` (plan name ->
        its summary as a dict).
    """
    from optimizer.status import PlanNotSolved
    from planner.alternatives import find_alternatives
    from planner.scenario import ScenarioError

    start = time.perf_counter()
    try:
        scenario = _scenario(scenario_dict)
        _check_size(scenario)
        found, lp = find_alternatives(scenario, slack)
    except ScenarioError as exc:
        return {"status": PlanStatus.BAD_INPUT, "message": str(exc)}
    except PlanNotSolved as exc:
        return {"status": exc.status, "message": str(exc)}
    sites = lp.inputs.sites
    return {
        "status": PlanStatus.OPTIMAL,
        "message": "",
        "ranges": found.ranges,
        "names": {site: {"en": en.removesuffix(" cluster"), "zh": zh}
                  for site, en, zh in zip(sites["site"], sites["name_en"], sites["name_zh"], strict=True)},
        "optimal_cost_cny": found.optimal_cost_cny,
        "plans": {name: results.summary.to_dict() for name, results in found.plans.items()},
        "plan_results": found.plans,
        "solve_s": time.perf_counter() - start,
    }


def save_run(results: Results, label: str, edits: list[str], kind: str = "ui") -> dict[str, Any]:
    """Write a plan as a run directory of the run store and record it there as ``kind``.

    One function for every plan the UI stores: a solved plan (``"ui"``), a frontier point the user
    loaded (``"study"``) and a near-optimal alternative (``"alternative"``).

    The run goes beside the catalog (``runs/`` by default, :func:`planner.runstore.catalog_path`), in a
    new folder named from ``label`` (:func:`planner.rundir.new_run_dir`), like an ``edwc run``.

    Returns
    -------
    dict
        ``store_id`` (the catalog's id of the run), or ``message`` when it could not be written.
    """
    from edwc_data.outputs import OutputRefused

    from planner.rundir import new_run_dir, release_run_dir, write_run
    from planner.runstore import CatalogError, catalog_path, check_catalog, record_run
    from planner.scenario import ScenarioError

    try:
        catalog = check_catalog()
        target = new_run_dir(label, root=catalog_path().parent)
        try:
            written = write_run(results, target)
        except BaseException:
            release_run_dir(target)
            raise
        entry = record_run(written, label, edits, results, kind=kind, path=catalog)
    except (OutputRefused, CatalogError, ScenarioError, OSError) as exc:
        return {"store_id": None, "message": str(exc)}
    return {"store_id": entry.id, "message": ""}


def _png(fig, dpi: int) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    finally:
        plt.close(fig)
    return buffer.getvalue()


def plan_map_png(results: Results, metric: str, lang: str, dpi: int = 110) -> bytes:
    """The plan map (:func:`geo.maps.plot_plan_map`) as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from geo.maps import plot_plan_map

    return _png(plot_plan_map(results, metric=metric, lang=lang), dpi)


def difference_map_png(results_a: Results, results_b: Results, metric: str, lang: str, dpi: int = 110) -> bytes:
    """The difference map B − A (:func:`geo.maps.plot_difference_map`) as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from geo.maps import plot_difference_map

    return _png(plot_difference_map(results_a, results_b, metric=metric, lang=lang), dpi)


def _zip_folder(folder: Path, prefix: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


def run_bundle_zip(results: Results, name: str, metric: str = "west_share", lang: str = "en") -> bytes:
    """A run directory (:func:`planner.rundir.write_run`, with ``plan_map.png``) as a zip."""
    import matplotlib

    matplotlib.use("Agg")
    from edwc_data.outputs import remove_owned, scratch_folder

    from geo.export import export_map
    from planner.rundir import write_run

    def add_map(res, folder):
        export_map(res, folder, formats=("png",), metric=metric, lang=lang, stem="plan_map")

    # A private folder the tool creates and marks, and removes only because it is marked its own.
    scratch = scratch_folder("edwc-ui-")
    try:
        run_dir = write_run(results, scratch / name, extras=add_map)
        return _zip_folder(run_dir, name)
    finally:
        remove_owned(scratch)


def map_files(results: Results, formats: tuple[str, ...], metric: str, lang: str) -> dict[str, bytes]:
    """The plan map in each of ``formats`` (:func:`geo.export.export_map`), file name to bytes.

    GeoJSON gives three files (one per layer); every other format one.
    """
    import matplotlib

    matplotlib.use("Agg")
    from edwc_data.outputs import remove_owned, scratch_folder

    from geo.export import export_map

    scratch = scratch_folder("edwc-ui-")
    try:
        paths = export_map(results, scratch, formats=formats, metric=metric, lang=lang)
        return {path.name: path.read_bytes() for path in paths}
    finally:
        remove_owned(scratch)


#: Figures the app's screening reports (their indices; the study table keeps them).
SCREENING_FIGURES = ("total_cost_cny", "emissions_tco2", "west_share", "new_capacity_mw")


def sensitivity_screening(scenario_dict: dict[str, Any], trajectories: int) -> dict[str, Any]:
    """Morris screening of the shipped ``screening`` study's inputs, on this scenario, solved in this worker.

    The inputs and their ranges are the study file's (``data/studies/screening.yaml``); the base is
    the session's scenario. ``trajectories × (inputs + 1)`` plans, one after another.

    Returns
    -------
    dict
        ``status``, ``message``; when screened, ``indices`` (:func:`planner.studies.sensitivity.sensitivity_indices`
        as records), ``skipped`` (figures left out, why), ``keys``, ``runs`` and ``solved`` (counts).
    """
    from planner.scenario import ScenarioError
    from planner.studies import load_study, sweep
    from planner.studies.sensitivity import sensitivity_indices

    start = time.perf_counter()
    try:
        scenario = _scenario(scenario_dict)
        _check_size(scenario)
        spec = load_study("screening").spec
        table = sweep(scenario, samples=trajectories, distributions=spec.distributions, factors=spec.factors,
                      sensitivity="morris", seed=spec.seed, executor="serial", progress=False,
                      outputs=SCREENING_FIGURES)
    except ScenarioError as exc:
        return {"status": PlanStatus.BAD_INPUT, "message": str(exc)}
    keys = list(spec.distributions)
    indices, skipped = sensitivity_indices(table, keys, list(SCREENING_FIGURES), "morris", trajectories, spec.seed)
    solved = int((table["status"] == PlanStatus.OPTIMAL).sum())
    return {
        "status": PlanStatus.OPTIMAL if not indices.empty else PlanStatus.INFEASIBLE,
        "message": "; ".join(skipped),
        "indices": indices.to_dict("records"),
        "skipped": skipped,
        "keys": keys,
        "runs": len(table),
        "solved": solved,
        "solve_s": time.perf_counter() - start,
    }
