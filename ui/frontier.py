"""Trade-off frontiers of the app: the studies' ε-constraint frontiers, cost against emissions and against latency.

Both frontiers are :func:`planner.studies.frontiers` (the base plan, then caps stepping down to the
least any plan can reach), run as one job in the app's pool, exactly as ``edwc pareto --x
emissions_tco2`` and ``--x load_weighted_latency_ms`` run them. Every point is a scenario of its own
(the session's with ``carbon.cap_tco2`` or ``latency.mean_cap_ms`` set), so opening a point solves
exactly that scenario.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from optimizer.status import PlanStatus
from planner.studies.table import PARETO_AXES
from ui import jobs
from ui import state as ui_state
from ui.engine import Engine, wait_for

#: Frontier kind of the app -> summary figure its axis caps.
AXES = {"emissions": "emissions_tco2", "latency": "load_weighted_latency_ms"}

#: Figures a frontier row carries into a point's summary.
POINT_FIGURES = ("total_cost_cny", "emissions_tco2", "load_weighted_latency_ms", "west_share",
                 "green_share", "hub_share", "new_capacity_mw", "compute_capex_cny",
                 "carbon_shadow_price_cny_per_tco2", "latency_shadow_price_cny_per_ms")


@dataclass
class FrontierPoint:
    """One solved (or failed) point of a frontier.

    Attributes
    ----------
    point_id : int
    setting : float
        The point's cap: carbon cap [tCO2/yr] or mean-latency cap [ms]; inf for "no cap".
    input_hash : str
    scenario : dict
        The point's resolved scenario.
    status : PlanStatus
    summary : dict or None
        The plan's headline figures when solved.
    message : str
    """

    point_id: int
    setting: float
    input_hash: str
    scenario: dict[str, Any]
    status: PlanStatus
    summary: dict[str, Any] | None = None
    message: str = ""

    @property
    def solved(self) -> bool:
        return self.status == PlanStatus.OPTIMAL


@dataclass
class Frontier:
    """A frontier: its kind (``"emissions"`` or ``"latency"``), its points and the base it ran on."""

    kind: str
    base_hash: str
    points: list[FrontierPoint] = field(default_factory=list)
    message: str = ""

    def table(self):
        """One row per solved point: id, setting, cost, emissions, latency, western share."""
        import pandas as pd

        rows = [{"point_id": p.point_id, "setting": p.setting, **p.summary} for p in self.points if p.solved]
        return pd.DataFrame(rows)

    def point(self, point_id: int) -> FrontierPoint | None:
        return next((p for p in self.points if p.point_id == point_id), None)


Progress = Callable[[int, int], None]


def frontier(engine: Engine, kind: str, base: ui_state.BaseScenario, overrides: dict[str, Any],
             points: int = 8, progress: Progress | None = None) -> Frontier:
    """Cost against emissions (``kind="emissions"``) or latency (``"latency"``), by the studies' pareto.

    Parameters
    ----------
    engine : Engine
    kind : {"emissions", "latency"}
    base, overrides
        The session's scenario (every point adds its own cap).
    points : int
        Points on the frontier, both ends included (at least 3). [-]
    progress : callable, optional
        ``progress(done, total)`` before and after the job.
    """
    import pandas as pd

    figure = AXES[kind]
    key = PARETO_AXES[figure]
    current = ui_state.resolve(base, overrides)
    points = max(3, int(points))
    if progress is not None:
        progress(0, 1)
    future = engine.submit(("pareto", kind, current.input_hash(), points), jobs.pareto_frontier,
                           current.to_dict(), figure, points)
    table = wait_for(future)
    if progress is not None:
        progress(1, 1)
    result = Frontier(kind, current.input_hash())
    for _, row in table.iterrows():
        cap = row[key]
        status = PlanStatus(row["status"])
        scenario = current if row["role"] == "unconstrained" or pd.isna(cap) else ui_state.resolve(
            base, {**overrides, key: float(cap)})
        summary = {name: (None if pd.isna(row[name]) else float(row[name]))
                   for name in POINT_FIGURES if name in row.index} if status.solved else None
        result.points.append(FrontierPoint(
            int(row["point"]), math.inf if pd.isna(cap) else float(cap), scenario.input_hash(),
            scenario.to_dict(), status, summary, "" if pd.isna(row["message"]) else str(row["message"])))
    if not result.points[0].solved:
        result.message = result.points[0].message
    return result
