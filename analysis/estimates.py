"""Design-based estimators: means, totals, proportions and ratios, overall or by domain.

Every estimator returns a tidy frame with ``estimate, se, ci_low, ci_high, deff, n, n_eff`` (plus
the domain and level columns), on Taylor designs (any number of stages) and replicate designs
alike. Domains (``by=``) are estimated on the full design — rows outside a domain contribute zero
scores (zero replicate weights) but keep their PSU and stratum — which is R's ``svyby`` on a subset
design (Lumley 2010, *Complex Surveys*, §2.3). Missing values are treated as outside the domain,
as R's ``na.rm=TRUE``. Intervals of means, totals and ratios are t-based with the design's degrees
of freedom (R's ``degf``), for domains too — Stata's ``subpop`` convention and R's
``confint(svyby(...), df=degf(design))``; share intervals by domain (:func:`proportion`, and
quantiles) use each domain's own degrees of freedom, as R's ``svyby`` of ``svyciprop`` and
``svyquantile``, which run on the domain's subset design. A domain whose own degrees of freedom are
below one (it lies in a single PSU) has no usable interval and gets NaN. ``n`` counts the rows of
non-zero weight, which are also the ``n`` of the design effect (R's ``deff = "replace"``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    """Estimates per column, their covariance, SRS reference variances and what joint covariances need.

    A Taylor fit keeps the unit totals of its influence scores at every stage (``totals``); a
    replicate fit keeps its replicate estimates ``(p, R)``; the group-sum path keeps neither.
    """

    estimate: np.ndarray
    cov: np.ndarray
    vsrs: np.ndarray
    n: np.ndarray
    df: np.ndarray
    totals: tuple[np.ndarray, ...] | None = None
    replicates: np.ndarray | None = None
    deff: np.ndarray | None = None

    @property
    def psu_scores(self) -> np.ndarray | None:
        """First-stage PSU totals of the influence scores ``(PSUs, p)`` (Taylor fits)."""
        return None if self.totals is None else self.totals[0]


def _column_sums(column: np.ndarray, values: np.ndarray, p: int) -> np.ndarray:
    """Sums of ``values`` per column ``0..p-1`` (rows in column -1 go to a bin that is dropped)."""
    return np.bincount(column + 1, weights=values, minlength=p + 1)[1:]


def _counts(design: SurveyDesign, column: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows per column: those of non-zero weight (the ``n`` of R's Taylor ``degf`` and design
    effects) and all of them (the ``n`` of R's replicate design effects)."""
    rows = np.bincount(column + 1, minlength=p + 1)[1:].astype(float)
    if not design.has_zero_weights:
        return rows, rows
    return _column_sums(column, (design.w != 0).astype(float), p), rows


def _taylor_totals(design: SurveyDesign, p: int, sparse_parts, row_scores) -> tuple[np.ndarray, ...]:
    """Unit totals of influence scores at every stage that counts.

    ``sparse_parts`` gives, per stage, the totals straight from one ``bincount`` per part (no
    ``(n, p)`` matrix); a calibrated design needs its row scores residualised first, so
    ``row_scores(columns)`` builds them a few columns at a time (bounded memory).
    """
    engine = design._taylor
    stages = range(engine.used_stages)
    if not design.calibration:
        return tuple(sparse_parts(s) for s in stages)
    totals = [np.zeros((engine.stages[s].m, p)) for s in stages]
    for start in range(0, p, CHUNK_COLUMNS):
        columns = list(range(start, min(p, start + CHUNK_COLUMNS)))
        scores = design.calibrated_scores(row_scores(columns))
        for s in stages:
            totals[s][:, columns] = engine.totals(scores, s)
    return tuple(totals)


def _taylor_cov(design: SurveyDesign, totals: tuple[np.ndarray, ...]) -> np.ndarray:
    engine = design._taylor
    return sum(
        (engine.stage_variance(s, np.nan_to_num(t)) for s, t in enumerate(totals)),
        start=np.zeros((totals[0].shape[1],) * 2),
    )


def joint_covariance(design: SurveyDesign, *fits: _RatioFit) -> np.ndarray:
    """Covariance of the estimates of several fits on one design, in their column order.

    Each fit must carry its scores (``totals``) or replicates, i.e. not come from the group-sum path.
    """
    if design.is_replicate:
        replicates = np.vstack([fit.replicates for fit in fits])
        return design._replicates.variance(replicates, np.concatenate([fit.estimate for fit in fits]))
    stages = len(fits[0].totals)
    return _taylor_cov(design, tuple(np.hstack([fit.totals[s] for fit in fits]) for s in range(stages)))


def _ratio_fit(
    design: SurveyDesign, column: np.ndarray, a: np.ndarray, b: np.ndarray | None, p: int
) -> _RatioFit:
    """Ratios ``sum(w a) / sum(w b)`` (or totals ``sum(w a)`` when ``b`` is None) per column.

    Taylor: influence score of row i for column c is ``w_i (a_i - R_c b_i) / B_c`` (``w_i a_i``
    for a total), summed into unit totals with one ``bincount`` each. Replicates: the same sums
    with every replicate's weights, ``theta_r = A_r / B_r``.
    """
    w = design.w
    keep = column >= 0
    A = _column_sums(column, w * a, p)
    W = _column_sums(column, w, p)
    B = W if b is None or np.all(b == 1) else _column_sums(column, w * b, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = A if b is None else A / B
    centred = a if b is None else a - estimate[np.clip(column, 0, None)] * b
    n, rows = _counts(design, column, p)
    if design.is_replicate:
        return _replicate_ratio(design, column, a, b, p, estimate, centred, n, rows, (W, B))
    engine = design._taylor

    def sparse_parts(s: int) -> np.ndarray:
        a_unit = engine.sparse_totals(column, w * a, p, s)
        if b is None:
            return a_unit
        b_unit = engine.sparse_totals(column, w * b, p, s)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.nan_to_num((a_unit - estimate * b_unit) / B)

    def row_scores(columns: list[int]) -> np.ndarray:
        scores = np.zeros((design.n, len(columns)))
        for j, c in enumerate(columns):
            inside = keep & (column == c)
            numerator = a[inside] if b is None else (a[inside] - estimate[c] * b[inside]) / B[c]
            scores[inside, j] = w[inside] * numerator
        return scores

    totals = _taylor_totals(design, p, sparse_parts, row_scores)
    with np.errstate(divide="ignore", invalid="ignore"):  # a one-respondent domain has no SRS variance
        vsrs = _srs_variance(design, column, centred, b, n, p, W, B)
    return _RatioFit(estimate, _taylor_cov(design, totals), vsrs, n, _df(design, column, p), totals=totals)


def _replicate_ratio(design, column, a, b, p, estimate, centred, n, rows, full_sums) -> _RatioFit:
    """Replicate estimates of ratios (or totals); design effects as R's ``svrepmean``/``svreptotal``/``svrepratio``."""
    replicates = design._replicates
    if b is None:
        A_r = replicates.sums(column, a, p)
        thetas = A_r
    else:
        stacked = replicates.sums(column, a, p, second=b)
        A_r, B_r = stacked[:p], stacked[p:]
        with np.errstate(divide="ignore", invalid="ignore"):
            thetas = A_r / B_r
    cov = replicates.variance(thetas, estimate)
    W, B = full_sums
    with np.errstate(divide="ignore", invalid="ignore"):  # R's svyvar on a replicate design counts every row
        vsrs = _srs_variance(design, column, centred, b, rows, p, W, B)
        deff = None
        if b is not None and B is not W:  # a ratio, R: deff(svytotal(y - R x)), the residual total's
            residual = A_r - estimate[:, None] * B_r
            full = _column_sums(column, design.w * centred, p)
            total_variance = np.diag(replicates.variance(residual, full))
            deff = total_variance / (vsrs * B**2)
    return _RatioFit(estimate, cov, vsrs, n, _df(design, column, p), replicates=thetas, deff=deff)


def _srs_variance(design, column, centred, b, n, p, W, B) -> np.ndarray:
    """Variance under simple random sampling with replacement of ``n`` rows (R's ``deff="replace"``);
    ``W`` and ``B`` are the column sums of ``w`` and ``w b``."""
    w = design.w
    if b is None:  # a total: svyvar(y) * N^2 / n
        mean = _column_sums(column, w * centred, p) / W
        dev = centred - mean[np.clip(column, 0, None)]
        var = _column_sums(column, w * dev**2, p) / W * n / (n - 1)
        return var * W**2 / n
    var = _column_sums(column, w * centred**2, p) / W * n / (n - 1)
    return var / n / (B / W) ** 2


def _df(design: SurveyDesign, column: np.ndarray, p: int, per: int = 1, *, own: bool = False) -> np.ndarray:
    """Degrees of freedom per column: the design's, NaN where the column's domain has none.

    ``per`` columns share a domain (the levels of a share): domain ``column // per``. With
    ``own=True`` each domain keeps its own, R's ``degf`` of the subset design, which is what
    ``svyby`` hands ``svyciprop`` and ``svyquantile``.
    """
    if p == 0:  # no columns: a variable nobody answered has no levels
        return np.zeros(0)
    domain = np.where(column >= 0, column // per, -1)
    g = p // per
    whole = g == 1 and np.all(column >= 0)
    dfs = np.array([design.df]) if whole else design.domain_dfs(domain, g)
    df = np.where(dfs >= 1, dfs if own else float(design.df), np.nan).astype(float)
    return np.repeat(df, per)


def _frame(fit: _RatioFit, *, level: float, index: pd.DataFrame) -> pd.DataFrame:
    se = np.sqrt(np.clip(np.diag(fit.cov), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = stats.t.ppf(0.5 + level / 2, fit.df)
        deff = np.diag(fit.cov) / fit.vsrs if fit.deff is None else fit.deff
        n_eff = np.where(deff > 0, fit.n / deff, np.nan)
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
    """Weighted mean of ``var`` with its standard error, overall or per domain of ``by``.

    Formula: ``ybar = sum(w y) / sum(w)``, influence ``(y - ybar) / sum(w)``; variance as R's
    ``svymean`` (Lumley 2010, §2.2) or, on a replicate design, ``svrepmean``; the design effect is
    R's ``deff="replace"``.
    """
    values, valid = _numeric(design, var)
    domains = _domains(design, by, valid)
    if linearisation.applies(design) and (domains.codes >= 0).any():
        fit = _from_groups(
            linearisation.means(design, domains.codes, values, len(domains.labels)), design, domains.codes
        )
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


def _from_groups(
    fit: linearisation.GroupFit, design: SurveyDesign, domain: np.ndarray, per: int = 1
) -> _RatioFit:
    p = len(fit.estimate)
    column = np.where(domain >= 0, domain * per, -1)
    return _RatioFit(fit.estimate, fit.cov, fit.vsrs, fit.n, _df(design, column, p, per))


def _proportion_fit(
    design: SurveyDesign, domain: np.ndarray, level_codes: np.ndarray, g: int, k: int, *, scores: bool = False
) -> _RatioFit:
    """Shares of k levels in g domains: column ``d*k + l`` is ``sum(w [level = l] [domain = d]) / sum(w [domain = d])``.

    Unclustered Taylor designs take the group-sum path (``linearisation.shares``) unless scores
    are needed for a joint covariance with another estimate (``scores=True``).
    """
    if not scores and linearisation.applies(design) and (domain >= 0).any():
        return _from_groups(
            linearisation.shares(design, domain, np.where(domain >= 0, level_codes, 0), g, k),
            design,
            domain,
            k,
        )
    w = design.w
    p = g * k
    column = np.where(domain >= 0, domain * k + level_codes, -1)
    A = _column_sums(column, w, p)
    B = np.repeat(A.reshape(g, k).sum(axis=1), k)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = A / B
    n, rows = (np.repeat(count, k) for count in _counts(design, domain, g))
    df = _df(design, column, p, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        vsrs = estimate * (1 - estimate) / (n - 1)  # svyvar of an indicator, n/(n-1) p(1-p), over n
    if design.is_replicate:
        A_r = design._replicates.sums(column, np.ones(design.n), p)
        B_r = np.repeat(A_r.reshape(g, k, -1).sum(axis=1), k, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            thetas = A_r / B_r
            vsrs = estimate * (1 - estimate) / (rows - 1)
        return _RatioFit(
            estimate, design._replicates.variance(thetas, estimate), vsrs, n, df, replicates=thetas
        )
    engine = design._taylor

    def sparse_parts(s: int) -> np.ndarray:
        a_unit = engine.sparse_totals(column, w, p, s)
        b_unit = np.repeat(engine.sparse_totals(domain, w, g, s), k, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.nan_to_num((a_unit - estimate * b_unit) / B)

    def row_scores(columns: list[int]) -> np.ndarray:
        out = np.zeros((design.n, len(columns)))
        for j, c in enumerate(columns):
            inside = domain == c // k
            hit = (level_codes[inside] == c % k).astype(float)
            out[inside, j] = w[inside] * (hit - estimate[c]) / B[c]
        return out

    totals = _taylor_totals(design, p, sparse_parts, row_scores)
    return _RatioFit(estimate, _taylor_cov(design, totals), vsrs, n, df, totals=totals)


def proportion(
    design: SurveyDesign, var: str, by: str | None = None, *, level: float = 0.95, method: str = "auto"
) -> pd.DataFrame:
    """Share of every level of the categorical ``var``, overall or per domain, with R's ``svyciprop`` intervals.

    ``method``: ``"logit"`` (R's default: the Wald interval of the logit, on a replicate design
    from the replicates' logits), ``"likelihood"`` (profile likelihood of the quasi-binomial model,
    scaled by the design effect), ``"asin"``, ``"xlogit"`` (the delta-method logit), ``"beta"``
    (Korn & Graubard's, on the effective n), ``"mean"`` (the Wald interval of the mean), or
    ``"wilson"`` (Wilson 1927, for unweighted simple random samples). ``"auto"`` takes Wilson for
    an unweighted SRS and logit otherwise. At p = 0 or 1 the logit interval does not exist and
    the Wilson interval on Kish's effective n is given instead. The ``se`` is always that of the
    share itself. By domain, the t quantiles take the domain's own degrees of freedom (R's
    ``svyby(..., svyciprop)``: ``degf`` of the subset design). Formulas: ``analysis/intervals.py``.
    """
    from .intervals import proportion_intervals

    series = design.data[var]
    valid = series.notna().to_numpy()
    level_codes, levels = design.factorize(var)
    domains = _domains(design, by, valid)
    g, k = len(domains.labels), len(levels)
    needs_scores = method == "likelihood"
    fit = _proportion_fit(design, domains.codes, level_codes, g, k, scores=needs_scores)
    index = pd.DataFrame({"variable": var, "level": np.tile(np.asarray(levels, dtype=object), g)})
    if by is not None:
        index.insert(1, by, np.repeat(np.asarray(domains.labels, dtype=object), k))
    frame = _frame(fit, level=level, index=index)
    if method == "auto":
        method = "wilson" if design.is_simple_random_sample else "logit"
    column = np.where(domains.codes >= 0, domains.codes * k + level_codes, -1)
    if by is not None:  # R's svyby: svyciprop on each domain's subset design, with its degf
        by_codes = design.factorize(by)[0]
        fit = replace(fit, df=_df(design, np.where(by_codes >= 0, by_codes * k, -1), g * k, k, own=True))
    return proportion_intervals(design, frame, fit, column=column, k=k, level=level, method=method)
