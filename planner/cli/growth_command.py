"""``edwc growth``: g(τ) of the growth model in three readings, or a pathway run's growth paths."""

from __future__ import annotations

from pathlib import Path

import click

from planner.cli.common import EXIT_BAD_INPUT, Command, debug_option, fail, lang_option, out_option, terminal_text

FORMATS = ("png", "svg", "pdf")
#: τ values of the printed table, besides the marked points.
TABLE_TAUS = (0.05, 0.10, 0.20, 0.30, 0.40, 0.50, 0.70, 0.80, 0.90)


def _fail(message: str) -> None:
    fail(message, EXIT_BAD_INPUT)


def _parse_formats(text: str) -> tuple[str, ...]:
    formats = tuple(part.strip().lower().lstrip(".") for part in text.split(",") if part.strip())
    bad = [f for f in formats if f not in FORMATS]
    if not formats or bad:
        _fail(f"--formats | unknown format {', '.join(bad) or '(none)'}. "
              f"Give a comma-separated list of {', '.join(FORMATS)}.")
    return formats


def format_growth_table(params=None) -> str:
    """Steady-state growth against τ in the modes report, pe and ge, with the marked points.

    Rows are ``TABLE_TAUS`` plus the market share τ_m and the ge peak τ* = 1 − α; the footer
    gives the report's threshold w* = Φ_H·r/α and which way the report's line slopes.
    """
    from edwc_data.tables import load_defaults

    from planner.growth import (
        GrowthParams,
        growth_derivative,
        market_tau,
        optimal_tau,
        steady_state_growth,
        threshold_compute_rental,
    )

    p = params or GrowthParams()
    # Rounded so that 1 − 0.8 = 0.19999999999999996 and the table's 0.20 are one row.
    marks = {round(optimal_tau(p), 12): "ge peak τ* = 1 − α",
             round(market_tau(p), 12): "market τ_m = Φ_H/(α+Φ_H)"}
    if p.calibration is not None:
        marks.setdefault(round(p.calibration.tau0, 12), "calibration point")
    baseline = load_defaults()["investment"]["baseline_compute_share"]
    marks.setdefault(round(baseline, 12), "default baseline τ (investment.baseline_compute_share)")
    taus = sorted({*TABLE_TAUS, *marks})
    lines = [f"{'τ':>6}  {'report':>9}  {'pe':>9}  {'ge':>9}  {'∂g/∂τ ge':>9}",
             f"{'':>6}  {'printed':>9}  {'r,w given':>9}  {'r,w endog':>9}"]
    for tau in taus:
        g = [steady_state_growth(tau, p, mode) for mode in ("report", "pe", "ge")]
        slope = growth_derivative(tau, p, "ge")
        note = marks.get(tau, "")
        lines.append(f"{tau:>6.3f}  {g[0]:>9.2%}  {g[1]:>9.2%}  {g[2]:>9.2%}  {slope:>9.3f}  "
                     f"{note}".rstrip())
    ws = threshold_compute_rental(p)
    side = "rises" if p.w > ws else "falls"
    slope_report = growth_derivative(0.5, p, "report")
    lines += [
        "",
        f"Report's threshold w* = Φ_H·r/α = {ws:.3%}: with w = {p.w:.2%} "
        f"{'>' if p.w > ws else '≤'} w* its line {side} with τ (∂g/∂τ = {slope_report:+.4f}).",
        f"ge peak at τ* = 1 − α = {optimal_tau(p):.2f}; the market's own choice τ_m = "
        f"{market_tau(p):.3f} lies below it (the monopoly markup).",
        f"Parameters: α = {p.alpha:g}, β = {p.beta:g}, σ = {p.sigma:g}, δ = {p.delta:g}, "
        f"ρ = {p.rho:g}, η = {p.eta:g}; report/pe use r = {p.r:.2%}, w = {p.w:.2%}.",
        p.calibration_note,
    ]
    return "\n".join(lines)


def format_run_growth(frames: dict) -> str:
    """Key growth figures of a pathway run (from :func:`planner.pathway_files.read_growth`)."""
    plan, cf = frames["national"]
    first, last = int(plan.index[0]), int(plan.index[-1])
    span = max(last - first, 1)

    def rate(frame) -> float:
        return float((frame["Y"].iloc[-1] / frame["Y"].iloc[0]) ** (1 / span) - 1)

    lines = [f"Growth {first}–{last} (mean per year; output index: {first} = GDP share × 100)",
             f"{'region':<10}  {'τ mean':>7}  {'τ max':>7}  {'g plan':>7}  {'g cf':>7}  "
             f"{'gap at end':>10}"]
    for region, (p, c) in frames.items():
        gap = p["Y"].iloc[-1] / c["Y"].iloc[-1] - 1
        g_plan = f"{rate(p):>7.2%}" if last > first else f"{'–':>7}"
        g_cf = f"{rate(c):>7.2%}" if last > first else f"{'–':>7}"
        lines.append(f"{region:<10}  {p['tau'].mean():>7.2%}  {p['tau'].max():>7.2%}  "
                     f"{g_plan}  {g_cf}  {gap:>+10.2%}")
    lines += ["", f"Counterfactual: τ held at its baseline {cf['tau'].iloc[0]:.2%} (cf).",
              f"Calibration: {plan.attrs.get('calibration', '?')}; consumption: "
              f"{plan.attrs.get('consumption', '?')}."]
    return "\n".join(lines)


@click.command(cls=Command)
@click.argument("run_dir", required=False, type=click.Path(path_type=Path))
@out_option("Folder for the figures: RUN_DIR (default), runs/growth without one, a new or empty folder, "
            "or one edwc wrote.")
@lang_option
@click.option("--formats", default="png,svg", show_default=True,
              help="Figure formats, comma-separated (png, svg, pdf).")
@click.option("--preset", type=click.Choice(["calibrated", "report"]), default="calibrated", show_default=True,
              help="Parameter set of the g(τ) table: calibrated to Chinese data, or the 2023 report's "
              "illustrative one (docs/growth.md). A pathway run keeps the set its scenario chose.")
@debug_option
def growth(run_dir, out_dir, lang, formats, preset, debug):
    """Growth of the compute-capital model of the 2023 compute report.

    Without RUN_DIR: print steady-state growth g against the compute share τ of investment (for
    the --preset parameter set) in the three readings (the report's printed formula, household
    Euler at given r and w, general equilibrium) and plot it (growth_vs_tau). With RUN_DIR, a
    pathway run directory (`edwc run` on a scenario with horizon.end_year set, e.g.
    pathway-2035): plot the plan's τ path and growth, nationally and by region, against the
    counterfactual with the baseline τ only (growth_paths*), and print the key figures. RUN_DIR
    is checked like a scenario file first.
    """
    from edwc_data.outputs import claim_folder

    from planner.growth import preset_params
    from planner.growth_plot import plot_growth_paths, plot_growth_vs_tau

    fmts = _parse_formats(formats)
    if run_dir is None:
        target = claim_folder(out_dir or Path("runs") / "growth", "output", accept=("output", "run"))
        params = preset_params(preset)
        click.echo(format_growth_table(params))
        written = plot_growth_vs_tau(params, out_dir=target, formats=fmts, lang=lang)
    else:
        import pandas as pd

        from planner.pathway_files import read_growth

        frames = read_growth(run_dir)  # the run directory and growth.csv, validated: RunDirError is exit 2
        target = claim_folder(out_dir if out_dir is not None else run_dir, "output", accept=("run", "output"))
        click.echo(format_run_growth(frames))
        plan, cf = frames["national"]
        regional = [p.reset_index().assign(region=name)
                    for name, (p, _) in frames.items() if name != "national"]
        regional_df = pd.concat(regional, ignore_index=True) if regional else None
        written = plot_growth_paths(plan, cf, regional_df, out_dir=target, formats=fmts, lang=lang)
        for name, (p, c) in frames.items():
            if name != "national":
                written += plot_growth_paths(p, c, None, out_dir=target, formats=fmts, lang=lang,
                                             stem=f"growth_paths_{name}")
    click.echo("\nFigures: " + ", ".join(terminal_text(path) for path in written))
