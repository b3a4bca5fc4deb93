"""Tests for the compute-capital growth model (planner/growth.py) and its figures."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from planner import growth as gm
from planner.growth import (
    GrowthParams,
    GrowthParamsError,
    balanced_growth_state,
    calibrate_A,
    calibrated_params,
    capital_split,
    discrete_bgp_growth,
    ge_factor_prices,
    growth_derivative,
    market_tau,
    optimal_tau,
    preset_params,
    service_price,
    simulate,
    steady_state_growth,
    threshold_compute_rental,
)
from planner.growth_regions import simulate_regions

#: The report's illustrative set: every figure of the report's model is checked on it.
P = preset_params("report")
TAUS = np.array([0.05, 0.2, 0.3, 0.45, 0.6, 0.8, 0.95])


@pytest.fixture(scope="module")
def step_run():
    """Exact run from the τ = 0.30 balanced path with an announced rise to 0.45 (years 4-9)."""
    bg = balanced_growth_state(P, 0.30)
    tau = np.r_[np.full(4, 0.30), np.linspace(0.30, 0.45, 6), np.full(110, 0.45)]
    return simulate(P, tau, bg.K0, bg.H0, len(tau), consumption="exact")


# ----------------------------------------------------------------------------- parameters

def test_defaults_and_calibrated_A():
    assert (P.alpha, P.beta, P.sigma, P.delta, P.rho, P.eta, P.r, P.w, P.Hbar) == (
        0.40, 0.30, 1.5, 0.05, 0.02, 1.0, 0.05, 0.06, 1.0)
    # Closed form by hand: y0 = (1.5·0.05 + 0.05 + 0.02)/(0.4 + 0.39) = 0.145/0.79,
    # y0 = A·(1−γ)^0.3·γ^0.3·0.7^0.4·0.3^0.6 with γ = 0.09/0.39.
    gamma = 0.09 / 0.39
    A_hand = (0.145 / 0.79) / ((1 - gamma) ** 0.3 * gamma**0.3 * 0.7**0.4 * 0.3**0.6)
    assert P.A == pytest.approx(A_hand, rel=1e-12)
    assert P.A == pytest.approx(0.7322, abs=5e-4)  # the reference page quotes ≈ 0.7324
    assert calibrate_A(0.05, 0.30, P, "continuous") == pytest.approx(P.A, rel=1e-12)
    assert 1 / gm._y_ge(P, 0.3) == pytest.approx(5.448, abs=1e-3)  # capital/output ≈ 5.4
    assert "5.0 %/yr at τ = 0.30" in P.calibration_note


@pytest.mark.parametrize("g0,tau0", [(0.05, 0.30), (0.03, 0.45), (0.08, 0.15)])
def test_calibration_reproduces_target(g0, tau0):
    p = calibrated_params(g0, tau0, P, "continuous")
    assert steady_state_growth(tau0, p, "ge") == pytest.approx(g0, abs=1e-13)
    assert (p.calibration.g0, p.calibration.tau0) == (g0, tau0)
    # Independent numerical check: solve g(A) = g0 by bracketing instead of the closed form.
    A_num = optimize.brentq(lambda A: steady_state_growth(
        tau0, dataclasses.replace(P, A=A), "ge") - g0, 1e-3, 10, xtol=1e-14)
    assert calibrate_A(g0, tau0, P, "continuous") == pytest.approx(A_num, rel=1e-10)
    pd_ = calibrated_params(g0, tau0, P, timing="discrete")
    assert discrete_bgp_growth(tau0, pd_) == pytest.approx(g0, abs=1e-13)


def test_replace_clears_stale_calibration_and_A_none_recalibrates():
    p2 = dataclasses.replace(P, sigma=2.0)
    assert p2.A == P.A and p2.calibration is None
    assert "set directly" in p2.calibration_note
    p3 = dataclasses.replace(P, sigma=2.0, A=None)
    assert steady_state_growth(0.3, p3, "ge") == pytest.approx(0.05, abs=1e-13)
    assert dataclasses.replace(P, A=P.A * 1.01).calibration is None


@pytest.mark.parametrize("kwargs,word", [
    (dict(alpha=0), "alpha"), (dict(beta=-0.1), "beta"),
    (dict(alpha=0.6, beta=0.4), r"alpha \+ beta"),
    (dict(sigma=0), "sigma"), (dict(rho=0), "rho"), (dict(delta=1.0), "delta"),
    (dict(delta=-0.01), "delta"), (dict(eta=0), "eta"), (dict(A=-1), "A"), (dict(A=0), "A"),
    (dict(alpha="x"), "alpha"), (dict(sigma=float("nan")), "sigma"),
])
def test_validation_errors(kwargs, word):
    with pytest.raises(GrowthParamsError, match=word) as err:
        GrowthParams(**kwargs)
    assert "\n" not in str(err.value)
    assert isinstance(err.value, ValueError)


def test_bad_inputs():
    with pytest.raises(ValueError, match="report.*pe.*ge"):
        steady_state_growth(0.3, P, mode="steady")
    with pytest.raises(ValueError, match="tau"):
        steady_state_growth(1.2, P)
    with pytest.raises(ValueError, match="length"):
        simulate(P, [0.3, 0.3], 100, 50, years=5)
    with pytest.raises(ValueError, match="consumption"):
        simulate(P, 0.3, 100, 50, years=5, consumption="greedy")
    assert GrowthParams(delta=0.0).delta == 0.0  # δ = 0 is allowed


# ----------------------------------------------------------------------------- static results

def test_monopoly_price_and_profit_identities():
    bg = balanced_growth_state(P, 0.3)
    df = simulate(P, 0.3, bg.K0 * 1.3, bg.H0 * 0.7, 5, consumption="rule")
    # Markup pricing p_X = η w/(1−α−β) holds every year at the equilibrium rental w.
    np.testing.assert_allclose(df["p_X"], service_price(P, df["w"].to_numpy()), rtol=1e-12)
    # Monopoly profit = revenue − cost = p_X X − w H_X = (α+β)(1−α−β) Y.
    np.testing.assert_allclose(df["p_X"] * df["X"] - df["w"] * df["H_X"], df["Pi"], rtol=1e-12)
    np.testing.assert_allclose(df["Pi"], 0.7 * 0.3 * df["Y"], rtol=1e-12)
    assert service_price(P) == pytest.approx(1.0 * 0.06 / 0.3)
    assert service_price(dataclasses.replace(P, eta=2.0), w=0.1) == pytest.approx(2 * 0.1 / 0.3)


def test_capital_split_and_independence():
    ratio, gamma = capital_split(P)
    assert ratio == pytest.approx(0.09 / 0.3)  # (1−α−β)²/β = 0.3²/0.3
    assert gamma == pytest.approx(0.09 / 0.39)
    for changes in (dict(eta=3.0), dict(w=0.2), dict(r=0.01), dict(A=2.0)):
        assert capital_split(dataclasses.replace(P, **changes)) == pytest.approx((ratio, gamma))
    # In simulations H_X/H is the same every year whatever the τ path (and hence w).
    bg = balanced_growth_state(P, 0.3)
    for eta in (0.5, 2.0):
        df = simulate(dataclasses.replace(P, eta=eta), np.linspace(0.2, 0.7, 8), bg.K0, bg.H0, 8,
                      consumption="rule")
        np.testing.assert_allclose(df["H_X"] / df["H"], ratio, rtol=1e-12)
        assert df["w"].std() > 0


def test_factor_incomes_add_up(step_run):
    df = step_run
    np.testing.assert_allclose(df["r"] * df["K"] + df["w"] * df["H"] + df["p_X"] * df["X"],
                               df["Y"], rtol=1e-12)
    np.testing.assert_allclose(df["r"] * df["K"] + df["w"] * df["H_T"] + df["Pi"], df["Y"],
                               rtol=1e-12)
    np.testing.assert_allclose(df["C"] + df["I"], df["Y"], rtol=1e-12)
    np.testing.assert_allclose(df["H"] + df["H_X"], df["H_T"], rtol=1e-12)
    # Marginal products: r = ∂Y/∂K by finite difference on the production function.
    K, H, X = df["K"].iloc[3], df["H"].iloc[3], df["X"].iloc[3]
    f = lambda k: P.A * (P.Hbar * k) ** 0.4 * H**0.3 * X**0.3  # noqa: E731
    dYdK = (f(K * (1 + 1e-6)) - f(K * (1 - 1e-6))) / (2e-6 * K)
    assert dYdK == pytest.approx(df["r"].iloc[3], rel=1e-8)


def test_threshold_market_and_optimal_tau():
    # w* = Φ_H r/α = 0.39 · 0.05 / 0.4
    assert threshold_compute_rental(P) == pytest.approx(0.04875, abs=1e-15)
    assert optimal_tau(P) == pytest.approx(0.6)
    assert market_tau(P) == pytest.approx(0.39 / 0.79)
    for a, b in [(0.4, 0.3), (0.2, 0.5), (0.6, 0.1), (0.3, 0.6)]:
        p = preset_params("report", alpha=a, beta=b)
        assert market_tau(p) < optimal_tau(p)
        r, w = ge_factor_prices(market_tau(p), p)
        assert r == pytest.approx(w, rel=1e-12)  # τ_m is where ge rentals are equal


# ----------------------------------------------------------------------------- growth formulas

def test_report_mode_by_hand():
    # Φ_H = 0.3 + 0.3² = 0.39; r/α = 0.05/0.4 = 0.125; w/Φ_H = 0.06/0.39 = 0.153846...
    # τ = 0:   (0.125 − 0.07)/1.5 = 0.055/1.5 = 0.036666...
    # τ = 0.5: (0.0625 + 0.0769231 − 0.07)/1.5 = 0.0694231/1.5 = 0.0462821
    # τ = 1:   (0.1538462 − 0.07)/1.5 = 0.0838462/1.5 = 0.0558974
    g = steady_state_growth(np.array([0.0, 0.5, 1.0]), P, "report")
    np.testing.assert_allclose(g, [0.055 / 1.5, 0.0694231 / 1.5, 0.0838462 / 1.5], atol=1e-7)
    assert isinstance(steady_state_growth(0.5, P, "report"), float)
    assert isinstance(g, np.ndarray) and g.shape == (3,)
    # pe by hand at τ = 0.5: (0.025 + 0.03 − 0.07)/1.5 = −0.01
    assert steady_state_growth(0.5, P, "pe") == pytest.approx(-0.01, abs=1e-15)


def test_ge_equals_euler_at_ge_prices_and_report_gap():
    for tau in TAUS:
        r, w = ge_factor_prices(tau, P)
        at_prices = dataclasses.replace(P, r=r, w=w)
        # ge growth is the household Euler equation evaluated at the balanced-path rentals.
        assert steady_state_growth(tau, at_prices, "pe") == pytest.approx(
            steady_state_growth(tau, P, "ge"), abs=1e-14)
        # The report's bracket uses average products: at the same prices it reads 2y − δ − ρ.
        y = gm._y_ge(P, tau)
        assert steady_state_growth(tau, at_prices, "report") == pytest.approx(
            (2 * y - P.delta - P.rho) / P.sigma, abs=1e-14)
    assert steady_state_growth(np.array([0.0, 1.0]), P, "ge") == pytest.approx(
        [-(P.delta + P.rho) / P.sigma] * 2)


@pytest.mark.parametrize("mode", gm.MODES)
def test_derivatives_match_finite_differences(mode):
    h = 1e-6
    for p in (P, preset_params("report", alpha=0.25, beta=0.5, sigma=0.8, w=0.03)):
        up, down = steady_state_growth(TAUS + h, p, mode), steady_state_growth(TAUS - h, p, mode)
        num = (up - down) / (2 * h)
        np.testing.assert_allclose(growth_derivative(TAUS, p, mode), num, rtol=1e-6, atol=1e-9)
    assert isinstance(growth_derivative(0.3, P, mode), float)


def test_ge_derivative_limits():
    d = growth_derivative(np.array([0.0, 1.0]), P, "ge")
    assert d[0] == np.inf and d[1] == -np.inf
    assert growth_derivative(0.6, P, "ge") == pytest.approx(0.0, abs=1e-15)


def test_report_slope_sign_flips_at_threshold():
    ws = threshold_compute_rental(P)
    for w, sign in ((ws * 1.001, 1), (ws * 0.999, -1)):
        p = dataclasses.replace(P, w=w)
        assert np.sign(growth_derivative(0.4, p, "report")) == sign
        g = steady_state_growth(np.array([0.2, 0.8]), p, "report")
        assert np.sign(g[1] - g[0]) == sign
    at_threshold = dataclasses.replace(P, w=ws)
    assert growth_derivative(0.4, at_threshold, "report") == pytest.approx(0, abs=1e-15)


def test_ge_peak_at_one_minus_alpha():
    for alpha, beta in [(0.4, 0.3), (0.25, 0.5), (0.55, 0.2)]:
        p = preset_params("report", alpha=alpha, beta=beta)
        grid = np.linspace(0.001, 0.999, 99_801)
        g = steady_state_growth(grid, p, "ge")
        assert grid[np.argmax(g)] == pytest.approx(1 - alpha, abs=2e-5)
        res = optimize.minimize_scalar(lambda t, p=p: -steady_state_growth(t, p, "ge"),
                                       bounds=(0.01, 0.99), method="bounded",
                                       options={"xatol": 1e-10})
        assert res.x == pytest.approx(1 - alpha, abs=1e-6)
        assert steady_state_growth(market_tau(p), p, "ge") < steady_state_growth(1 - alpha, p, "ge")


# ----------------------------------------------------------------------------- dynamics

@pytest.mark.parametrize("consumption", ["exact", "rule"])
@pytest.mark.parametrize("tau", [0.3, 0.6])
def test_balanced_path_is_stationary(consumption, tau):
    bg = balanced_growth_state(P, tau, Y0=100)
    df = simulate(P, tau, bg.K0, bg.H0, 60, consumption=consumption, start_year=2025)
    assert df.index[0] == 2025 and len(df) == 60
    assert df["Y"].iloc[0] == pytest.approx(100, rel=1e-12)
    assert df["C"].iloc[0] == pytest.approx(bg.C0, rel=1e-9)
    G = discrete_bgp_growth(tau, P)
    for col in ("g_Y", "g_C", "g_K", "g_H"):
        assert np.isnan(df[col].iloc[0])
        np.testing.assert_allclose(df[col].iloc[1:], G, rtol=0, atol=1e-9)
    assert df.attrs["calibration"] == P.calibration_note
    assert list(df.columns) == gm.PATH_COLUMNS


def test_exact_solution_satisfies_household_conditions(step_run):
    """Check the first-order conditions directly, by present-value sums over the simulated path."""
    df, p = step_run, P
    beta_ = 1 / (1 + p.rho)
    mu = df["C"].to_numpy() ** (-p.sigma)
    r, w, tau = df["r"].to_numpy(), df["w"].to_numpy(), df["tau"].to_numpy()
    n = len(df)
    # Years past the horizon: balanced path at τ = 0.45 (μ falls by G^(−σ) a year, r and w fixed).
    q = beta_ * (1 - p.delta) * (1 + discrete_bgp_growth(0.45, p)) ** (-p.sigma)
    tail = q / (1 - q) * beta_ ** (n - 1) * (1 - p.delta) ** (n - 2) * mu[-1]
    for t in range(0, 25):
        s = np.arange(t + 1, n)
        disc = beta_ ** (s - t) * (1 - p.delta) ** (s - t - 1) * mu[s]
        scale = (beta_ * (1 - p.delta)) ** (-t)
        lam_K = np.sum(disc * r[s]) + tail * scale * r[-1]
        lam_H = np.sum(disc * w[s]) + tail * scale * w[-1]
        # C_t^(−σ) = (1−τ_t) λ_K + τ_t λ_H
        assert (1 - tau[t]) * lam_K + tau[t] * lam_H == pytest.approx(mu[t], rel=1e-9)
    # Where τ does not change, the exact path obeys the simple consumption rule too.
    R = (1 - tau[:-1]) * r[1:] + tau[:-1] * w[1:]
    rule = ((1 + R - p.delta) / (1 + p.rho)) ** (1 / p.sigma)
    growth = df["C"].to_numpy()[1:] / df["C"].to_numpy()[:-1]
    same = np.r_[tau[1:-1] == tau[:-2], False] & (np.arange(n - 1) > 0)
    np.testing.assert_allclose(growth[same][:-5], rule[same][:-5], rtol=1e-8)
    # After the plan the economy converges to the τ = 0.45 balanced path.
    assert df["g_Y"].iloc[-1] == pytest.approx(discrete_bgp_growth(0.45, P), abs=1e-7)
    # The K/H_T mix converges at (1−δ)/G ≈ 0.89 a year: 3e-6 left after 110 years.
    assert df["K"].iloc[-1] / df["H_T"].iloc[-1] == pytest.approx(0.55 / 0.45, rel=1e-5)


def test_rule_follows_its_euler_equation():
    bg = balanced_growth_state(P, 0.3)
    tau = np.linspace(0.3, 0.5, 12)
    df = simulate(P, tau, bg.K0, bg.H0, 12, consumption="rule")
    R = (1 - tau[:-1]) * df["r"].to_numpy()[1:] + tau[:-1] * df["w"].to_numpy()[1:]
    np.testing.assert_allclose(df["g_C"].to_numpy()[1:],
                               ((1 + R - P.delta) / (1 + P.rho)) ** (1 / P.sigma) - 1, rtol=1e-12)
    assert df["C"].iloc[0] / df["Y"].iloc[0] == pytest.approx(bg.C0 / 100, rel=1e-12)


def test_exact_run_off_balanced_path_converges():
    bg = balanced_growth_state(P, 0.4)
    df = simulate(P, 0.4, bg.K0 * 1.5, bg.H0 * 0.6, 120, consumption="exact")
    assert df["g_Y"].iloc[1] != pytest.approx(discrete_bgp_growth(0.4, P), abs=1e-4)
    gap = np.abs(df["g_Y"].to_numpy()[1:] - discrete_bgp_growth(0.4, P))
    assert gap[-1] < 1e-7 and gap[-1] < 1e-4 * gap[0]


# ----------------------------------------------------------------------------- regions

def test_regions_diverge():
    bg = balanced_growth_state(P, 0.3)
    regions = {
        "near_optimum": dict(tau_path=0.55, K0=bg.K0, H0=bg.H0),
        "baseline": dict(tau_path=0.30, K0=bg.K0, H0=bg.H0),
        "low": dict(tau_path=np.full(40, 0.20), K0=bg.K0, H0=bg.H0),
    }
    paths, disp = simulate_regions(P, regions, years=40, consumption="exact", start_year=2025)
    assert set(paths["region"]) == set(regions) and len(paths) == 120
    final = paths[paths["year"] == 2064].set_index("region")["Y"]
    assert final["near_optimum"] > final["baseline"] > final["low"]
    assert list(disp.columns) == ["sd_log_Y", "max_min_ratio"]
    assert disp["sd_log_Y"].iloc[0] == pytest.approx(0, abs=1e-12)
    assert disp["max_min_ratio"].iloc[0] == pytest.approx(1, abs=1e-12)
    # No convergence force: the gap widens every year after the first few.
    assert (np.diff(disp["sd_log_Y"].to_numpy()[5:]) > 0).all()
    assert disp["max_min_ratio"].iloc[-1] > 1.5


def test_regions_from_dataframe_and_own_A():
    bg = balanced_growth_state(P, 0.3)
    frame = pd.DataFrame({"region": ["a"] * 3 + ["b"] * 3, "year": [2030, 2031, 2032] * 2,
                          "tau": [0.3, 0.3, 0.3, 0.3, 0.4, 0.5], "K0": bg.K0, "H0": bg.H0,
                          "A": [np.nan] * 3 + [0.8] * 3})
    paths, disp = simulate_regions(P, frame, consumption="rule")
    assert list(disp.index) == [2030, 2031, 2032]
    b = paths[paths["region"] == "b"]
    assert b["tau"].tolist() == [0.3, 0.4, 0.5]
    assert b["Y"].iloc[0] / paths["Y"].iloc[0] == pytest.approx(0.8 / P.A, rel=1e-12)
    with pytest.raises(ValueError, match="years"):
        simulate_regions(P, {"x": dict(tau_path=0.3, K0=1, H0=1)})


# ----------------------------------------------------------------------------- figures

def test_plots_write_files(tmp_path):
    from planner.growth_plot import plot_growth_paths, plot_growth_vs_tau

    files = plot_growth_vs_tau(P, tmp_path, formats=("png", "svg"))
    assert [f.suffix for f in files] == [".png", ".svg"]
    assert all(f.stat().st_size > 5000 for f in files)
    assert "as stated in the report" in files[1].read_text()
    bg = balanced_growth_state(P, 0.3)
    plan = simulate(P, np.linspace(0.3, 0.45, 10), bg.K0, bg.H0, 10, consumption="rule")
    cf = simulate(P, 0.3, bg.K0, bg.H0, 10, consumption="rule")
    reg, _ = simulate_regions(P, {"a": dict(tau_path=0.3, K0=bg.K0, H0=bg.H0),
                                  "b": dict(tau_path=0.5, K0=bg.K0, H0=bg.H0)}, years=10,
                              consumption="rule")
    out = plot_growth_paths(plan, cf, reg, out_dir=tmp_path, formats=("png",))
    assert out[0].exists() and out[0].stat().st_size > 5000


# ----------------------------------------------------------------------------- calibrated default

def test_default_is_the_calibrated_preset_and_matches_the_data():
    from edwc_data.tables import load_defaults

    d = load_defaults()["growth"]
    p = GrowthParams()
    assert p.preset == "calibrated" and d["preset"] == "calibrated"
    assert 1 - p.alpha == pytest.approx(d["compute_elasticity"], rel=1e-12)
    assert 1 - p.alpha - p.beta == pytest.approx(d["services_share"], rel=1e-12)
    assert (p.sigma, p.delta, p.rho) == (d["sigma"], d["delta"], d["rho"])
    assert p.calibration.tau0 == load_defaults()["investment"]["baseline_compute_share"]
    assert preset_params() == p
    assert "calibrated to Chinese data" in p.calibration_note
    assert "illustrative" in P.calibration_note and P.preset == "report"
    with pytest.raises(GrowthParamsError, match="preset"):
        preset_params("guess")


def test_calibrated_default_reproduces_its_targets():
    p = GrowthParams()
    bg = balanced_growth_state(p, 0.024)
    # Target 1 (CAICT): +1 % of compute capital gives +0.2 % of output, measured on the production function.
    h = 1e-4
    lo, hi = gm._production(p, bg.K0, bg.H0 * np.exp(-h)), gm._production(p, bg.K0, bg.H0 * np.exp(h))
    assert np.log(hi["Y"] / lo["Y"]) / (2 * h) == pytest.approx(0.2, abs=1e-9)
    # Target 2 (CAICT, NBS): compute services earn 1.5 % of output, every year of a run.
    run = simulate(p, 0.024, bg.K0, bg.H0, 5, consumption="exact")
    assert (run["p_X"] * run["X"] / run["Y"]).to_numpy() == pytest.approx(0.015, abs=1e-9)
    # Target 3 (NBS): 5 %/yr on the yearly balanced path at the baseline τ = 2.4 %.
    assert run["g_Y"].dropna().to_numpy() == pytest.approx(0.05, abs=1e-9)
    # Regression values of what the calibration implies (docs/growth.md, "Calibration").
    assert p.A == pytest.approx(0.355904, abs=1e-6)
    assert (1 - p.alpha) * run["Y"].iloc[0] / run["H_T"].iloc[0] == pytest.approx(1.2472, abs=1e-4)
    assert (bg.K0 + bg.H0) / 100 == pytest.approx(6.682, abs=1e-3)


def test_calibrated_growth_stays_plausible():
    p = GrowthParams()
    grid = np.linspace(0.005, 0.30, 300)
    g = discrete_bgp_growth(grid, p)
    assert g.min() > 0.02 and g.max() < 0.08  # the report's set peaks near 38 %/yr
    assert discrete_bgp_growth(optimal_tau(p), p) == pytest.approx(0.07834, abs=1e-5)
    assert discrete_bgp_growth(optimal_tau(P), preset_params("report", calibration=p.calibration)) > 0.35
    # A plan that lifts τ by 0.7 points moves balanced growth by a few tenths of a point.
    lift = discrete_bgp_growth(0.031, p) - discrete_bgp_growth(0.024, p)
    assert 0.001 < lift < 0.006


def test_bound_to_nation_keeps_shares_and_adds_up():
    from planner.growth_regions import bound_to_nation

    p = GrowthParams()
    nat = balanced_growth_state(p, 0.024, 100.0)
    national = simulate(p, np.r_[0.024, np.full(9, 0.034)], nat.K0, nat.H0, 10, start_year=2025)
    specs = {}
    for name, share, tau in (("big", 0.9, 0.025), ("small", 0.1, 0.12)):
        s = balanced_growth_state(p, 0.024, 100.0 * share)
        specs[name] = dict(tau_path=np.r_[0.024, np.full(9, tau)], K0=s.K0, H0=s.H0)
    raw, _ = simulate_regions(p, specs, 10, start_year=2025)
    bounded = bound_to_nation(raw, national)
    for column in ("Y", "C", "K", "H_T"):
        total = bounded.groupby("year")[column].sum()
        assert total.to_numpy() == pytest.approx(national[column].to_numpy(), rel=1e-12)
    # Each year a region keeps its simulated share of the regions' output.
    share_raw = raw.set_index(["year", "region"])["Y"].unstack()
    share_bounded = bounded.set_index(["year", "region"])["Y"].unstack()
    assert (share_bounded.div(share_bounded.sum(axis=1), axis=0).to_numpy()
            == pytest.approx(share_raw.div(share_raw.sum(axis=1), axis=0).to_numpy(), rel=1e-12))
    small = bounded[bounded["region"] == "small"].set_index("year")
    assert small["g_Y"].iloc[1:].to_numpy() == pytest.approx(
        (small["Y"] / small["Y"].shift(1) - 1).iloc[1:].to_numpy(), rel=1e-12)
    with pytest.raises(ValueError, match="lacks the years"):
        bound_to_nation(raw, national.iloc[:5])
