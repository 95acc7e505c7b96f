"""Replicate-weight variances, as R's ``svrepdesign`` and ``svrVar``.

A statistic is computed once with the full-sample weights and once with each replicate's weights;
its variance is ``scale * sum_r rscales_r (theta_r - centre)^2`` where ``centre`` is the mean of the
replicates (or the full-sample estimate when ``mse``), replicates whose estimate is undefined being
dropped (Wolter 2007, *Introduction to Variance Estimation*, ch. 3-5; Lumley 2010, §2.8). The
weighted sums every linear statistic needs are taken for all replicates in one sparse product.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import sparse

from .design import E_JKN_RSCALES, E_RSCALES_LENGTH, SurveyDesign, replicate_columns

RANK_TOLERANCE = 1e-5  # R: qr(weights(design, "analysis"), tol = 1e-5)$rank
PATTERN_DIGITS = 9
SMALL_DOMAIN_PATTERNS = 4  # exact domain rank when a domain has at most this many times R patterns

E_BRR_SCALE = "replicate_type={kind!r} fixes the scale (1/R); use replicate_type='other' to give your own"
E_NEEDS_COLUMNS = "replicate designs need at least two replicate weights; got {count}"


@dataclass(frozen=True)
class Replicates:
    """The analysis weights of every replicate ``(n, R)`` with the variance multipliers."""

    weights: np.ndarray  # (n, R), C order: row i's replicate weights are contiguous
    full: np.ndarray  # (n,) full-sample weights
    scale: float
    rscales: np.ndarray  # (R,)
    mse: bool

    @property
    def count(self) -> int:
        return self.weights.shape[1]

    @classmethod
    def build(cls, design: SurveyDesign) -> Replicates:
        if design.replicate_values is not None:
            weights = np.ascontiguousarray(design.replicate_values, dtype=float)
        else:
            columns = replicate_columns(design.data, design.replicate_weights)
            weights = np.ascontiguousarray(design.data[list(columns)].to_numpy(dtype=float))
            if not design.combined_weights:
                multipliers = weights
                weights = multipliers * design.w[:, None]
        if weights.shape[1] < 2:
            raise ValueError(E_NEEDS_COLUMNS.format(count=weights.shape[1]))
        scale, rscales = _factors(design, weights)
        return cls(weights, design.w, scale, rscales, design.mse)

    def sums(
        self, column: np.ndarray, values: np.ndarray, k: int, second: np.ndarray | None = None
    ) -> np.ndarray:
        """Replicate-weighted sums ``(k, R)`` of ``values`` per ``column`` (-1: none).

        With ``second``, also those of ``second`` in rows ``k..2k-1`` (``(2k, R)``), from the same
        pass. One sparse ``(k, n)`` by dense ``(n, R)`` product reading every replicate weight once;
        rows outside every column stay as explicit zeros, so nothing is filtered first.
        """
        n = len(column)
        inside = column >= 0
        everywhere = bool(inside.all())
        kind = np.int32 if 2 * n < np.iinfo(np.int32).max else np.int64
        index = (column if everywhere else np.where(inside, column, 0)).astype(kind, copy=False)
        first = values if everywhere else np.where(inside, values, 0.0)
        if second is None:
            data, indices, shape = first, index, (k, n)
        else:
            data = np.empty(2 * n)
            data[0::2], data[1::2] = first, second if everywhere else np.where(inside, second, 0.0)
            indices = np.empty(2 * n, dtype=kind)
            indices[0::2], indices[1::2] = index, index + k
            shape = (2 * k, n)
        matrix = sparse.csc_matrix(
            (data, indices, self._indptr(n, len(data) // max(n, 1))), shape=shape, copy=False
        )
        return np.asarray(matrix @ self.weights)

    def _indptr(self, n: int, entries: int) -> np.ndarray:
        """Column pointers of ``entries`` entries per row, kept for the next estimate."""
        cache = self.__dict__.setdefault("_indptrs", {})
        if entries not in cache:
            kind = np.int32 if 2 * n < np.iinfo(np.int32).max else np.int64
            cache[entries] = np.arange(0, n * entries + 1, entries, dtype=kind)
        return cache[entries]

    def variance(self, replicates: np.ndarray, estimate: np.ndarray) -> np.ndarray:
        """R's ``svrVar``: covariance ``(p, p)`` from replicate estimates ``(p, R)`` and the full ``(p,)``.

        Undefined replicate estimates (NaN) are left out of their statistic's sum, as R's
        ``na.action``; the scale is unchanged. All undefined gives NaN.
        """
        replicates = np.asarray(replicates, dtype=float).reshape(len(estimate), -1)
        finite = np.isfinite(replicates)
        if self.mse:
            centre = np.asarray(estimate, dtype=float)
        else:
            used = finite & (self.rscales > 0)[None, :]
            with np.errstate(divide="ignore", invalid="ignore"):
                centre = np.where(used, replicates, 0.0).sum(axis=1) / used.sum(axis=1)
        deviations = np.where(finite, replicates - centre[:, None], 0.0)
        cov = self.scale * (deviations * self.rscales[None, :]) @ deviations.T
        cov[~finite.any(axis=1), :] = np.nan
        cov[:, ~finite.any(axis=1)] = np.nan
        return cov

    @cached_property
    def df(self) -> int:
        """R's ``degf``: the rank of the replicate weights minus one."""
        return _rank(self.weights) - 1

    @cached_property
    def patterns(self) -> tuple[np.ndarray, int]:
        """Row -> pattern of its replicate multipliers (rows of one PSU share one), and the count.

        A fingerprint: the multipliers' dot product with a fixed random vector, rounded.
        """
        safe = np.where(self.full > 0, self.full, 1.0)
        probe = np.random.default_rng(0).uniform(1.0, 2.0, self.count)
        fingerprint = (self.weights @ probe) / safe
        rounded = np.round(fingerprint / np.max(np.abs(fingerprint), initial=1.0), PATTERN_DIGITS)
        uniques, inverse = np.unique(rounded, return_inverse=True)
        return inverse.astype(np.int64), len(uniques)

    @cached_property
    def pattern_size(self) -> int:
        """The most rows sharing one replicate pattern (1 when every row is its own PSU)."""
        pattern, _count = self.patterns
        return int(np.bincount(pattern).max())

    def domain_dfs(self, domain: np.ndarray, g: int) -> np.ndarray:
        """Degrees of freedom per domain: the rank of its rows' replicate weights minus one.

        Computed exactly for a domain spanning few distinct replicate patterns (clusters); a
        larger one has the design's.
        """
        dfs = np.full(g, self.df, dtype=np.int64)
        keep = (domain >= 0) & (self.full != 0)
        rows_per_domain = np.bincount(domain[keep], minlength=g)
        # A domain with more rows than SMALL * R patterns could hold surely spans more patterns.
        few = rows_per_domain <= SMALL_DOMAIN_PATTERNS * self.count * self.pattern_size
        if not few.any():
            return dfs
        pattern, _count = self.patterns
        rows = np.flatnonzero(keep)
        rows = rows[np.argsort(domain[rows], kind="stable")]
        bounds = np.searchsorted(domain[rows], np.arange(g + 1))
        for d in np.flatnonzero(few):
            inside = rows[bounds[d] : bounds[d + 1]]
            distinct, first = np.unique(pattern[inside], return_index=True)
            if len(distinct) <= SMALL_DOMAIN_PATTERNS * self.count:
                dfs[d] = _rank(self.weights[inside[first]]) - 1
        return dfs


def _rank(matrix: np.ndarray) -> int:
    """Numerical rank: singular values above the tolerance, from the Gram matrix of the smaller side."""
    gram = matrix.T @ matrix if matrix.shape[0] >= matrix.shape[1] else matrix @ matrix.T
    singular = np.sqrt(np.clip(np.linalg.eigvalsh(gram), 0, None))
    if not len(singular) or singular.max() == 0:
        return 0
    return int(np.sum(singular > RANK_TOLERANCE * singular.max()))


def _factors(design: SurveyDesign, weights: np.ndarray) -> tuple[float, np.ndarray]:
    """``scale`` and ``rscales`` as R's ``svrepdesign`` sets them for each replicate type."""
    count = weights.shape[1]
    kind = design.replicate_type or "BRR"
    scale, rscales = design.scale, design.rscales
    if rscales is not None:
        rscales = np.atleast_1d(np.asarray(rscales, dtype=float))
        if len(rscales) not in (1, count):
            raise ValueError(E_RSCALES_LENGTH.format(given=len(rscales), expected=count))
        rscales = np.broadcast_to(rscales, (count,)).copy()

    def multipliers() -> np.ndarray:
        return weights / np.where(design.w > 0, design.w, 1.0)[:, None]

    if kind in ("BRR", "Fay") and scale is not None and design.replicate_values is None:
        raise ValueError(E_BRR_SCALE.format(kind=kind))
    if kind == "BRR":
        scale = 1 / count
    elif kind == "Fay":
        scale = 1 / (count * (1 - design.rho) ** 2)
    elif kind in ("bootstrap", "subbootstrap") and scale is None:
        scale = 1 / (count - 1)
    elif kind == "JK1" and scale is None:
        scale = (count - 1) / count if design.combined_weights else 1 / multipliers()[:, 0].max()
    elif kind == "JKn" and rscales is None:
        if design.combined_weights:
            raise ValueError(E_JKN_RSCALES)
        rscales = 1 / multipliers().max(axis=0)
    elif kind in ("ACS", "successive-difference"):
        scale, rscales = 4 / count, np.ones(count)
    elif kind == "JK2":
        scale, rscales = 1.0, np.ones(count)
    return float(1.0 if scale is None else scale), np.ones(count) if rscales is None else rscales
