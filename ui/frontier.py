"""Trade-off frontiers: cost against emissions (a carbon-cap sweep) and against latency (scaled limits)."""

# The emissions frontier is planner.study.pareto (the ε-constraint method: the base plan, caps
# down to the least achievable emissions), run as one job in the app's pool. Where that module
# is not installed, a loop of plain solves stands in (the base plan without a cap, one probe at
# a very high carbon price for the floor, caps in between). The latency frontier scales every
# class's finite latency limit, so each point is an ordinary scenario a planner can open.

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.scenario import ScenarioError
from ui import jobs
from ui import state as ui_state
from ui.edits import finite_latency_limits
from ui.jobs import PlanOutcome
from ui.solve import Engine, wait_for

#: Carbon price used only to find (near) the least emissions any plan can reach. [CNY/tCO2]
MIN_EMISSIONS_PRICE_CNY_PER_TCO2 = 50_000.0
#: The lowest cap of a sweep sits this share of the range above the least emissions, so that
#: rounding in the probe plan cannot make the last point infeasible. [-]
LOW_CAP_MARGIN = 0.01
#: Factors applied to every finite latency limit in the cost–latency sweep. [-]
LATENCY_FACTORS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)


@dataclass
class FrontierPoint:
    """One solved (or failed) point of a sweep.

    Attributes
    ----------
    point_id : int
    setting : float
        The swept value: carbon cap [tCO2/yr] or latency factor [-]; NaN for "no cap".
    input_hash : str
    scenario : dict
        The point's resolved scenario.
    status : str
    summary : dict or None
        The plan's headline figures when solved.
    message : str
    """

    point_id: int
    setting: float
    input_hash: str
    scenario: dict[str, Any]
    status: str
    summary: dict[str, Any] | None = None
    message: str = ""

    @property
    def solved(self) -> bool:
        return self.status == "solved"


@dataclass
class Frontier:
    """A sweep: its kind (``"emissions"`` or ``"latency"``), its points and the base it ran on."""

    kind: str
    base_hash: str
    points: list[FrontierPoint] = field(default_factory=list)
    message: str = ""

    def table(self):
        """One row per solved point: id, setting, cost, emissions, latency, western share."""
        import pandas as pd

        rows = []
        for point in self.points:
            if not point.solved:
                continue
            s = point.summary
            rows.append({
                "point_id": point.point_id, "setting": point.setting,
                "total_cost_cny": s["total_cost_cny"], "emissions_tco2": s["emissions_tco2"],
                "load_weighted_latency_ms": s["load_weighted_latency_ms"],
                "west_share": s["west_share"], "green_share": s["green_share"],
                "carbon_shadow_price_cny_per_tco2": s.get("carbon_shadow_price_cny_per_tco2"),
            })
        return pd.DataFrame(rows)

    def point(self, point_id: int) -> FrontierPoint | None:
        return next((p for p in self.points if p.point_id == point_id), None)


Progress = Callable[[int, int], None]


def _point(point_id: int, setting: float, scenario, outcome: PlanOutcome) -> FrontierPoint:
    summary = outcome.results.summary if outcome.solved else None
    return FrontierPoint(point_id, setting, scenario.input_hash(), scenario.to_dict(),
                         outcome.status, summary, outcome.message)


def _solve_all(engine: Engine, scenarios: list, progress: Progress | None,
               done_before: int, total: int) -> list[PlanOutcome]:
    futures: list[Future] = [engine.submit_plan(s) for s in scenarios]
    outcomes = []
    for index, future in enumerate(futures):
        outcomes.append(wait_for(future))
        if progress is not None:
            progress(done_before + index + 1, total)
    return outcomes


def pareto_available() -> bool:
    """True when planner.study (with ``pareto``) is installed."""
    try:
        from planner.study import pareto  # noqa: F401
    except ImportError:
        return False
    return True


def emissions_frontier(engine: Engine, base: ui_state.BaseScenario, overrides: dict[str, Any],
                       points: int = 8, progress: Progress | None = None) -> Frontier:
    """Cost against emissions, by :func:`planner.study.pareto` where installed.

    Each point keeps its scenario (the session's with ``carbon.cap_tco2`` set to the point's
    cap), so opening a point solves exactly that scenario.
    """
    if not pareto_available():
        return emissions_frontier_loop(engine, base, overrides, points, progress)
    import pandas as pd

    current = ui_state.resolve(base, overrides)
    points = max(3, int(points))
    if progress is not None:
        progress(0, 1)
    future = engine.submit(("pareto", current.input_hash(), points), jobs.pareto_frontier,
                           current.to_dict(), points)
    table = wait_for(future)
    if progress is not None:
        progress(1, 1)
    frontier = Frontier("emissions", current.input_hash())
    for _, row in table.iterrows():
        cap = row["carbon.cap_tco2"]
        solved = row["status"] == "optimal"
        scenario = current if row["role"] == "unconstrained" else ui_state.resolve(
            base, {**overrides, "carbon.cap_tco2": float(cap)})
        summary = {key: (None if pd.isna(row[key]) else float(row[key]))
                   for key in PARETO_FIGURES if key in row.index} if solved else None
        frontier.points.append(FrontierPoint(
            int(row["point"]), float("nan") if pd.isna(cap) else float(cap),
            scenario.input_hash(), scenario.to_dict(), "solved" if solved else str(row["status"]),
            summary, "" if pd.isna(row["message"]) else str(row["message"])))
    if not frontier.points[0].solved:
        frontier.message = frontier.points[0].message
    return frontier


#: Figures a pareto row carries into a point's summary.
PARETO_FIGURES = ("total_cost_cny", "emissions_tco2", "load_weighted_latency_ms", "west_share",
                  "green_share", "hub_share", "new_capacity_mw", "compute_capex_cny",
                  "carbon_shadow_price_cny_per_tco2")


def emissions_frontier_loop(engine: Engine, base: ui_state.BaseScenario,
                            overrides: dict[str, Any], points: int = 8,
                            progress: Progress | None = None) -> Frontier:
    """Cost against emissions: the plan without a cap, then caps down to near the least emissions.

    The least emissions come from one probe plan at a very high carbon price; the caps are
    spaced evenly between the uncapped plan's emissions and that floor.

    Parameters
    ----------
    engine : Engine
    base, overrides
        The session's scenario (every point adds its own ``carbon.*`` overrides).
    points : int
        Points on the frontier, the uncapped plan included. [-]
    progress : callable, optional
        ``progress(done, total)`` after each solve.
    """
    points = max(2, int(points))
    total = points + 1
    free = ui_state.resolve(base, {**overrides, "carbon.cap_tco2": None})
    probe = ui_state.resolve(base, {**overrides, "carbon.cap_tco2": None,
                                    "carbon.price_cny_per_tco2": MIN_EMISSIONS_PRICE_CNY_PER_TCO2})
    frontier = Frontier("emissions", ui_state.resolve(base, overrides).input_hash())
    free_outcome, probe_outcome = _solve_all(engine, [free, probe], progress, 0, total)
    frontier.points.append(_point(0, float("nan"), free, free_outcome))
    if not free_outcome.solved:
        frontier.message = free_outcome.message
        return frontier
    high = free_outcome.results.summary["emissions_tco2"]
    low = probe_outcome.results.summary["emissions_tco2"] if probe_outcome.solved else 0.5 * high
    low = low + LOW_CAP_MARGIN * (high - low)
    caps = np.linspace(high, low, points)[1:]
    scenarios = [ui_state.resolve(base, {**overrides, "carbon.cap_tco2": float(round(cap))})
                 for cap in caps]
    outcomes = _solve_all(engine, scenarios, progress, 2, total)
    for index, (cap, scenario, outcome) in enumerate(zip(caps, scenarios, outcomes, strict=True)):
        frontier.points.append(_point(index + 1, float(round(cap)), scenario, outcome))
    return frontier


def latency_frontier(engine: Engine, base: ui_state.BaseScenario, overrides: dict[str, Any],
                     factors: tuple[float, ...] = LATENCY_FACTORS,
                     progress: Progress | None = None) -> Frontier:
    """Cost against latency: every finite latency limit scaled by each factor.

    Classes without a limit keep none. Points whose limits cannot be met are kept as failed
    points with the diagnosis's message.
    """
    current = ui_state.resolve(base, overrides)
    limits = finite_latency_limits(current)
    frontier = Frontier("latency", current.input_hash())
    scenarios, kept = [], []
    for factor in factors:
        scaled = {f"workloads.{w}.latency_max_ms": round(limit * factor, 6)
                  for w, limit in limits.items()}
        try:
            scenarios.append(ui_state.resolve(base, {**overrides, **scaled}))
            kept.append(factor)
        except ScenarioError as exc:  # a scaled limit beyond the schema's range
            frontier.message = str(exc)
    outcomes = _solve_all(engine, scenarios, progress, 0, len(scenarios))
    for index, (factor, scenario, outcome) in enumerate(zip(kept, scenarios, outcomes, strict=True)):
        frontier.points.append(_point(index, float(factor), scenario, outcome))
    return frontier
