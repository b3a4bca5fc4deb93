"""The master of a year plan (:mod:`optimizer.decompose`): cuts on the year's decisions, a trust region.

The master holds the year's decisions m and each day's parts e of the coupling rows, one θ_d per
day bounded below by that day's cuts, and the master's own rows. Its LP gives the lower bound; the
next point is its least point within a trust region around the incumbent, a box that grows
while the cuts predict well and shrinks when they do not (Linderoth and Wright, 2003).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from optimizer.lp import INF
from optimizer.solve import new_highs, pass_lp, read_highs_status
from optimizer.status import PlanNotSolved

if TYPE_CHECKING:
    from optimizer.daycuts import DayCut
    from optimizer.decompose import YearStructure


class Master:
    """min c·z + Σ_d θ_d subject to the master rows, the cuts θ_d ≥ v_d + g_d·(z − ẑ), and z's bounds.

    z is the year's decisions m, then each day's parts e of the coupling rows (day by day). One
    HiGHS LP holds the master; its least value over z's bounds is the lower bound, and its least
    point within a box around the incumbent is the next point (a trust region: Linderoth and
    Wright, 2003), as the cuts describe the days well only near the points tried. Inside, z is
    measured in its own unit (its range between its bounds, or ``span``) and costs in ``scale``
    (about one day's cost), so that HiGHS sees numbers near 1 whatever the plan's size.
    """

    def __init__(self, problem: MasterProblem, num_days: int, scale: float, time_limit_s: float = 600.0):
        import scipy.sparse as sp

        self.problem = problem
        self.num_z = problem.cost.size
        self.num_m = problem.num_m
        self.num_days = d = num_days
        self.time_limit_s = time_limit_s
        self.scale = float(scale)
        self.span = problem.span
        self.origin = np.where(np.isfinite(problem.lower), problem.lower, 0.0)
        self.fixed_cost = float(problem.cost @ self.origin)
        # Columns: z (scaled), θ (scaled).
        self.cost = np.concatenate([problem.cost * self.span / self.scale, np.ones(d)])
        self.z_lower = (problem.lower - self.origin) / self.span
        self.z_upper = (problem.upper - self.origin) / self.span
        lower = np.concatenate([self.z_lower, np.full(d, -INF)])
        upper = np.concatenate([self.z_upper, np.full(d, INF)])
        matrix = sp.hstack([problem.matrix @ sp.diags(self.span), sp.csr_matrix((problem.matrix.shape[0], d))])
        shift = problem.matrix @ self.origin
        self.highs = new_highs(time_limit_s)
        pass_lp(self.highs, self.cost, lower, upper, matrix.tocsr(), problem.row_lower - shift,
                problem.row_upper - shift)
        self.cuts = 0

    def scaled(self, point: np.ndarray) -> np.ndarray:
        """``point`` in the master's units (0 at a column's lower bound, 1 a range above it)."""
        return (point - self.origin) / self.span

    def _unscaled(self, values: np.ndarray) -> np.ndarray:
        return self.origin + self.span * values[: self.num_z]

    def add_cuts(self, point: np.ndarray, cuts: list[DayCut]) -> None:
        """θ_d − g·z ≥ v − g·ẑ for each day's cut (in the master's units); a day's cut is on m and its own e."""
        m = self.num_m
        scaled = self.scaled(point)
        starts, indices, values, lower = [], [], [], []
        for cut in cuts:
            r = cut.allocation_gradient.size
            where = np.concatenate([np.arange(m), m + cut.position * r + np.arange(r)])
            gradient = np.concatenate([cut.gradient, cut.allocation_gradient]) * self.span[where] / self.scale
            starts.append(len(indices))
            indices.extend(where.tolist())
            values.extend((-gradient).tolist())
            indices.append(self.num_z + cut.position)
            values.append(1.0)
            lower.append(cut.value / self.scale - float(gradient @ scaled[where]))
        count = len(cuts)
        self.highs.addRows(count, np.array(lower), np.full(count, INF), len(indices), np.array(starts, np.int32),
                           np.array(indices, np.int32), np.array(values))
        self.cuts += count

    def _solve(self, lower: np.ndarray, upper: np.ndarray) -> tuple[float, np.ndarray]:
        columns = np.arange(self.num_z, dtype=np.int32)
        self.highs.changeColsBounds(self.num_z, columns, lower, upper)
        self.highs.run()
        try:
            read_highs_status(self.highs, self.time_limit_s)
        except PlanNotSolved:
            # Cuts added since the last basis can leave the simplex in numerical trouble: start afresh once.
            self.highs.clearSolver()
            self.highs.run()
            read_highs_status(self.highs, self.time_limit_s)
        values = np.asarray(self.highs.getSolution().col_value)
        return self.fixed_cost + self.scale * float(self.cost @ values), self._unscaled(values)

    def lower_bound(self) -> tuple[float, np.ndarray]:
        """(least master value [CNY/yr], its z): a lower bound on the year plan's cost."""
        return self._solve(self.z_lower, self.z_upper)

    def box_point(self, centre: np.ndarray, radius: float) -> tuple[float, np.ndarray]:
        """(master value [CNY/yr], z) of the least point within ``radius`` of ``centre``, in each column's unit."""
        scaled = self.scaled(centre)
        return self._solve(np.maximum(self.z_lower, scaled - radius), np.minimum(self.z_upper, scaled + radius))


@dataclass
class MasterProblem:
    """The master's columns z (m, then each day's parts e of the coupling rows) and its rows on them.

    Attributes
    ----------
    num_m : int
        How many of z are the year's decisions m.
    cost, lower, upper, span : numpy.ndarray
        Annual cost, bounds and unit of each column of z.
    matrix : scipy.sparse.csr_matrix
        The master rows (on m alone) and the year's coupling rows a·m + Σ_d e_d; bounds
        ``row_lower``, ``row_upper``.
    """

    num_m: int
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    span: np.ndarray
    matrix: object
    row_lower: np.ndarray
    row_upper: np.ndarray


def master_problem(structure: YearStructure, num_days: int, allocation_span: np.ndarray) -> MasterProblem:
    """The master of a year of ``num_days`` days; ``allocation_span`` is each coupling row's unit (R,)."""
    import scipy.sparse as sp

    coupling = structure.coupling
    num_r = coupling.size
    num_m = structure.columns.size
    finite = np.isfinite(structure.upper) & np.isfinite(structure.lower)
    span_m = np.where(finite, np.maximum(structure.upper - structure.lower, 1.0), 1.0)
    num_e = num_r * num_days
    rows = [sp.hstack([structure.master_matrix, sp.csr_matrix((structure.master_matrix.shape[0], num_e))])]
    row_lower, row_upper = [structure.master_lower], [structure.master_upper]
    if num_r:
        # The year's coupling rows: a·m + Σ_d e_{r,d} against the year's bound.
        e_rows = np.tile(np.arange(num_r), num_days)
        summed = sp.csr_matrix((np.ones(num_e), (e_rows, np.arange(num_e))), shape=(num_r, num_e))
        rows.append(sp.hstack([coupling.matrix, summed]))
        row_lower.append(np.where(coupling.sense > 0, coupling.bound, -INF))
        row_upper.append(np.where(coupling.sense > 0, INF, coupling.bound))
    return MasterProblem(
        num_m=num_m,
        cost=np.concatenate([structure.cost, np.zeros(num_e)]),
        lower=np.concatenate([structure.lower, np.full(num_e, -INF)]),
        upper=np.concatenate([structure.upper, np.full(num_e, INF)]),
        span=np.concatenate([span_m, np.tile(allocation_span, num_days)]),
        matrix=sp.vstack(rows).tocsr(),
        row_lower=np.concatenate(row_lower),
        row_upper=np.concatenate(row_upper),
    )
