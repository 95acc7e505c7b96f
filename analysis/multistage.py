"""Taylor-linearisation variances for stratified multistage designs, as R's ``svyrecvar``.

At each stage the variance is the with-replacement variance of the unit totals of the influence
scores, centred within strata, times ``f_h n_h / (n_h - 1)`` with ``f_h = 1 - n_h / N_h``. With a
finite population correction at every stage, each later stage adds its own such term, computed
within the units of the stage above and multiplied by the sampling fractions ``n / N`` of every
stage above it (Särndal, Swensson & Wretman 1992, *Model Assisted Survey Sampling*, §4.3, result
4.3.1; R's ``multistage``). Without an fpc only the first stage counts ("ultimate cluster"). Units
are nested in their stratum and in the unit above them, as ``svydesign(nest=TRUE)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

E_LONELY = (
    "stratum {stratum} has only one PSU{where}, so its variance cannot be estimated; choose "
    "lonely_psu='certainty', 'adjust', 'remove' or 'average' (as R's options(survey.lonely.psu=...))"
)
E_FPC_MIXED = "fpc must be all population counts (>= 1) or all sampling fractions (<= 1), as in R"
E_FPC_SMALL = "fpc implies more than 100% sampling in stratum {stratum}{where}"
E_FPC_VARIES = "fpc varies within stratum {stratum}{where}"
E_DESIGN_MISSING = "design column {column!r} has {count} missing values"
E_NO_WEIGHTS = (
    "the weights cannot be derived from sampling fractions; give weights= or population counts as fpc"
)
CERTAINTY = 1e-7  # R: a stratum whose every f is below this is self-representing


def _where(stage: int) -> str:
    return "" if stage == 0 else f" at stage {stage + 1}"


def _codes(design, column: str) -> np.ndarray:
    codes, _ = pd.factorize(design.data[column], sort=True)
    if (codes < 0).any():
        raise ValueError(E_DESIGN_MISSING.format(column=column, count=int((codes < 0).sum())))
    return np.asarray(codes, dtype=np.int64)


def _dense(*keys: np.ndarray) -> np.ndarray:
    """Number the distinct combinations of integer ``keys`` 0..k-1 (in first-seen order)."""
    combined = pd.MultiIndex.from_arrays(list(keys)) if len(keys) > 1 else keys[0]
    codes, _ = pd.factorize(combined, sort=False)
    return np.asarray(codes, dtype=np.int64)


def group_sums(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """The ``(size, p)`` sums of the columns of ``values`` ``(n, p)`` by group ``codes`` (0 .. size-1):
    one ``bincount`` per column, and a ``(size, 0)`` array when there are no columns (a variable
    nobody answered has no shares to sum)."""
    if values.shape[1] == 0:
        return np.zeros((size, 0))
    return np.column_stack(
        [np.bincount(codes, weights=values[:, j], minlength=size) for j in range(values.shape[1])]
    )


def _present(keys: np.ndarray, size: int) -> np.ndarray:
    """Which of ``0..size-1`` occur in ``keys``, as a boolean ``(size,)`` array."""
    present = np.zeros(size, dtype=bool)
    present[keys] = True
    return present


@dataclass(frozen=True)
class Stage:
    """One stage: its units, their strata, and the factors of each stratum's variance term."""

    unit: np.ndarray  # row -> unit index (0..m-1)
    unit_stratum: np.ndarray  # unit -> stratum index
    stratum_parent: np.ndarray  # stratum -> unit of the stage above (all 0 at the first stage)
    n_h: np.ndarray  # stratum -> units sampled
    population: np.ndarray  # stratum -> N_h (inf without an fpc)
    scale_h: np.ndarray  # stratum -> f n/(n-1) (f alone for one unit) times the fractions above
    lonely: np.ndarray  # stratum -> one unit and not self-representing
    certain: np.ndarray  # stratum -> self-representing (f ~ 0): contributes nothing
    labels: np.ndarray  # stratum -> label, for messages

    @property
    def m(self) -> int:
        return len(self.unit_stratum)


@dataclass(frozen=True)
class Stages:
    """Every stage of a Taylor design and how their variance terms combine."""

    stages: tuple[Stage, ...]
    lonely_psu: str
    recursive: bool  # later stages add terms only when an fpc is given (R)

    @property
    def first(self) -> Stage:
        return self.stages[0]

    # The first stage, under the names of the one-stage engine's attributes.
    @property
    def psu(self) -> np.ndarray:
        return self.first.unit

    @property
    def psu_stratum(self) -> np.ndarray:
        return self.first.unit_stratum

    @property
    def n_psu(self) -> int:
        return self.first.m

    @property
    def n_h(self) -> np.ndarray:
        return self.first.n_h

    @property
    def n_strata(self) -> int:
        return len(self.first.n_h)

    @property
    def lonely(self) -> np.ndarray:
        return self.first.lonely

    @property
    def scale_h(self) -> np.ndarray:
        return self.first.scale_h

    @property
    def is_single_stage(self) -> bool:
        return len(self.stages) == 1

    @classmethod
    def build(cls, design) -> Stages:
        n = design.n
        clusters, strata, fpcs = design.cluster_columns, design.strata_columns, design.fpc_columns
        count = max(1, len(clusters))
        fpc_values = [design.data[c].to_numpy(dtype=float) for c in fpcs]
        if fpc_values:
            every = np.concatenate(fpc_values)
            if np.isnan(every).any() or not (np.all(every >= 1) or np.all(every <= 1)):
                raise ValueError(E_FPC_MIXED)
        as_counts = bool(fpc_values) and bool(np.all(every >= 1) and np.any(every > 1))
        parent = np.zeros(n, dtype=np.int64)
        fraction_above = np.ones(n)
        stages = []
        for s in range(count):
            stratum_column = strata[min(s, len(strata) - 1)] if strata else None
            codes = _codes(design, stratum_column) if stratum_column else np.zeros(n, dtype=np.int64)
            row_stratum = _dense(parent, codes) if s else codes
            labels = cls._labels(design, stratum_column if s == 0 else clusters[s - 1], row_stratum, s)
            unit = _dense(row_stratum, _codes(design, clusters[s])) if clusters else np.arange(n)
            stage = cls._stage(
                design, s, unit, row_stratum, parent, labels, fpc_values, as_counts, fraction_above
            )
            stages.append(stage)
            fraction_above = fraction_above * (stage.n_h / stage.population)[row_stratum]
            parent = unit
        return cls(tuple(stages), design.lonely_psu, bool(fpcs))

    @staticmethod
    def _labels(design, column: str | None, row_stratum: np.ndarray, s: int) -> np.ndarray:
        size = int(row_stratum.max()) + 1 if len(row_stratum) else 0
        labels = np.empty(size, dtype=object)
        values = design.data[column].to_numpy() if column else np.full(len(row_stratum), "all", dtype=object)
        labels[row_stratum] = values
        return labels if s == 0 else np.array([f"{column}={value}" for value in labels], dtype=object)

    @staticmethod
    def _stage(design, s, unit, row_stratum, parent, labels, fpc_values, as_counts, fraction_above) -> Stage:
        m = int(unit.max()) + 1 if len(unit) else 0
        unit_stratum = np.zeros(m, dtype=np.int64)
        unit_stratum[unit] = row_stratum
        size = len(labels)
        n_h = np.bincount(unit_stratum, minlength=size).astype(float)
        stratum_parent = np.zeros(size, dtype=np.int64)
        stratum_parent[row_stratum] = parent
        if fpc_values:
            values = pd.Series(fpc_values[s]).groupby(row_stratum)
            varies = (values.nunique() > 1).to_numpy()
            if varies.any():
                raise ValueError(E_FPC_VARIES.format(stratum=labels[int(np.argmax(varies))], where=_where(s)))
            fpc = values.first().to_numpy()
            population = fpc if as_counts else n_h / fpc
            if np.any(population < n_h):
                bad = int(np.argmax(population < n_h))
                raise ValueError(E_FPC_SMALL.format(stratum=labels[bad], where=_where(s)))
            f = np.where(np.isinf(population), 1.0, (population - n_h) / population)
        else:
            population, f = np.full(size, np.inf), np.ones(size)
        certain = f < CERTAINTY
        lonely = (n_h == 1) & ~certain
        counted = s == 0 or bool(fpc_values)  # R looks at later stages only with an fpc
        if lonely.any() and design.lonely_psu == "fail" and counted:
            raise ValueError(E_LONELY.format(stratum=labels[int(np.argmax(lonely))], where=_where(s)))
        above = np.ones(size)
        above[row_stratum] = fraction_above
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(n_h > 1, f * n_h / (n_h - 1), f) * above
        return Stage(unit, unit_stratum, stratum_parent, n_h, population, scale, lonely, certain, labels)

    def fpc_weights(self) -> np.ndarray:
        """R's weights from the fpc alone: the product over stages of ``N / n`` of each row's strata."""
        weights = np.ones(len(self.first.unit))
        for stage in self.stages:
            row_stratum = stage.unit_stratum[stage.unit]
            ratio = (stage.population / stage.n_h)[row_stratum]
            if np.isinf(ratio).any():
                raise ValueError(E_NO_WEIGHTS)
            weights = weights * ratio
        return weights

    def df(self, w: np.ndarray, rows: np.ndarray | None = None) -> int:
        """First-stage units minus strata among ``rows`` whose weight ``w`` is not zero (R's ``degf``)."""
        keep = w != 0 if rows is None else rows & (w != 0)
        present = np.bincount(self.first.unit[keep], minlength=self.first.m) > 0
        strata = np.unique(self.first.unit_stratum[present])
        return int(present.sum()) - len(strata)

    def domain_dfs(self, w: np.ndarray, domain: np.ndarray, g: int) -> np.ndarray:
        """First-stage units minus strata per domain, among rows of non-zero weight."""
        keep = (domain >= 0) & (w != 0)
        first = self.first
        size = len(first.n_h)
        row_stratum = first.unit_stratum[first.unit[keep]]
        strata = _present(domain[keep] * size + row_stratum, g * size).reshape(g, size).sum(axis=1)
        if first.m == len(first.unit):  # every row its own PSU
            units = np.bincount(domain[keep], minlength=g)
        else:
            units = (
                _present(domain[keep] * first.m + first.unit[keep], g * first.m)
                .reshape(g, first.m)
                .sum(axis=1)
            )
        return units - strata

    def totals(self, scores: np.ndarray, stage: int = 0) -> np.ndarray:
        """Row scores ``(n, p)`` summed into the unit totals ``(m, p)`` of ``stage``."""
        unit, m = self.stages[stage].unit, self.stages[stage].m
        totals = np.zeros((m, scores.shape[1]))
        for j in range(scores.shape[1]):  # one bincount per column: a vectorised pass over the rows each
            totals[:, j] = np.bincount(unit, weights=scores[:, j], minlength=m)
        return totals

    def sparse_totals(self, column: np.ndarray, values: np.ndarray, p: int, stage: int = 0) -> np.ndarray:
        """Unit totals ``(m, p)`` of scores that are ``values`` in ``column`` (-1: none) and zero elsewhere."""
        unit, m = self.stages[stage].unit, self.stages[stage].m
        index = unit * (p + 1) + (column + 1)  # column -1 lands in a bin that is dropped
        return np.bincount(index, weights=values, minlength=m * (p + 1)).reshape(m, p + 1)[:, 1:]

    def variance(self, scores: np.ndarray) -> np.ndarray:
        """Covariance ``(p, p)`` of the estimators with row scores ``scores`` ``(n, p)``, every stage."""
        return sum(
            (self.stage_variance(s, self.totals(scores, s)) for s in range(self.used_stages)),
            start=np.zeros((scores.shape[1], scores.shape[1])),
        )

    def sparse_variance(self, column: np.ndarray, values: np.ndarray, p: int) -> np.ndarray:
        """:meth:`variance` of scores given as one ``(column, value)`` per row, without an ``(n, p)`` matrix."""
        return sum(
            (
                self.stage_variance(s, self.sparse_totals(column, values, p, s))
                for s in range(self.used_stages)
            ),
            start=np.zeros((p, p)),
        )

    @property
    def used_stages(self) -> int:
        return len(self.stages) if self.recursive else 1

    def variance_of_totals(self, totals: np.ndarray) -> np.ndarray:
        """Covariance from first-stage PSU totals ``(m, p)``: the whole variance of a one-stage design."""
        return self.stage_variance(0, totals)

    def stage_variance(self, s: int, totals: np.ndarray) -> np.ndarray:
        """One stage's term from its unit totals ``(m, p)`` (R's ``onestage`` times the fractions above)."""
        stage = self.stages[s]
        size = len(stage.n_h)
        sums = group_sums(stage.unit_stratum, totals, size)
        with np.errstate(divide="ignore", invalid="ignore"):
            centre = sums / stage.n_h[:, None]
        factor = stage.scale_h.copy()
        factor[stage.certain] = 0.0
        if stage.lonely.any():
            centre, factor = self._lonely(stage, totals, centre, factor)
        deviations = totals - centre[stage.unit_stratum]
        scaled = deviations * factor[stage.unit_stratum][:, None]
        return scaled.T @ deviations

    def _lonely(self, stage: Stage, totals, centre, factor):
        """R's lonely-PSU options for the strata of ``stage`` with a single unit."""
        if self.lonely_psu in ("certainty", "remove"):
            factor[stage.lonely] = 0.0
        elif self.lonely_psu == "adjust":
            # Centred at the mean unit total of the units sharing its parent (R since 2022).
            parent_of_unit = stage.stratum_parent[stage.unit_stratum]
            parents = int(parent_of_unit.max()) + 1
            count = np.bincount(parent_of_unit, minlength=parents)
            means = group_sums(parent_of_unit, totals, parents) / count[:, None]
            centre[stage.lonely] = means[stage.stratum_parent[stage.lonely]]
        elif self.lonely_psu == "average":
            # The strata with variance information stand in for the others, per parent unit.
            parents = int(stage.stratum_parent.max()) + 1
            strata = np.bincount(stage.stratum_parent, minlength=parents).astype(float)
            usable = np.bincount(
                stage.stratum_parent, weights=(~stage.lonely).astype(float), minlength=parents
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = factor * (strata / usable)[stage.stratum_parent]
            factor[stage.lonely] = 0.0
        return centre, factor
