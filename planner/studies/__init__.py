"""Capacity studies: parameter sweeps, Monte Carlo samples and ε-constraint frontiers of many plans.

A study varies scenario settings (dotted ``--set`` keys, or named factors scaling several of them),
solves every variant on a process pool or a Dask cluster (:mod:`planner.parallel`), and collects one
row per run into a study table. Runs are isolated (an infeasible or failing run is recorded and the
study goes on), results are written to ``study.parquet`` as they come in, and a study re-run into
the same folder skips the runs it already finished (by scenario hash). See docs/studies.md.

- :mod:`planner.studies.design`: the base scenario, keys, factors, distributions and runs;
- :mod:`planner.studies.table`: the figures kept, the row of a run, the table on disk;
- :mod:`planner.studies.sweeps`: grids and Monte Carlo; :mod:`planner.studies.frontiers`: frontiers;
- :mod:`planner.studies.spec`: study files; :mod:`planner.studies.plots` and
  :mod:`planner.studies.report`: charts and ``report.md``.
"""

from planner.studies.design import (
    BaseScenario,
    RunSpec,
    StudyError,
    build_variant,
    check_key,
    design_runs,
    factor_base_values,
    load_base,
    scenario_values,
)
from planner.studies.frontiers import pareto
from planner.studies.spec import Study, StudyFile, load_study, run_study
from planner.studies.sweeps import sweep
from planner.studies.table import DEFAULT_OUTPUTS, NEW_MW_PREFIX, SUMMARY_KEYS, cluster_sites, summarise_samples

__all__ = [
    "DEFAULT_OUTPUTS",
    "NEW_MW_PREFIX",
    "SUMMARY_KEYS",
    "BaseScenario",
    "RunSpec",
    "Study",
    "StudyError",
    "StudyFile",
    "build_variant",
    "check_key",
    "cluster_sites",
    "design_runs",
    "factor_base_values",
    "load_base",
    "load_study",
    "pareto",
    "run_study",
    "scenario_values",
    "summarise_samples",
    "sweep",
]
