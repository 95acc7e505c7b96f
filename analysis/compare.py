"""Differences between two domains or two samples, with their interval from the joint design covariance."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .design import SurveyDesign
from .estimates import _domains, _numeric, _proportion_fit, _ratio_fit

E_UNKNOWN_DOMAIN = "{by} has no respondents with value {value!r}"


def difference(
    design: SurveyDesign,
    var: str,
    by: str,
    first: object,
    second: object,
    *,
    levels: list | None = None,
    level: float = 0.95,
) -> dict:
    """``estimate(first) - estimate(second)`` for two domains of ``by`` (e.g. two samples or waves).

    The statistic is the mean of ``var``, or — when ``levels`` is given — the share of respondents
    whose ``var`` is one of ``levels`` (a top-box share). Both domains are estimated on the full
    design, so their covariance (shared PSUs) enters the SE: ``V(a - b) = V(a) + V(b) - 2 C(a, b)``
    (Lumley 2010, §3.4, ``svycontrast``).
    """
    if levels is None:
        values, valid = _numeric(design, var)
        domains = _domains(design, by, valid)
        fit = _ratio_fit(design, domains.codes, values, np.ones(design.n), len(domains.labels))
        estimate, cov, n = fit.estimate, fit.cov, fit.n
    else:
        valid = design.data[var].notna().to_numpy()
        domains = _domains(design, by, valid)
        hit = design.data[var].isin(levels).to_numpy().astype(int)
        fit = _proportion_fit(design, domains.codes, hit, len(domains.labels), 2)
        estimate, cov, n = fit.estimate[1::2], fit.cov[1::2, 1::2], fit.n[1::2]
    index = {label: i for i, label in enumerate(domains.labels)}
    for value in (first, second):
        if value not in index:
            raise ValueError(E_UNKNOWN_DOMAIN.format(by=by, value=value))
    a, b = index[first], index[second]
    diff = float(estimate[a] - estimate[b])
    se = float(np.sqrt(max(cov[a, a] + cov[b, b] - 2 * cov[a, b], 0)))
    t = stats.t.ppf(0.5 + level / 2, max(design.df, 1))
    return {
        "first": first,
        "second": second,
        "estimate_first": float(estimate[a]),
        "estimate_second": float(estimate[b]),
        "estimate": diff,
        "se": se,
        "ci_low": diff - t * se,
        "ci_high": diff + t * se,
        "n_first": int(n[a]),
        "n_second": int(n[b]),
    }


def cronbach_alpha(design: SurveyDesign, items: list[str]) -> float:
    """Cronbach's alpha of a battery, with design-weighted variances (as R's ``svycralpha``).

    ``alpha = k / (k - 1) * (1 - sum(var(item)) / var(sum of items))`` (Cronbach 1951,
    *Psychometrika* 16(3)); respondents missing any item are left out. NaN when the variance of
    the sum is zero (no more than one respondent, or every sum alike): alpha is then undefined.
    """
    frame = design.data[items].apply(pd.to_numeric, errors="coerce")
    complete = frame.notna().all(axis=1).to_numpy()
    w = design.w[complete]
    values = frame.to_numpy(dtype=float)[complete]

    def weighted_variance(x: np.ndarray) -> float:
        mean = np.sum(w * x) / w.sum()
        return float(np.sum(w * (x - mean) ** 2) / w.sum())

    k = len(items)
    total = weighted_variance(values.sum(axis=1)) if len(values) else 0.0
    if total == 0:  # 0/0: one respondent, or every answer the same
        return float("nan")
    item_variances = sum(weighted_variance(values[:, j]) for j in range(k))
    return k / (k - 1) * (1 - item_variances / total)
