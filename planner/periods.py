"""Representative days: identical copies of the mean day, or days clustered from the year with tsam."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np
import pandas as pd
from edwc_data.cache import cached_arrays, input_key
from edwc_data.units import DAYS_PER_YEAR, HOURS_PER_DAY

from planner.profiles import HOURS_PER_YEAR, YearProfiles


@dataclass
class RepresentativeDays:
    """Days standing in for the year, with the number of days each represents.

    Attributes
    ----------
    day_of_year : numpy.ndarray, shape (N,)
        Day (0-based, from 1 January) each representative is taken from. [-]
    weight_days : numpy.ndarray, shape (N,)
        Days of the year each representative stands for; they sum to 365. [d]
    assignment : numpy.ndarray, shape (365,)
        Representative (0..N-1) of every day of the year. [-]
    green : numpy.ndarray, shape (S, N, 24)
        Hourly green availability of each site on each representative day, rescaled so that
        the weighted total equals the year's. [-]
    demand : numpy.ndarray, shape (K, N, 24)
        Hourly demand shape of each class, rescaled likewise. [-]
    """

    day_of_year: np.ndarray
    weight_days: np.ndarray
    assignment: np.ndarray
    green: np.ndarray
    demand: np.ndarray

    @property
    def count(self) -> int:
        """Number of representative days."""
        return int(self.weight_days.size)


def _conserve(values: np.ndarray, weight_days: np.ndarray, annual: np.ndarray) -> np.ndarray:
    """Scale each row of ``values`` (rows, N, 24) so that Σ_days weight·Σ_hours value equals ``annual``."""
    represented = np.einsum("rnh,n->r", values, weight_days)
    scale = np.divide(annual, represented, out=np.ones_like(annual), where=represented > 0)
    return values * scale[:, None, None]


def cluster_days(
    profiles: YearProfiles,
    count: int,
    green_weight: np.ndarray | None = None,
    demand_weight: np.ndarray | None = None,
) -> RepresentativeDays:
    """Choose ``count`` representative days of the year by clustering its days with tsam.

    Each day is described by the hourly green availability of the sites and the hourly demand of
    the classes. tsam's hierarchical clustering (deterministic) groups similar days; the medoid of
    each group, an actual day, represents it, weighted by the group's size. Every profile is then
    rescaled so that the weighted representative days hold exactly the year's energy: annual
    demand and annual green energy are conserved.

    Parameters
    ----------
    profiles : YearProfiles
    count : int
        Representative days (1–365).
    green_weight : numpy.ndarray, shape (S,), optional
        Importance of each site's profile in the clustering, e.g. its green power on offer [MW];
        sites with weight 0 do not steer it. Default: every site equally.
    demand_weight : numpy.ndarray, shape (K,), optional
        Importance of each class's demand profile, e.g. its share of demand. Default: equal.
        Green and demand profiles get half of the total weight each.

    Returns
    -------
    RepresentativeDays
        Kept in the tool's cache folder by the hash of the profiles, the count and the weights
        (:mod:`edwc_data.cache`): importing tsam and clustering take about a second.
    """
    if not 1 <= count <= DAYS_PER_YEAR:
        msg = f"cluster_days | count must be 1–{DAYS_PER_YEAR}, got {count}. Give a number of days in that range."
        raise ValueError(msg)
    green_weight = np.ones(profiles.green.shape[0]) if green_weight is None else np.asarray(green_weight, float)
    demand_weight = np.ones(profiles.demand.shape[0]) if demand_weight is None else np.asarray(demand_weight, float)
    key = input_key("periods", _CACHE_LAYOUT, version("tsam"), int(count), _digest(profiles.green),
                    _digest(profiles.demand), green_weight.tolist(), demand_weight.tolist())
    arrays = cached_arrays("periods", key, lambda: _cluster(profiles, count, green_weight, demand_weight))
    return RepresentativeDays(arrays["day_of_year"], arrays["weight_days"], arrays["assignment"], arrays["green"],
                              arrays["demand"])


#: Version of the cached representative days' recipe: bump it when the clustering changes.
_CACHE_LAYOUT = 1


def _digest(values: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(values, float).tobytes()).hexdigest()


def _cluster(profiles: YearProfiles, count: int, green_weight: np.ndarray, demand_weight: np.ndarray) -> dict:
    green_days, demand_days = profiles.by_day()
    if count == DAYS_PER_YEAR:
        medoids = np.arange(DAYS_PER_YEAR)
        assignment = np.arange(DAYS_PER_YEAR)
    elif count == 1:
        medoids, assignment = _single_day(green_days, demand_days, green_weight, demand_weight)
    else:
        medoids, assignment = _tsam_medoids(profiles, count, green_weight, demand_weight)

    weight_days = np.bincount(assignment, minlength=medoids.size).astype(float)
    green = _conserve(green_days[:, medoids, :], weight_days, profiles.green.sum(axis=1))
    demand = _conserve(demand_days[:, medoids, :], weight_days, profiles.demand.sum(axis=1))
    return {"day_of_year": medoids, "weight_days": weight_days, "assignment": assignment, "green": green,
            "demand": demand}


def _features(
    green_days: np.ndarray, demand_days: np.ndarray, green_weight: np.ndarray, demand_weight: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    # Distinct profiles only: classes sharing a shape, or sites of no weight, add nothing.
    columns: dict[str, np.ndarray] = {}
    weights: dict[str, float] = {}
    green_total, demand_total = green_weight.sum(), demand_weight.sum()
    for s in np.nonzero(green_weight > 0)[0]:
        key = f"green_{s}"
        columns[key] = green_days[s].ravel()
        weights[key] = float(green_weight[s] / green_total)
    seen: dict[bytes, str] = {}
    for k in np.nonzero(demand_weight > 0)[0]:
        signature = demand_days[k].tobytes()
        key = seen.setdefault(signature, f"demand_{k}")
        columns[key] = demand_days[k].ravel()
        weights[key] = weights.get(key, 0.0) + float(demand_weight[k] / demand_total)
    return columns, weights


def _single_day(green_days, demand_days, green_weight, demand_weight):
    # One day for the year: the day closest to the year's mean day.
    columns, weights = _features(green_days, demand_days, green_weight, demand_weight)
    distance = np.zeros(DAYS_PER_YEAR)
    for key, values in columns.items():
        days = values.reshape(DAYS_PER_YEAR, HOURS_PER_DAY)
        span = max(float(np.ptp(days)), 1e-12)
        distance += weights[key] * (((days - days.mean(axis=0)) / span) ** 2).sum(axis=1)
    medoid = int(np.argmin(distance))
    return np.array([medoid]), np.zeros(DAYS_PER_YEAR, int)


def _tsam_medoids(profiles: YearProfiles, count: int, green_weight, demand_weight):
    # Imported here: tsam takes seconds to import and only clustered scenarios need it.
    import tsam

    green_days, demand_days = profiles.by_day()
    columns, weights = _features(green_days, demand_days, green_weight, demand_weight)
    index = pd.date_range("2001-01-01", periods=HOURS_PER_YEAR, freq="h")  # tz-naive, 365 days
    frame = pd.DataFrame(columns, index=index)
    with warnings.catch_warnings():
        # tsam warns about representatives outside the data range after its own rescaling; the
        # representatives are rescaled here instead (see _conserve).
        warnings.simplefilter("ignore")
        result = tsam.aggregate(
            frame,
            count,
            period_duration=HOURS_PER_DAY,
            temporal_resolution=1.0,
            cluster=tsam.ClusterConfig(method="hierarchical", representation="medoid"),
            weights=weights,
            preserve_column_means=False,
        )
    medoids = np.asarray(result.clustering.cluster_centers, int)
    assignment = np.asarray(result.clustering.cluster_assignments, int)
    # Order representatives through the year, for readable period names.
    order = np.argsort(medoids)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return medoids[order], rank[assignment]


def to_slices(values: np.ndarray, hours_per_day: int) -> np.ndarray:
    """Hourly values (..., N, 24) as (..., N·hours_per_day) slices, each the mean of its hours."""
    step = HOURS_PER_DAY // hours_per_day
    blocks = values.reshape(*values.shape[:-1], hours_per_day, step).mean(axis=-1)
    return blocks.reshape(*values.shape[:-2], -1)


def periods_table(days: RepresentativeDays, hours_per_day: int, hours_per_year: float = 8760.0) -> pd.DataFrame:
    """The LP's time slices: period, day (1-based representative), hour (first of the slice), hours.

    ``hours`` is the slice's weight in the year: days represented × hours per slice, scaled so the
    weights sum to ``hours_per_year``. [h/yr]
    """
    step = HOURS_PER_DAY // hours_per_day
    rows = [
        (f"d{d + 1:03d}h{h * step:02d}", d + 1, h * step)
        for d in range(days.count)
        for h in range(hours_per_day)
    ]
    periods = pd.DataFrame(rows, columns=["period", "day", "hour"])
    slice_hours = days.weight_days * (hours_per_year / DAYS_PER_YEAR) / hours_per_day
    periods["hours"] = np.repeat(slice_hours, hours_per_day)
    return periods
