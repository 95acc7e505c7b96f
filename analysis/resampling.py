"""Replicate weights created from a Taylor design, as R's ``as.svrepdesign``.

- JK1 (unstratified): drop one PSU per replicate, the others times ``n / (n - 1)``;
  ``scale = f (n - 1) / n`` with ``f = 1 - n / N`` when a first-stage fpc is given.
- JKn (stratified): the same within each stratum; ``rscales_h = f_h (n_h - 1) / n_h``.
- BRR and Fay's method (two PSUs per stratum, or strata split into pairs): half-samples from the
  columns of a Hadamard matrix (Sylvester's doubling and Paley's construction, chosen by R's
  rule), the chosen PSU of each pair times ``2 - rho`` and the other ``rho``;
  ``scale = 1 / (R (1 - rho)^2)`` (McCarthy 1969; Judkins 1990, *J. Official Statistics* 6(3)).
- bootstrap: ``n_h`` PSUs drawn with replacement in each stratum (without, from ``N_h`` copies,
  under an fpc), multipliers the draw counts; ``scale = nbar / ((nbar - 1)(R - 1))`` with
  ``nbar`` the harmonic mean of the PSUs per stratum (Canty & Davison 1999, R's ``bootweights``).
- subbootstrap: ``n_h - 1`` draws, multipliers ``count n_h / (n_h - 1)``; ``scale = 1/(R - 1)``
  (Rao & Wu 1988, *JASA* 83).

Only the first stage's fpc is used (R drops the others); BRR and Fay drop it.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .design import SurveyDesign

CreatedType = Literal["auto", "JK1", "JKn", "BRR", "Fay", "bootstrap", "subbootstrap"]
E_TYPE = "type must be one of auto, JK1, JKn, BRR, Fay, bootstrap, subbootstrap; got {value!r}"
E_ALREADY = "the design already has replicate weights"
E_JK1_STRATA = "JK1 is for unstratified designs; use JKn (or bootstrap) for a stratified one"
E_NEEDS_STRATA = "{type} needs a stratified design; use JK1 or bootstrap for an unstratified one"
E_BRR_SMALL = "BRR needs at least two PSUs in every stratum; stratum {stratum} has one"
E_BRR_ODD = "BRR splits strata into pairs of PSUs; stratum {stratum} has an odd number ({count})"
E_LONELY = (
    "stratum {stratum} has only one PSU; choose lonely_psu='certainty', 'remove', 'average' or 'adjust'"
)
E_RHO = "fay_rho must be in [0, 1); got {value}"
E_EXHAUSTIVE = "every stratum was sampled exhaustively: there is no sampling variance to replicate"
SMALL_PRIMES_LIMIT = 7919  # R's paley() knows the primes p = 3 (mod 4) up to here


def as_replicate(
    design: SurveyDesign,
    type: CreatedType = "auto",  # R's argument name
    *,
    replicates: int = 50,
    fay_rho: float = 0.0,
    seed: int | np.random.Generator | None = None,
    mse: bool | None = None,
) -> SurveyDesign:
    """A replicate-weight design from a Taylor design's first-stage strata and PSUs (R's ``as.svrepdesign``).

    Parameters
    ----------
    type : {"auto", "JK1", "JKn", "BRR", "Fay", "bootstrap", "subbootstrap"}
        ``"auto"`` is JK1 without strata and JKn with them, as R.
    replicates : int
        Number of bootstrap replicates (the jackknives have one per PSU, BRR a Hadamard order).
    fay_rho : float
        Fay's coefficient; ``type="Fay"`` with 0 is BRR.
    seed : int or numpy Generator, optional
        For the bootstrap draws.
    mse : bool, optional
        Centre at the full-sample estimate (default: the design's setting).

    Returns
    -------
    SurveyDesign
        Same data and full-sample weights, ``replicate_values`` ``(n, R)``. Raises ``ValueError``
        for a type the design does not allow (named in the message).
    """
    if design.is_replicate:
        raise ValueError(E_ALREADY)
    if type not in ("auto", "JK1", "JKn", "BRR", "Fay", "bootstrap", "subbootstrap"):
        raise ValueError(E_TYPE.format(value=type))
    stratified = bool(design.strata_columns)
    kind = ("JKn" if stratified else "JK1") if type == "auto" else type
    if kind == "JK1" and stratified:
        raise ValueError(E_JK1_STRATA)
    if kind in ("JKn", "BRR", "Fay") and not stratified:
        raise ValueError(E_NEEDS_STRATA.format(type=kind))
    if not 0 <= fay_rho < 1:
        raise ValueError(E_RHO.format(value=fay_rho))
    first = design._taylor.first
    n_h = first.n_h
    if kind in ("JK1", "JKn"):
        multipliers, scale, rscales = _jackknife(first, design.lonely_psu)
    elif kind in ("BRR", "Fay"):
        multipliers = _brr(first, fay_rho)
        scale, rscales = 1 / (multipliers.shape[1] * (1 - fay_rho) ** 2), None
        kind = "Fay" if fay_rho > 0 else "BRR"
    else:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        multipliers = _bootstrap(first, replicates, rng, subsample=kind == "subbootstrap")
        nbar = len(n_h) / np.sum(1 / n_h)
        scale = 1 / (replicates - 1) if kind == "subbootstrap" else nbar / ((nbar - 1) * (replicates - 1))
        rscales = None
    one_per_row = first.m == design.n and np.array_equal(first.unit, np.arange(design.n))
    weights = multipliers if one_per_row else multipliers[first.unit]
    weights *= design.w[:, None]
    return SurveyDesign(
        design.data,
        weight_values=design.w,
        replicate_values=weights,
        replicate_type="bootstrap" if kind == "subbootstrap" else kind,
        scale=scale,
        rscales=rscales,
        rho=fay_rho if kind == "Fay" else None,
        mse=design.mse if mse is None else mse,
        lonely_psu=design.lonely_psu,
    )


def _fpc_factor(first) -> np.ndarray:
    """Per stratum ``f_h = 1 - n_h / N_h`` (1 without an fpc)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isinf(first.population), 1.0, (first.population - first.n_h) / first.population)


def _jackknife(first, lonely_psu: str) -> tuple[np.ndarray, float, np.ndarray]:
    """Delete-one-PSU multipliers ``(m, R)``, one replicate per PSU of every stratum with variance (R's ``jknweights``)."""
    m, strata = first.m, len(first.n_h)
    f = _fpc_factor(first)
    columns, rscales = [], []
    for h in range(strata):
        psus = np.flatnonzero(first.unit_stratum == h)
        n = len(psus)
        if f[h] == 0:  # exhaustively sampled: no replicates (R's survey.drop.replicates)
            continue
        if n == 1:
            if lonely_psu == "fail":
                raise ValueError(E_LONELY.format(stratum=first.labels[h]))
            if lonely_psu == "adjust":
                column = np.where(first.unit_stratum == h, 0.0, strata / (strata - 1))
                columns.append(column)
                rscales.append((strata - 1) / strata)
            continue
        for psu in psus:
            column = np.ones(m)
            column[psus] = n / (n - 1)
            column[psu] = 0.0
            columns.append(column)
            rscales.append(f[h] * (n - 1) / n)
    if not columns:
        raise ValueError(E_EXHAUSTIVE)
    scale = 1.0
    if lonely_psu == "average" and len(columns) < m:
        scale = m / len(columns)
    if strata == 1:  # JK1: R puts the factor in scale, rscales 1
        return np.column_stack(columns), scale * rscales[0], np.ones(len(columns))
    return np.column_stack(columns), scale, np.asarray(rscales)


def _brr(first, rho: float) -> np.ndarray:
    """Half-sample multipliers ``(m, R)`` from a Hadamard matrix (R's ``brrweights``, large strata split)."""
    order = np.lexsort((np.arange(first.m), first.labels[first.unit_stratum].astype(str)))
    pair = np.zeros(first.m, dtype=np.int64)
    half = np.zeros(first.m, dtype=np.int64)
    pairs = 0
    sizes = first.n_h.astype(int)
    labels = first.labels.astype(str)
    for h in np.argsort(labels, kind="stable"):
        if sizes[h] < 2:
            raise ValueError(E_BRR_SMALL.format(stratum=first.labels[h]))
        if sizes[h] % 2:
            raise ValueError(E_BRR_ODD.format(stratum=first.labels[h], count=sizes[h]))
    # R numbers the pairs of split (larger) strata first, then the strata of exactly two PSUs.
    for group in (sizes > 2, sizes == 2):
        for h in np.argsort(labels, kind="stable"):
            if not group[h]:
                continue
            psus = order[first.unit_stratum[order] == h]
            pair[psus] = pairs + np.arange(len(psus)) // 2
            half[psus] = np.arange(len(psus)) % 2
            pairs += len(psus) // 2
    hadamard = hadamard_matrix(pairs)
    chosen = hadamard[1 + pair, :]  # (m, R): 1 keeps the pair's first PSU, 0 its second
    selected = np.where(half[:, None] == 0, chosen, 1 - chosen)
    return selected * (2 - rho) + (1 - selected) * rho


def _bootstrap(first, replicates: int, rng: np.random.Generator, *, subsample: bool) -> np.ndarray:
    """PSU draw counts ``(m, R)`` within strata, vectorised over the strata per replicate."""
    m = first.m
    order = np.argsort(first.unit_stratum, kind="stable")
    stratum = first.unit_stratum[order]
    n_h = first.n_h.astype(np.int64)
    start = np.concatenate([[0], np.cumsum(n_h)[:-1]])
    population = first.population
    multipliers = np.zeros((m, replicates))
    if subsample or np.all(np.isinf(population)):
        slots = stratum if not subsample else np.repeat(np.arange(len(n_h)), np.maximum(n_h - 1, 0))
        first_slot, slot_size = start[slots], n_h[slots]
        by_position = np.empty((replicates, m))  # one contiguous row per replicate, transposed once
        for r in range(replicates):
            draw = first_slot + (rng.random(len(slots)) * slot_size).astype(np.int64)
            by_position[r] = np.bincount(draw, minlength=m)
        multipliers[order] = by_position.T
        if subsample:
            multipliers *= (n_h / np.maximum(n_h - 1, 1))[first.unit_stratum][:, None]
        return multipliers
    for h in range(len(n_h)):  # without replacement from N_h copies of the n_h PSUs
        psus = order[start[h] : start[h] + n_h[h]]
        size = int(population[h]) if np.isfinite(population[h]) else None
        for r in range(replicates):
            if size is None:
                picks = rng.integers(0, n_h[h], n_h[h])
            else:
                picks = rng.choice(size, n_h[h], replace=False) % n_h[h]
            multipliers[psus, r] = np.bincount(picks, minlength=n_h[h])
    return multipliers


def _sylvester(order: int) -> np.ndarray:
    matrix = np.array([[1, 1], [1, 0]])
    while len(matrix) < order:
        matrix = _double(matrix)
    return matrix


def _double(matrix: np.ndarray) -> np.ndarray:
    return np.block([[matrix, matrix], [matrix, 1 - matrix]])


def _primes_3_mod_4(limit: int) -> list[int]:
    sieve = np.ones(limit + 1, dtype=bool)
    sieve[:2] = False
    for d in range(2, int(limit**0.5) + 1):
        if sieve[d]:
            sieve[d * d :: d] = False
    return [int(p) for p in np.flatnonzero(sieve) if p % 4 == 3]


PRIMES = _primes_3_mod_4(SMALL_PRIMES_LIMIT)


def _paley(prime: int) -> np.ndarray:
    """Paley's construction (0/1 coded, bordered) of order ``prime + 1`` for a prime = 3 (mod 4)."""
    residues = {(i * i) % prime for i in range(1, (prime - 1) // 2 + 1)} | {0}
    core = np.add.outer(np.arange(prime), np.arange(prime)) % prime
    bordered = np.ones((prime + 1, prime + 1), dtype=np.int64)
    bordered[1:, 1:] = np.where(np.isin(core, list(residues)), 0, 1)
    return bordered


def _paley_for(n: int, largest: int) -> np.ndarray | None:
    """R's ``paley(n, nmax)``: a Paley matrix (perhaps doubled) of order above ``n``, or None."""
    ceiling = order = n + 4 - n % 4
    if n % 4 + 4 == n % 8:
        while order % 8 == 0:
            order //= 2
        if order - 1 in PRIMES:
            matrix = _paley(order - 1)
            while order < ceiling:
                matrix, order = _double(matrix), order * 2
            return matrix
    if n > PRIMES[-1]:
        return None
    prime = min(p for p in PRIMES if p >= n)
    if prime + 1 > ceiling + 4 and ceiling + 4 < largest:
        return _paley_for(ceiling + 3, 2 * (ceiling + 3))
    return None if prime > largest else _paley(prime)


def hadamard_matrix(n: int) -> np.ndarray:
    """A 0/1 Hadamard matrix with more than ``n`` rows, chosen as R's ``hadamard(n)``.

    R starts from stored matrices of orders 4, 16, 28 and 36 (doubled as needed) or Paley's
    construction, whichever order is smallest above ``n``. Its orders 4 and 16 are Sylvester's
    and are reproduced; its stored 28 and 36 are not, so where R would use them (or their
    doublings) this takes Paley's or Sylvester's next order instead.
    """
    base = n - n % 4
    for stored in (4, 16):
        if base < stored <= base + 4:
            return _sylvester(stored)
    stored_orders = np.array([4, 16, 28, 36])
    sizes = stored_orders * 2 ** np.maximum(0, np.ceil(np.log2((n + 1) / stored_orders))).astype(int)
    best = int(np.argmin(sizes - n))
    matrix = _paley_for(n, int(sizes[best])) if sizes[best] - n > 4 else None
    if matrix is None and stored_orders[best] in (4, 16):
        matrix = _sylvester(int(sizes[best]))
    if matrix is None:
        sylvester = int(2 ** np.ceil(np.log2(n + 1)))
        paley = _paley_for(n, sylvester)
        matrix = paley if paley is not None else _sylvester(max(sylvester, 4))
    return matrix
