"""Design-based estimators: means, totals, proportions, ratios and quantiles, overall or by domain.

Every estimator returns a tidy frame with ``estimate, se, ci_low, ci_high, deff, n, n_eff`` (plus
the domain and level columns). Domains (``by=``) are estimated on the full design — rows outside a
domain contribute zero scores but keep their PSU and stratum — which is R's ``svyby`` on a subset
design (Lumley 2010, *Complex Surveys*, §2.3). Missing values are treated as outside the domain,
as R's ``na.rm=TRUE``. Intervals are t-based with the design's degrees of freedom (PSUs − strata),
for domains too — Stata's ``subpop`` convention and R's ``confint(..., df=degf(design))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from . import linearisation
from .design import SurveyDesign

CHUNK_COLUMNS = 8


@dataclass(frozen=True)
class _Domains:
    codes: np.ndarray  # row -> domain index, -1 outside every domain
    labels: list


def _domains(design: SurveyDesign, by: str | None, valid: np.ndarray) -> _Domains:
    if by is None:
        return _Domains(np.where(valid, 0, -1), [None])
    codes, labels = design.factorize(by)
    codes = np.where(valid & (codes >= 0), codes, -1)
    return _Domains(codes, list(labels))


@dataclass(frozen=True)
class _RatioFit:
    """Estimates ``sum(w a) / sum(w b)`` per column, their covariance and SRS reference variances."""

    estimate: np.ndarray
    cov: np.ndarray
    vsrs: np.ndarray
    n: np.ndarray
    df: np.ndarray
    psu_scores: np.ndarray | None  # (PSUs, columns) for joint covariances; None from the group-sum path


def _column_sums(
    design: SurveyDesign, column: np.ndarray, values: np.ndarray, p: int, *, by_psu: bool
) -> np.ndarray:
    keep = column >= 0
    if not by_psu:
        return np.bincount(column[keep], weights=values[keep], minlength=p)
    structure = design._structure
    index = structure.psu[keep] * p + column[keep]
    return np.bincount(index, weights=values[keep], minlength=structure.n_psu * p).reshape(structure.n_psu, p)


def _dense_psu_totals(design: SurveyDesign, p: int, row_scores) -> np.ndarray:
    """PSU totals for a calibrated design: row scores are built a few columns at a time (bounded memory)."""
    totals = np.zeros((design._structure.n_psu, p))
    for start in range(0, p, CHUNK_COLUMNS):
        columns = list(range(start, min(p, start + CHUNK_COLUMNS)))
        totals[:, columns] = design.psu_totals(row_scores(columns))
    return totals


def _ratio_fit(
    design: SurveyDesign, column: np.ndarray, a: np.ndarray, b: np.ndarray | None, p: int
) -> _RatioFit:
    """Linearised ratio estimation: influence score of row i for column c is ``w_i (a_i - R_c b_i) / B_c``.

    With ``b`` None the statistic is the total ``sum(w a)`` (score ``w_i a_i``). Without calibration
    the scores are summed straight into PSU totals with one ``bincount`` each, so no n-by-p matrix
    is ever built.
    """
    w = design.w
    keep = column >= 0
    n = np.bincount(column[keep], minlength=p).astype(float)
    A = _column_sums(design, column, w * a, p, by_psu=False)
    B = _column_sums(design, column, w if b is None else w * b, p, by_psu=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = A if b is None else A / B
    if design.calibration:

        def row_scores(columns: list[int]) -> np.ndarray:
            scores = np.zeros((design.n, len(columns)))
            for j, c in enumerate(columns):
                inside = column == c
                numerator = a[inside] if b is None else (a[inside] - estimate[c] * b[inside]) / B[c]
                scores[inside, j] = w[inside] * numerator
            return scores

        psu_scores = _dense_psu_totals(design, p, row_scores)
    elif b is None:
        psu_scores = _column_sums(design, column, w * a, p, by_psu=True)
    else:
        a_psu = _column_sums(design, column, w * a, p, by_psu=True)
        b_psu = _column_sums(design, column, w * b, p, by_psu=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            psu_scores = (a_psu - estimate * b_psu) / B
    centred = a if b is None else a - estimate[np.clip(column, 0, None)] * b
    cov = design._structure.variance_of_totals(np.nan_to_num(psu_scores))
    with np.errstate(divide="ignore", invalid="ignore"):  # a one-respondent domain has no SRS variance
        vsrs = _srs_variance(design, column, centred, b, n, p)
    df = np.full(p, float(max(design.df, 1)))
    return _RatioFit(estimate, cov, vsrs, n, df, np.nan_to_num(psu_scores))


def _srs_variance(design, column, centred, b, n, p) -> np.ndarray:
    """Variance under simple random sampling with replacement of the same size (R's ``deff="replace"``)."""
    w = design.w
    W = _column_sums(design, column, w, p, by_psu=False)
    if b is None:  # a total: svyvar(y) * N^2 / n
        mean = _column_sums(design, column, w * centred, p, by_psu=False) / W
        dev = centred - mean[np.clip(column, 0, None)]
        var = _column_sums(design, column, w * dev**2, p, by_psu=False) / W * n / (n - 1)
        return var * W**2 / n
    denominator = _column_sums(design, column, w * b, p, by_psu=False) / W
    var = _column_sums(design, column, w * centred**2, p, by_psu=False) / W * n / (n - 1)
    return var / n / denominator**2


def _frame(fit: _RatioFit, *, level: float, index: pd.DataFrame) -> pd.DataFrame:
    se = np.sqrt(np.clip(np.diag(fit.cov), 0, None))
    t = stats.t.ppf(0.5 + level / 2, fit.df)
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = np.diag(fit.cov) / fit.vsrs
        n_eff = fit.n / deff
    frame = index.reset_index(drop=True).copy()
    frame["estimate"] = fit.estimate
    frame["se"] = se
    frame["ci_low"] = fit.estimate - t * se
    frame["ci_high"] = fit.estimate + t * se
    frame["deff"] = deff
    frame["n"] = fit.n.astype(int)
    frame["n_eff"] = n_eff
    return frame


def _index(by: str | None, domains: _Domains, variable: str) -> pd.DataFrame:
    index = pd.DataFrame({"variable": [variable] * len(domains.labels)})
    if by is not None:
        index[by] = domains.labels
    return index


def _numeric(design: SurveyDesign, var: str) -> tuple[np.ndarray, np.ndarray]:
    values = pd.to_numeric(design.data[var], errors="coerce").to_numpy(dtype=float)
    valid = ~np.isnan(values)
    return np.where(valid, values, 0.0), valid


def mean(design: SurveyDesign, var: str, by: str | None = None, *, level: float = 0.95) -> pd.DataFrame:
    """Weighted mean of ``var`` with its linearised standard error, overall or per domain of ``by``.

    Formula: ``ybar = sum(w y) / sum(w)``, influence ``(y - ybar) / sum(w)``; variance as R's
    ``svymean`` (Lumley 2010, §2.2); the design effect is R's ``deff="replace"``.
    """
    values, valid = _numeric(design, var)
    domains = _domains(design, by, valid)
    if linearisation.applies(design) and (domains.codes >= 0).any():
        fit = _from_groups(linearisation.means(design, domains.codes, values, len(domains.labels)), design)
    else:
        fit = _ratio_fit(design, domains.codes, values, np.ones(design.n), len(domains.labels))
    return _frame(fit, level=level, index=_index(by, domains, var))


def total(design: SurveyDesign, var: str, by: str | None = None, *, level: float = 0.95) -> pd.DataFrame:
    """Weighted total ``sum(w y)`` of ``var``, overall or per domain (R's ``svytotal``)."""
    values, valid = _numeric(design, var)
    domains = _domains(design, by, valid)
    fit = _ratio_fit(design, domains.codes, values, None, len(domains.labels))
    return _frame(fit, level=level, index=_index(by, domains, var))


def ratio(
    design: SurveyDesign, num: str, den: str, by: str | None = None, *, level: float = 0.95
) -> pd.DataFrame:
    """Ratio of totals ``sum(w y) / sum(w x)`` (R's ``svyratio``), influence ``(y - R x) / sum(w x)``."""
    y, valid_y = _numeric(design, num)
    x, valid_x = _numeric(design, den)
    domains = _domains(design, by, valid_y & valid_x)
    fit = _ratio_fit(design, domains.codes, y, x, len(domains.labels))
    return _frame(fit, level=level, index=_index(by, domains, f"{num}/{den}"))


def proportion(
    design: SurveyDesign, var: str, by: str | None = None, *, level: float = 0.95, method: str = "auto"
) -> pd.DataFrame:
    """Share of every level of the categorical ``var``, overall or per domain.

    Intervals: ``"logit"`` as R's ``svyciprop(method="logit")`` — the interval for ``logit(p)``
    with SE ``se(p) / (p (1 - p))`` and t on the design df, back-transformed; ``"wilson"`` the
    Wilson score interval (Wilson 1927) for unweighted simple random samples. ``"auto"`` takes
    Wilson for an unweighted SRS and logit otherwise. At p = 0 or 1 the logit interval does not
    exist and the Wilson interval on Kish's effective n is given instead.
    """
    series = design.data[var]
    valid = series.notna().to_numpy()
    level_codes, levels = design.factorize(var)
    domains = _domains(design, by, valid)
    g, k = len(domains.labels), len(levels)
    indicator_fit = _proportion_fit(design, domains.codes, level_codes, g, k)
    index = pd.DataFrame({"variable": var, "level": np.tile(np.asarray(levels, dtype=object), g)})
    if by is not None:
        index.insert(1, by, np.repeat(np.asarray(domains.labels, dtype=object), k))
    frame = _frame(indicator_fit, level=level, index=index)
    use_wilson = method == "wilson" or (method == "auto" and design.is_simple_random_sample)
    return _proportion_intervals(frame, indicator_fit, level=level, wilson=use_wilson)


def _from_groups(fit: linearisation.GroupFit, design: SurveyDesign) -> _RatioFit:
    p = len(fit.estimate)
    return _RatioFit(fit.estimate, fit.cov, fit.vsrs, fit.n, np.full(p, float(max(design.df, 1))), None)


def _proportion_fit(
    design: SurveyDesign, domain: np.ndarray, level_codes: np.ndarray, g: int, k: int, *, scores: bool = False
) -> _RatioFit:
    """Shares of k levels in g domains: column ``d*k + l`` is ``sum(w [level = l] [domain = d]) / sum(w [domain = d])``.

    Unclustered designs take the group-sum path (``linearisation.shares``) unless PSU scores are
    needed for a joint covariance with another estimate (``scores=True``).
    """
    if not scores and linearisation.applies(design) and (domain >= 0).any():
        return _from_groups(
            linearisation.shares(design, domain, np.where(domain >= 0, level_codes, 0), g, k), design
        )
    w = design.w
    p = g * k
    column = np.where(domain >= 0, domain * k + level_codes, -1)
    A = _column_sums(design, column, w, p, by_psu=False)
    B = np.repeat(_column_sums(design, domain, w, g, by_psu=False), k)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = A / B
    if design.calibration:

        def row_scores(columns: list[int]) -> np.ndarray:
            scores = np.zeros((design.n, len(columns)))
            for j, c in enumerate(columns):
                inside = domain == c // k
                hit = (level_codes[inside] == c % k).astype(float)
                scores[inside, j] = w[inside] * (hit - estimate[c]) / B[c]
            return scores

        psu_scores = _dense_psu_totals(design, p, row_scores)
    else:
        a_psu = _column_sums(design, column, w, p, by_psu=True)
        b_psu = np.repeat(_column_sums(design, domain, w, g, by_psu=True), k, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            psu_scores = (a_psu - estimate * b_psu) / B
    psu_scores = np.nan_to_num(psu_scores)
    cov = design._structure.variance_of_totals(psu_scores)
    n_domain = np.bincount(domain[domain >= 0], minlength=g).astype(float)
    n = np.repeat(n_domain, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        vsrs = estimate * (1 - estimate) / (n - 1)  # svyvar of an indicator, n/(n-1) p(1-p), over n
    df = np.full(p, float(max(design.df, 1)))
    return _RatioFit(estimate, cov, vsrs, n, df, psu_scores)


def _proportion_intervals(frame: pd.DataFrame, fit: _RatioFit, *, level: float, wilson: bool) -> pd.DataFrame:
    p, se = frame["estimate"].to_numpy(), frame["se"].to_numpy()
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = stats.t.ppf(0.5 + level / 2, fit.df)
        logit = np.log(p / (1 - p))
        half = t * se / (p * (1 - p))
        low, high = 1 / (1 + np.exp(-(logit - half))), 1 / (1 + np.exp(-(logit + half)))
        n_w = np.where(wilson, fit.n, frame["n_eff"].to_numpy())
        n_w = np.where(np.isfinite(n_w) & (n_w > 0), n_w, fit.n)
        centre = (p + z**2 / (2 * n_w)) / (1 + z**2 / n_w)
        spread = z * np.sqrt(p * (1 - p) / n_w + z**2 / (4 * n_w**2)) / (1 + z**2 / n_w)
    boundary = (p <= 0) | (p >= 1)
    use_wilson = boundary | wilson
    frame["ci_low"] = np.where(use_wilson, np.clip(centre - spread, 0, 1), low)
    frame["ci_high"] = np.where(use_wilson, np.clip(centre + spread, 0, 1), high)
    return frame


def _qrule_math(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """R's ``qrule_math`` (hf1): the inverse of the weighted empirical distribution function."""
    keep = w > 0
    x, w = x[keep], w[keep]
    if len(x) == 0 or not np.isfinite(p):
        return float("nan")
    order = np.argsort(x, kind="mergesort")
    x, cumw = x[order], np.cumsum(w[order])
    below = np.nonzero(cumw <= p * cumw[-1])[0]
    pos = below[-1] if len(below) else 0
    nxt = min(pos + 1, len(x) - 1)
    return float(x[pos] if p - cumw[pos] / cumw[-1] == 0 else x[nxt])


def quantile(
    design: SurveyDesign, var: str, q: float, by: str | None = None, *, level: float = 0.95
) -> pd.DataFrame:
    """The ``q`` quantile with Woodruff's interval, as R's ``svyquantile`` (qrule "math", interval "mean").

    The interval inverts the weighted CDF at the CI of ``mean(x <= qhat)`` (Woodruff 1952); the SE
    is the interval's width over ``2 t``, which is what R reports.
    """
    values, valid = _numeric(design, var)
    domains = _domains(design, by, valid)
    rows = []
    w = design.w
    for code, label in enumerate(domains.labels):
        inside = domains.codes == code
        qhat = _qrule_math(values[inside], w[inside], q)
        below = np.where(values <= qhat, 1.0, 0.0)
        fit = _ratio_fit(design, np.where(inside, 0, -1), below, np.ones(design.n), 1)
        se_p = float(np.sqrt(max(fit.cov[0, 0], 0)))
        t = stats.t.ppf(0.5 + level / 2, fit.df[0])
        p_low, p_high = fit.estimate[0] - t * se_p, fit.estimate[0] + t * se_p
        low = _qrule_math(values[inside], w[inside], p_low) if p_low >= 0 else float("nan")
        high = _qrule_math(values[inside], w[inside], p_high) if p_high <= 1 else float("nan")
        rows.append(
            {
                "variable": var,
                **({by: label} if by else {}),
                "quantile": q,
                "estimate": qhat,
                "se": (high - low) / (2 * t),
                "ci_low": low,
                "ci_high": high,
                "deff": float("nan"),
                "n": int(inside.sum()),
                "n_eff": float("nan"),
            }
        )
    return pd.DataFrame(rows)
