"""The survey design object: the sample, its weights and how it was drawn.

A design is either *Taylor* — strata, clusters at one or more stages and finite population
corrections, its variances from influence scores by R's ``svyrecvar`` (``analysis/multistage.py``) —
or *replicate* — a matrix of replicate weights with R's ``svrepdesign`` scale factors, its variances
from re-estimating with every replicate (``analysis/replicate.py``). Every estimator takes either.
Follows R's ``survey`` package (T. Lumley, ``svydesign``, ``svrepdesign``; Lumley 2010, *Complex
Surveys*, ch. 2 and 2.8; Wolter 2007, *Introduction to Variance Estimation*, ch. 4-6).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

LonelyPSU = Literal["fail", "certainty", "adjust", "remove", "average"]
ReplicateType = Literal[
    "JK1", "JKn", "BRR", "Fay", "bootstrap", "subbootstrap", "successive-difference", "ACS", "JK2", "other"
]
REPLICATE_TYPES = ReplicateType.__args__  # type: ignore[attr-defined]

E_MISSING_COLUMN = "column {column!r} is not in the data"
E_BAD_WEIGHTS = "weights must be finite and non-negative; column {column!r} has {count} that are not"
E_BAD_REPLICATE_WEIGHTS = (
    "replicate weights must be finite and non-negative; {column!r} has {count} that are not"
)
E_NO_REPLICATE_COLUMNS = "replicate_weights {pattern!r} matches no column of the data"
E_REPLICATE_TYPE = "replicate_type must be one of {types}; got {value!r}"
E_FAY_RHO = "replicate_type='Fay' needs rho, the Fay coefficient (0 < rho < 1)"
E_JKN_RSCALES = "replicate_type='JKn' with combined weights needs rscales, one (n_h - 1)/n_h per replicate"
E_RSCALES_LENGTH = "rscales has {given} values; give one per replicate ({expected})"
E_REPLICATE_AND_STRUCTURE = "give either replicate weights or strata/clusters/fpc, not both"
E_STAGES = "give {what} for at most as many stages as there are clusters ({stages})"
E_FPC_STAGES = (
    "give one fpc per stage of clusters: {stages} stage(s), {given} fpc column(s), as R's svydesign"
)
E_NOT_TAYLOR = "this is a replicate-weight design: its variances come from the replicates, not from scores"


def _columns(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@dataclass(frozen=True)
class SurveyDesign:
    """A sample and how it was drawn.

    Parameters
    ----------
    data : DataFrame
        One row per respondent.
    weights : str, optional
        Column of sampling weights. Without it the weights follow from a population-count ``fpc``
        (the product over stages of ``N / n``) as in R, and are otherwise equal.
    strata, clusters, fpc : str or sequence of str, optional
        Per stage of sampling, as R's ``svydesign(strata=~a+b, id=~psu+ssu, fpc=~N1+N2)``: the
        first-stage strata and clusters (PSUs), then those of each later stage, each nested in the
        unit above it. Without clusters each row is its own PSU. An ``fpc`` is the population
        number of units in the stratum (values >= 1) or the sampling fraction (values <= 1); with
        an fpc at every stage the variance adds each later stage's contribution (R's
        ``svyrecvar``); without one it is the with-replacement ("ultimate cluster") variance.
    lonely_psu : {"fail", "certainty", "adjust", "remove", "average"}
        A stratum with a single sampled unit, as R's ``options(survey.lonely.psu=)``.
    replicate_weights : str or sequence of str, optional
        Replicate-weight columns (a regular expression matched against the column names, as R's
        ``svrepdesign(repweights="pw[0-9]+")``, or a list of names). Such a design has no strata,
        clusters or fpc: its variance is R's ``svrVar``,
        ``scale * sum_r rscales_r (theta_r - centre)^2``.
    replicate_type : {"JK1", "JKn", "BRR", "Fay", "bootstrap", "subbootstrap", "successive-difference", "ACS", "JK2", "other"}
        Sets ``scale`` and ``rscales`` where R does (BRR ``1/R``; Fay ``1/(R (1 - rho)^2)``; JK1
        ``(R - 1)/R``; bootstrap ``1/(R - 1)``; successive-difference and ACS ``4/R``; JK2 1);
        "other" takes ``scale`` and ``rscales`` as given (default 1). Unset, it is "BRR", R's default.
    scale, rscales : float, optional
        The overall and per-replicate multipliers (JKn needs ``rscales`` = ``(n_h - 1)/n_h``).
    rho : float, optional
        Fay's coefficient (replicate_type "Fay").
    mse : bool
        Centre replicate deviations at the full-sample estimate instead of the replicates' mean
        (R's ``mse=TRUE``).
    combined_weights : bool
        Replicate columns are whole weights (R's default) rather than multipliers of ``weights``.

    Notes
    -----
    The object is immutable; reweighting returns a new design (:func:`with_weights`). Raises
    ``KeyError`` for a column not in the data and ``ValueError`` for negative or missing weights
    and inconsistent replicate settings.
    """

    data: pd.DataFrame
    weights: str | None = None
    strata: str | Sequence[str] | None = None
    clusters: str | Sequence[str] | None = None
    fpc: str | Sequence[str] | None = None
    lonely_psu: LonelyPSU = "fail"
    replicate_weights: str | Sequence[str] | None = None
    replicate_type: ReplicateType | None = None
    scale: float | None = None
    rscales: float | Sequence[float] | None = None
    rho: float | None = None
    mse: bool = False
    combined_weights: bool = True
    weight_values: np.ndarray | None = field(default=None, repr=False, compare=False)
    replicate_values: np.ndarray | None = field(default=None, repr=False, compare=False)
    calibration: tuple[Calibration, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("strata", "clusters", "fpc", "replicate_weights"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                object.__setattr__(self, name, tuple(value) or None)
        named = (self.weights, *self.strata_columns, *self.cluster_columns, *self.fpc_columns)
        for column in named:
            if column is not None and column not in self.data.columns:
                raise KeyError(E_MISSING_COLUMN.format(column=column))
        stages = max(1, len(self.cluster_columns))
        if len(self.strata_columns) > stages:
            raise ValueError(E_STAGES.format(what="strata", stages=stages))
        if self.fpc_columns and len(self.fpc_columns) != stages:
            raise ValueError(E_FPC_STAGES.format(stages=stages, given=len(self.fpc_columns)))
        if self.is_replicate:
            if self.strata or self.clusters or self.fpc:
                raise ValueError(E_REPLICATE_AND_STRUCTURE)
            _check_replicate_settings(self)
        weights = self.w
        bad = ~np.isfinite(weights) | (weights < 0)
        if bad.any():
            raise ValueError(E_BAD_WEIGHTS.format(column=self.weights, count=int(bad.sum())))

    @property
    def strata_columns(self) -> tuple[str, ...]:
        return _columns(self.strata)

    @property
    def cluster_columns(self) -> tuple[str, ...]:
        return _columns(self.clusters)

    @property
    def fpc_columns(self) -> tuple[str, ...]:
        return _columns(self.fpc)

    @property
    def is_replicate(self) -> bool:
        """Variances come from replicate weights (R's ``svyrep.design``)."""
        return self.replicate_weights is not None or self.replicate_values is not None

    @cached_property
    def w(self) -> np.ndarray:
        """The (full-sample) weight of each row as a float array."""
        if self.weight_values is not None:
            return np.asarray(self.weight_values, dtype=float)
        if self.weights is not None:
            return self.data[self.weights].to_numpy(dtype=float)
        if self.fpc_columns and not self.is_replicate:
            return self._taylor.fpc_weights()
        return np.ones(len(self.data))

    @property
    def n(self) -> int:
        return len(self.data)

    @cached_property
    def has_zero_weights(self) -> bool:
        """Some row has weight zero (it stays in the variance, but not in ``degf`` or ``n``, as R)."""
        return bool(np.any(self.w == 0))

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
            and not self.strata
            and not self.clusters
            and not self.is_replicate
        )

    @cached_property
    def _taylor(self):
        from .multistage import Stages

        if self.is_replicate:
            raise TypeError(E_NOT_TAYLOR)
        return Stages.build(self)

    @property
    def _structure(self):
        """The first stage's PSUs and strata (kept for callers of the one-stage engine)."""
        return self._taylor

    @cached_property
    def _replicates(self):
        from .replicate import Replicates

        return Replicates.build(self)

    @cached_property
    def df(self) -> int:
        """Design degrees of freedom, R's ``degf``.

        Taylor designs: first-stage PSUs minus strata, counting only those with a row of non-zero
        weight. Replicate designs: the rank of the replicate weights minus one.
        """
        if self.is_replicate:
            return self._replicates.df
        return self._taylor.df(self.w)

    def domain_dfs(self, domain: np.ndarray, g: int) -> np.ndarray:
        """Degrees of freedom ``(g,)`` of each subpopulation ``domain == d`` (row codes, -1 for none).

        As ``degf`` of R's subset design: its PSUs minus its strata (rows of non-zero weight), or
        the rank of its replicate weights minus one.
        """
        if self.is_replicate:
            return self._replicates.domain_dfs(domain, g)
        return self._taylor.domain_dfs(self.w, domain, g)

    def variance(self, scores: np.ndarray) -> np.ndarray:
        """Covariance matrix of the estimators whose weighted influence scores are ``scores``.

        ``scores`` is ``(n,)`` or ``(n, p)``: ``w_i * u_i`` for each row. Returns ``(p, p)``.
        Taylor designs only (``TypeError`` otherwise).
        """
        scores = np.asarray(scores, dtype=float).reshape(self.n, -1)
        return self._taylor.variance(self.calibrated_scores(scores))

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
        """``(n, p)`` row scores summed into ``(m, p)`` first-stage PSU totals (after calibration residuals)."""
        return self._taylor.totals(self.calibrated_scores(scores))

    def variance_of_psu_totals(self, totals: np.ndarray) -> np.ndarray:
        """Covariance from first-stage PSU totals ``(m, p)`` -> ``(p, p)``; single-stage designs only."""
        return self._taylor.variance_of_totals(totals)


def _check_replicate_settings(design: SurveyDesign) -> None:
    kind = design.replicate_type
    if kind is not None and kind not in REPLICATE_TYPES:
        raise ValueError(E_REPLICATE_TYPE.format(types=", ".join(REPLICATE_TYPES), value=kind))
    if kind == "Fay" and design.rho is None:
        raise ValueError(E_FAY_RHO)
    if design.replicate_values is None:
        columns = replicate_columns(design.data, design.replicate_weights)
        values = design.data[list(columns)].to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            column = columns[int(np.argmax(bad.any(axis=0)))]
            raise ValueError(E_BAD_REPLICATE_WEIGHTS.format(column=column, count=int(bad.sum())))


def replicate_columns(data: pd.DataFrame, spec: str | Sequence[str] | None) -> tuple[str, ...]:
    """The replicate-weight columns named by ``spec``: a regular expression (R's ``grep``) or names."""
    if spec is None:
        return ()
    if isinstance(spec, str):
        if spec in data.columns:
            return (spec,)
        pattern = re.compile(spec)
        columns = tuple(str(c) for c in data.columns if pattern.search(str(c)))
        if not columns:
            raise KeyError(E_NO_REPLICATE_COLUMNS.format(pattern=spec))
        return columns
    for column in spec:
        if column not in data.columns:
            raise KeyError(E_MISSING_COLUMN.format(column=column))
    return tuple(spec)


DENSE_KEY_LIMIT = 50_000_000


def joint_cells(codes: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Row -> joint cell of several groupings (non-negative integer codes), numbered 0..k-1 in key
    order, and per grouping the cell -> code map. Integer arithmetic, no sort of the rows."""
    sizes = [int(c.max()) + 1 if len(c) else 1 for c in codes]
    combined = np.zeros(len(codes[0]), dtype=np.int64)
    for c, size in zip(codes, sizes, strict=True):
        combined = combined * size + c
    top = int(np.prod(sizes, dtype=np.float64))
    if top > DENSE_KEY_LIMIT:
        uniques, cell = np.unique(combined, return_inverse=True)
    else:
        present = np.bincount(combined, minlength=top) > 0
        cell = (np.cumsum(present) - 1)[combined]
        uniques = np.flatnonzero(present)
    margins = []
    for size in reversed(sizes):
        margins.append(uniques % size)
        uniques = uniques // size
    return cell.astype(np.int64), list(reversed(margins))


@dataclass(frozen=True)
class Calibration:
    """How weights were calibrated, so variances can remove what calibration fixed (R's ``postStrata``).

    ``kind`` is ``"poststratify"`` (one grouping), ``"rake"`` (one grouping per margin) or
    ``"greg"`` (a regression on the auxiliary matrix ``x``, R's ``greg_calibration``).
    """

    kind: Literal["poststratify", "rake", "greg"]
    groups: tuple[np.ndarray, ...]  # row -> group code, per margin ("greg": unused)
    old_weights: np.ndarray
    x: np.ndarray | None = None  # (n, q) auxiliaries of a "greg" calibration

    def residualise(self, u: np.ndarray) -> np.ndarray:
        """Remove what calibration fixed from per-row influence values ``u`` (``n`` by ``p``), as ``svyrecvar``.

        Post-stratification subtracts the old-weight mean of ``u`` in each post-stratum; raking
        sweeps the unweighted margin means ten times (R's backfitting approximation); GREG
        calibration takes the residuals of the regression of ``u`` on ``x`` weighted by the old
        weights (``qr.resid`` in R's ``svyrecvar``; Deville & Särndal 1992, *JASA* 87).
        """
        u = u.copy()
        if self.kind == "greg":
            root = np.sqrt(self.old_weights)[:, None]
            coef, *_ = np.linalg.lstsq(self.x * root, u * root, rcond=None)
            return u - self.x @ coef
        if self.kind == "poststratify":
            codes = self.groups[0]
            size = codes.max() + 1
            weight_sums = np.maximum(np.bincount(codes, weights=self.old_weights, minlength=size), 1e-300)
            for j in range(u.shape[1]):
                means = np.bincount(codes, weights=self.old_weights * u[:, j], minlength=size) / weight_sums
                u[:, j] -= means[codes]
            return u
        return self._rake_residuals(u)

    def _rake_residuals(self, u: np.ndarray) -> np.ndarray:
        """R's ten backfitting sweeps of unweighted margin means, done on the table of joint cells:
        every correction is constant within a cell, so only the cell sums of ``u`` are needed."""
        cells = self.__dict__.get("_cells")
        if cells is None:
            cells = self.__dict__["_cells"] = joint_cells(self.groups)
        cell, margins = cells
        size = len(margins[0])
        count = np.bincount(cell, minlength=size).astype(float)
        sums = np.column_stack(
            [np.bincount(cell, weights=u[:, j], minlength=size) for j in range(u.shape[1])]
        )
        correction = np.zeros_like(sums)
        for _sweep in range(10):
            for margin in margins:
                groups = int(margin.max()) + 1
                remaining = sums - count[:, None] * correction
                group_n = np.maximum(np.bincount(margin, weights=count, minlength=groups), 1)
                for j in range(u.shape[1]):
                    correction[:, j] += (
                        np.bincount(margin, weights=remaining[:, j], minlength=groups) / group_n
                    )[margin]
        return u - correction[cell]


def with_data(design: SurveyDesign, data: pd.DataFrame) -> SurveyDesign:
    """The same design over ``data`` (same rows in the same order, extra columns allowed)."""
    if len(data) != design.n:
        raise ValueError("with_data needs the same rows as the design")
    return replace(design, data=data)


def with_weights(
    design: SurveyDesign,
    weights: np.ndarray,
    calibration: Calibration | None = None,
    *,
    replicates: np.ndarray | None = None,
) -> SurveyDesign:
    """The same design with new weights (after raking, post-stratification or calibration).

    A Taylor design keeps ``calibration`` so its variances remove what the weights fixed; a
    replicate design takes the recalibrated replicate weights ``replicates`` (``(n, R)``) instead.
    """
    if design.is_replicate:
        if replicates is None:
            raise ValueError("a replicate design needs its recalibrated replicate weights")
        return replace(
            design,
            weight_values=np.asarray(weights, dtype=float),
            replicate_values=np.ascontiguousarray(replicates, dtype=float),
            combined_weights=True,
        )
    extra = (calibration,) if calibration is not None else ()
    return replace(
        design, weight_values=np.asarray(weights, dtype=float), calibration=design.calibration + extra
    )
