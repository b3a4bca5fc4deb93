"""Compute-capital growth model of "中国算力发展观察报告" (2023, Tsinghua IGI & Inspur)."""

# Final goods Y = A (H̄K)^α H^β X^(1−α−β); a monopolist rents compute capital H_X and sells
# services X = H_X/η; households put a share τ of gross investment into compute capital
# H_T = H + H_X and 1 − τ into K. The fixed split of H_T makes it AK-type: Y = B K^α H_T^(1−α).
# Steady-state growth has three readings (mode): "report" = the report's printed formula
# (r, w given); "pe" = household Euler equation at given r, w; "ge" = general-equilibrium
# balanced growth (r, w endogenous), a hump in τ peaking at 1 − α. Rates are per year
# (0.05 = 5 %/yr); levels are index units (Y0 = 100). Derivations: docs/growth.md.
# Two parameter sets (PRESETS): "calibrated", the default, takes the output elasticities from
# Chinese figures (data/defaults.yaml ``growth``); "report" is the report's illustrative set.

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize

__all__ = [
    "MODES",
    "PRESETS",
    "BalancedGrowthState",
    "Calibration",
    "GrowthParams",
    "GrowthParamsError",
    "balanced_growth_state",
    "calibrate_A",
    "calibrated_params",
    "capital_split",
    "discrete_bgp_growth",
    "ge_factor_prices",
    "growth_derivative",
    "market_tau",
    "optimal_tau",
    "preset_params",
    "service_price",
    "simulate",
    "steady_state_growth",
    "threshold_compute_rental",
]

MODES = ("report", "pe", "ge")
TIMINGS = ("continuous", "discrete")
PATH_COLUMNS = ["Y", "K", "H_T", "H", "H_X", "X", "C", "I", "r", "w", "p_X", "Pi", "tau",
                "g_Y", "g_C", "g_K", "g_H"]


class GrowthParamsError(ValueError):
    """Invalid growth-model parameter (one-line message naming the parameter)."""


@dataclass(frozen=True)
class Calibration:
    """Record of how the productivity level A was set.

    Parameters
    ----------
    g0 : float
        Target ge-mode steady-state growth, per year (0.05 = 5 %/yr).
    tau0 : float
        Compute share of investment at which the target holds, in (0, 1). The default 0.024 is
        the default baseline τ (ICT investment 2.4 % of gross fixed capital formation).
    timing : {"continuous", "discrete"}
        ``"continuous"``: the ge formula of :func:`steady_state_growth` equals g0;
        ``"discrete"`` (default): the yearly balanced path of :func:`simulate` grows at g0.
    """

    g0: float = 0.05
    tau0: float = 0.024
    timing: str = "discrete"

    def __post_init__(self):
        if self.timing not in TIMINGS:
            msg = f"Calibration: timing must be one of {TIMINGS}, got {self.timing!r}"
            raise GrowthParamsError(msg)
        if not 0.0 < self.tau0 < 1.0:
            msg = f"Calibration: tau0 must lie in (0, 1), got {self.tau0}"
            raise GrowthParamsError(msg)
        if not math.isfinite(self.g0):
            msg = f"Calibration: g0 must be finite, got {self.g0}"
            raise GrowthParamsError(msg)

    def __str__(self) -> str:
        kind = "ge formula" if self.timing == "continuous" else "yearly simulation"
        exact = abs(self.tau0 - round(self.tau0, 2)) < 1e-12
        tau = f"{self.tau0:.2f}" if exact else f"{self.tau0:.4g}"
        return f"ge growth {100 * self.g0:.1f} %/yr at τ = {tau} ({kind})"


def _require(ok: bool, msg: str) -> None:
    if not ok:
        full = f"GrowthParams: {msg}"
        raise GrowthParamsError(full)


@dataclass(frozen=True)
class GrowthParams:
    """Parameters of the compute-capital growth model (all rates per year).

    Parameters
    ----------
    alpha, beta : float
        Output elasticities of non-compute capital K and of compute capital H used by final-goods
        firms; compute services get 1 − α − β. Need α, β > 0 and α + β < 1. Defaults (the
        ``calibrated`` preset): 1 − α = 0.2, the elasticity of GDP to compute, and
        1 − α − β = 0.015, the revenue share of compute services (data/defaults.yaml ``growth``,
        docs/growth.md); the report's illustrative set is ``preset_params("report")``.
    sigma : float
        Relative risk aversion (inverse intertemporal elasticity), > 0.
    delta : float
        Depreciation rate of both capitals, 0 ≤ δ < 1.
    rho : float
        Utility discount rate, > 0.
    r, w : float
        Rental of K and of compute capital, used only by the fixed-price modes "report" and "pe"
        (defaults 0.05 and 0.06, the report's: just above its threshold w* = 0.04875 there).
    eta : float
        Compute capital needed per unit of compute service (X = H_X / η), > 0.
    A : float or None
        Productivity level. ``None`` (default) calibrates it so that ge growth meets ``calibration``
        (default: the yearly balanced path grows 5 %/yr at τ = 0.024).
    Hbar : float
        Average compute stock in the synergy term (H̄ K)^α, held constant (folded into A), > 0.
    calibration : Calibration or None
        How A was obtained. Kept only if it reproduces A; if A is given and does not match (e.g.
        after ``dataclasses.replace(p, sigma=2)``) it is cleared and A counts as set directly.
        Pass ``A=None`` to recalibrate with the stored (or default) calibration.

    Raises
    ------
    GrowthParamsError
        On any invalid value, with a one-line message.
    """

    alpha: float = 0.80
    beta: float = 0.185
    sigma: float = 1.5
    delta: float = 0.05
    rho: float = 0.02
    r: float = 0.05
    w: float = 0.06
    eta: float = 1.0
    A: float | None = None
    Hbar: float = 1.0
    calibration: Calibration | None = None

    def __post_init__(self):
        for name in ("alpha", "beta", "sigma", "delta", "rho", "r", "w", "eta", "A", "Hbar"):
            value = getattr(self, name)
            if value is None and name == "A":
                continue
            try:
                value = float(value)
            except (TypeError, ValueError):
                msg = f"GrowthParams: {name} must be a number, got {value!r}"
                raise GrowthParamsError(msg) from None
            _require(math.isfinite(value), f"{name} must be finite, got {value}")
            object.__setattr__(self, name, value)  # frozen: coerce ints / numpy scalars to float
        a, b = self.alpha, self.beta
        _require(a > 0, f"alpha must be > 0, got {a}")
        _require(b > 0, f"beta must be > 0, got {b}")
        _require(a + b < 1, f"alpha + beta must be < 1, got {a} + {b} = {a + b:g}")
        _require(self.sigma > 0, f"sigma must be > 0, got {self.sigma}")
        _require(self.rho > 0, f"rho must be > 0, got {self.rho}")
        _require(0 <= self.delta < 1, f"delta must satisfy 0 <= delta < 1, got {self.delta}")
        _require(self.eta > 0, f"eta must be > 0, got {self.eta}")
        _require(self.Hbar > 0, f"Hbar must be > 0, got {self.Hbar}")
        _require(self.r > 0, f"r (rental of K) must be > 0, got {self.r}")
        _require(self.w > 0, f"w (compute rental) must be > 0, got {self.w}")
        cal = self.calibration
        if cal is not None and not isinstance(cal, Calibration):
            msg = f"GrowthParams: calibration must be a Calibration, got {cal!r}"
            raise GrowthParamsError(msg)
        if self.A is None:
            cal = cal or Calibration()
            object.__setattr__(self, "A", _calibrated_A(self, cal))
            object.__setattr__(self, "calibration", cal)
        else:
            _require(self.A > 0, f"A must be > 0, got {self.A}")
            # A stored calibration that no longer reproduces A would mislabel every growth figure.
            if cal is not None and not math.isclose(self.A, _calibrated_A(self, cal), rel_tol=1e-9):
                object.__setattr__(self, "calibration", None)

    @property
    def phi_H(self) -> float:
        """Φ_H = β + (1−α−β)²: compute capital's income share (rentals from both users)."""
        return self.beta + (1.0 - self.alpha - self.beta) ** 2

    @property
    def gamma(self) -> float:
        """γ = (1−α−β)²/Φ_H: share of compute capital rented by the service monopolist."""
        return (1.0 - self.alpha - self.beta) ** 2 / self.phi_H

    @property
    def B(self) -> float:
        """Reduced-form productivity in Y = B K^α H_T^(1−α)."""
        a, b, g = self.alpha, self.beta, self.gamma
        return self.A * self.Hbar**a * (1 - g) ** b * (g / self.eta) ** (1 - a - b)

    @property
    def preset(self) -> str | None:
        """Name of the entry of ``PRESETS`` whose structural parameters these are, else None."""
        for name, values in PRESETS.items():
            if all(math.isclose(getattr(self, key), values[key], rel_tol=1e-12) for key in STRUCTURAL):
                return name
        return None

    @property
    def calibration_note(self) -> str:
        """One line saying which parameter set and how A was set, for captions next to any growth figure."""
        name = self.preset
        which = PRESET_LABELS[name] if name else "parameters set directly"
        tail = f"{which} (α = {self.alpha:g}, β = {self.beta:g})"
        if self.calibration is None:
            return f"A = {self.A:.4f} set directly (not calibrated); {tail}"
        return f"A = {self.A:.4f} calibrated: {self.calibration}; {tail}"


#: Parameters that define a parameter set (A follows from them and the calibration).
STRUCTURAL = ("alpha", "beta", "sigma", "delta", "rho", "r", "w", "eta", "Hbar")
#: Named parameter sets. "calibrated" is the default: 1 − α = 0.2 is the elasticity of GDP to
#: compute and 1 − α − β = 0.015 the revenue share of compute services, both from Chinese figures
#: (data/SOURCES.md, docs/growth.md), A set so that the yearly path grows 5 %/yr at the baseline
#: τ = 0.024. "report" is the illustrative set of the 2023 compute report's appendix (A at 5 %/yr
#: for τ = 0.30 in the continuous formula): for reproducing the report, not for quoting a plan.
PRESETS: dict[str, dict] = {
    "calibrated": {"alpha": 0.80, "beta": 0.185, "sigma": 1.5, "delta": 0.05, "rho": 0.02,
                   "r": 0.05, "w": 0.06, "eta": 1.0, "Hbar": 1.0,
                   "calibration": Calibration(0.05, 0.024, "discrete")},
    "report": {"alpha": 0.40, "beta": 0.30, "sigma": 1.5, "delta": 0.05, "rho": 0.02,
               "r": 0.05, "w": 0.06, "eta": 1.0, "Hbar": 1.0,
               "calibration": Calibration(0.05, 0.30, "continuous")},
}
#: Caption of each preset, next to every growth figure.
PRESET_LABELS = {"calibrated": "calibrated to Chinese data",
                 "report": "the 2023 compute report's illustrative set"}


def preset_params(name: str = "calibrated", **changes) -> GrowthParams:
    """Parameters of a named set (``PRESETS``), A calibrated with the set's calibration.

    Parameters
    ----------
    name : {"calibrated", "report"}
        ``"calibrated"``: the data-calibrated default (docs/growth.md); ``"report"``: the 2023
        compute report's illustrative α = 0.4, β = 0.3 (A ≈ 0.7322: 5 %/yr at τ = 0.30).
    **changes
        Fields replaced before A is calibrated (e.g. ``sigma=2``).

    Returns
    -------
    GrowthParams

    Raises
    ------
    GrowthParamsError
        Unknown preset name or an invalid value.
    """
    if name not in PRESETS:
        msg = f"GrowthParams: preset must be one of {tuple(PRESETS)}, got {name!r}"
        raise GrowthParamsError(msg)
    values = {**PRESETS[name], **changes}
    values.setdefault("A", None)
    return GrowthParams(**values)


def _calibrated_A(p: GrowthParams, cal: Calibration) -> float:
    # y = Y/(K + H_T) is linear in B, so the target growth pins y and hence A in closed form.
    if cal.timing == "continuous":
        R0 = p.sigma * cal.g0 + p.delta + p.rho
    else:
        R0 = (1 + p.rho) * (1 + cal.g0) ** p.sigma - 1 + p.delta
    _require(R0 > 0, f"calibration target g0 = {cal.g0} is below what any A > 0 can produce")
    y0 = R0 / (p.alpha + p.phi_H)
    shape = (1 - cal.tau0) ** p.alpha * cal.tau0 ** (1 - p.alpha)
    a, b, g = p.alpha, p.beta, p.gamma
    return y0 / shape / (p.Hbar**a * (1 - g) ** b * (g / p.eta) ** (1 - a - b))


def calibrate_A(g0: float = 0.05, tau0: float = 0.024, params: GrowthParams | None = None,
                timing: str = "discrete") -> float:
    """Productivity level A at which ge-mode steady-state growth equals ``g0`` at ``tau0``.

    Parameters
    ----------
    g0 : float
        Target growth per year (0.05 = 5 %/yr).
    tau0 : float
        Compute share of gross investment in (0, 1), e.g. the scenario's baseline τ.
    params : GrowthParams, optional
        Supplies every other parameter (its own A is ignored). Defaults to ``GrowthParams()``.
    timing : {"continuous", "discrete"}
        Match the ge formula of :func:`steady_state_growth` or the yearly balanced path of
        :func:`simulate` (:func:`discrete_bgp_growth`, the default).

    Returns
    -------
    float
        A (closed form: g pins the output/capital ratio y, which is proportional to A).
    """
    return _calibrated_A(params or GrowthParams(), Calibration(g0, tau0, timing))


def calibrated_params(g0: float = 0.05, tau0: float = 0.024, params: GrowthParams | None = None,
                      timing: str = "discrete") -> GrowthParams:
    """Copy of ``params`` with A calibrated as in :func:`calibrate_A`, the calibration recorded.

    Returns
    -------
    GrowthParams
        ``.calibration`` holds (g0, tau0, timing); ``.calibration_note`` is a caption line.
    """
    return dataclasses.replace(params or GrowthParams(), A=None,
                               calibration=Calibration(g0, tau0, timing))


# ----------------------------------------------------------------------------- static results

def threshold_compute_rental(params: GrowthParams | None = None) -> float:
    """The report's threshold w* = Φ_H·r/α: report-mode growth rises with τ iff w > w*.

    Returns
    -------
    float
        Compute-capital rental per year (0.04875 with the report preset).
    """
    p = params or GrowthParams()
    return p.phi_H * p.r / p.alpha


def capital_split(params: GrowthParams | None = None) -> tuple[float, float]:
    """Split of compute capital between final-goods firms (H) and the service monopolist (H_X).

    Returns
    -------
    (ratio, gamma) : tuple of float
        ``ratio = H_X/H = (1−α−β)²/β`` and ``gamma = H_X/H_T = (1−α−β)²/Φ_H``. Neither depends on
        η, τ, w or time: the split holds every period.
    """
    p = params or GrowthParams()
    return (1 - p.alpha - p.beta) ** 2 / p.beta, p.gamma


def service_price(params: GrowthParams | None = None, w=None):
    """Monopoly price of compute services, p_X = η·w/(1−α−β).

    The monopolist faces demand elasticity 1/(α+β) from final-goods firms, so marginal revenue
    (1−α−β)·p_X equals the marginal cost η·w.

    Parameters
    ----------
    params : GrowthParams, optional
    w : float or array_like, optional
        Rental of compute capital per year; defaults to ``params.w``.

    Returns
    -------
    float or ndarray
        Price of one unit of compute service, in final goods per year.
    """
    p = params or GrowthParams()
    w = p.w if w is None else w
    out = p.eta * np.asarray(w, dtype=float) / (1 - p.alpha - p.beta)
    return float(out) if out.ndim == 0 else out


def market_tau(params: GrowthParams | None = None) -> float:
    """τ_m = Φ_H/(α+Φ_H): the compute share at which ge rentals are equal (r = w).

    It is what a market choosing the portfolio would pick; it is below 1 − α because the
    monopoly markup keeps part of compute's product (profits) away from capital owners.
    """
    p = params or GrowthParams()
    return p.phi_H / (p.alpha + p.phi_H)


def optimal_tau(params: GrowthParams | None = None) -> float:
    """τ* = 1 − α: the compute share that maximises ge steady-state growth."""
    p = params or GrowthParams()
    return 1.0 - p.alpha


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        msg = f"mode must be one of {MODES}, got {mode!r}"
        raise ValueError(msg)


def _as_tau(tau, open_interval: bool = False) -> np.ndarray:
    t = np.asarray(tau, dtype=float)
    bad = ~((t > 0) & (t < 1)) if open_interval else ~((t >= 0) & (t <= 1))
    if np.any(bad):
        span = "(0, 1)" if open_interval else "[0, 1]"
        msg = f"tau must lie in {span}, got {t[bad].ravel()[:3].tolist()}"
        raise ValueError(msg)
    return t


def _out(x: np.ndarray, like: np.ndarray):
    return float(x) if like.ndim == 0 else x


def _y_ge(p: GrowthParams, t: np.ndarray) -> np.ndarray:
    """Output per unit of total capital on the balanced path, y = B (1−τ)^α τ^(1−α)."""
    return p.B * (1 - t) ** p.alpha * t ** (1 - p.alpha)


def ge_factor_prices(tau, params: GrowthParams | None = None):
    """Rentals r and w on the ge balanced growth path at compute share τ ∈ (0, 1).

    Returns
    -------
    (r, w) : floats or ndarrays
        ``r = α·y/(1−τ)`` and ``w = Φ_H·y/τ`` per year, with y the output/capital ratio.
    """
    p = params or GrowthParams()
    t = _as_tau(tau, open_interval=True)
    y = _y_ge(p, t)
    return _out(p.alpha * y / (1 - t), t), _out(p.phi_H * y / t, t)


def steady_state_growth(tau, params: GrowthParams | None = None, mode: str = "report"):
    """Steady-state growth rate g(τ) per year (continuous time).

    Parameters
    ----------
    tau : float or array_like
        Compute share of gross investment, in [0, 1].
    params : GrowthParams, optional
    mode : {"report", "pe", "ge"}
        ``"report"``: ``(1/σ)[(1−τ)r/α + τw/Φ_H − δ − ρ]``, exactly as the report prints it
        (r/α and w/Φ_H are average products Y/K and Y/H_T, not returns);
        ``"pe"``: ``[(1−τ)r + τw − δ − ρ]/σ``, the household's Euler equation at given rentals;
        ``"ge"``: ``[(α+Φ_H)·y − δ − ρ]/σ`` with ``y = B(1−τ)^α τ^(1−α)`` (y = 0 at τ = 0 or 1).

    Returns
    -------
    float or ndarray
        Growth per year (0.05 = 5 %/yr); float for scalar τ.
    """
    _check_mode(mode)
    p = params or GrowthParams()
    t = _as_tau(tau)
    if mode == "report":
        g = ((1 - t) * p.r / p.alpha + t * p.w / p.phi_H - p.delta - p.rho) / p.sigma
    elif mode == "pe":
        g = ((1 - t) * p.r + t * p.w - p.delta - p.rho) / p.sigma
    else:
        g = ((p.alpha + p.phi_H) * _y_ge(p, t) - p.delta - p.rho) / p.sigma
    return _out(g, t)


def growth_derivative(tau, params: GrowthParams | None = None, mode: str = "report"):
    """Analytic ∂g/∂τ of :func:`steady_state_growth` (per year per unit of τ).

    ``"report"``: ``(w/Φ_H − r/α)/σ`` (constant; positive iff w > w*);
    ``"pe"``: ``(w − r)/σ``;
    ``"ge"``: ``(α+Φ_H)·y·[(1−α)/τ − α/(1−τ)]/σ``, zero at τ = 1 − α, +inf at τ = 0, −inf at 1.

    Returns
    -------
    float or ndarray
        Same shape as ``tau``.
    """
    _check_mode(mode)
    p = params or GrowthParams()
    t = _as_tau(tau)
    if mode == "report":
        d = np.full(t.shape, (p.w / p.phi_H - p.r / p.alpha) / p.sigma)
    elif mode == "pe":
        d = np.full(t.shape, (p.w - p.r) / p.sigma)
    else:
        a = p.alpha
        # Factored as (1−τ)^(α−1) τ^(−α) (1−α−τ) so the ends give ±inf instead of 0·inf = nan.
        with np.errstate(divide="ignore"):
            d = (p.alpha + p.phi_H) * p.B * (1 - t) ** (a - 1) * t ** (-a) * (1 - a - t) / p.sigma
    return _out(d, t)


# ----------------------------------------------------------------------------- dynamics

def discrete_bgp_growth(tau, params: GrowthParams | None = None):
    """Yearly growth on the balanced path of :func:`simulate`, G − 1 with
    ``G = [(1 + R − δ)/(1 + ρ)]^(1/σ)`` and ``R = (α+Φ_H)·y`` (the portfolio return).

    It differs from the continuous ge formula by second-order terms (4.84 % vs 5.00 % with the report preset).
    """
    p = params or GrowthParams()
    t = _as_tau(tau, open_interval=True)
    R = (p.alpha + p.phi_H) * _y_ge(p, t)
    return _out(((1 + R - p.delta) / (1 + p.rho)) ** (1 / p.sigma) - 1, t)


class BalancedGrowthState(NamedTuple):
    """Initial state on the balanced growth path (index units)."""

    K0: float
    """Non-compute capital."""
    H0: float
    """Total compute capital H_T = H + H_X."""
    C0: float
    """Consumption in year 0."""


def _bgp(p: GrowthParams, tau: float) -> tuple[float, float, float]:
    """(y, G, c_Y): output/capital ratio, gross growth, consumption share on the yearly BGP."""
    y = float(_y_ge(p, np.float64(tau)))
    R = (p.alpha + p.phi_H) * y
    G = ((1 + R - p.delta) / (1 + p.rho)) ** (1 / p.sigma)
    # Transversality (utility bounded) needs G < 1 + R − δ, i.e. ρ > (1−σ)·g roughly.
    if not G < 1 + R - p.delta:
        msg = (f"no balanced growth path at tau = {tau:g}: growth {G - 1:.3g} violates "
               "transversality (raise sigma or rho)")
        raise ValueError(msg)
    return y, G, 1 - (G - 1 + p.delta) / y


def balanced_growth_state(params: GrowthParams | None = None, tau: float = 0.30,
                          Y0: float = 100.0) -> BalancedGrowthState:
    """K0, H0 (= H_T), C0 putting the economy on its yearly balanced path at constant τ.

    On that path K/H_T = (1−τ)/τ, capital K + H_T = Y0/y and I/(K + H_T) = G − 1 + δ.

    Returns
    -------
    BalancedGrowthState
        Named tuple (K0, H0, C0) in the units of Y0.
    """
    p = params or GrowthParams()
    tau = float(_as_tau(tau, open_interval=True))
    y, G, cY = _bgp(p, tau)
    S = Y0 / y
    return BalancedGrowthState((1 - tau) * S, tau * S, cY * Y0)


def _production(p: GrowthParams, K, HT) -> dict:
    """Static equilibrium for given stocks (arrays broadcast)."""
    g = p.gamma
    H, HX = (1 - g) * HT, g * HT
    X = HX / p.eta
    Y = p.A * (p.Hbar * K) ** p.alpha * H**p.beta * X ** (1 - p.alpha - p.beta)
    return {"Y": Y, "H": H, "H_X": HX, "X": X, "r": p.alpha * Y / K, "w": p.beta * Y / H,
            "p_X": (1 - p.alpha - p.beta) * Y / X,
            "Pi": (p.alpha + p.beta) * (1 - p.alpha - p.beta) * Y}


def _tau_path(tau_path, years: int) -> np.ndarray:
    t = np.asarray(tau_path, dtype=float)
    if t.ndim == 0:
        t = np.full(years, float(t))
    if t.shape != (years,):
        msg = f"tau_path must be a scalar or have length years = {years}, got shape {t.shape}"
        raise ValueError(msg)
    return _as_tau(t, open_interval=True)


def _forward(p: GrowthParams, tau: np.ndarray, K0, H0, share: np.ndarray):
    """Stocks and output for consumption shares ``share`` (batch × n); arrays (batch × n+1)."""
    m, n = share.shape
    K, HT, Y = np.empty((m, n + 1)), np.empty((m, n + 1)), np.empty((m, n + 1))
    K[:, 0], HT[:, 0] = K0, H0
    for t in range(n):
        Y[:, t] = p.B * K[:, t] ** p.alpha * HT[:, t] ** (1 - p.alpha)
        inv = (1 - share[:, t]) * Y[:, t]
        K[:, t + 1] = (1 - p.delta) * K[:, t] + (1 - tau[t]) * inv
        HT[:, t + 1] = (1 - p.delta) * HT[:, t] + tau[t] * inv
    Y[:, n] = p.B * K[:, n] ** p.alpha * HT[:, n] ** (1 - p.alpha)
    return K, HT, Y


def _euler_residuals(p: GrowthParams, tau: np.ndarray, K0, H0, x: np.ndarray, cY_end: float):
    """Household first-order conditions for logit consumption shares x (batch × n).

    With μ_t = C_t^(−σ), a_t = λ_K,t/μ_t and b_t = λ_H,t/μ_t (shadow values of one unit of
    each capital installed for t+1), the conditions are
    a_t = β (μ_{t+1}/μ_t) [r_{t+1} + (1−δ) a_{t+1}], likewise b with w, and
    (1−τ_t) a_t + τ_t b_t = 1, i.e. C_t^(−σ) = (1−τ_t)λ_K,t + τ_t λ_H,t.
    The last year n is closed on the balanced path: C_n/Y_n = cY_end, a_n = r_n/R_n, b_n = w_n/R_n.
    Ratios keep numbers O(1) although levels grow for centuries.
    """
    share = 1 / (1 + np.exp(-x))
    K, HT, Y = _forward(p, tau, K0, H0, share)
    r = p.alpha * Y / K
    w = p.phi_H * Y / HT  # rental of H (β Y/H) written per unit of H_T; equal since H = (1−γ)H_T
    C = np.concatenate([share, np.full((share.shape[0], 1), cY_end)], axis=1) * Y
    n = share.shape[1]
    R_end = (1 - tau[-1]) * r[:, n] + tau[-1] * w[:, n]
    a, b = r[:, n] / R_end, w[:, n] / R_end
    res = np.empty_like(x)
    disc = 1 / (1 + p.rho)
    for t in range(n - 1, -1, -1):
        m_next = disc * (C[:, t + 1] / C[:, t]) ** (-p.sigma)
        a = m_next * (r[:, t + 1] + (1 - p.delta) * a)
        b = m_next * (w[:, t + 1] + (1 - p.delta) * b)
        res[:, t] = (1 - tau[t]) * a + tau[t] * b - 1
    return res


def _exact_shares(p: GrowthParams, tau: np.ndarray, K0: float, H0: float) -> np.ndarray:
    """Perfect-foresight consumption shares C_t/Y_t for a τ path (solved by root finding)."""
    years = len(tau)
    y, G, cY_end = _bgp(p, tau[-1])
    # τ stays at its last value after the horizon; the K/H_T mix then converges to the balanced mix
    # at rate (1−δ)/G a year, so a buffer of that many half-lives makes the closure exact to ~1e-12.
    contraction = (1 - p.delta) / G
    buffer = 60
    if contraction > 0:
        buffer = int(np.clip(np.ceil(np.log(1e-12) / np.log(contraction)), 60, 1200))
    if contraction > 0 and contraction**buffer > 1e-8:
        warnings.warn("slow convergence to the terminal balanced path; exact consumption is "
                      "approximate (raise delta or growth)", RuntimeWarning, stacklevel=3)
    tau_ext = np.concatenate([tau, np.full(buffer, tau[-1])])
    n = len(tau_ext)
    # Start from each year's balanced consumption share: exact on a balanced path, close otherwise.
    def share_guess(t: float) -> float:
        try:
            return _bgp(p, t)[2]
        except ValueError:  # no balanced path at this interim τ: any interior share will do
            return cY_end

    cache = {t: share_guess(t) for t in set(tau_ext.tolist())}
    guess = np.array([cache[t] for t in tau_ext.tolist()])
    x0 = np.log(guess / (1 - guess))

    def fun(x):
        return _euler_residuals(p, tau_ext, K0, H0, x[None, :], cY_end)[0]

    def jac(x):
        # One batched forward/backward pass for the base point and all n perturbations.
        h = 1e-7
        X = np.vstack([x, x + h * np.eye(n)])
        F = _euler_residuals(p, tau_ext, K0, H0, X, cY_end)
        return ((F[1:] - F[0]) / h).T

    f0 = fun(x0)
    if np.max(np.abs(f0)) < 1e-13:
        return 1 / (1 + np.exp(-x0[:years]))
    sol = optimize.root(fun, x0, jac=jac, method="hybr", options={"xtol": 1e-13})
    if not sol.success or np.max(np.abs(sol.fun)) > 1e-9:
        sol = optimize.root(fun, sol.x, jac=jac, method="lm",
                            options={"xtol": 1e-14, "ftol": 1e-14})
    if np.max(np.abs(sol.fun)) > 1e-8:
        msg = (f"exact consumption path did not converge (max Euler residual "
               f"{np.max(np.abs(sol.fun)):.2e}); try consumption='rule'")
        raise RuntimeError(msg)
    return 1 / (1 + np.exp(-sol.x[:years]))


def simulate(params: GrowthParams | None, tau_path, K0: float, H0: float, years: int,
             consumption: str = "exact", start_year: int = 0) -> pd.DataFrame:
    """Yearly transition path for a given path of the compute share τ.

    Each year: split H_T by γ, produce, pay factors, choose C, invest I = Y − C, and accumulate
    ``K' = (1−δ)K + (1−τ)I`` and ``H_T' = (1−δ)H_T + τI``.

    Parameters
    ----------
    params : GrowthParams or None
    tau_path : float or sequence of float
        Compute share of gross investment in (0, 1), constant or one value per year. After the
        last year it stays at its last value (the exact solution's terminal closure uses this).
    K0, H0 : float
        Initial non-compute capital and total compute capital H_T (index units).
    years : int
        Number of years simulated (rows).
    consumption : {"exact", "rule"}
        ``"exact"``: perfect-foresight solution of the household's two-asset problem — Euler
        equations for K and H_T with ``C_t^(−σ) = (1−τ_t)λ_K,t + τ_t λ_H,t``, closed on the terminal
        balanced path, solved by root finding (scipy ``root``) on the discrete-time system.
        ``"rule"``: ``C_{t+1}/C_t = [(1 + R_{t+1} − δ)/(1+ρ)]^(1/σ)`` with
        ``R_{t+1} = (1−τ_t) r_{t+1} + τ_t w_{t+1}`` (return on the portfolio bought in year t) and
        C_0 at the balanced consumption share for τ_0; exact when τ is constant and the run starts
        on the balanced path.
    start_year : int
        Label of the first row.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``year``; columns Y, K, H_T, H, H_X, X, C, I (levels), r, w (rentals per year),
        p_X (service price), Pi (monopoly profit), tau, and growth over the previous year
        g_Y, g_C, g_K, g_H (H = compute capital; H, H_X and H_T grow alike), NaN in the first row.
        ``attrs`` holds ``calibration`` (caption line), ``consumption`` and ``params``.
        Identities: ``r·K + w·H + p_X·X = Y`` and ``r·K + w·H_T + Pi = Y``.
    """
    p = params or GrowthParams()
    if consumption not in ("exact", "rule"):
        msg = f"consumption must be 'exact' or 'rule', got {consumption!r}"
        raise ValueError(msg)
    years = int(years)
    if years < 1:
        msg = f"years must be >= 1, got {years}"
        raise ValueError(msg)
    if not (K0 > 0 and H0 > 0):
        msg = f"K0 and H0 must be > 0, got {K0}, {H0}"
        raise ValueError(msg)
    tau = _tau_path(tau_path, years)

    if consumption == "exact":
        share = _exact_shares(p, tau, float(K0), float(H0))
        K, HT, Y = (v[0] for v in _forward(p, tau, K0, H0, share[None, :]))
        C = share * Y[:years]
    else:
        K, HT, C = np.empty(years), np.empty(years), np.empty(years)
        K[0], HT[0] = K0, H0
        for t in range(years):
            st = _production(p, K[t], HT[t])
            if t == 0:
                C[0] = _bgp(p, tau[0])[2] * st["Y"]
            else:
                R = (1 - tau[t - 1]) * st["r"] + tau[t - 1] * st["w"]
                C[t] = C[t - 1] * ((1 + R - p.delta) / (1 + p.rho)) ** (1 / p.sigma)
            if t + 1 < years:
                inv = st["Y"] - C[t]
                K[t + 1] = (1 - p.delta) * K[t] + (1 - tau[t]) * inv
                HT[t + 1] = (1 - p.delta) * HT[t] + tau[t] * inv
                if K[t + 1] <= 0 or HT[t + 1] <= 0:
                    msg = f"consumption rule exhausted capital in year {t + 1}"
                    raise RuntimeError(msg)

    K, HT = K[:years], HT[:years]
    st = _production(p, K, HT)
    df = pd.DataFrame({"Y": st["Y"], "K": K, "H_T": HT, "H": st["H"], "H_X": st["H_X"],
                       "X": st["X"], "C": C, "I": st["Y"] - C, "r": st["r"], "w": st["w"],
                       "p_X": st["p_X"], "Pi": st["Pi"], "tau": tau},
                      index=pd.RangeIndex(start_year, start_year + years, name="year"))
    for col, src in (("g_Y", "Y"), ("g_C", "C"), ("g_K", "K"), ("g_H", "H_T")):
        df[col] = df[src] / df[src].shift(1) - 1
    df.attrs.update(calibration=p.calibration_note, consumption=consumption,
                    params=dataclasses.asdict(p))
    return df
