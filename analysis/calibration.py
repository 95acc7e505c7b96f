"""Calibration of weights to population totals: GREG, raking and logit distances, as R's ``calibrate``.

New weights are ``w_i g_i`` with ``g_i = 1 + F(x_i' lambda)`` and ``lambda`` solving
``sum w_i g_i x_i = T`` (Deville & Särndal 1992, *JASA* 87(418)): ``F(u) = u`` is linear (GREG;
solved in one step when unbounded, as R's ``regcalibrate``), ``exp(u) - 1`` raking, and the logit
distance keeps ``g`` within ``bounds`` (Newton iterations with step halving, R's ``grake``).
``bounds`` truncates the linear and raking distances; ``trim`` clips the final ``g`` and spreads
what was cut over the untrimmed rows, as R. On a Taylor design the variance uses the residuals of
the weighted regression of the influence values on ``x`` (R's ``svyrecvar``); on a replicate
design every replicate is calibrated in turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .design import Calibration, SurveyDesign, with_weights
from .formula import model_frame

CALFUNS = ("linear", "raking", "logit")
PRESCALE_THRESHOLD = 20  # R: weights far below the totals are rescaled before iterating

E_CALFUN = "calfun must be one of linear, raking, logit; got {value!r}"
E_LOGIT_BOUNDS = "logit calibration needs finite bounds (lower < 1 < upper), e.g. bounds=(0.5, 2)"
E_TOTALS_MISSING = "population has no total for {names}; the model's columns are {columns}"
E_TOTALS_EXTRA = "population total {name!r} matches no column of the model ({columns})"
E_NOT_CONVERGED = "calibration did not converge in {iterations} iterations (largest relative misfit {misfit:.3g}); relax bounds or pass force=True"
E_SINGULAR = "the calibration variables are collinear in the sample: {detail}"
E_CATEGORY = "{variable}={category} has a population count but no respondent in the sample"
E_UNCOVERED = "{variable}={category} occurs in the sample but has no population count"
E_SIZES = "the counts of {variable} sum to {total:g}, but the population size is {size:g}"
E_NUMERIC = "{variable} has missing values; impute or drop them before calibrating"
E_UNKNOWN_TOTAL = "population total {name!r} is neither a column of the data nor a column followed by one of its categories (R's names, e.g. stypeH)"
E_MARGINS_FRAME = "a margins frame needs columns variable, category and count (or share); found {columns}"


@dataclass(frozen=True)
class CalibrationReport:
    """How calibration went: the distance, iterations, the misfit left, and what it did to the weights."""

    calfun: str
    iterations: int
    max_misfit: float  # largest |estimated - population total| / (1 + |population total|)
    converged: bool
    g_min: float
    g_max: float
    weight_min: float
    weight_max: float
    deff_weighting: float  # Kish: 1 + CV^2 of the weights
    n_effective: float  # Kish: (sum w)^2 / sum w^2
    trimmed: int


@dataclass(frozen=True)
class _Fit:
    g: np.ndarray
    iterations: int
    misfit: float
    converged: bool


def _matrix_from_margins(data: pd.DataFrame, population: Mapping) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Auxiliaries and totals from ``{variable: total or {category: count}}`` (plus ``"(Intercept)"``).

    A categorical variable enters as R's treatment dummies with the population size as intercept.
    """
    columns, totals, names = [], [], []
    size = population.get("(Intercept)")
    for variable, value in population.items():
        if variable == "(Intercept)":
            continue
        series = data[variable]
        if isinstance(value, Mapping | pd.Series):
            counts = pd.Series(value, dtype=float)
            counts.index = counts.index.astype(str)
            present = set(series.dropna().astype(str))
            for category in counts.index:
                if category not in present and counts[category] > 0:
                    raise ValueError(E_CATEGORY.format(variable=variable, category=category))
            for category in sorted(present - set(counts.index)):
                raise ValueError(E_UNCOVERED.format(variable=variable, category=category))
            if size is not None and abs(counts.sum() - size) > 1e-9 * max(size, 1):
                raise ValueError(E_SIZES.format(variable=variable, total=counts.sum(), size=size))
            size = counts.sum()
            text = series.astype(str)
            for category in sorted(counts.index)[1:]:
                columns.append((text == category).to_numpy(dtype=float))
                totals.append(counts[category])
                names.append(f"{variable}{category}")
        else:
            numeric = pd.to_numeric(series, errors="coerce")
            if numeric.isna().any():
                raise ValueError(E_NUMERIC.format(variable=variable))
            columns.append(numeric.to_numpy(dtype=float))
            totals.append(float(value))
            names.append(str(variable))
    if size is not None:
        columns.insert(0, np.ones(len(data)))
        totals.insert(0, float(size))
        names.insert(0, "(Intercept)")
    return np.column_stack(columns), np.asarray(totals, dtype=float), names


def _matrix_from_formula(
    data: pd.DataFrame, formula: str, population: Mapping
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    frame = model_frame(formula, data)
    if not frame.rows.all():
        missing = int((~frame.rows).sum())
        raise ValueError(E_NUMERIC.format(variable=f"the formula's variables ({missing} rows)"))
    totals = pd.Series(population, dtype=float)
    for name in totals.index:
        if name not in frame.names:
            raise ValueError(E_TOTALS_EXTRA.format(name=name, columns=", ".join(frame.names)))
    missing = [name for name in frame.names if name not in totals.index]
    if missing:
        raise ValueError(E_TOTALS_MISSING.format(names=", ".join(missing), columns=", ".join(frame.names)))
    return frame.x, totals[frame.names].to_numpy(), frame.names


def _as_mapping(population, total: float) -> dict:
    """A margins frame like :func:`~analysis.rake`'s (``variable, category`` and ``count`` or
    ``share``, shares of the current weight total as rake takes them) as ``{variable: {category: count}}``."""
    if isinstance(population, pd.DataFrame):
        column = (
            "count" if "count" in population.columns else "share" if "share" in population.columns else None
        )
        if column is None or not {"variable", "category"} <= set(population.columns):
            raise ValueError(E_MARGINS_FRAME.format(columns=", ".join(map(str, population.columns))))
        scale = total if column == "share" else 1.0
        return {
            str(variable): dict(
                zip(rows["category"].astype(str), rows[column].astype(float) * scale, strict=True)
            )
            for variable, rows in population.groupby("variable", sort=False)
        }
    return dict(population)


def _r_formula(data: pd.DataFrame, population: dict) -> str | None:
    """R's population vector without its formula: names like ``stypeH`` (column ``stype``, level ``H``)
    and ``api99`` give back ``~stype + api99``. None when every name is a column (the margins form)."""
    names = [name for name in population if name != "(Intercept)"]
    if all(name in data.columns for name in names):
        return None
    terms: list[str] = []
    for name in names:
        column = (
            name
            if name in data.columns
            else max(
                (c for c in map(str, data.columns) if name.startswith(c) and len(c) < len(name)),
                key=len,
                default=None,
            )
        )
        if column is None:
            raise ValueError(E_UNKNOWN_TOTAL.format(name=name))
        if column not in terms:
            terms.append(column)
    rhs = " + ".join(f"`{term}`" for term in terms)
    return f"~ {rhs}" if "(Intercept)" in population else f"~ {rhs} - 1"


def _distance(calfun: str, bounds: tuple[float, float]):
    """``F(u)`` (so that ``g = 1 + F``) and its derivative, as R's ``cal.linear``, ``cal.raking``, ``cal.logit``."""
    low, high = bounds
    if calfun == "linear":
        return (
            lambda u: np.clip(u + 1, low, high) - 1,
            lambda u: ((u < high - 1) & (u > low - 1)).astype(float),
        )
    if calfun == "raking":
        return (
            lambda u: np.clip(np.exp(u), low, high) - 1,
            lambda u: np.where((u < high - 1) & (u > low - 1), np.exp(u), 0.0),
        )
    a = (high - low) / ((high - 1) * (1 - low))

    def logit(u):
        with np.errstate(over="ignore", invalid="ignore"):  # R: non-finite g triggers step halving
            e = np.exp(a * u)
            return (low * (high - 1) + high * (1 - low) * e) / (high - 1 + (1 - low) * e) - 1

    def derivative(u):
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(a * u)
            denominator = high - 1 + (1 - low) * e
            return (
                high * (1 - low) * e * a / denominator
                - (low * (high - 1) + high * (1 - low) * e) * ((1 - low) * e * a) / denominator**2
            )

    return logit, derivative


def _solve_linear(x: np.ndarray, w: np.ndarray, totals: np.ndarray) -> _Fit:
    """R's ``regcalibrate``: ``g = 1 + x (X'WX)^-1 (T - X'w)``, one step."""
    try:
        step = np.linalg.solve(x.T @ (x * w[:, None]), totals - x.T @ w)
    except np.linalg.LinAlgError as error:
        raise ValueError(E_SINGULAR.format(detail=error)) from error
    g = 1 + x @ step
    misfit = np.abs(x.T @ (w * g) - totals) / (1 + np.abs(totals))
    return _Fit(g, 1, float(misfit.max()), True)


def _grake(x, w, totals, calfun, bounds, maxit, epsilon) -> _Fit:
    """R's ``grake``: Newton's method on ``lambda`` with step halving; ``g`` rescaled after a pre-scaling."""
    F, dF = _distance(calfun, bounds)
    sample_totals = x.T @ w
    with np.errstate(divide="ignore", invalid="ignore"):
        scales = totals / sample_totals
    prescale = (
        float(np.mean(scales)) if np.all(np.isfinite(scales)) and np.min(scales) > PRESCALE_THRESHOLD else 1.0
    )
    w = w * prescale
    sample_totals = sample_totals * prescale
    eta = np.zeros(x.shape[1])
    iteration, misfit = 1, np.inf
    while True:
        u = x @ eta
        jacobian = (x * (w * dF(u))[:, None]).T @ x
        residual = totals - sample_totals - x.T @ (w * F(u))
        step = np.linalg.pinv(jacobian, rcond=256 * np.finfo(float).eps) @ residual
        eta = eta + step
        u = x @ eta
        while iteration < maxit and not (np.all(np.isfinite(F(u))) and np.all(np.isfinite(dF(u)))):
            iteration += 1
            step = step / 2
            eta = eta - step
            u = x @ eta
        relative = np.abs(totals - sample_totals - x.T @ (w * F(u))) / (1 + np.abs(totals))
        misfit = float(np.max(relative))
        if misfit < epsilon:
            return _Fit((1 + F(u)) * prescale, iteration, misfit, True)
        iteration += 1
        if iteration > maxit:
            return _Fit((1 + F(u)) * prescale, iteration, misfit, False)


def _trim(g: np.ndarray, w: np.ndarray, trim: tuple[float, float] | None) -> tuple[np.ndarray, int]:
    """Clip ``g`` to ``trim`` and add what was cut, as weight, evenly to the untrimmed rows (R)."""
    if trim is None:
        return g, 0
    clipped = np.clip(g, *trim)
    outside = clipped != g
    if outside.any():
        clipped[~outside] += np.sum((g - clipped) * w) / np.sum(w[~outside])
    return clipped, int(outside.sum())


def _calibrate_weights(x, w, totals, calfun, bounds, trim, maxit, epsilon) -> tuple[_Fit, int]:
    if calfun == "linear" and np.all(np.isinf(bounds)):
        fit = _solve_linear(x, w, totals)
    else:
        fit = _grake(x, w, totals, calfun, bounds, maxit, epsilon)
    g, trimmed = _trim(fit.g, w, trim)
    return _Fit(g, fit.iterations, fit.misfit, fit.converged or trimmed > 0), trimmed


def calibrate(
    design: SurveyDesign,
    population: Mapping | pd.Series,
    *,
    formula: str | None = None,
    calfun: str = "linear",
    bounds: tuple[float, float] = (-np.inf, np.inf),
    trim: tuple[float, float] | None = None,
    maxit: int = 50,
    epsilon: float = 1e-7,
    force: bool = False,
) -> tuple[SurveyDesign, CalibrationReport]:
    """Calibrate the design's weights to population totals (R's ``calibrate(design, formula, population)``).

    Parameters
    ----------
    population : mapping or DataFrame
        ``{variable: total}`` for a numeric variable and ``{variable: {category: count}}`` for a
        categorical one (its counts also give the population size), optionally
        ``"(Intercept)"``: the population size; or a margins frame as :func:`~analysis.rake`
        takes (``variable, category, count``); or R's ``population`` vector, totals keyed by
        R's model-matrix names (``"(Intercept)"``, ``"stypeH"``, ``"api99"``), whose formula is
        read from the names or given as ``formula`` (R's, e.g. ``"~stype + api99"``).
    calfun : {"linear", "raking", "logit"}
        The distance (see the module docstring).
    bounds : (low, high)
        Bounds on ``g`` (logit needs finite ones with ``low < 1 < high``).
    trim : (low, high), optional
        Clip the final ``g`` and redistribute the excess (R's ``trim``).
    maxit, epsilon
        Newton iterations and the relative misfit ``|X'wg - T| / (1 + |T|)`` to reach.
    force : bool
        Return the last weights even if calibration did not converge (else ``ValueError``).

    Returns
    -------
    (SurveyDesign, CalibrationReport)
        The calibrated design — its variances use the calibration residuals (Taylor) or
        recalibrated replicates — and a report. Raises ``ValueError`` naming a missing or
        unknown total, a category without respondents, or collinear auxiliaries.
    """
    if calfun not in CALFUNS:
        raise ValueError(E_CALFUN.format(value=calfun))
    low, high = float(bounds[0]), float(bounds[1])
    if calfun == "logit" and not (np.isfinite(low) and np.isfinite(high) and low < 1 < high):
        raise ValueError(E_LOGIT_BOUNDS)
    population = _as_mapping(population, float(design.w.sum()))
    if formula is None:
        formula = _r_formula(design.data, population)
    if formula is not None:
        x, totals, _names = _matrix_from_formula(design.data, formula, population)
    else:
        x, totals, _names = _matrix_from_margins(design.data, population)
    w = design.w
    fit, trimmed = _calibrate_weights(x, w, totals, calfun, (low, high), trim, maxit, epsilon)
    if not fit.converged and not force:
        raise ValueError(E_NOT_CONVERGED.format(iterations=maxit, misfit=fit.misfit))
    weights = w * fit.g
    report = _report(calfun, fit, weights, trimmed)
    if design.is_replicate:
        replicates = design._replicates.weights.copy()
        for r in range(replicates.shape[1]):
            replicate_fit, _ = _calibrate_weights(
                x, replicates[:, r], totals, calfun, (low, high), trim, maxit, epsilon
            )
            replicates[:, r] *= replicate_fit.g
        return with_weights(design, weights, replicates=replicates), report
    calibration = Calibration("greg", (), w, x=x)
    return with_weights(design, weights, calibration), report


def _report(calfun: str, fit: _Fit, weights: np.ndarray, trimmed: int) -> CalibrationReport:
    n_eff = weights.sum() ** 2 / np.sum(weights**2)
    return CalibrationReport(
        calfun=calfun,
        iterations=fit.iterations,
        max_misfit=fit.misfit,
        converged=fit.converged,
        g_min=float(fit.g.min()),
        g_max=float(fit.g.max()),
        weight_min=float(weights.min()),
        weight_max=float(weights.max()),
        deff_weighting=float(len(weights) / n_eff),
        n_effective=float(n_eff),
        trimmed=trimmed,
    )
