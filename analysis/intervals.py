"""Confidence intervals for proportions, as R's ``svyciprop`` (and Woodruff's for quantiles).

All take a share ``p``, its design-based SE and the degrees of freedom ``df`` (t quantiles):

- ``mean``: ``p ± t se``.
- ``logit``: ``expit(logit(p) ± t se_logit)``. On a Taylor design ``se_logit = se / (p (1 - p))``
  (the quasi-binomial intercept's sandwich SE); on a replicate design ``se_logit`` comes from the
  replicates' own logits, since R refits the model in every replicate.
- ``xlogit``: the same with the delta-method SE on every design (R's ``svycontrast``).
- ``asin``: ``sin(asin(sqrt(p)) ± t se / (2 sqrt(p (1 - p))))^2``.
- ``beta``: Korn & Graubard (1998, *Survey Methodology* 24(2)): Clopper–Pearson on the effective
  ``n* = p (1 - p) / se^2``, times ``(t_{n-1} / t_df)^2``.
- ``likelihood``: the profile-likelihood interval of the quasi-binomial intercept at a level
  rescaled by the design effect (R's ``confint.svyglm(method = "likelihood")``).
- ``wilson``: Wilson (1927), on ``n`` for an unweighted SRS, else on Kish's effective n.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

E_METHOD = "method must be one of {methods}; got {method!r}"
METHODS = ("logit", "likelihood", "asin", "beta", "mean", "xlogit", "wilson")


def share_interval(
    p: np.ndarray,
    se: np.ndarray,
    df: np.ndarray,
    *,
    level: float,
    method: str,
    rows: np.ndarray | None = None,
    se_logit: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limits of a share's interval by ``method`` (see the module docstring).

    ``rows`` (``beta`` only) is the number of rows of the (sub)sample, R's ``nrow(design)``;
    ``se_logit`` (``logit`` only) replaces the delta-method SE of the logit (replicate designs).
    Arrays broadcast; NaN where the interval does not exist.
    """
    alpha = 1 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        t = stats.t.ppf(1 - alpha / 2, df)
        if method == "mean":
            return p - t * se, p + t * se
        if method in ("logit", "xlogit"):
            spread = t * (se / (p * (1 - p)) if se_logit is None or method == "xlogit" else se_logit)
            centre = special.logit(p)
            return special.expit(centre - spread), special.expit(centre + spread)
        if method == "asin":
            centre = np.arcsin(np.sqrt(p))
            spread = t * se / (2 * np.sqrt(p * (1 - p)))
            return np.sin(centre - spread) ** 2, np.sin(centre + spread) ** 2
        if method == "beta":
            n_eff = p * (1 - p) / se**2 * (stats.t.ppf(alpha / 2, rows - 1) / stats.t.ppf(alpha / 2, df)) ** 2
            return (
                stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1),
                stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p)),
            )
    raise ValueError(E_METHOD.format(methods=", ".join(METHODS), method=method))


def wilson(p: np.ndarray, n: np.ndarray, *, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson's score interval on ``n`` (Wilson 1927, *JASA* 22)."""
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        spread = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return np.clip(centre - spread, 0, 1), np.clip(centre + spread, 0, 1)


def proportion_intervals(
    design, frame: pd.DataFrame, fit, *, column, k: int, level: float, method: str
) -> pd.DataFrame:
    """Replace the Wald limits of a :func:`~analysis.proportion` frame by ``method``'s."""
    if method not in METHODS:
        raise ValueError(E_METHOD.format(methods=", ".join(METHODS), method=method))
    p, se = frame["estimate"].to_numpy(dtype=float), frame["se"].to_numpy(dtype=float)
    if method == "wilson" or method == "logit":
        n_w = fit.n if method == "wilson" else frame["n_eff"].to_numpy(dtype=float)
        n_w = np.where(np.isfinite(n_w) & (n_w > 0), n_w, fit.n)
        wilson_low, wilson_high = wilson(p, n_w, level=level)
        wilson_low = np.where(np.isnan(fit.df), np.nan, wilson_low)
        wilson_high = np.where(np.isnan(fit.df), np.nan, wilson_high)
    if method == "wilson":
        low, high = wilson_low, wilson_high
    elif method == "likelihood":
        from .profile import likelihood_interval

        low, high = likelihood_interval(design, fit, column=column, k=k, level=level)
    else:
        se_logit = None
        if method == "logit" and design.is_replicate:
            with np.errstate(divide="ignore", invalid="ignore"):
                logits = special.logit(fit.replicates)
            se_logit = np.sqrt(np.diag(design._replicates.variance(logits, special.logit(p))))
        rows = (
            np.repeat(np.bincount(column[column >= 0] // k, minlength=len(p) // k), k)
            if method == "beta"
            else None
        )
        low, high = share_interval(p, se, fit.df, level=level, method=method, rows=rows, se_logit=se_logit)
        if method == "logit":  # at p = 0 or 1 the logit interval does not exist
            boundary = (p <= 0) | (p >= 1)
            low, high = np.where(boundary, wilson_low, low), np.where(boundary, wilson_high, high)
    frame["ci_low"], frame["ci_high"] = low, high
    return frame
