"""The profile-likelihood interval of a share, as R's ``svyciprop(method = "likelihood")``.

R fits the quasi-binomial intercept-only ``svyglm`` and profiles its deviance (MASS's
``profile.glm``): ``tau(b) = sign(b - b0) sqrt((D(b) - D(b0)) / phi)`` on up to nine steps of
``zmax / 5`` standard errors each side, ``phi`` the design-weighted variance of the Pearson
residuals. The interval is where the interpolating spline of ``tau`` (Forsythe, Malcolm & Moler's
end conditions, R's ``spline(method = "fmm")``) crosses ``± t_{df, alpha/2} sqrt(lambda)``,
``lambda`` the design effect of the coefficient (its design variance over the model's) — the
likelihood interval at a level corrected for the design (Lumley & Scott 2014, *Statistical
Science* 29(2); R's ``confint.svyglm``).
"""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm
from scipy import special, stats

from .design import with_data
from .regression import glm

MAX_STEPS = 10  # MASS: maxsteps


def fmm_spline(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cubic spline coefficients ``(b, c, d)`` with Forsythe, Malcolm & Moler's end conditions.

    Between knots ``s(u) = y_i + b_i t + c_i t^2 + d_i t^3`` with ``t = u - x_i``; the ends match
    the third derivative of the cubic through the four points nearest each end (*Computer
    Methods for Mathematical Computations*, 1977, routine SPLINE; R's ``spline_coef``).
    """
    n = len(x)
    b, c, d = np.zeros(n), np.zeros(n), np.zeros(n)
    if n < 3:
        b[:] = (y[1] - y[0]) / (x[1] - x[0]) if n == 2 else 0.0
        return b, c, d
    last = n - 1
    d[0] = x[1] - x[0]
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, last):
        d[i] = x[i + 1] - x[i]
        b[i] = 2 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    b[0], b[last] = -d[0], -d[n - 2]
    c[0] = c[last] = 0.0
    if n > 3:
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        c[last] = c[n - 2] / (x[last] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
        c[0] = c[0] * d[0] ** 2 / (x[3] - x[0])
        c[last] = -c[last] * d[n - 2] ** 2 / (x[last] - x[n - 4])
    for i in range(1, n):
        t = d[i - 1] / b[i - 1]
        b[i] -= t * d[i - 1]
        c[i] -= t * c[i - 1]
    c[last] /= b[last]
    for i in range(n - 2, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[last] = (y[last] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2 * c[last])
    for i in range(last):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] *= 3
    c[last] *= 3
    d[last] = d[n - 2]
    return b, c, d


def spline_points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's ``spline(x, y)``: the fmm spline at ``3 n`` equally spaced points over the range of ``x``."""
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    b, c, d = fmm_spline(x, y)
    grid = np.linspace(x[0], x[-1], 3 * len(x))
    i = np.clip(np.searchsorted(x, grid, side="right") - 1, 0, len(x) - 1)
    t = grid - x[i]
    return grid, y[i] + t * (b[i] + t * (c[i] + t * d[i]))


def _approx(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """R's ``approx``: linear, ties in ``x`` averaged, NaN outside the range."""
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    knots, start = np.unique(x, return_index=True)
    values = np.add.reduceat(y, start) / np.diff(np.append(start, len(y)))
    return np.interp(at, knots, values, left=np.nan, right=np.nan)


def _profile_interval(result, y: np.ndarray, w: np.ndarray, df: float, level: float) -> tuple[float, float]:
    """One coefficient's profile interval from the intercept-only quasi-binomial fit ``result``."""
    family = sm.families.Binomial()
    beta0 = float(result.coefficients["estimate"].iloc[0])
    se = float(result.coefficients["se"].iloc[0])
    lam = float(result.cov.iloc[0, 0] / result.naive_cov.iloc[0, 0])
    with np.errstate(invalid="ignore"):
        alpha = stats.norm.cdf(stats.t.ppf((1 - level) / 2, df) * np.sqrt(lam)) / 2
    if not np.isfinite(alpha) or se == 0:
        return float("nan"), float("nan")
    zmax = np.sqrt(stats.f.isf(alpha, 1, len(y) - 1))
    step_size = zmax / 5
    deviance0 = family.deviance(y, np.full(len(y), special.expit(beta0)), var_weights=w)
    taus, values = [0.0], [beta0]
    for sign in (-1, 1):
        step, z = 0, 0.0
        while (step := step + 1) < MAX_STEPS and abs(z) < zmax:
            b = beta0 + sign * step * step_size * se
            deviance = family.deviance(y, np.full(len(y), special.expit(b)), var_weights=w)
            z = sign * np.sqrt(max((deviance - deviance0) / result.dispersion, 0.0))
            taus.append(z)
            values.append(b)
    grid, curve = spline_points(np.array(values), np.array(taus))
    cutoff = stats.norm.ppf(2 * alpha)
    low, high = _approx(curve, grid, np.array([cutoff, -cutoff]))
    return float(special.expit(low)), float(special.expit(high))


def likelihood_interval(
    design, fit, *, column: np.ndarray, k: int, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Profile-likelihood limits for every share column of a :func:`~analysis.proportion` fit."""
    p = len(fit.estimate)
    low, high = np.full(p, np.nan), np.full(p, np.nan)
    domain = np.where(column >= 0, column // k, -1)
    level_code = np.where(column >= 0, column % k, -1)
    for c in range(p):
        inside = domain == c // k
        if not inside.any() or not np.isfinite(fit.df[c]) or fit.estimate[c] in (0.0, 1.0):
            continue
        y = np.where(inside, (level_code == c % k).astype(float), np.nan)
        result = glm(with_data(design, design.data.assign(_share=y)), "_share ~ 1", "quasibinomial")
        w = design.w[inside]
        low[c], high[c] = _profile_interval(result, y[inside], w / w.mean(), fit.df[c], level)
    return low, high
