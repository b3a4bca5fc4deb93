"""Perfect-foresight pathways: one LP over every planned year, capacity built early serving later years.

Each planned year's planning LP (:func:`optimizer.formulation.build_lp` of that year's inputs) is
a diagonal block; its ``n`` and ``f`` columns are the new-build and fitted-out capacity *standing*
in the year. Build columns ``b`` per planned year and site tie the blocks together: capacity
built in year v stands while ``y − v < L`` (the lifetime), fitted-out racks stay fitted, and the
fit-out pace follows the myopic pathway's limit. Symbols follow docs/pathway.md ("Perfect
foresight").
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from optimizer.formulation import build_lp
from optimizer.index import PlanIndex
from optimizer.inputs import PlanInputs
from optimizer.lp import INF, LinearProgram
from optimizer.plan import OBJECTIVE_FLOOR_CNY, OptimisedPlan, tabulate
from optimizer.size import BASE_MEMORY_BYTES, BYTES_PER_COLUMN, BYTES_PER_NONZERO, LPSize
from optimizer.solve import Solution, solve_lp
from optimizer.status import PlanNotSolved, PlanStatus

#: How the capex of capacity is charged: its annuity in each year it stands within the horizon
#: (what is left after the horizon goes unpaid: its salvage value), or its overnight cost when built.
SALVAGE = ("annuity", "none")


@dataclass
class ForesightYear:
    """One planned year of a foresight pathway.

    Attributes
    ----------
    year : int
        The planned year.
    first_calendar_year : int
        The first calendar year it stands for (the previous planned year + 1; the first planned
        year stands for itself).
    inputs : PlanInputs
        The year's inputs: existing capacity is the first year's stock, ``max_new_mw`` the most
        new build that may stand in the year, and every vacant rack may be fitted out.
    build_limit_mw : numpy.ndarray
        (S,): the most each site may build in this planned year. [MW]
    fitout_rate : float or None
        Share of a site's built stock that may be fitted out in this planned year (None: no
        limit). [-]
    """

    year: int
    first_calendar_year: int
    inputs: PlanInputs
    build_limit_mw: np.ndarray
    fitout_rate: float | None


@dataclass
class ForesightPlan:
    """The verified optimum of a foresight LP.

    Attributes
    ----------
    plans : dict of int to OptimisedPlan
        Each planned year's tabulated plan (its ``new_mw`` the new build standing, its
        ``fitout_mw`` the fitted-out racks standing; capacity shadow prices per year, undiscounted).
    built_mw : dict of int to numpy.ndarray
        (S,): capacity built in each planned year. [MW]
    fitted_out_mw : dict of int to numpy.ndarray
        (S,): vacant racks of the first year's stock fitted out by each planned year, cumulative. [MW]
    objective_cny : float
        Discounted cost of the pathway, recomputed from the plans and equal to the solver's. [CNY]
    annual_cost_cny : dict of int to float
        Each planned year's full annual cost: operations and the annuities of the capacity standing
        in it (fit-outs pay theirs for ``L`` years, as in a myopic pathway). [CNY/yr]
    metadata : dict
        Size, timings and trust figures of the stacked LP.
    """

    plans: dict[int, OptimisedPlan]
    built_mw: dict[int, np.ndarray]
    fitted_out_mw: dict[int, np.ndarray]
    objective_cny: float
    annual_cost_cny: dict[int, float]
    metadata: dict = field(default_factory=dict)


def year_weights(years: list[int], first_calendar_years: list[int], discount_rate: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Discount weights of the planned years: of a year's annual cost, and of money it spends.

    Planned year y stands for the calendar years k = first, …, y; its annual cost counts in each,
    discounted to the first planned year: ``w_y = Σ_k (1 + r)^−(k − y₀)``. Capex paid in it is
    spread evenly over those years: ``s_y = w_y / (y − first + 1)``.

    Returns
    -------
    (weights, spends) : numpy.ndarray
        [yr] and [-], one per planned year.
    """
    start = years[0]
    weights = np.array([sum((1.0 + discount_rate) ** -(k - start) for k in range(first, year + 1))
                        for first, year in zip(first_calendar_years, years, strict=True)])
    gaps = np.array([year - first + 1 for first, year in zip(first_calendar_years, years, strict=True)])
    return weights, weights / gaps


def discounted_cost(weights: np.ndarray, spends: np.ndarray, operating_cny: np.ndarray,
                    annuity_cny: np.ndarray, overnight_cny: np.ndarray, salvage: str) -> np.ndarray:
    """Each planned year's part of a pathway's discounted cost, the same way for both modes.

    ``annuity``: ``w_y·(operating_y + annuity_y)``; ``none``: ``w_y·operating_y + s_y·overnight_y``.

    Parameters
    ----------
    weights, spends : numpy.ndarray
        From :func:`year_weights`.
    operating_cny : numpy.ndarray
        Each year's annual cost without capex. [CNY/yr]
    annuity_cny : numpy.ndarray
        Annualised capex of all capacity standing in the year (new and fitted out). [CNY/yr]
    overnight_cny : numpy.ndarray
        Overnight capex of what the planned year builds and fits out. [CNY]
    salvage : {'annuity', 'none'}

    Returns
    -------
    numpy.ndarray
        [CNY], discounted to the first planned year.
    """
    if salvage == "annuity":
        return weights * (operating_cny + annuity_cny)
    return weights * operating_cny + spends * overnight_cny


def foresight_size(year_sizes: list[LPSize], new_sites: int, fitout_sites: int, lifetime_years: float,
                   backend: str = "highs") -> LPSize:
    """Size of the stacked LP from the sizes of its year blocks (:func:`optimizer.size.estimate_lp_size`).

    Adds one build column per planned year and site that may build, a standing row per year and
    such site (with one entry per standing vintage), and two fit-out rows per year and vacant site.
    """
    years = len(year_sizes)
    vintages = min(years, max(1, math.ceil(lifetime_years)))
    columns = sum(s.columns for s in year_sizes) + years * new_sites
    rows = sum(s.rows for s in year_sizes) + years * (new_sites + 2 * fitout_sites)
    nonzeros = (sum(s.nonzeros for s in year_sizes) + years * new_sites * (1 + vintages)
                + years * fitout_sites * (4 + vintages))
    path = "pulp" if backend == "pulp" else "highs"
    memory = BASE_MEMORY_BYTES + BYTES_PER_COLUMN[path] * columns + BYTES_PER_NONZERO[path] * nonzeros
    return LPSize(columns, rows, nonzeros, memory)


@dataclass
class _Block:
    lp: LinearProgram
    index: PlanIndex
    col_start: int
    row_start: int


@dataclass
class ForesightLP:
    """The stacked LP and where each year's block and build columns sit in it."""

    lp: LinearProgram
    blocks: list[_Block]
    build_start: list[int]
    new_sites: np.ndarray
    fitout_sites: np.ndarray
    weights: np.ndarray
    spends: np.ndarray
    link_rows: tuple[int, int]


def _paid_off(years: list[int], i: int, lifetime_years: float) -> int | None:
    """The last planned year v (position) whose fit-outs are paid off by year i (y_i − y_v ≥ L), if any."""
    done = [v for v in range(i) if years[i] - years[v] >= lifetime_years]
    return done[-1] if done else None


def fitout_annuity(inputs: PlanInputs, index: PlanIndex) -> np.ndarray:
    """Annualised capex of a MW fitted out at each fit-out site of a block. [CNY/(MW·yr)]"""
    return inputs.site_values("fitout_capex_annual_cny_per_mw")[index.fitout_sites]


def _standing(years: list[int], i: int, lifetime_years: float, before: bool = False) -> list[int]:
    """Planned years v (positions) whose build stands in year i: v ≤ i (v < i with ``before``), y_i − y_v < L."""
    last = i if before else i + 1
    return [v for v in range(last) if years[i] - years[v] < lifetime_years]


def build_foresight_lp(plan_years: list[ForesightYear], existing_mw: np.ndarray, lifetime_years: float,
                       salvage: str, capex_cny_per_mw: np.ndarray, fitout_capex_cny_per_mw: np.ndarray,
                       discount_rate: float) -> ForesightLP:
    """The foresight LP: year blocks on the diagonal, build columns and linking rows.

    Parameters
    ----------
    plan_years : list of ForesightYear
        In year order; every year's inputs have the same sites in the same order.
    existing_mw : numpy.ndarray
        (S,): the first year's built stock. [MW]
    lifetime_years : float
        Capacity built in planned year v stands in planned year y while y − v < L. [yr]
    salvage : {'annuity', 'none'}
        See :data:`SALVAGE`.
    capex_cny_per_mw, fitout_capex_cny_per_mw : numpy.ndarray
        (S,): overnight capex of a MW built, and of a vacant MW fitted out. [CNY/MW]
    discount_rate : float
        [-/yr]
    """
    if salvage not in SALVAGE:
        msg = f"salvage must be one of {SALVAGE}, got {salvage!r}"
        raise ValueError(msg)
    years = [fy.year for fy in plan_years]
    weights, spends = year_weights(years, [fy.first_calendar_year for fy in plan_years], discount_rate)
    # A fit-out's annuity is paid for L years, as the myopic pathway pays it, though its racks stay
    # fitted: year y pays on F_y − F_{paid_off(y)}, so F_v carries −w_y for each y it pays off in.
    paid_off = [_paid_off(years, i, lifetime_years) for i in range(len(years))]
    credit = np.zeros(len(years))
    for i, v in enumerate(paid_off):
        if v is not None:
            credit[v] += weights[i]
    lp = LinearProgram()
    blocks: list[_Block] = []
    for i, fy in enumerate(plan_years):
        block_lp, index = build_lp(fy.inputs)
        cost, lower, upper, matrix, row_lower, row_upper = block_lp.arrays()
        cost = cost * weights[i]
        if salvage == "annuity" and "f" in block_lp.columns:
            f = block_lp.columns["f"]
            cost[f.start:f.stop] = fitout_annuity(fy.inputs, index) * (weights[i] - credit[i])
        if salvage == "none":  # capex is paid on the build columns, not on the capacity standing
            n = block_lp.columns["n"]
            cost[n.start:n.stop] = 0.0
            if "f" in block_lp.columns:
                # Fit-outs are paid when made: Σ_y s_y·c·(F_y − F_{y−1}) = Σ_y c·(s_y − s_{y+1})·F_y.
                following = spends[i + 1] if i + 1 < len(plan_years) else 0.0
                f = block_lp.columns["f"]
                cost[f.start:f.stop] = fitout_capex_cny_per_mw[index.fitout_sites] * (spends[i] - following)
        col_start, row_start = lp.num_cols, lp.num_rows
        for family, columns in block_lp.columns.items():
            part = slice(columns.start, columns.stop)
            lp.add_columns(f"{fy.year}.{family}", cost[part], lower[part], upper[part])
        coo = matrix.tocoo()
        lp.add_rows(f"{fy.year}.plan", block_lp.num_rows, coo.row, coo.col + col_start, coo.data,
                    row_lower, row_upper)
        blocks.append(_Block(block_lp, index, col_start, row_start))
    new_sites, fitout_sites = blocks[0].index.new_sites, blocks[0].index.fitout_sites
    for block in blocks[1:]:  # the linking rows assume the same columns in every year
        if not (np.array_equal(block.index.new_sites, new_sites)
                and np.array_equal(block.index.fitout_sites, fitout_sites)):
            msg = "foresight years differ in which sites may build or fit out"
            raise ValueError(msg)

    build_start = []
    for i, fy in enumerate(plan_years):
        build_cost = (np.zeros(new_sites.size) if salvage == "annuity"
                      else capex_cny_per_mw[new_sites] * spends[i])
        build_start.append(lp.add_columns(f"{fy.year}.build", build_cost, 0.0,
                                          fy.build_limit_mw[new_sites]).start)
    link_start = lp.num_rows
    _add_standing_rows(lp, plan_years, blocks, build_start, new_sites, lifetime_years)
    _add_fitout_rows(lp, plan_years, blocks, build_start, new_sites, fitout_sites, existing_mw, lifetime_years)
    return ForesightLP(lp, blocks, build_start, new_sites, fitout_sites, weights, spends,
                       (link_start, lp.num_rows))


def _add_standing_rows(lp, plan_years, blocks, build_start, new_sites, lifetime_years) -> None:
    """standing: n_y[s] − Σ_{v ≤ y, y − v < L} b_v[s] = 0, for every planned year and site that may build."""
    years = [fy.year for fy in plan_years]
    count = new_sites.size
    local = np.arange(count)
    for i, block in enumerate(blocks):
        vintages = _standing(years, i, lifetime_years)
        rows = np.concatenate([local] + [local] * len(vintages))
        cols = np.concatenate([block.col_start + block.lp.columns["n"].start + local]
                              + [build_start[v] + local for v in vintages])
        vals = np.concatenate([np.ones(count)] + [-np.ones(count)] * len(vintages))
        lp.add_rows(f"{years[i]}.standing", count, rows, cols, vals, 0.0, 0.0)


def _add_fitout_rows(lp, plan_years, blocks, build_start, new_sites, fitout_sites, existing_mw,
                     lifetime_years) -> None:
    """fitout_keep: F_y − F_{y−1} ≥ 0; fitout_pace: F_y − F_{y−1} − m_y·Σ_{v<y} b_v ≤ m_y·E0.

    The pace is the myopic pathway's fit-out limit: a planned year fits out at most ``m_y`` of
    the site's built stock, the first year's and the new build standing from earlier years.
    """
    if fitout_sites.size == 0:
        return
    years = [fy.year for fy in plan_years]
    count = fitout_sites.size
    local = np.arange(count)
    build_position = {site: j for j, site in enumerate(new_sites)}
    builds = np.array([build_position.get(site, -1) for site in fitout_sites])
    can_build = builds >= 0
    for i, (fy, block) in enumerate(zip(plan_years, blocks, strict=True)):
        f_now = block.col_start + block.lp.columns["f"].start + local
        rows, cols, vals = [local], [f_now], [np.ones(count)]
        if i > 0:
            previous = blocks[i - 1]
            rows.append(local)
            cols.append(previous.col_start + previous.lp.columns["f"].start + local)
            vals.append(-np.ones(count))
            lp.add_rows(f"{fy.year}.fitout_keep", count, np.concatenate(rows), np.concatenate(cols),
                        np.concatenate(vals), 0.0, INF)
        if fy.fitout_rate is None:
            continue
        for v in _standing(years, i, lifetime_years, before=True):
            rows.append(local[can_build])
            cols.append(build_start[v] + builds[can_build])
            vals.append(np.full(int(can_build.sum()), -fy.fitout_rate))
        lp.add_rows(f"{fy.year}.fitout_pace", count, np.concatenate(rows), np.concatenate(cols),
                    np.concatenate(vals), -INF, fy.fitout_rate * existing_mw[fitout_sites])


def _year_solution(block: _Block, solution: Solution, weight: float) -> Solution:
    """A year block's part of the stacked solution, priced as the year's own LP.

    Its objective is the block's annual cost under its own costs; its row duals are divided by the
    year's discount weight, so shadow prices read per year. Strong duality holds for the stacked LP
    (checked there), not block by block, so the block's dual objective is set to its primal one.
    """
    columns = slice(block.col_start, block.col_start + block.lp.num_cols)
    values = solution.values[columns]
    objective = float(block.lp.arrays()[0] @ values)
    duals = solution.row_duals[block.row_start:block.row_start + block.lp.num_rows] / weight
    return Solution(values, duals, objective, objective, solution.backend, solution.model_status,
                    {}, solution.iterations)


def _link_violation(model: ForesightLP, values: np.ndarray) -> float:
    """Worst violation of the linking rows, relative to the largest build limit or 1 MW. [-]"""
    _, _, col_upper, matrix, row_lower, row_upper = model.lp.arrays()
    start, stop = model.link_rows
    activity = matrix[start:stop] @ values
    excess = np.maximum(row_lower[start:stop] - activity, activity - row_upper[start:stop])
    build = np.concatenate([col_upper[s:s + model.new_sites.size] for s in model.build_start] + [np.ones(1)])
    return float(max(excess.max(initial=0.0), 0.0) / max(float(build[np.isfinite(build)].max()), 1.0))


def optimise_foresight(plan_years: list[ForesightYear], existing_mw: np.ndarray, lifetime_years: float,
                       salvage: str, capex_cny_per_mw: np.ndarray, fitout_capex_cny_per_mw: np.ndarray,
                       discount_rate: float, backend: str = "auto", time_limit_s: float = 600.0,
                       tolerance: float = 1e-6, options: dict | None = None) -> ForesightPlan:
    """Solve the foresight LP (:func:`build_foresight_lp`) and verify every part of its optimum.

    Each year's block is verified and tabulated as a one-year plan
    (:func:`optimizer.plan.tabulate`, so :func:`optimizer.plan.verify_solution`); the linking rows
    are checked on the solution; the discounted cost recomputed from the tabulated plans and the
    builds (:func:`discounted_cost`) must equal the solver's objective, and the dual objective the
    primal one.

    Raises
    ------
    PlanInfeasible
        No pathway exists (from the solver; the caller names the fix).
    PlanNotSolved
        No proven optimum, or a check failed (status ``residual``).
    """
    start = time.perf_counter()
    model = build_foresight_lp(plan_years, existing_mw, lifetime_years, salvage, capex_cny_per_mw,
                               fitout_capex_cny_per_mw, discount_rate)
    formulate_s = time.perf_counter() - start
    solution = solve_lp(model.lp, backend=backend, time_limit_s=time_limit_s, options=options)
    start = time.perf_counter()
    plans, built, fitted_out, annual = {}, {}, {}, {}
    num_s = existing_mw.size
    operating, annuity, overnight = [], [], []
    previous_fitout = np.zeros(num_s)
    for i, (fy, block) in enumerate(zip(plan_years, model.blocks, strict=True)):
        plan = tabulate(fy.inputs, block.lp, block.index, _year_solution(block, solution, model.weights[i]),
                        tolerance)
        plans[fy.year] = plan
        b = np.zeros(num_s)
        b[model.new_sites] = solution.values[model.build_start[i]:model.build_start[i] + model.new_sites.size]
        built[fy.year] = b
        fitout = plan.sites["fitout_mw"].to_numpy(float)
        fitted_out[fy.year] = fitout
        summary = plan.summary
        operating.append(summary.total_cost_cny - summary.capex_cny)
        annuity.append(summary.capex_cny)
        v = _paid_off([y.year for y in plan_years], i, lifetime_years)
        if v is not None and salvage == "annuity" and model.fitout_sites.size:
            # Fit-outs older than the lifetime stay fitted but no longer pay their annuity.
            old = fitted_out[plan_years[v].year][model.fitout_sites]
            annuity[-1] -= float(fitout_annuity(fy.inputs, block.index) @ old)
        annual[fy.year] = operating[-1] + annuity[-1]
        overnight.append(float(capex_cny_per_mw @ b + fitout_capex_cny_per_mw @ (fitout - previous_fitout)))
        previous_fitout = fitout
    recomputed = float(discounted_cost(model.weights, model.spends, np.array(operating), np.array(annuity),
                                       np.array(overnight), salvage).sum())
    scale = max(abs(solution.objective), OBJECTIVE_FLOOR_CNY)
    checks = {
        "linking rows violated by": _link_violation(model, solution.values),
        "recomputed discounted cost differs from the solver's objective by":
            abs(recomputed - solution.objective) / scale,
        "primal and dual objectives differ by": abs(solution.objective - solution.dual_objective) / scale,
    }
    for what, value in checks.items():
        if not value <= tolerance:
            msg = f"foresight pathway: {what} {value:.2e} (relative), above the tolerance {tolerance:.0e}"
            raise PlanNotSolved(msg, status=PlanStatus.RESIDUAL)
    metadata = {
        "columns": model.lp.num_cols,
        "rows": model.lp.num_rows,
        "nonzeros": int(model.lp.arrays()[3].nnz),
        "objective_cny": solution.objective,
        "dual_objective_cny": solution.dual_objective,
        "link_violation": checks["linking rows violated by"],
        "duality_gap": checks["primal and dual objectives differ by"],
        "simplex_iterations": solution.iterations,
        "backend": solution.backend,
        "timings_s": {"formulate_s": formulate_s, **solution.timings,
                      "tabulate_s": time.perf_counter() - start},
    }
    for plan in plans.values():  # a block's own duality figures are the stacked LP's
        plan.metadata.update(dual_objective_cny=None, duality_gap=metadata["duality_gap"],
                             foresight={"columns": metadata["columns"], "rows": metadata["rows"]})
    return ForesightPlan(plans, built, fitted_out, recomputed, annual, metadata)
