"""How province metrics are coloured and labelled on maps: metric styles and binned colour scales."""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from edwc_data.labels import t
from matplotlib import colors as mcolors
from matplotlib.ticker import MaxNLocator


@dataclass(frozen=True)
class MetricStyle:
    """How a province metric is coloured (its label is ``metric_<key>`` in the label table)."""

    cmap: str
    diverging_cmap: str  # for differences: its high end means "more" of the metric
    percent: bool = False
    scale: float = 1.0  # divide values by this for display
    vmin_zero: bool = True


#: Font sizes of the static maps' keys. The app shows a 12 in wide map drawn at 110 dpi in a column
#: about 720 px wide (scaled by about 0.55), so a key must be drawn at 11 pt or more to read at about
#: 9 px or more there; the other texts keep their sizes. [pt]
FONT_PT = {
    "legend": 11.0,  # flow and cluster legends, the no-data key
    "legend_title": 12.0,
    "colourbar_ticks": 10.5,
    "colourbar_title": 11.5,
    "site_label": 10.0,  # cluster names beside their circles
}

#: Province metrics a map can show (columns of ``Results.provinces``).
METRICS = {
    "west_share": MetricStyle("YlGn", "BrBG", percent=True),
    "hub_share": MetricStyle("PuBu", "PuOr_r", percent=True),
    "demand_mw": MetricStyle("YlOrBr", "PuOr_r", scale=1_000.0),
    "load_weighted_latency_ms": MetricStyle("RdPu", "RdBu_r"),
    "emissions_tco2": MetricStyle("OrRd", "RdBu_r", scale=1_000_000.0),
    "hosted_water_m3": MetricStyle("Blues", "RdBu_r", scale=1_000_000.0),
}


def metric_label(metric: str, lang: str) -> str:
    """Label of a province metric with its unit, e.g. "Mean IT demand [GW]"."""
    return t(f"metric_{metric}", lang)


def _nice(value: float) -> float:
    """The largest 1, 2 or 5 x 10^k not above ``value``."""
    if value <= 0:
        return 0.0
    power = 10 ** math.floor(math.log10(value))
    for step in (5, 2, 1):
        if step * power <= value:
            return step * power
    return power


def _colour_scale(values: np.ndarray, style: MetricStyle, diverging: bool, min_span: float = 0.0):
    """Binned colormap and norm: classes read more reliably than a continuous ramp.

    ``min_span`` (in display units) keeps a diverging scale from blowing solver noise up into
    full colour when two plans barely differ.
    """
    finite = values[np.isfinite(values)] / style.scale
    if diverging:
        span = float(np.max(np.abs(finite))) if finite.size else 0.0
        span = max(span, min_span) or (0.01 if style.percent else 1.0)
        levels = MaxNLocator(nbins=8, symmetric=True).tick_values(-span, span)
        cmap = mcolors.LinearSegmentedColormap.from_list(
            style.diverging_cmap, plt.get_cmap(style.diverging_cmap)(np.linspace(0.1, 0.9, 256))
        )
    else:
        if style.percent:
            vmin, vmax = 0.0, 1.0
        else:
            vmin = 0.0 if style.vmin_zero else float(finite.min()) if finite.size else 0.0
            vmax = float(finite.max()) if finite.size else 1.0
            vmax = vmax if vmax > vmin else vmin + 1.0
        levels = _levels(finite, vmin, vmax)
        # Keep the darkest tones off the ramp so flow lines and labels stay readable on top.
        cmap = mcolors.LinearSegmentedColormap.from_list(
            style.cmap, plt.get_cmap(style.cmap)(np.linspace(0.0, 0.62, 256))
        )
    colours = cmap(np.linspace(0, 1, len(levels) - 1))
    listed = mcolors.ListedColormap(colours)
    return listed, mcolors.BoundaryNorm(levels, listed.N), levels


def _levels(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """Class breaks: even steps, or a 1-2-5 sequence when a few provinces dwarf the rest."""
    even = MaxNLocator(nbins=6).tick_values(vmin, vmax)
    positive = values[values > 0]
    if vmin != 0 or positive.size < 5 or vmax < 5 * np.median(positive):
        return even
    steps = [
        m * 10.0**k
        for k in range(math.floor(math.log10(vmax)) - 3, math.floor(math.log10(vmax)) + 2)
        for m in (1, 2, 5)
    ]
    top = next(v for v in steps if v >= vmax)
    inner = [v for v in steps if v < vmax and v >= np.min(positive)][-5:]
    return np.array([0.0, *inner, top])


