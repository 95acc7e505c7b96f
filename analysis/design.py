"""The survey design object and the Taylor-linearisation variance engine.

This follows R's ``survey`` package (T. Lumley, ``svydesign`` and ``svyrecvar``): the variance of
an estimator is the with-replacement ("ultimate cluster") variance of its first-stage PSU totals of
influence scores, centred within strata, times ``f_h * n_h / (n_h - 1)`` where ``f_h = 1 - n_h/N_h``
when a finite population correction is given (Wolter 2007, *Introduction to Variance Estimation*,
ch. 6; Lumley 2010, *Complex Surveys*, §2.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

LonelyPSU = Literal["fail", "certainty", "adjust", "remove"]

E_LONELY = (
    "stratum {stratum} has only one PSU, so its variance cannot be estimated; choose "
    "lonely_psu='certainty', 'adjust' or 'remove' (as R's options(survey.lonely.psu=...))"
)
E_MISSING_COLUMN = "column {column!r} is not in the data"
E_BAD_WEIGHTS = "weights must be finite and non-negative; column {column!r} has {count} that are not"
E_FPC_MIXED = "fpc must be all population counts (>= 1) or all sampling fractions (<= 1), as in R"
E_FPC_SMALL = "fpc implies more than 100% sampling in stratum {stratum}"
E_FPC_VARIES = "fpc varies within stratum {stratum}"


@dataclass(frozen=True)
class SurveyDesign:
    """A sample and how it was drawn: weights, strata, first-stage clusters (PSUs) and an fpc.

    Parameters
    ----------
    data : DataFrame
        One row per respondent.
    weights : str, optional
        Column of sampling weights; none means equal weights (R: ``svydesign(weights=NULL)``).
    strata, clusters : str, optional
        Stratum and first-stage cluster (PSU) columns (R: ``strata=~``, ``id=~``). Without
        clusters each row is its own PSU.
    fpc : str, optional
        Population number of PSUs per stratum (values >= 1) or the sampling fraction (values <= 1).
    lonely_psu : {"fail", "certainty", "adjust", "remove"}
        What to do with a stratum that has one PSU, as R's ``options(survey.lonely.psu=)``.

    Notes
    -----
    The object is immutable; reweighting returns a new design (see :func:`with_weights`).
    """

    data: pd.DataFrame
    weights: str | None = None
    strata: str | None = None
    clusters: str | None = None
    fpc: str | None = None
    lonely_psu: LonelyPSU = "fail"
    weight_values: np.ndarray | None = field(default=None, repr=False, compare=False)
    calibration: tuple[Calibration, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        for column in (self.weights, self.strata, self.clusters, self.fpc):
            if column is not None and column not in self.data.columns:
                raise KeyError(E_MISSING_COLUMN.format(column=column))
        weights = self.w
        bad = ~np.isfinite(weights) | (weights < 0)
        if bad.any():
            raise ValueError(E_BAD_WEIGHTS.format(column=self.weights, count=int(bad.sum())))

    @cached_property
    def w(self) -> np.ndarray:
        """The weight of each row as a float array."""
        if self.weight_values is not None:
            return np.asarray(self.weight_values, dtype=float)
        if self.weights is None:
            return np.ones(len(self.data))
        return self.data[self.weights].to_numpy(dtype=float)

    @property
    def n(self) -> int:
        return len(self.data)

    def factorize(self, column: str) -> tuple[np.ndarray, list]:
        """Integer codes (-1 for missing) and sorted labels of a column, computed once per design."""
        cache = self.__dict__.setdefault("_factorized", {})
        if column not in cache:
            codes, labels = pd.factorize(self.data[column], sort=True)
            cache[column] = (np.asarray(codes), list(labels))
        return cache[column]

    @property
    def is_simple_random_sample(self) -> bool:
        """Unweighted, unstratified, unclustered: the textbook SRS case."""
        return (
            self.weights is None
            and self.weight_values is None
            and self.strata is None
            and self.clusters is None
        )

    @cached_property
    def _structure(self) -> _Structure:
        return _Structure.build(self)

    @property
    def df(self) -> int:
        """Design degrees of freedom: PSUs minus strata (R's ``degf``)."""
        return self._structure.n_psu - self._structure.n_strata

    def variance(self, scores: np.ndarray) -> np.ndarray:
        """Covariance matrix of the estimators whose weighted influence scores are ``scores``.

        ``scores`` is ``(n,)`` or ``(n, p)``: ``w_i * u_i`` for each row. Returns ``(p, p)``.
        """
        scores = np.asarray(scores, dtype=float).reshape(self.n, -1)
        return self._structure.variance(self.calibrated_scores(scores))

    def calibrated_scores(self, scores: np.ndarray) -> np.ndarray:
        """Scores with what calibration fixed removed; unchanged for an uncalibrated design."""
        if not self.calibration:
            return scores
        w = self.w
        safe = np.where(w > 0, w, 1.0)
        u = scores / safe[:, None]
        for calibration in self.calibration:
            u = calibration.residualise(u)
        return u * w[:, None]

    def psu_totals(self, scores: np.ndarray) -> np.ndarray:
        """``(n, p)`` row scores summed into ``(m, p)`` PSU totals (after calibration residuals)."""
        return self._structure.totals(self.calibrated_scores(scores))


@dataclass(frozen=True)
class Calibration:
    """How weights were calibrated, so variances can remove what calibration fixed (R's ``postStrata``).

    ``kind`` is ``"poststratify"`` (one grouping) or ``"rake"`` (one grouping per margin).
    """

    kind: Literal["poststratify", "rake"]
    groups: tuple[np.ndarray, ...]  # row -> group code, per margin
    old_weights: np.ndarray

    def residualise(self, u: np.ndarray) -> np.ndarray:
        """Remove group means from per-row influence values ``u`` (``n`` by ``p``), as ``svyrecvar`` does.

        Post-stratification subtracts the old-weight mean of ``u`` in each post-stratum; raking
        sweeps the unweighted margin means ten times (R's backfitting approximation).
        """
        u = u.copy()
        if self.kind == "poststratify":
            codes = self.groups[0]
            size = codes.max() + 1
            weight_sums = np.maximum(np.bincount(codes, weights=self.old_weights, minlength=size), 1e-300)
            for j in range(u.shape[1]):
                means = np.bincount(codes, weights=self.old_weights * u[:, j], minlength=size) / weight_sums
                u[:, j] -= means[codes]
            return u
        for _sweep in range(10):
            for codes in self.groups:
                size = codes.max() + 1
                counts = np.maximum(
                    np.bincount(codes, minlength=size), 1
                )  # empty groups have no rows to adjust
                for j in range(u.shape[1]):
                    u[:, j] -= (np.bincount(codes, weights=u[:, j], minlength=size) / counts)[codes]

        return u


def with_data(design: SurveyDesign, data: pd.DataFrame) -> SurveyDesign:
    """The same design over ``data`` (same rows in the same order, extra columns allowed)."""
    if len(data) != design.n:
        raise ValueError("with_data needs the same rows as the design")
    return replace(design, data=data)


def with_weights(
    design: SurveyDesign, weights: np.ndarray, calibration: Calibration | None = None
) -> SurveyDesign:
    """The same design with new weights (after raking or post-stratification)."""
    extra = (calibration,) if calibration is not None else ()
    return replace(
        design, weight_values=np.asarray(weights, dtype=float), calibration=design.calibration + extra
    )


@dataclass(frozen=True)
class _Structure:
    """PSU and stratum codes, PSU counts and fpc factors, computed once per design."""

    psu: np.ndarray  # row -> PSU index (0..m-1)
    psu_stratum: np.ndarray  # PSU -> stratum index
    n_h: np.ndarray  # stratum -> number of PSUs
    scale_h: np.ndarray  # stratum -> f_h * n_h / (n_h - 1)  (f_h alone for singletons)
    lonely: np.ndarray  # stratum -> has a single PSU
    lonely_psu: str
    stratum_labels: np.ndarray

    @property
    def n_psu(self) -> int:
        return len(self.psu_stratum)

    @property
    def n_strata(self) -> int:
        return len(self.n_h)

    @classmethod
    def build(cls, design: SurveyDesign) -> _Structure:
        data, n = design.data, design.n
        stratum_codes, stratum_labels = (
            pd.factorize(data[design.strata], sort=True)
            if design.strata
            else (np.zeros(n, dtype=np.int64), np.array(["all"]))
        )
        if design.clusters:
            # A PSU is identified within its stratum, as R does with nest=TRUE.
            keys = pd.MultiIndex.from_arrays([stratum_codes, data[design.clusters].to_numpy()])
            psu, _ = pd.factorize(keys, sort=False)
        else:
            psu = np.arange(n)
        psu = np.asarray(psu, dtype=np.int64)
        psu_stratum = np.zeros(psu.max() + 1 if n else 0, dtype=np.int64)
        psu_stratum[psu] = stratum_codes
        n_h = np.bincount(psu_stratum, minlength=len(stratum_labels)).astype(float)
        f_h = cls._finite_population_factor(design, stratum_codes, n_h, stratum_labels)
        lonely = n_h == 1
        if lonely.any() and design.lonely_psu == "fail":
            raise ValueError(
                E_LONELY.format(
                    stratum=stratum_labels[np.argmax(lonely)].item()
                    if hasattr(stratum_labels[np.argmax(lonely)], "item")
                    else stratum_labels[np.argmax(lonely)]
                )
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(lonely, f_h, f_h * n_h / (n_h - 1))
        return cls(psu, psu_stratum, n_h, scale, lonely, design.lonely_psu, np.asarray(stratum_labels))

    @staticmethod
    def _finite_population_factor(design, stratum_codes, n_h, labels) -> np.ndarray:
        if design.fpc is None:
            return np.ones(len(n_h))
        values = design.data[design.fpc].to_numpy(dtype=float)
        if not (np.all(values >= 1) or np.all(values <= 1)):
            raise ValueError(E_FPC_MIXED)
        per_stratum = pd.Series(values).groupby(stratum_codes)
        if (per_stratum.nunique() > 1).any():
            raise ValueError(
                E_FPC_VARIES.format(stratum=labels[int(np.argmax(per_stratum.nunique().to_numpy() > 1))])
            )
        fpc = per_stratum.first().to_numpy()
        population = fpc if np.all(values >= 1) and np.any(values > 1) else n_h / fpc
        if np.any(population < n_h):
            raise ValueError(E_FPC_SMALL.format(stratum=labels[int(np.argmax(population < n_h))]))
        return np.where(np.isinf(population), 1.0, (population - n_h) / population)

    def totals(self, scores: np.ndarray) -> np.ndarray:
        totals = np.zeros((self.n_psu, scores.shape[1]))
        for j in range(scores.shape[1]):  # one bincount per column: a vectorised pass over the rows each
            totals[:, j] = np.bincount(self.psu, weights=scores[:, j], minlength=self.n_psu)
        return totals

    def variance(self, scores: np.ndarray) -> np.ndarray:
        return self.variance_of_totals(self.totals(scores))

    def variance_of_totals(self, totals: np.ndarray) -> np.ndarray:
        """Covariance from PSU totals of influence scores, ``(m, p)`` -> ``(p, p)`` (R's ``onestage``)."""
        p = totals.shape[1]
        stratum_sums = np.zeros((self.n_strata, p))
        for j in range(p):
            stratum_sums[:, j] = np.bincount(self.psu_stratum, weights=totals[:, j], minlength=self.n_strata)
        centre = stratum_sums / self.n_h[:, None]
        lonely_rows = self.lonely[self.psu_stratum]
        if self.lonely_psu == "adjust" and lonely_rows.any():
            # R (since 2022): a lonely PSU is centred at the mean PSU total of the whole sample.
            centre[self.lonely] = totals.sum(axis=0) / self.n_psu
        deviations = totals - centre[self.psu_stratum]
        if self.lonely_psu in ("certainty", "remove"):
            deviations[lonely_rows] = 0.0
        scaled = deviations * self.scale_h[self.psu_stratum][:, None]
        return scaled.T @ deviations
