"""Design-based generalised linear models, as R's ``svyglm``, and Wald tests of terms (``regTermTest``).

The coefficients solve the weighted score equations ``sum w_i x_i (y_i - mu_i) / V(mu_i) dmu/deta
= 0`` (fitted by statsmodels' IRLS, weights rescaled to mean 1 as R). Their covariance is the
design's: on a Taylor design the sandwich ``A^-1 V(U) A^-1`` with ``V(U)`` the design variance of
the score totals (Binder 1983, *Int. Stat. Review* 51(3); R's ``svy.varcoef``, which feeds
``estfun %*% A^-1`` to ``svyrecvar``, calibration residuals and every stage included); on a
replicate design the model is refitted with every replicate's weights from the full-sample
coefficients and the variance is R's ``svrVar`` of the replicate coefficients. Residual degrees of
freedom ``degf(design) + 1 - p``; t statistics, p values and Wald intervals use them (R's
``summary.svyglm`` and ``confint.svyglm``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from .design import SurveyDesign
from .formula import ModelFrame, model_frame

FAMILIES = {
    "gaussian": sm.families.Gaussian,
    "binomial": sm.families.Binomial,
    "quasibinomial": sm.families.Binomial,
    "poisson": sm.families.Poisson,
    "quasipoisson": sm.families.Poisson,
}
GLM_EPSILON = 1e-8  # R's glm.control(epsilon)
MAX_ITERATIONS = 25  # R's glm.control(maxit)
ILL_CONDITIONED = 1e10
COLLINEAR = 1e-12

E_FAMILY = "family must be one of {families} or a statsmodels family; got {value!r}"
E_TERMS = "no term {terms} in the model; its terms are {available}"
E_RESPONSE = (
    "a {family} model needs a response between 0 and 1 (a share or a 0/1 outcome), as R's binomial "
    "family does; {column!r} has values from {low:g} to {high:g}"
)
E_COUNTS = (
    "a {family} model needs a non-negative response, as R's poisson family does; {column!r} has {low:g}"
)
E_RANK = "the model matrix is rank deficient (collinear columns: {columns}); drop or combine them"


@dataclass(frozen=True)
class GLMResult:
    """A fitted design-based GLM.

    ``coefficients`` is tidy: ``term, estimate, se, t, p_value, ci_low, ci_high`` (R's
    ``summary(svyglm)`` and ``confint``); ``cov`` the design-based covariance; ``naive_cov`` the
    model-based ``(X'WX)^-1`` of the rescaled weights (R's ``naive.cov``).
    """

    coefficients: pd.DataFrame
    cov: pd.DataFrame
    naive_cov: pd.DataFrame
    df_residual: float
    family: str
    deviance: float
    null_deviance: float
    dispersion: float  # R's summary dispersion: svyvar of the Pearson residuals (replicates: R's own form)
    n: int
    terms: dict[str, list[int]]
    formula: str

    @property
    def params(self) -> pd.Series:
        return self.coefficients.set_index("term")["estimate"]


def _family(family):
    if isinstance(family, str):
        if family not in FAMILIES:
            raise ValueError(E_FAMILY.format(families=", ".join(FAMILIES), value=family))
        return FAMILIES[family](), family
    if isinstance(family, sm.families.Family):
        return family, type(family).__name__.lower()
    raise ValueError(E_FAMILY.format(families=", ".join(FAMILIES), value=family))


@dataclass(frozen=True)
class _Fit:
    beta: np.ndarray
    working_weights: np.ndarray  # of the last iteration, as R's glm.fit returns them
    working_residuals: np.ndarray  # (y - mu) / (dmu/deta) at the estimate
    deviance: float


def _irls(x: np.ndarray, y: np.ndarray, w: np.ndarray, family, start: np.ndarray | None = None) -> _Fit:
    """R's ``glm.fit``: IRLS from R's starting values (or ``start``) until the deviance changes by
    less than ``1e-8`` relative. As R, the working weights returned are those the last step used,
    which is what ``svyglm``'s sandwich is built from."""
    if start is None:
        mu = _mustart(y, w, family)
        eta = family.link(mu)
    else:
        eta = x @ start
        mu = family.link.inverse(eta)
    deviance_old = family.deviance(y, mu, var_weights=w)
    beta = start if start is not None else np.zeros(x.shape[1])
    working = w
    for _ in range(MAX_ITERATIONS):
        dmu = family.link.inverse_deriv(eta)
        working = w * dmu**2 / family.variance(mu)
        z = eta + (y - mu) / dmu
        new = _weighted_least_squares(x, z, working)
        eta_new = x @ new
        mu_new = family.link.inverse(eta_new)
        deviance = family.deviance(y, mu_new, var_weights=w)
        halvings = 0
        while not np.isfinite(deviance) and halvings < MAX_ITERATIONS:  # R's step halving
            new, halvings = (new + beta) / 2, halvings + 1
            eta_new = x @ new
            mu_new = family.link.inverse(eta_new)
            deviance = family.deviance(y, mu_new, var_weights=w)
        beta, eta, mu = new, eta_new, mu_new
        if abs(deviance - deviance_old) / (abs(deviance) + 0.1) < GLM_EPSILON:
            break
        deviance_old = deviance
    residuals = (y - mu) / family.link.inverse_deriv(eta)
    return _Fit(beta, working, residuals, float(deviance))


def _collinear(x: np.ndarray) -> bool:
    """Some column is (numerically) a combination of the others: the scaled Gram matrix is singular."""
    gram = x.T @ x
    scale = np.sqrt(np.diag(gram))
    if np.any(scale == 0):
        return True
    eigenvalues = np.linalg.eigvalsh(gram / np.outer(scale, scale))
    return bool(eigenvalues.min() < COLLINEAR * eigenvalues.max())


def _weighted_least_squares(x: np.ndarray, z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``argmin sum w (z - x b)^2`` by the normal equations (Cholesky), or by a least-squares solve
    of the weighted matrix when they are ill-conditioned."""
    weighted = x * w[:, None]
    gram = x.T @ weighted
    if np.linalg.cond(gram) < ILL_CONDITIONED:
        return np.linalg.solve(gram, weighted.T @ z)
    root = np.sqrt(w)
    return np.linalg.lstsq(x * root[:, None], z * root, rcond=None)[0]


def _mustart(y: np.ndarray, w: np.ndarray, family) -> np.ndarray:
    """R's ``family$initialize`` starting means."""
    if isinstance(family, sm.families.Binomial):
        return (w * y + 0.5) / (w + 1)
    if isinstance(family, sm.families.Poisson):
        return y + 0.1
    return y.astype(float)


def _check_response(y: np.ndarray, family: str, formula: str) -> None:
    """Refuse a response the family cannot model, before IRLS diverges on it (R refuses it too)."""
    if y.size == 0:
        return
    column = formula.split("~", 1)[0].strip()
    low, high = float(np.min(y)), float(np.max(y))
    if family in {"binomial", "quasibinomial"} and (low < 0 or high > 1):
        raise ValueError(E_RESPONSE.format(family=family, column=column, low=low, high=high))
    if family in {"poisson", "quasipoisson"} and low < 0:
        raise ValueError(E_COUNTS.format(family=family, column=column, low=low))


def glm(
    design: SurveyDesign,
    formula: str,
    family="gaussian",
    *,
    level: float = 0.95,
) -> GLMResult:
    """Fit ``formula`` (R style, ``"y ~ x1 + f + f:x1"``) on the design, as R's ``svyglm``.

    Parameters
    ----------
    family : {"gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson"} or statsmodels family
        Canonical links; binomial and quasibinomial give the same estimates and SEs (the design
        variance does not use the dispersion). A factor or boolean response is ``level != first``.
    level : float
        Of the Wald intervals (t on ``df_residual``).

    Returns
    -------
    GLMResult
        Rows with a missing model variable are left out (R's ``na.omit``). Raises ``ValueError``
        for an unknown variable, a bad formula or collinear columns.
    """
    family_object, family_name = _family(family)
    frame = model_frame(formula, design.data)
    rows = frame.rows
    w = design.w[rows]
    scaled = w / w.mean()
    _check_response(frame.y, family_name, formula)
    if _collinear(frame.x):
        raise ValueError(E_RANK.format(columns=", ".join(frame.names)))
    fit = _irls(frame.x, frame.y, scaled, family_object)
    beta = fit.beta
    mu = family_object.link.inverse(frame.x @ beta)
    variance = family_object.variance(mu)
    naive = np.linalg.inv(frame.x.T @ (frame.x * fit.working_weights[:, None]))
    if design.is_replicate:
        cov, df = _replicate_cov(design, frame, beta, family_object), design.df + 1 - len(beta)
    else:
        estfun = frame.x * (fit.working_residuals * fit.working_weights)[:, None]
        scores = np.zeros((design.n, len(beta)))
        scores[rows] = estfun @ naive
        cov = design.variance(scores)
        df = int(design.domain_dfs(np.where(rows, 0, -1), 1)[0]) + 1 - len(beta)
    pearson = (frame.y - mu) / np.sqrt(variance)
    dispersion = (
        len(w) * float(np.sum(w * pearson**2) / w.sum())  # R's summary.svrepglm
        if design.is_replicate
        else _weighted_variance(pearson, w)
    )
    return GLMResult(
        coefficients=_table(frame.names, beta, cov, df, level),
        cov=pd.DataFrame(cov, index=frame.names, columns=frame.names),
        naive_cov=pd.DataFrame(naive, index=frame.names, columns=frame.names),
        df_residual=float(df),
        family=family_name,
        deviance=fit.deviance,
        null_deviance=_null_deviance(frame, scaled, family_object),
        dispersion=dispersion,
        n=int(rows.sum()),
        terms=frame.terms,
        formula=formula,
    )


def _replicate_cov(design: SurveyDesign, frame: ModelFrame, beta: np.ndarray, family) -> np.ndarray:
    """R's ``svrepglm``: refit with each replicate's weights from ``beta``; ``svrVar`` of the coefficients."""
    replicates = design._replicates
    weights = replicates.weights[frame.rows]
    estimates = np.column_stack(
        [
            _irls(frame.x, frame.y, weights[:, r] / weights[:, r].sum(), family, beta).beta
            for r in range(replicates.count)
        ]
    )
    return replicates.variance(estimates, beta)


def _null_deviance(frame: ModelFrame, w: np.ndarray, family) -> float:
    """Deviance of the intercept-only model (of the offset-free model without one: ``eta = 0``)."""
    mu = (
        np.full(len(frame.y), np.sum(w * frame.y) / w.sum())
        if frame.intercept
        else family.link.inverse(np.zeros(len(frame.y)))
    )
    return float(family.deviance(frame.y, mu, var_weights=w))


def _table(names: list[str], beta: np.ndarray, cov: np.ndarray, df: float, level: float) -> pd.DataFrame:
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = beta / se
        usable = df > 0
        p = 2 * stats.t.sf(np.abs(t), df) if usable else np.full(len(beta), np.nan)
        quantile = stats.t.ppf(0.5 + level / 2, df) if usable else np.nan
    return pd.DataFrame(
        {
            "term": names,
            "estimate": beta,
            "se": se,
            "t": t,
            "p_value": p,
            "ci_low": beta - quantile * se,
            "ci_high": beta + quantile * se,
        }
    )


def _weighted_variance(values: np.ndarray, w: np.ndarray) -> float:
    """R's ``svyvar``: ``n/(n-1) sum w (v - vbar)^2 / sum w`` over rows of non-zero weight."""
    n = np.count_nonzero(w)
    centre = np.sum(w * values) / w.sum()
    return float(n / (n - 1) * np.sum(w * (values - centre) ** 2) / w.sum())


def _canonical(term: str) -> str:
    return ":".join(sorted(part.strip() for part in term.split(":")))


def regterm_test(model: GLMResult, terms: str | Sequence[str], *, df: float | None = None) -> dict:
    """Wald test that every coefficient of ``terms`` is zero, as R's ``regTermTest(method="Wald")``.

    ``terms`` is a term label, a list of them, or a one-sided formula (``"~ell+meals"``). The
    statistic ``F = b' V^-1 b / k`` on ``(k, df)`` degrees of freedom, ``df`` the model's residual
    df; with ``df=inf`` the chi-square ``b' V^-1 b`` on ``k``. Returns ``{"terms", "statistic",
    "df", "ddf", "p_value", "chisq"}``.
    """
    if isinstance(terms, str):
        terms = [t for t in terms.replace("~", "").split("+") if t.strip()] if "~" in terms else [terms]
    available = {_canonical(label): columns for label, columns in model.terms.items()}
    wanted = [_canonical(term) for term in terms]
    missing = [term for term in wanted if term not in available]
    if missing:
        raise ValueError(E_TERMS.format(terms=", ".join(missing), available=", ".join(model.terms)))
    index = sorted({column for term in wanted for column in available[term]})
    beta = model.coefficients["estimate"].to_numpy()[index]
    cov = model.cov.to_numpy()[np.ix_(index, index)]
    chisq = float(beta @ np.linalg.solve(cov, beta))
    k = len(index)
    ddf = model.df_residual if df is None else df
    if np.isinf(ddf):
        return {
            "terms": list(terms),
            "statistic": chisq,
            "df": k,
            "ddf": ddf,
            "p_value": float(stats.chi2.sf(chisq, k)),
            "chisq": chisq,
        }
    statistic = chisq / k
    return {
        "terms": list(terms),
        "statistic": statistic,
        "df": k,
        "ddf": ddf,
        "p_value": float(stats.f.sf(statistic, k, ddf)),
        "chisq": chisq,
    }
