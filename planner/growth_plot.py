"""Figures for the compute-capital growth model: g(τ) in three modes, and plan growth paths."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from edwc_data.labels import texts  # noqa: E402
from matplotlib.ticker import FuncFormatter, PercentFormatter  # noqa: E402

from geo.fonts import font_rc  # noqa: E402
from planner.growth import (  # noqa: E402
    GrowthParams,
    market_tau,
    optimal_tau,
    steady_state_growth,
    threshold_compute_rental,
)

__all__ = ["plot_growth_paths", "plot_growth_vs_tau"]

COLORS = {"report": "#c0392b", "pe": "#2471a3", "ge": "#1e8449", "plan": "#1e8449",
          "counterfactual": "#7f8c8d"}

# Mathtext keeps the formulas readable (subscripts) in both languages.
F_REPORT = r"$(1/\sigma)\,[(1-\tau)\,r/\alpha + \tau\,w/\Phi_H - \delta - \rho]$"
F_PE = r"$[(1-\tau)\,r + \tau\,w - \delta - \rho]\,/\,\sigma$"
F_GE = r"$[(\alpha+\Phi_H)\,y(\tau) - \delta - \rho]\,/\,\sigma$"
F_WSTAR = r"$\Phi_H r/\alpha$"
F_TAUM = r"$\tau_m = \Phi_H/(\alpha+\Phi_H)$"

def _style(lang: str) -> dict:
    rc = {"axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
          "grid.alpha": 0.3, "font.size": 10, "axes.titlesize": 11, "legend.frameon": False,
          "svg.fonttype": "none"}
    if lang == "zh":
        # CJK glyphs need the CJK font file registered (a stale font cache may not list it);
        # DejaVu stays as fallback for Greek and math symbols.
        rc.update(font_rc(lang))
    return rc


def _save(fig, out_dir, stem: str, formats: Sequence[str]) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out / f"{stem}.{fmt.lstrip('.')}"
        fig.savefig(path, dpi=150, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def _text(lang: str) -> dict:
    return texts("growthchart", lang)


def plot_growth_vs_tau(params: GrowthParams | None = None, out_dir: str | Path = ".",
                       formats: Sequence[str] = ("png", "svg"), lang: str = "en",
                       stem: str = "growth_vs_tau") -> list[Path]:
    """Plot steady-state growth against τ ∈ [0.01, 0.99] for the modes "report", "pe" and "ge".

    The report's straight line is labelled as stated in the report, with the sign of its slope
    explained by w against the threshold w* = Φ_H·r/α; dashed verticals mark the ge peak
    τ* = 1 − α and the market share τ_m. A footnote lists the parameters and A's calibration.

    Parameters
    ----------
    params : GrowthParams, optional
    out_dir : str or Path
        Folder for the files (created if missing).
    formats : sequence of str
        Matplotlib file formats, e.g. ("png", "svg").
    lang : {"en", "zh"}
    stem : str
        File name without extension.

    Returns
    -------
    list of Path
        Files written, one per format.
    """
    p = params or GrowthParams()
    T = _text(lang)
    tau = np.linspace(0.01, 0.99, 393)
    ws = threshold_compute_rental(p)
    curves = {m: steady_state_growth(tau, p, m) for m in ("report", "pe", "ge")}
    with plt.rc_context(_style(lang)):
        fig, ax = plt.subplots(figsize=(8.6, 5.2))
        slope = T["report_slope"].format(w=p.w, ws=ws, rel=">" if p.w > ws else "≤")
        ax.plot(tau, curves["report"], color=COLORS["report"], lw=2.2,
                label=f"{T['report']}\n{slope}")
        ax.plot(tau, curves["pe"], color=COLORS["pe"], lw=2, ls="-.", label=T["pe"])
        ax.plot(tau, curves["ge"], color=COLORS["ge"], lw=2.4, label=T["ge"])
        ax.axhline(0, color="black", lw=0.8, alpha=0.6)
        for val, key, ls in ((optimal_tau(p), "peak", "--"), (market_tau(p), "market", ":")):
            ax.axvline(val, color="#555555", lw=1.3, ls=ls, label=T[key].format(v=val))
        t_star = optimal_tau(p)
        g_star = steady_state_growth(t_star, p, "ge")
        ax.plot([t_star], [g_star], "o", color=COLORS["ge"], ms=6, zorder=5)
        ax.annotate(f"{g_star:.2%}", (t_star, g_star), xytext=(6, 6), textcoords="offset points",
                    color=COLORS["ge"], fontsize=9)
        cal = p.calibration
        if cal is not None and cal.timing == "continuous":
            ax.plot([cal.tau0], [cal.g0], "s", mfc="white", mec=COLORS["ge"], mew=1.5, ms=6,
                    zorder=5, label=T["calib"] + f": τ0 = {cal.tau0:.0%}, g0 = {cal.g0:.1%}")
        ax.set_xlim(0, 1)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.06 * (hi - lo))  # room for the peak label
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(T["xlabel"])
        ax.set_ylabel(T["ylabel"])
        ax.set_title(T["title"], loc="left", fontweight="bold")
        # Legend under the axes: the formulas are long and would cover the curves.
        ax.legend(loc="upper left", bbox_to_anchor=(0, -0.13), fontsize=8.5, ncol=1,
                  handlelength=2.8, labelspacing=0.7)
        note = T["params"].format(a=p.alpha, b=p.beta, s=p.sigma, d=p.delta, r=p.rho, e=p.eta,
                                  rr=p.r, ww=p.w, cal=p.calibration_note)
        # Put the footnote just under the legend, wherever the legend ends up.
        fig.canvas.draw()
        leg_box = ax.get_legend().get_window_extent().transformed(fig.transFigure.inverted())
        fig.text(0.01, leg_box.y0 - 0.02, note, fontsize=7.5, color="#555555", ha="left", va="top")
        return _save(fig, out_dir, stem, formats)


def plot_growth_paths(national_df: pd.DataFrame, counterfactual_df: pd.DataFrame,
                      regional_df: pd.DataFrame | None = None, out_dir: str | Path = ".",
                      formats: Sequence[str] = ("png", "svg"), lang: str = "en",
                      stem: str = "growth_paths") -> list[Path]:
    """Plot a plan's τ path and growth against a counterfactual run.

    Panels: τ path; output growth g_Y; the plan's output gap Y_plan/Y_cf − 1; and either the
    regional output paths (log scale, if ``regional_df`` is given) or consumption growth g_C.

    Parameters
    ----------
    national_df, counterfactual_df : pandas.DataFrame
        Outputs of :func:`planner.growth.simulate` over the same years (index = year).
    regional_df : pandas.DataFrame, optional
        Long output of :func:`planner.growth_regions.simulate_regions` (columns region, year, Y, ...).
    out_dir : str or Path
    formats : sequence of str
    lang : {"en", "zh"}
    stem : str
        File name without extension.

    Returns
    -------
    list of Path
        Files written, one per format.
    """
    T = _text(lang)
    plan, cf = national_df, counterfactual_df
    common = plan.index.intersection(cf.index)
    if len(common) == 0:
        msg = "national_df and counterfactual_df share no years"
        raise ValueError(msg)
    runs = ((plan, "plan", "-"), (cf, "counterfactual", "--"))
    pct = PercentFormatter(1.0, decimals=1)
    with plt.rc_context(_style(lang)):
        fig, axes = plt.subplots(2, 2, figsize=(10, 6.6), sharex=True)
        ax_tau, ax_g, ax_gap, ax_4 = axes.ravel()
        for df, key, ls in runs:
            kw = {"color": COLORS[key], "ls": ls, "lw": 2, "label": T[key]}
            ax_tau.plot(df.index, df["tau"], drawstyle="steps-post", **kw)
            ax_g.plot(df.index, df["g_Y"], **kw)
            if regional_df is None:
                ax_4.plot(df.index, df["g_C"], **kw)
        gap = plan.loc[common, "Y"] / cf.loc[common, "Y"] - 1
        ax_gap.fill_between(common, 0, gap, color=COLORS["plan"], alpha=0.25, lw=0)
        ax_gap.plot(common, gap, color=COLORS["plan"], lw=2)
        ax_gap.axhline(0, color="black", lw=0.8)
        ax_tau.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        for ax in (ax_g, ax_gap):
            ax.yaxis.set_major_formatter(pct)
        ax_tau.set_title(T["tau_panel"], loc="left")
        ax_g.set_title(T["gY_panel"], loc="left")
        ax_gap.set_title(T["gap_panel"], loc="left")
        ax_tau.legend(loc="best", fontsize=9)
        if regional_df is None:
            ax_4.set_title(T["gC_panel"], loc="left")
            ax_4.yaxis.set_major_formatter(pct)
        else:
            cmap = plt.get_cmap("tab10")
            for i, (name, grp) in enumerate(regional_df.groupby("region", sort=False)):
                ax_4.plot(grp["year"], grp["Y"], lw=1.6, color=cmap(i % 10), label=str(name))
            ax_4.set_yscale("log")
            # Plain numbers on the log axis; "4×10²"-style labels read badly for an index.
            plain = FuncFormatter(lambda v, _: f"{v:g}")
            ax_4.yaxis.set_major_formatter(plain)
            ax_4.yaxis.set_minor_formatter(plain)
            ax_4.tick_params(axis="y", which="both", labelsize=8.5)
            ax_4.set_title(T["reg_panel"], loc="left")
            ncol = 2 if regional_df["region"].nunique() > 5 else 1
            ax_4.legend(loc="upper left", fontsize=8, ncol=ncol)
        for ax in axes[1]:
            ax.set_xlabel(T["year"])
        fig.suptitle(T["paths_title"], x=0.01, ha="left", fontweight="bold")
        cal = plan.attrs.get("calibration")
        mode = plan.attrs.get("consumption")
        if cal:
            note = cal + (f"; consumption: {mode}" if mode else "")
            fig.text(0.01, -0.005, note, fontsize=7.5, color="#555555", ha="left", va="top")
        fig.tight_layout()
        return _save(fig, out_dir, stem, formats)
