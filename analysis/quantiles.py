"""Quantiles with Woodruff's interval, as R's ``svyquantile`` (survey >= 4.1).

A quantile inverts the weighted distribution function by one of Hyndman & Fan's rules (1996,
*American Statistician* 50(4)), adapted to weights as R's ``qrule_*``. Its interval inverts the
distribution function at the confidence limits of ``mean(x <= qhat)``, whose SE is the design's —
the replicates' on a replicate design (Woodruff 1952, *JASA* 47) — and the reported SE is the
interval's width over ``2 t`` (R), ``t`` on the degrees of freedom of the domain's rows with a
value (R's ``degf`` of the subset design that ``na.rm`` and ``svyby`` leave).
``interval_type="quantile"`` (replicate designs) takes the replicate variance of the quantile
itself. Cumulative weights are summed in extended precision
and compared with a tolerance of a few units in the last place, so equal weights that land
exactly on ``p`` pick the order statistic exact arithmetic picks (R's apisrs median is 658).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .design import SurveyDesign
from .estimates import _df, _domains, _numeric, _ratio_fit
from .intervals import share_interval

TOLERANCE = 64 * np.finfo(float).eps  # relative: cumulative shares this close to p are equal to it
E_QRULE = "qrule must be one of {rules}; got {qrule!r}"
E_INTERVAL = "interval_type must be one of {types} for this design; got {value!r}"


@dataclass(frozen=True)
class _Position:
    """R's ``qs``: the order statistics around ``p`` and the weight shares on either side."""

    low: float
    up: float
    ilow: int  # 1-based, as R
    wlow: float
    wup: float


def _sorted(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keep = w != 0
    x, w = x[keep], w[keep]
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    # R sums in long double (cumsum, sum); numpy's longdouble is the same 80-bit type on x86-64.
    cumulative = np.cumsum(w.astype(np.longdouble)).astype(float)
    return x, w, cumulative


def _position(x: np.ndarray, cumulative: np.ndarray, p: float) -> _Position:
    total = cumulative[-1]
    share = cumulative / total
    below = np.flatnonzero(share <= p + TOLERANCE * max(p, 1e-300))
    pos = int(below[-1]) if len(below) else 0
    nxt = min(pos + 1, len(x) - 1)
    wlow = p - share[pos]
    wlow = 0.0 if abs(wlow) <= TOLERANCE * max(p, 1e-300) else wlow
    return _Position(float(x[pos]), float(x[nxt]), pos + 1, wlow, float(share[nxt] - p))


def _discrete(choose: Callable[[_Position], float]):
    def rule(x: np.ndarray, w: np.ndarray, p: float) -> float:
        x, _w, cumulative = _sorted(x, w)
        return choose(_position(x, cumulative, p))

    return rule


def _hf3(x: np.ndarray, w: np.ndarray, p: float) -> float:
    x, w, _ = _sorted(x, w)
    values, start = np.unique(x, return_index=True)  # R aggregates ties first (rowsum)
    cumulative = np.cumsum(np.add.reduceat(w, start).astype(np.longdouble)).astype(float)
    position = _position(values, cumulative, p)
    return position.low if position.wlow == 0 and position.ilow % 2 == 0 else position.up


def _regularize(pk: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's ``approx`` input: sorted by ``pk``, tied ``pk`` collapsed to the mean of their ``x``."""
    order = np.argsort(pk, kind="stable")
    pk, x = pk[order], x[order]
    knots, start = np.unique(pk, return_index=True)
    return knots, np.add.reduceat(x, start) / np.diff(np.append(start, len(x)))


def _continuous(points: Callable[[np.ndarray, np.ndarray], np.ndarray], *, constant: bool = False):
    def rule(x: np.ndarray, w: np.ndarray, p: float) -> float:
        x, w, cumulative = _sorted(x, w)
        knots, values = _regularize(points(w, cumulative), x)
        if constant:  # R: approx(method = "constant", f = 0, rule = 2)
            index = np.searchsorted(knots, p, side="right") - 1
            return float(values[int(np.clip(index, 0, len(values) - 1))])
        return float(np.interp(p, knots, values))

    return rule


def _hf4(x: np.ndarray, w: np.ndarray, p: float) -> float:
    x, _w, cumulative = _sorted(x, w)
    position = _position(x, cumulative, p)
    gamma = position.wlow / (position.wup + position.wlow)
    return position.low * (1 - gamma) + position.up * gamma


QRULES: dict[str, Callable[[np.ndarray, np.ndarray, float], float]] = {
    "math": _discrete(lambda q: q.low if q.wlow == 0 else q.up),
    "school": _discrete(lambda q: (q.low + q.up) / 2 if q.wlow == 0 else q.up),
    "hf3": _hf3,
    "hf4": _hf4,
    "hf5": _continuous(lambda w, c: (c - w / 2) / c[-1]),
    "hf6": _continuous(lambda w, c: c / (c[-1] + w[-1])),
    "hf7": _continuous(lambda w, c: np.concatenate([[0.0], c[:-1]]) / c[-2]),
    "hf8": _continuous(lambda w, c: (np.concatenate([[0.0], c[:-1]]) / 3 + c * 2 / 3) / (c[-1] + w[-1] / 3)),
    "hf9": _continuous(
        lambda w, c: (np.concatenate([[0.0], c[:-1]]) * 3 / 8 + c * 5 / 8) / (c[-1] + w[-1] / 4)
    ),
    "shahvaish": _continuous(
        lambda w, c: (np.cumsum(w / w.mean()) + 0.5 - w / 2) / (len(w) + 1), constant=True
    ),
}
QRULES |= {"hf1": QRULES["math"], "hf2": QRULES["school"]}


def weighted_quantile(x: np.ndarray, w: np.ndarray, p: float, rule: str = "math") -> float:
    """The ``p`` quantile of ``x`` under weights ``w`` by R's ``qrule_<rule>``; zero weights are ignored.

    NaN when ``p`` is NaN or no row has weight.
    """
    if rule not in QRULES:
        raise ValueError(E_QRULE.format(rules=", ".join(QRULES), qrule=rule))
    if not np.isfinite(p) or not np.any(w != 0):
        return float("nan")
    return QRULES[rule](np.asarray(x, dtype=float), np.asarray(w, dtype=float), float(p))


def quantile(
    design: SurveyDesign,
    var: str,
    q: float | Sequence[float],
    by: str | None = None,
    *,
    level: float = 0.95,
    qrule: str = "math",
    interval_type: str = "mean",
) -> pd.DataFrame:
    """The ``q`` quantile(s) of ``var`` with Woodruff's interval, as R's ``svyquantile``, overall or by domain.

    Parameters
    ----------
    q : float or sequence of floats
        Probabilities in [0, 1]; one row per quantile (and domain).
    qrule : str
        ``"math"`` (``"hf1"``, R's default), ``"school"`` (``"hf2"``), ``"hf3"`` ... ``"hf9"`` or
        ``"shahvaish"``.
    interval_type : {"mean", "beta", "xlogit", "asin", "quantile"}
        How the interval for ``mean(x <= qhat)`` is formed (see ``analysis/intervals.py``), or —
        replicate designs only — ``"quantile"``: ``qhat ± t sqrt(V)`` with ``V`` the replicate
        variance of the quantile (R's ``repCI``).

    Returns
    -------
    DataFrame
        ``variable, [by], quantile, estimate, se, ci_low, ci_high, deff, n, n_eff`` (deff and
        n_eff NaN). A limit is NaN where the CDF's interval leaves [0, 1] or the domain has no
        degrees of freedom.
    """
    if qrule not in QRULES:
        raise ValueError(E_QRULE.format(rules=", ".join(QRULES), qrule=qrule))
    types = ("mean", "beta", "xlogit", "asin") + (("quantile",) if design.is_replicate else ())
    if interval_type not in types:
        raise ValueError(E_INTERVAL.format(types=", ".join(types), value=interval_type))
    values, valid = _numeric(design, var)
    domains = _domains(design, by, valid)
    probabilities = [q] if np.ndim(q) == 0 else list(q)
    w = design.w
    rows = []
    for code, label in enumerate(domains.labels):
        inside = domains.codes == code
        for p in probabilities:
            qhat = weighted_quantile(values[inside], w[inside], p, qrule)
            low, high, t = _interval(design, values, inside, qhat, p, level, qrule, interval_type)
            rows.append(
                {
                    "variable": var,
                    **({by: label} if by else {}),
                    "quantile": p,
                    "estimate": qhat,
                    "se": (high - low) / (2 * t),
                    "ci_low": low,
                    "ci_high": high,
                    "deff": float("nan"),
                    "n": int(np.sum(inside & (w != 0))),
                    "n_eff": float("nan"),
                }
            )
    return pd.DataFrame(rows)


def _interval(design, values, inside, qhat, p, level, rule, interval_type) -> tuple[float, float, float]:
    """Woodruff's limits (or the replicate quantile interval) and the t quantile used."""
    column = np.where(inside, 0, -1)
    fit = _ratio_fit(design, column, (values <= qhat).astype(float), np.ones(design.n), 1)
    df = _df(design, column, 1, own=True)[0]  # R: degf of the domain's subset design, its rows with values
    with np.errstate(invalid="ignore"):
        t = float(stats.t.ppf(0.5 + level / 2, df))
    if interval_type == "quantile":
        replicates = design._replicates
        x, w_rep = values[inside], replicates.weights[inside]
        estimates = np.array([weighted_quantile(x, w_rep[:, r], p, rule) for r in range(replicates.count)])
        se = float(np.sqrt(replicates.variance(estimates[None, :], np.array([qhat]))[0, 0]))
        return qhat - t * se, qhat + t * se, t
    se = float(np.sqrt(max(fit.cov[0, 0], 0.0)))
    rows = np.array([inside.sum()])
    low_p, high_p = share_interval(
        fit.estimate, np.array([se]), np.array([df]), level=level, method=interval_type, rows=rows
    )
    x, w = values[inside], design.w[inside]
    low = float("nan") if not low_p[0] >= 0 else weighted_quantile(x, w, low_p[0], rule)
    high = float("nan") if not high_p[0] <= 1 else weighted_quantile(x, w, high_p[0], rule)
    return low, high, t
