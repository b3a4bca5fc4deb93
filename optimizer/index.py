"""Which LP column and row is which plan quantity: the plan's index, and the time windows of its slices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from optimizer.inputs import PlanInputs
    from optimizer.lp import LinearProgram


@dataclass
class PlanIndex:
    """Which LP column is which plan quantity.

    Attributes
    ----------
    triple_province, triple_site, triple_workload : numpy.ndarray, shape (L,)
        The allowed (p, s, k) connections. The first ``num_x_triples`` are classes that cannot
        defer load: the load column of triple i in slice t is ``x.start + i*T + t``. The rest are
        routes of deferrable classes (see ``add_deferral_variables``): route i (counted from
        ``num_x_triples``) carries ``y.start + i*W + d`` on day window d.
    new_sites : numpy.ndarray
        Sites with a new-capacity column, in column order.
    green_sites : numpy.ndarray
        Sites with bundled green-power columns; column of green site j in slice t is ``g.start + j*T + t``.
    demand_pairs : numpy.ndarray, shape (R, 2)
        (p, k) of each demand row group of a class that cannot defer load; the row of pair r in
        slice t is ``demand.start + r*T + t``.
    defer_pairs : numpy.ndarray, shape (Rd, 2)
        (p, k) with demand of a deferrable class; its row on day window d is ``defer_energy.start + r*W + d``.
    defer_sites : numpy.ndarray
        Sites reached by deferrable routes; site j's deferrable load in slice t is ``z.start + j*T + t``
        and its mean over day window d is ``mu.start + j*W + d``.
    x_count : int, optional
        Number of triples with x columns (None: all).
    fitout_sites : numpy.ndarray
        Sites with vacant built capacity, each with a fit-out column ``f.start + j`` [MW].
    certificate_sites : numpy.ndarray
        Sites that may buy green certificates, each with one column per day window,
        ``c.start + j*W + d`` (certificates for that window's electricity) [MWh/yr].
    certificate_windows : int
        W: the day windows certificates are bought for.
    """

    triple_province: np.ndarray
    triple_site: np.ndarray
    triple_workload: np.ndarray
    new_sites: np.ndarray
    green_sites: np.ndarray
    demand_pairs: np.ndarray
    defer_pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    defer_sites: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    x_count: int | None = None
    fitout_sites: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    certificate_sites: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    certificate_windows: int = 1

    @property
    def num_x_triples(self) -> int:
        """Triples with x columns: those of classes that cannot defer load."""
        return int(self.triple_site.size if self.x_count is None else self.x_count)


def _site_load_rows(index: PlanIndex, num_periods: int, sites: np.ndarray):
    """Triplets (site position in ``sites``, t, load column) summing x over (p, k) for each site."""
    x_sites = index.triple_site[: index.num_x_triples]
    position = np.full(max(index.triple_site.max(initial=-1), sites.max(initial=-1)) + 1, -1)
    position[sites] = np.arange(sites.size)
    triples = np.nonzero(np.isin(x_sites, sites))[0]
    t = np.tile(np.arange(num_periods), triples.size)
    triple = np.repeat(triples, num_periods)
    return position[x_sites[triple]], t, triple * num_periods + t


def _deferred_load_rows(lp: LinearProgram, index: PlanIndex, num_periods: int, sites: np.ndarray):
    """Triplets (site position in ``sites``, t, absolute z column) of the deferrable load at each site."""
    if "z" not in lp.columns or sites.size == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    position = np.full(max(index.defer_sites.max(initial=-1), sites.max(initial=-1)) + 1, -1)
    position[sites] = np.arange(sites.size)
    members = np.nonzero(np.isin(index.defer_sites, sites))[0]
    t = np.tile(np.arange(num_periods), members.size)
    member = np.repeat(members, num_periods)
    return position[index.defer_sites[member]], t, lp.columns["z"].start + member * num_periods + t


def site_load_entries(lp: LinearProgram, inputs: PlanInputs, index: PlanIndex, sites: np.ndarray,
                      peak: bool = False):
    """Every load column at ``sites`` with its site and slice: (site position, t, absolute column, site id).

    Covers both x (classes that cannot defer) and z (each site's deferrable profile). With ``peak``,
    a fourth array gives each column's peak-hour factor (the class's within-slice peak over mean;
    1 for the deferrable profile, which may be spread evenly).
    """
    num_periods = inputs.hours.size
    pos_x, t_x, col_x = _site_load_rows(index, num_periods, sites)
    pos_z, t_z, col_z = _deferred_load_rows(lp, index, num_periods, sites)
    position = np.concatenate([pos_x, pos_z])
    t = np.concatenate([t_x, t_z])
    cols = np.concatenate([lp.columns["x"].start + col_x, col_z])
    if not peak:
        return position, t, cols
    workload = index.triple_workload[: index.num_x_triples][col_x // num_periods]
    factor = np.concatenate([inputs.peak[workload, t_x], np.ones(col_z.size)])
    return position, t, cols, factor


def day_windows(inputs: PlanInputs) -> tuple[np.ndarray, np.ndarray]:
    """(window of each slice (T,), slice weight relative to its window's mean weight (T,)).

    A window is one ``day`` of the periods table: deferrable load moves within it.
    """
    _, window = np.unique(inputs.periods["day"].to_numpy(), return_inverse=True)
    hours = inputs.hours
    mean = np.bincount(window, hours) / np.bincount(window)
    return window, hours / mean[window]


def window_means(inputs: PlanInputs, values: np.ndarray) -> np.ndarray:
    """Hours-weighted mean of ``values`` (..., T) over each day window: (..., W)."""
    window, _ = day_windows(inputs)
    hours = inputs.hours
    num_windows = window.max(initial=-1) + 1
    flat = values.reshape(-1, values.shape[-1])
    sums = np.stack([np.bincount(window, row * hours, minlength=num_windows) for row in flat]) if flat.size else (
        np.zeros((flat.shape[0], num_windows)))
    return (sums / np.bincount(window, hours, minlength=num_windows)).reshape(*values.shape[:-1], num_windows)
