"""The master of a year plan (:mod:`optimizer.decompose`): cuts on the year's decisions, the level method.

The master holds the year's decisions m and each day's parts e of the coupling rows, one θ_d per
day bounded below by that day's cuts, and the master's own rows. Its LP gives the lower bound; the
next point is the one nearest the incumbent whose model value is at most a level between the
bounds (Lemaréchal, Nemirovskii and Nesterov, 1995).
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
    HiGHS LP holds both problems of an iteration. Columns: z, θ (one per day), and p, q ≥ 0 with
    z − p + q = centre. The lower bound minimises c·z + Σθ (the centre rows then bind nothing); the
    next point minimises Σ (p + q) over z with c·z + Σθ at most the level. Inside, z is measured in
    its own unit (its range between its bounds, or ``span``) and costs in ``scale`` (about one day's
    cost), so that HiGHS sees numbers near 1 whatever the plan's size.
    """

    def __init__(self, problem: MasterProblem, num_days: int, scale: float, time_limit_s: float = 600.0):
        import scipy.sparse as sp

        self.problem = problem
        self.num_z = z = problem.cost.size
        self.num_m = problem.num_m
        self.num_days = d = num_days
        self.time_limit_s = time_limit_s
        self.scale = float(scale)
        self.span = problem.span
        self.origin = np.where(np.isfinite(problem.lower), problem.lower, 0.0)
        self.fixed_cost = float(problem.cost @ self.origin)
        cost_z = problem.cost * self.span / self.scale
        # Columns: z (scaled), θ (scaled), p, q.
        self.cost_bound = np.concatenate([cost_z, np.ones(d), np.zeros(2 * z)])
        self.cost_level = np.concatenate([np.zeros(z + d), np.ones(2 * z)])
        lower = np.concatenate([(problem.lower - self.origin) / self.span, np.full(d, -INF), np.zeros(2 * z)])
        upper = np.concatenate([(problem.upper - self.origin) / self.span, np.full(d, INF), np.full(2 * z, INF)])
        master = problem.matrix @ sp.diags(self.span)
        shift = problem.matrix @ self.origin
        rows = [sp.hstack([master, sp.csr_matrix((master.shape[0], d + 2 * z))])]
        eye = sp.identity(z, format="csr")
        rows.append(sp.hstack([eye, sp.csr_matrix((z, d)), -eye, eye]))
        rows.append(sp.csr_matrix(self.cost_bound[None, :]))
        matrix = sp.vstack(rows).tocsr()
        self.centre_rows = master.shape[0] + np.arange(z)
        self.level_row = master.shape[0] + z
        row_lower = np.concatenate([problem.row_lower - shift, np.zeros(z), [-INF]])
        row_upper = np.concatenate([problem.row_upper - shift, np.zeros(z), [INF]])
        self.highs = new_highs(time_limit_s)
        pass_lp(self.highs, self.cost_bound, lower, upper, matrix, row_lower, row_upper)
        self.cuts = 0

    def _scaled(self, point: np.ndarray) -> np.ndarray:
        return (point - self.origin) / self.span

    def _unscaled(self, values: np.ndarray) -> np.ndarray:
        return self.origin + self.span * values[: self.num_z]

    def add_cuts(self, point: np.ndarray, cuts: list[DayCut]) -> None:
        """θ_d − g·z ≥ v − g·ẑ for each day's cut (in the master's units); a day's cut is on m and its own e."""
        m = self.num_m
        scaled = self._scaled(point)
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

    def _solve(self, cost: np.ndarray) -> np.ndarray:
        self.highs.changeColsCost(cost.size, np.arange(cost.size, dtype=np.int32), cost)
        self.highs.run()
        try:
            read_highs_status(self.highs, self.time_limit_s)
        except PlanNotSolved:
            # Cuts added since the last basis can leave the simplex in numerical trouble: start afresh once.
            self.highs.clearSolver()
            self.highs.run()
            read_highs_status(self.highs, self.time_limit_s)
        return np.asarray(self.highs.getSolution().col_value)

    def lower_bound(self) -> tuple[float, np.ndarray]:
        """(least master value [CNY/yr], its z): a lower bound on the year plan's cost."""
        self.highs.changeRowBounds(int(self.level_row), -INF, INF)
        values = self._solve(self.cost_bound)
        return self.fixed_cost + self.scale * float(self.cost_bound @ values), self._unscaled(values)

    def next_point(self, centre: np.ndarray, level: float) -> np.ndarray:
        """The z nearest ``centre`` (L1, in each column's unit) whose master value is at most ``level`` [CNY/yr]."""
        rows = self.centre_rows.astype(np.int32)
        scaled = self._scaled(centre)
        self.highs.changeRowsBounds(rows.size, rows, scaled, scaled)
        self.highs.changeRowBounds(int(self.level_row), -INF, (float(level) - self.fixed_cost) / self.scale)
        return self._unscaled(self._solve(self.cost_level))


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
