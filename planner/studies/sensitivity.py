"""Global sensitivity: space-filling samples and the Sobol' or Morris indices of a study's figures.

A study's distributions are sampled on the unit hypercube, one coordinate per varied key, and each
coordinate is mapped to its key's value through the distribution's quantile function
(:meth:`planner.studies.design.UniformDistribution.quantile` and its siblings). The unit points
come from

- ``sampling: random`` — numpy draws (the study's historical default),
- ``sampling: lhs`` — a Latin hypercube (``scipy.stats.qmc.LatinHypercube``),
- ``sampling: sobol`` — a scrambled Sobol' sequence (``scipy.stats.qmc.Sobol``),

or, for sensitivity indices, from SALib's designs: Saltelli's scheme (``sensitivity: sobol``,
``samples × (keys + 2)`` runs) or Morris trajectories (``sensitivity: morris``, ``samples × (keys + 1)``
runs on a 4-level grid). The indices are computed on the unit coordinates: a key's quantile map
is one-to-one in that key, so Sobol' indices are those of the keys themselves; Morris effects are
in units of the figure per the key's whole quantile range.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from optimizer.status import PlanStatus

SAMPLINGS = ("random", "lhs", "sobol")
METHODS = ("sobol", "morris")
#: Grid levels of Morris trajectories (SALib's default; 4 gives steps of 2/3 of the range).
MORRIS_LEVELS = 4
#: Bootstrap resamples behind the confidence intervals of the indices.
RESAMPLES = 200
#: Quantiles are read no closer to 0 or 1 than this: a Morris level at exactly 0 or 1 would put an
#: unclipped normal at ±infinity. [-] (±3.09 standard deviations)
QUANTILE_MARGIN = 1e-3


def run_count(method: str, num_keys: int, samples: int) -> int:
    """Runs of a sensitivity design: Saltelli ``N (k + 2)`` (first and total order), Morris ``N (k + 1)``."""
    return samples * (num_keys + 2) if method == "sobol" else samples * (num_keys + 1)


def _problem(num_keys: int) -> dict[str, Any]:
    return {"num_vars": num_keys, "names": [f"u{i}" for i in range(num_keys)], "bounds": [[0.0, 1.0]] * num_keys}


def _salib_seed(seed: int) -> int:
    # SALib seeds numpy's legacy generator (32 bits); a study's seed may be up to 2**63 - 1.
    return int(np.random.SeedSequence(seed).generate_state(1)[0])


def unit_points(sampling: str, num_keys: int, samples: int, seed: int,
                sensitivity: str | None = None) -> np.ndarray:
    """Points in the unit hypercube, one row per sample, one column per varied key.

    Parameters
    ----------
    sampling : {'random', 'lhs', 'sobol'}
        How plain samples are spread (ignored when ``sensitivity`` is given).
    num_keys, samples : int
        Varied keys; samples (for ``sensitivity``: the base sample size N).
    seed : int
        Seed of the draws (0 to 2**63 - 1).
    sensitivity : {'sobol', 'morris'}, optional
        Give the design those indices need (Saltelli or Morris trajectories).

    Returns
    -------
    numpy.ndarray
        Shape (runs, num_keys), values in [0, 1].
    """
    from scipy.stats import qmc

    if sensitivity == "sobol":
        from SALib.sample import sobol

        return sobol.sample(_problem(num_keys), samples, calc_second_order=False, seed=_salib_seed(seed))
    if sensitivity == "morris":
        from SALib.sample import morris

        return morris.sample(_problem(num_keys), samples, num_levels=MORRIS_LEVELS, seed=_salib_seed(seed))
    if sampling == "lhs":
        return qmc.LatinHypercube(d=num_keys, rng=seed).random(samples)
    if sampling == "sobol":
        # Scrambled Sobol' points keep their balance only in blocks of 2**m: warn-free with random_base2
        # where the count is a power of two.
        engine = qmc.Sobol(d=num_keys, scramble=True, rng=seed)
        power = int(np.log2(samples)) if samples > 0 else 0
        return engine.random_base2(power) if 2**power == samples else engine.random(samples)
    return np.random.default_rng(seed).random((samples, num_keys))


def clip_quantile(u: np.ndarray) -> np.ndarray:
    """Unit coordinates kept :data:`QUANTILE_MARGIN` inside (0, 1)."""
    return np.clip(np.asarray(u, float), QUANTILE_MARGIN, 1.0 - QUANTILE_MARGIN)


def sensitivity_indices(table: pd.DataFrame, keys: list[str], figures: list[str], method: str,
                        samples: int, seed: int) -> tuple[pd.DataFrame, list[str]]:
    """Sobol' (first and total order) or Morris (μ*, σ) indices of ``figures`` over the varied ``keys``.

    Parameters
    ----------
    table : pandas.DataFrame
        The study table: one row per run with its ``sample`` number, ``status`` and the figures.
    keys : list of str
        The varied keys, in the order of the design's columns.
    figures : list of str
        Summary figures to analyse.
    method : {'sobol', 'morris'}
    samples, seed : int
        The design's base sample size and seed (the design is drawn again to pair runs with points).

    Returns
    -------
    indices : pandas.DataFrame
        One row per figure and key: ``figure``, ``key`` and, for Sobol', ``S1``, ``S1_conf``, ``ST``,
        ``ST_conf`` [-]; for Morris, ``mu_star``, ``mu_star_conf``, ``sigma`` [unit of the figure].
    skipped : list of str
        One line per figure left out, saying why (runs without a plan, a figure that does not vary).
    """
    points = unit_points("random", len(keys), samples, seed, sensitivity=method)
    by_sample = table.set_index("sample") if "sample" in table.columns else None
    if by_sample is None or len(by_sample) != len(points) or set(by_sample.index) != set(range(len(points))):
        return pd.DataFrame(), [f"the table has no complete {method} design ({len(points)} runs): rerun the study."]
    by_sample = by_sample.sort_index()
    solved = (by_sample["status"] == PlanStatus.OPTIMAL).to_numpy()
    problem = _problem(len(keys))
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    for figure in figures:
        if figure not in by_sample.columns:
            continue
        values = pd.to_numeric(by_sample[figure], errors="coerce").to_numpy(float)
        # Both designs pair runs (radial or trajectory steps): one missing run breaks its pairs.
        if not solved.all():
            skipped.append(f"{figure}: {int((~solved).sum())} of {len(values)} runs without a plan; "
                           "narrow the distributions so every run solves")
            continue
        if not np.isfinite(values).all():
            skipped.append(f"{figure}: no value in {int((~np.isfinite(values)).sum())} of {len(values)} runs "
                           "(a shadow price of a rule that is not set, say)")
            continue
        if np.ptp(values) <= 1e-12 * max(1.0, float(np.abs(values).max())):
            skipped.append(f"{figure}: the same in every run (no variance to share out)")
            continue
        rows += _figure_indices(problem, points, values, method, figure, keys, seed)
    return pd.DataFrame(rows), skipped


def _figure_indices(problem, points, values, method, figure, keys, seed) -> list[dict[str, Any]]:
    if method == "sobol":
        from SALib.analyze import sobol

        result = sobol.analyze(problem, values, calc_second_order=False, num_resamples=RESAMPLES,
                               seed=_salib_seed(seed))
        return [
            {"figure": figure, "key": key, "S1": float(result["S1"][i]), "S1_conf": float(result["S1_conf"][i]),
             "ST": float(result["ST"][i]), "ST_conf": float(result["ST_conf"][i])}
            for i, key in enumerate(keys)
        ]
    from SALib.analyze import morris

    result = morris.analyze(problem, points, values, num_resamples=RESAMPLES, num_levels=MORRIS_LEVELS,
                            seed=_salib_seed(seed))
    return [
        {"figure": figure, "key": key, "mu_star": float(result["mu_star"][i]),
         "mu_star_conf": float(result["mu_star_conf"][i]), "sigma": float(result["sigma"][i])}
        for i, key in enumerate(keys)
    ]


#: File of a study folder holding the indices.
INDICES_FILE = "sensitivity.csv"


def study_indices(table: pd.DataFrame, meta: dict[str, Any], figures: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The indices of a study folder's table, from what its ``study.json`` records (method, keys, seed)."""
    method = meta.get("sensitivity")
    keys = list(meta.get("distributions") or {})
    return sensitivity_indices(table, keys, figures, method, int(meta.get("samples") or 0), int(meta.get("seed", 0)))


def write_indices(out_dir, indices: pd.DataFrame):
    """Write ``sensitivity.csv`` into a study folder the tool owns (atomically); returns its path."""
    from pathlib import Path

    from edwc_data.files import write_text_atomic
    from edwc_data.outputs import require_owned

    folder = require_owned(Path(out_dir), ("study",))
    return write_text_atomic(folder / INDICES_FILE, indices.to_csv(index=False, float_format="%.6g"))
