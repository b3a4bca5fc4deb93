"""The headline figures of a plan: which summary values, in which units, and how a change reads."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from optimizer.results import COST_PARTS, cost_label
from ui.i18n import t


@dataclass(frozen=True)
class Figure:
    """One headline figure taken from ``Results.summary``.

    Attributes
    ----------
    key : str
        Summary key (unit in the name).
    label : str
        i18n key of its label.
    unit : str
        i18n key of its display unit.
    scale_en, scale_zh : float
        Divide the summary value by this for display (Chinese money in 亿元, 1e8 CNY).
    digits : int
        Decimals shown.
    percent : bool
        A share shown in per cent (and its change in percentage points).
    better : {"lower", "higher", "none"}
        Which direction of change is good (colours the delta).
    """

    key: str
    label: str
    unit: str
    scale_en: float = 1.0
    scale_zh: float = 1.0
    digits: int = 1
    percent: bool = False
    better: str = "none"

    def scale(self, lang: str) -> float:
        return self.scale_zh if lang == "zh" else self.scale_en

    def value(self, summary: dict) -> float | None:
        value = summary.get(self.key)
        return None if value is None else float(value)

    def display(self, value: float | None, lang: str) -> str:
        """The value as shown, with its unit."""
        if value is None:
            return "–"
        if self.percent:
            return f"{100.0 * value:.{self.digits}f} %"
        return f"{value / self.scale(lang):,.{self.digits}f} {t(self.unit, lang)}"

    def delta(self, new: float | None, old: float | None, lang: str) -> str | None:
        """The change from ``old`` to ``new`` as shown under a metric, or None."""
        if new is None or old is None:
            return None
        change = new - old
        shown = 100.0 * change if self.percent else change / self.scale(lang)
        if round(shown, self.digits) == 0:
            return None  # no arrow for a change the shown digits cannot express
        unit = t("unit_pp", lang) if self.percent else t(self.unit, lang)
        return f"{shown:+,.{self.digits}f} {unit}"

    @property
    def delta_color(self) -> str:
        return {"lower": "inverse", "higher": "normal"}.get(self.better, "off")


#: The six headline figures of the Plan page, in display order.
HEADLINE = (
    Figure("total_cost_cny", "fig_cost", "unit_money_yr", 1e9, 1e8, 1, better="lower"),
    Figure("emissions_tco2", "fig_emissions", "unit_mt_yr", 1e6, 1e6, 1, better="lower"),
    Figure("load_weighted_latency_ms", "fig_latency", "unit_ms", 1.0, 1.0, 2, better="lower"),
    Figure("west_share", "fig_west", "unit_pct", digits=1, percent=True),
    Figure("new_capacity_mw", "fig_new_capacity", "unit_gw", 1e3, 1e3, 2),
    Figure("compute_capex_cny", "fig_capex", "unit_money", 1e9, 1e8, 0),
)

#: Further figures shown in comparison tables.
DETAIL = (
    Figure("capex_cny", "cost_capex", "unit_money_yr", 1e9, 1e8, 1, better="lower"),
    Figure("energy_cost_cny", "cost_energy", "unit_money_yr", 1e9, 1e8, 1, better="lower"),
    Figure("green_cost_cny", "cost_green", "unit_money_yr", 1e9, 1e8, 1),
    Figure("network_cost_cny", "cost_network", "unit_money_yr", 1e9, 1e8, 1, better="lower"),
    Figure("carbon_cost_cny", "cost_carbon", "unit_money_yr", 1e9, 1e8, 1),
    Figure("green_share", "fig_green", "unit_pct", percent=True, better="higher"),
    Figure("hub_share", "fig_hub", "unit_pct", percent=True),
    Figure("new_capacity_west_mw", "fig_new_west", "unit_gw", 1e3, 1e3, 2),
)



def cost_breakdown(summaries: dict[str, dict], lang: str) -> pd.DataFrame:
    """Long table of cost parts per plan label, in display money units, for a stacked bar chart."""
    scale = 1e8 if lang == "zh" else 1e9
    rows = []
    for label, summary in summaries.items():
        for order, key in enumerate(COST_PARTS):  # the stacking order of the chart
            value = float(summary.get(key) or 0.0)
            rows.append({"plan": label, "part": t(cost_label(key), lang), "order": order,
                         "value": value / scale})
    return pd.DataFrame(rows)


def comparison_table(summary_a: dict, summary_b: dict, lang: str) -> pd.DataFrame:
    """Figures of two plans side by side with the change, as display strings."""
    rows = []
    for figure in (*HEADLINE, *DETAIL):
        a, b = figure.value(summary_a), figure.value(summary_b)
        rows.append({
            t("col_figure", lang): t(figure.label, lang),
            "A": figure.display(a, lang),
            "B": figure.display(b, lang),
            t("col_change", lang): figure.delta(b, a, lang) or "–",
        })
    return pd.DataFrame(rows)
