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
        Hourly demand shape of each class, rescaled likewise (extreme days keep their own values). [-]
    extreme : numpy.ndarray of bool, shape (N,)
        Days added because the year's demand peaks on them (weight 1 day each).
    """

    day_of_year: np.ndarray
    weight_days: np.ndarray
    assignment: np.ndarray
    green: np.ndarray
    demand: np.ndarray
    extreme: np.ndarray | None = None

    @property
    def count(self) -> int:
        """Number of representative days."""
        return int(self.weight_days.size)


def _conserve(values: np.ndarray, weight_days: np.ndarray, annual: np.ndarray,
              fixed: np.ndarray | None = None) -> np.ndarray:
    """Scale each row of ``values`` (rows, N, 24) so that Σ_days weight·Σ_hours value equals ``annual``.

    Days marked ``fixed`` (N,) keep their values, so that a peak day keeps its peak: only the other
    days are rescaled.
    """
    fixed = np.zeros(values.shape[1], bool) if fixed is None else np.asarray(fixed, bool)
    kept = np.einsum("rnh,n->r", values[:, fixed], weight_days[fixed])
    scaled = np.einsum("rnh,n->r", values[:, ~fixed], weight_days[~fixed])
    scale = np.divide(annual - kept, scaled, out=np.ones_like(annual), where=scaled > 0)
    factor = np.where(fixed[None, :], 1.0, scale[:, None])
    return values * factor[:, :, None]


def extreme_days(profiles: YearProfiles, demand_weight: np.ndarray) -> np.ndarray:
    """Days (0-based) on which the year's demand peaks: the national peak hour and each demand shape's peak.

    Every province's demand of a class follows the class's national shape, so a plan whose capacity
    covers these days' hours covers every hour of the year for every class and province, provided the
    other days stay below them (which the year check confirms).

    Parameters
    ----------
    profiles : YearProfiles
    demand_weight : numpy.ndarray, shape (K,)
        Share of national demand of each class. [-]
    """
    national = np.asarray(demand_weight, float) @ profiles.demand
    days = {int(np.argmax(national)) // HOURS_PER_DAY}
    seen: set[bytes] = set()
    for shape in profiles.demand:
        if shape.tobytes() not in seen:
            seen.add(shape.tobytes())
            days.add(int(np.argmax(shape)) // HOURS_PER_DAY)
    return np.array(sorted(days))


def cluster_days(
    profiles: YearProfiles,
    count: int,
    green_weight: np.ndarray | None = None,
    demand_weight: np.ndarray | None = None,
    add_extremes: bool = False,
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
    add_extremes : bool
        Add the year's peak-demand days (:func:`extreme_days`) as representatives of their own,
        weighted one day each; they keep their own hourly values.

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
    key = input_key("periods", _CACHE_LAYOUT, version("tsam"), int(count), bool(add_extremes),
                    _digest(profiles.green), _digest(profiles.demand), green_weight.tolist(), demand_weight.tolist())
    arrays = cached_arrays("periods", key,
                           lambda: _cluster(profiles, count, green_weight, demand_weight, add_extremes))
    return RepresentativeDays(arrays["day_of_year"], arrays["weight_days"], arrays["assignment"], arrays["green"],
                              arrays["demand"], arrays["extreme"].astype(bool))


#: Version of the cached representative days' recipe: bump it when the clustering changes.
_CACHE_LAYOUT = 2


def _digest(values: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(values, float).tobytes()).hexdigest()


def _cluster(profiles: YearProfiles, count: int, green_weight: np.ndarray, demand_weight: np.ndarray,
             add_extremes: bool) -> dict:
    green_days, demand_days = profiles.by_day()
    if count == DAYS_PER_YEAR:
        medoids = np.arange(DAYS_PER_YEAR)
        assignment = np.arange(DAYS_PER_YEAR)
    elif count == 1:
        medoids, assignment = _single_day(green_days, demand_days, green_weight, demand_weight)
    else:
        medoids, assignment = _tsam_medoids(profiles, count, green_weight, demand_weight)

    extreme = np.zeros(medoids.size, bool)
    if add_extremes and count < DAYS_PER_YEAR:
        peaks = [day for day in extreme_days(profiles, demand_weight) if day not in set(medoids.tolist())]
        # Each peak day leaves its cluster and stands for itself.
        assignment = assignment.copy()
        for day in peaks:
            assignment[day] = medoids.size
            medoids = np.append(medoids, day)
            extreme = np.append(extreme, True)
        order = np.argsort(medoids, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        medoids, extreme, assignment = medoids[order], extreme[order], rank[assignment]
    weight_days = np.bincount(assignment, minlength=medoids.size).astype(float)
    green = _conserve(green_days[:, medoids, :], weight_days, profiles.green.sum(axis=1))
    demand = _conserve(demand_days[:, medoids, :], weight_days, profiles.demand.sum(axis=1), extreme)
    return {"day_of_year": medoids, "weight_days": weight_days, "assignment": assignment, "green": green,
            "demand": demand, "extreme": extreme}


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


def peak_ratios(values: np.ndarray, hours_per_day: int) -> np.ndarray:
    """Largest hour of each slice over the slice's mean, (..., N·hours_per_day) from hourly (..., N, 24). [-]

    A slice of several hours carries their mean load; its peak hour is this much higher. The plan's
    capacity rows use it so that capacity covers every hour, not only the slice means.
    """
    step = HOURS_PER_DAY // hours_per_day
    blocks = values.reshape(*values.shape[:-1], hours_per_day, step)
    mean = blocks.mean(axis=-1)
    ratio = np.divide(blocks.max(axis=-1), mean, out=np.ones_like(mean), where=mean > 0)
    return ratio.reshape(*values.shape[:-2], -1)


def periods_table(days: RepresentativeDays, hours_per_day: int, hours_per_year: float = 8760.0) -> pd.DataFrame:
    """The LP's time slices: period, day (1-based representative), hour (first of the slice), day_of_year, hours.

    ``day_of_year`` (0-based) is the calendar day a representative was taken from. ``hours`` is the
    slice's weight in the year: days represented × hours per slice, scaled so the weights sum to
    ``hours_per_year``. [h/yr]
    """
    step = HOURS_PER_DAY // hours_per_day
    rows = [
        (f"d{d + 1:03d}h{h * step:02d}", d + 1, h * step, int(days.day_of_year[d]))
        for d in range(days.count)
        for h in range(hours_per_day)
    ]
    periods = pd.DataFrame(rows, columns=["period", "day", "hour", "day_of_year"])
    slice_hours = days.weight_days * (hours_per_year / DAYS_PER_YEAR) / hours_per_day
    periods["hours"] = np.repeat(slice_hours, hours_per_day)
    return periods
