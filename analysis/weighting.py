"""Weighting to population figures: raking (iterative proportional fitting) and post-stratification.

Raking follows Deming & Stephan (1940) with optional trimming of weight ratios (Kalton & Flores-
Cervantes 2003, *J. Official Statistics* 19(2)); post-stratification is R's ``postStratify``.
The returned designs carry their calibration, so standard errors remove what the weights fixed,
as R's ``svyrecvar`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .design import Calibration, SurveyDesign, joint_cells, with_weights
from .translation import gettext_noop

SHARE_TOLERANCE = 1e-6
GROUP_SEPARATOR = "|"

E_MARGIN_COLUMNS = gettext_noop("margins need columns variable, category and share or count; found {columns}")
E_NOT_IN_SAMPLE = gettext_noop(
    "margin {variable}={category} has no respondent in the sample; collapse it with a neighbour"
)
E_NOT_IN_MARGINS = gettext_noop("{variable}={category} occurs in the sample but has no population figure")
E_BAD_FIGURE = gettext_noop(
    "{variable}={category} has the population figure {value!r}; figures must be positive numbers "
    "(shares up to 1, counts up to {largest:g})"
)
E_SAMPLE_WITHOUT_RESPONDENTS = gettext_noop("the margins are for sample {name!r}, which has no respondents")
# Above this a count no longer adds up exactly in floating point (2**53 is about 9.0e15).
LARGEST_COUNT = 1e15
E_SHARES_SUM = gettext_noop("the shares of {variable} sum to {total:.6f}, not 1")
E_COUNTS_SUM = gettext_noop(
    "the counts of {variable} sum to {total:g}, but {other} sums to {expected:g}; all margins must describe one population"
)
E_NO_CONVERGENCE = gettext_noop(
    "raking did not converge in {iterations} iterations: {variable}={category} is still off by {deviation:.3g}"
)
E_UNKNOWN_VARIABLE = gettext_noop("margin variable {variable!r} is not a column of the data")
E_MISSING_VALUES = gettext_noop("{variable} has {count} missing values; impute or drop them before weighting")


class MarginsUnmet(ValueError):
    """Margins the responses cannot be weighted to (or that cannot be read as margins), in Candid's
    words: one of the ``E_`` messages above (``message``, a ``gettext_noop`` id taking its
    ``params`` by ``str.format``), naming the variable and category at fault; ``str()`` reads it in
    English, a caller with a catalogue translates ``message`` first."""

    def __init__(self, message: str, **params: Any) -> None:
        self.message, self.params = message, params
        super().__init__(message.format(**params))


@dataclass(frozen=True)
class RakeReport:
    """How raking went: iterations, the largest remaining margin deviation, and the weights' cost."""

    iterations: int
    max_deviation: float
    converged: bool
    weight_min: float
    weight_max: float
    deff_weighting: float  # Kish: 1 + CV^2 of the weights
    n_effective: float  # Kish: (sum w)^2 / sum w^2
    trimmed: int


def read_margins(path: str | Path) -> pd.DataFrame:
    """A margins CSV (``variable, category, share`` or ``..., count``, optionally ``sample``); lines
    starting with ``#`` are comments (source and derivation); ``a|b`` groups sample categories."""

    return pd.read_csv(path, dtype={"variable": str, "category": str}, comment="#")


def _targets(margins: pd.DataFrame, data: pd.DataFrame, total: float) -> dict[str, pd.Series]:
    """{variable: Series(category -> population total)}, checked against the sample."""
    value_column = "share" if "share" in margins.columns else "count" if "count" in margins.columns else None
    if value_column is None or not {"variable", "category"} <= set(margins.columns):
        raise MarginsUnmet(E_MARGIN_COLUMNS, columns=", ".join(margins.columns))
    targets: dict[str, pd.Series] = {}
    reference: tuple[str, float] | None = None
    for variable, rows in margins.groupby("variable", sort=False):
        if variable not in data.columns:
            raise MarginsUnmet(E_UNKNOWN_VARIABLE, variable=variable)
        sample = data[variable]
        if sample.isna().any():
            raise MarginsUnmet(E_MISSING_VALUES, variable=variable, count=int(sample.isna().sum()))
        values = pd.Series(rows[value_column].to_numpy(dtype=float), index=rows["category"].astype(str))
        largest = 1.0 if value_column == "share" else LARGEST_COUNT
        for category, value in values.items():
            if not (np.isfinite(value) and 0 < value <= largest):
                raise MarginsUnmet(
                    E_BAD_FIGURE, variable=variable, category=category, value=value, largest=largest
                )
        present = {str(value) for value in sample.unique()}
        covered = {part for category in values.index for part in category.split(GROUP_SEPARATOR)}
        for category in values.index:
            if not set(category.split(GROUP_SEPARATOR)) & present:
                raise MarginsUnmet(E_NOT_IN_SAMPLE, variable=variable, category=category)
        for category in sorted(present - covered):
            raise MarginsUnmet(E_NOT_IN_MARGINS, variable=variable, category=category)
        if value_column == "share":
            if abs(values.sum() - 1) > SHARE_TOLERANCE:
                raise MarginsUnmet(E_SHARES_SUM, variable=variable, total=values.sum())
            values = values * total
        elif reference is None:
            reference = (str(variable), float(values.sum()))
        elif abs(values.sum() - reference[1]) > SHARE_TOLERANCE * reference[1]:
            raise MarginsUnmet(
                E_COUNTS_SUM, variable=variable, total=values.sum(), other=reference[0], expected=reference[1]
            )
        targets[str(variable)] = values
    return targets


def rake(
    design: SurveyDesign,
    margins: pd.DataFrame,
    *,
    max_iter: int = 100,
    tol: float = 1e-10,
    trim: tuple[float, float] | None = None,
) -> tuple[SurveyDesign, RakeReport]:
    """Rake the design's weights to population ``margins`` by iterative proportional fitting.

    Parameters
    ----------
    margins : DataFrame
        Columns ``variable, category`` and ``share`` (each variable's shares sum to 1; totals are
        kept at the current sum of weights) or ``count`` (population totals).
    max_iter, tol
        At most ``max_iter`` full cycles; converged when every weighted margin share is within
        ``tol`` of its target.
    trim : (low, high), optional
        Bounds on each weight's ratio to its starting weight, applied after every cycle.

    Returns
    -------
    (SurveyDesign, RakeReport)
        The reweighted design (its variances account for the raking, as R's ``rake``) and a report.
        Raises ``ValueError`` naming the variable and category for margins that cannot be met.
    """
    base = design.w
    targets = _targets(margins, design.data, float(base.sum()))
    codes = {v: _group_codes(design.data[v], list(t.index)) for v, t in targets.items()}
    goals = {v: t.to_numpy() for v, t in targets.items()}
    weights, trimmed, deviation, iterations = base.copy(), 0, np.inf, 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 — the count is reported
        for variable, code in codes.items():
            current = np.bincount(code, weights=weights, minlength=len(goals[variable]))
            weights = weights * (goals[variable] / current)[code]
        if trim is not None:
            ratio = np.clip(weights / base, *trim)
            trimmed = int(np.sum(ratio != weights / base))
            weights = base * ratio
        deviation = max(
            float(
                np.max(
                    np.abs(np.bincount(code, weights=weights, minlength=len(goals[v])) - goals[v])
                    / goals[v].sum()
                )
            )
            for v, code in codes.items()
        )
        if deviation < tol:
            break
    if deviation >= tol and trim is None:
        variable, category, off = _worst(codes, goals, weights)
        raise MarginsUnmet(
            E_NO_CONVERGENCE, iterations=max_iter, variable=variable, category=category, deviation=off
        )
    report = _report(weights, iterations, deviation, tol, trimmed)
    if design.is_replicate:
        replicates = _rake_replicates(design, list(codes.values()), list(goals.values()), iterations, trim)
        return with_weights(design, weights, replicates=replicates), report
    calibration = Calibration("rake", tuple(codes.values()), base)
    return with_weights(design, weights, calibration), report


def _rake_replicates(design, codes, goals, iterations: int, trim) -> np.ndarray:
    """Every replicate raked to the same margins with the same number of cycles, as R's ``rake`` on
    a replicate design. Raking only rescales whole cells (the joint categories of the margins), so it
    runs on the ``(cells, R)`` table of replicate weight sums and rescales the rows once at the end."""
    replicates = design._replicates
    cell, margin_of_cell = joint_cells(codes)
    start = replicates.sums(cell, np.ones(design.n), len(margin_of_cell[0]))
    current = start.copy()
    for _ in range(iterations):
        for margin, goal in zip(margin_of_cell, goals, strict=True):
            indicator = np.zeros((len(goal), len(margin)))
            indicator[margin, np.arange(len(margin))] = 1.0
            current = current * (goal[:, None] / (indicator @ current))[margin]
        if trim is not None:
            current = start * np.clip(current / start, *trim)
    return _rescale(replicates.weights, current / start, cell)


def _rescale(weights: np.ndarray, factor: np.ndarray, cell: np.ndarray, chunk: int = 65_536) -> np.ndarray:
    """``weights * factor[cell]`` (``(n, R)`` by a ``(cells, R)`` factor), a block of rows at a time."""
    out = np.empty_like(weights)
    for start in range(0, len(weights), chunk):
        rows = slice(start, start + chunk)
        np.multiply(weights[rows], factor[cell[rows]], out=out[rows])
    return out


def _group_codes(values: pd.Series, categories: list[str]) -> np.ndarray:
    """Row -> index of its margin category; a category may group several sample values ("a|b")."""
    lookup = {
        part: index for index, category in enumerate(categories) for part in category.split(GROUP_SEPARATOR)
    }
    codes, uniques = pd.factorize(values)  # map the few distinct values, not every row's string
    return np.array([lookup[str(value)] for value in uniques], dtype=np.int64)[codes]


def _worst(codes, goals, weights) -> tuple[str, str, float]:
    worst = ("", "", -1.0)
    for variable, code in codes.items():
        share = np.bincount(code, weights=weights, minlength=len(goals[variable])) / weights.sum()
        target = goals[variable] / goals[variable].sum()
        i = int(np.argmax(np.abs(share - target)))
        if abs(share[i] - target[i]) > worst[2]:
            worst = (variable, str(i), float(abs(share[i] - target[i])))
    return worst


def _report(weights: np.ndarray, iterations: int, deviation: float, tol: float, trimmed: int) -> RakeReport:
    n_eff = weights.sum() ** 2 / np.sum(weights**2)
    return RakeReport(
        iterations=iterations,
        max_deviation=deviation,
        converged=deviation < tol,
        weight_min=float(weights.min()),
        weight_max=float(weights.max()),
        deff_weighting=float(len(weights) / n_eff),
        n_effective=float(n_eff),
        trimmed=trimmed,
    )


def poststratify(design: SurveyDesign, table: pd.DataFrame) -> SurveyDesign:
    """Post-stratify to population counts, as R's ``postStratify(design, ~vars, population)``.

    ``table`` has one column per post-stratification variable and a ``count`` (or ``Freq``) column.
    Each cell's weights are scaled by ``N_g / sum(w in g)``; the variance uses residuals from the
    post-stratum means (Lumley 2010, §7.2).
    """
    count_column = "count" if "count" in table.columns else "Freq"
    variables = [c for c in table.columns if c != count_column]
    keys = pd.MultiIndex.from_frame(design.data[variables].astype(str))
    population = pd.Series(
        table[count_column].to_numpy(dtype=float),
        index=pd.MultiIndex.from_frame(table[variables].astype(str)),
    )
    missing = keys.difference(population.index)
    if len(missing):
        raise MarginsUnmet(
            E_NOT_IN_MARGINS, variable="/".join(variables), category="/".join(map(str, missing[0]))
        )
    absent = population.index.difference(keys.unique())
    if len(absent):
        raise MarginsUnmet(
            E_NOT_IN_SAMPLE, variable="/".join(variables), category="/".join(map(str, absent[0]))
        )
    codes = population.index.get_indexer(keys)
    base = design.w
    sample_totals = np.bincount(codes, weights=base, minlength=len(population))
    weights = base * (population.to_numpy() / sample_totals)[codes]
    if design.is_replicate:  # R's postStratify.svyrep.design: every replicate to the same counts
        replicates = design._replicates
        sums = replicates.sums(codes, np.ones(design.n), len(population))
        factor = population.to_numpy()[:, None] / sums
        return with_weights(design, weights, replicates=_rescale(replicates.weights, factor, codes))
    return with_weights(design, weights, Calibration("poststratify", (codes,), base))


def rake_samples(
    design: SurveyDesign, margins: pd.DataFrame, *, sample: str, max_iter: int = 200, tol: float = 1e-10
) -> tuple[SurveyDesign, list[dict]]:
    """Rake each sample named in ``margins``' ``sample`` column to its own margins (all rows to the
    margins when there is no such column); other samples keep their weights.

    Returns the reweighted design (one calibration whose margins are each sample's raking groups,
    so variances remove what was fixed) and one convergence report per raked sample: ``sample``,
    ``variables`` and the :class:`RakeReport` fields. Raises ``ValueError`` as :func:`rake` does,
    or when a sample of the margins has no respondent.
    """
    data = design.data
    weights = design.w.copy()
    groups: list[np.ndarray] = []
    reports = []
    parts = margins.groupby("sample") if "sample" in margins.columns else [(None, margins)]
    for name, rows in parts:
        inside = (data[sample] == name).to_numpy() if name is not None else np.ones(len(data), dtype=bool)
        if not inside.any():
            raise MarginsUnmet(E_SAMPLE_WITHOUT_RESPONDENTS, name=name)
        part = SurveyDesign(data.loc[inside].reset_index(drop=True), weight_values=weights[inside])
        raked, report = rake(
            part, rows.drop(columns=[c for c in ("sample",) if c in rows.columns]), max_iter=max_iter, tol=tol
        )
        weights[inside] = raked.w
        for codes in raked.calibration[0].groups:
            full = np.full(len(data), -1, dtype=np.int64)
            full[inside] = codes
            groups.append(full)
        reports.append({"sample": name, "variables": sorted(rows["variable"].unique()), **report.__dict__})
    # Rows outside a raked sample form groups of their own, one per sample (they are its strata).
    own = pd.factorize(data[sample])[0] if sample in data else np.zeros(len(data), dtype=np.int64)
    groups = [np.where(g < 0, g.max() + 1 + own, g) for g in groups]
    calibration = Calibration("rake", tuple(groups), design.w)
    return with_weights(design, weights, calibration), reports
