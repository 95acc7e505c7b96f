"""Data quality: flags per response, computed from the answers alone (no identifier, no time of day).

* **Speeding**: completed in less than ``fraction`` (default 1/3) of the median duration of the
  response's sample — the rule of thumb of Greszki, Meyer & Schoen (2015, *Public Opinion
  Quarterly* 79(2)), who flag respondents far below the median.
* **Straight-lining**: the same answer to every item of a matrix battery of three or more items
  (Kim, Dykema, Stevenson, Black & Moberg 2019, *Social Science Computer Review* 37(2)).
* **Failed attention check**: a question whose XLSForm ``parameters`` declare ``correct=code``
  (several codes separated by commas) answered otherwise.
* **Near-duplicate**: another response matches at least ``threshold`` (default 85%) of the
  substantive answers — Kuriakose & Robbins' (2016, *Statistical Journal of the IAOS* 32(3))
  maximum percent match. Candidate pairs are found by locality-sensitive hashing (responses that
  agree on a random band of questions), so the cost is near-linear; a pair is flagged only after
  its full match is computed.

:func:`quality_flags` returns one boolean column per flag (aligned with the frame's rows);
:func:`exclude_flagged` leaves flagged responses out (the claims report's exclusions);
:func:`with_flag_columns` adds them to a frame and its codebook as 0/1 columns for exports;
:func:`item_nonresponse` the share of complete responses without an answer, per question.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from . import schema
from .codebook import Codebook, Variable

SPEEDING, STRAIGHTLINING, ATTENTION, DUPLICATE = (
    "speeding",
    "straightlining",
    "attention_failed",
    "near_duplicate",
)
FLAGS = (SPEEDING, STRAIGHTLINING, ATTENTION, DUPLICATE)
SUBSTANTIVE = frozenset({"categorical", "ordinal", "binary", "numeric", "rank", "count"})
BANDS, BAND_WIDTH, NEIGHBOURS, CHANCE = 16, 8, 10, 32


@dataclass(frozen=True)
class QualityRules:
    """What counts as a flag: ``speeding`` a fraction of the median duration, ``threshold`` the
    percent match of a near-duplicate, ``battery_items`` the smallest battery checked."""

    speeding: float = 1 / 3
    threshold: float = 0.85
    battery_items: int = 3


def quality_flags(
    frame: pd.DataFrame,
    codebook: Codebook,
    *,
    parameters: dict[str, dict[str, str]] | None = None,
    rules: QualityRules | None = None,
) -> pd.DataFrame:
    """Boolean flags per response (columns :data:`FLAGS` and ``flagged``, any of them), same index.

    Raises ``ValueError`` for a speeding fraction outside (0, 1) or a threshold outside (0.5, 1].
    """
    rules = rules or QualityRules()
    if not 0 < rules.speeding < 1:
        raise ValueError("the speeding fraction must be between 0 and 1 (e.g. 1/3 of the median duration)")
    if not 0.5 < rules.threshold <= 1:
        raise ValueError("the near-duplicate threshold must be above 50% and at most 100%")
    flags = pd.DataFrame(index=frame.index)
    flags[SPEEDING] = speeding(frame, rules.speeding)
    flags[STRAIGHTLINING] = straightlining(frame, codebook, rules.battery_items)
    flags[ATTENTION] = attention_failed(frame, parameters or {})
    flags[DUPLICATE] = near_duplicates(frame, codebook, rules.threshold)
    flags["flagged"] = flags[list(FLAGS)].any(axis=1)
    return flags


FLAG_LABELS = {
    SPEEDING: "Data quality: completed in under the set fraction of the sample's median duration",
    STRAIGHTLINING: "Data quality: the same answer to every item of a matrix battery",
    ATTENTION: "Data quality: an attention check (XLSForm parameters correct=...) answered otherwise",
    DUPLICATE: "Data quality: most answers equal to another response's (near-duplicate)",
    "flagged": "Data quality: any of the flags above",
}


def flag_variables(rules: QualityRules | None = None) -> list[Variable]:
    """Codebook entries of the export columns :func:`with_flag_columns` adds (kind ``flag``, 0/1)."""
    rules = rules or QualityRules()
    notes = {
        SPEEDING: f"duration under {fraction_text(rules.speeding)} of the sample's median",
        DUPLICATE: f"percent match of at least {rules.threshold:.0%}",
        STRAIGHTLINING: f"batteries of {rules.battery_items} or more items",
    }
    return [
        Variable(
            schema.quality_column(flag),
            "flag",
            schema.quality_column(flag),
            label={"en": FLAG_LABELS[flag] + (f" ({notes[flag]})" if flag in notes else "")},
            value_labels={"0": {"en": "no"}, "1": {"en": "yes"}},
        )
        for flag in (*FLAGS, "flagged")
    ]


def with_flag_columns(
    frame: pd.DataFrame,
    codebook: Codebook,
    *,
    parameters: dict[str, dict[str, str]] | None = None,
    rules: QualityRules | None = None,
) -> tuple[pd.DataFrame, Codebook]:
    """``frame`` with one 0/1 (``int8``) column per flag and ``quality_flagged`` appended, and a copy
    of ``codebook`` that describes them — what an export writes beside the answers.

    The flags are those of :func:`quality_flags` on the whole ``frame`` (speeding and
    near-duplicates compare responses with each other: pass every response, not a chunk).
    Neither input is changed; raises ``ValueError`` as :func:`quality_flags` does.
    """
    flags = quality_flags(frame, codebook, parameters=parameters, rules=rules)
    columns = {
        schema.quality_column(flag): flags[flag].to_numpy(dtype=np.int8) for flag in (*FLAGS, "flagged")
    }
    extended = Codebook(
        study=codebook.study,
        title=codebook.title,
        languages=list(codebook.languages),
        variables=[*codebook.variables, *flag_variables(rules)],
        synthetic=codebook.synthetic,
        consent=list(codebook.consent),
    )
    return frame.assign(**columns), extended


def exclude_flagged(
    frame: pd.DataFrame,
    codebook: Codebook,
    *,
    exclude: tuple[str, ...] | list[str],
    parameters: dict[str, dict[str, str]] | None = None,
    rules: QualityRules | None = None,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """The responses of ``frame`` carrying none of the flags named in ``exclude`` (index reset),
    and what was done: ``{"flags": [...], "excluded": count (exact), "speeding": fraction}``.

    Flags are computed on the whole ``frame`` (:func:`quality_flags`). Raises ``ValueError`` for a
    name not in :data:`FLAGS` or when every response would be left out.
    """
    unknown = sorted(set(exclude) - set(FLAGS))
    if unknown:
        raise ValueError(f"unknown data-quality flag {', '.join(unknown)} (known: {', '.join(FLAGS)})")
    chosen = [flag for flag in FLAGS if flag in exclude]  # in a fixed order, once each
    rules = rules or QualityRules()
    if not chosen:
        return frame, {"flags": [], "excluded": 0, "speeding": rules.speeding}
    flags = quality_flags(frame, codebook, parameters=parameters, rules=rules)
    out = flags[chosen].any(axis=1).to_numpy()
    if out.all():
        raise ValueError("every response carries one of the chosen data-quality flags")
    kept = frame.loc[~out].reset_index(drop=True)
    return kept, {"flags": chosen, "excluded": int(out.sum()), "speeding": rules.speeding}


def fraction_parsed(text: str) -> float:
    """A speeding fraction as a person writes it, a fraction (``1/3``) or a decimal (``0.33``),
    as a float strictly between 0 and 1 (``1/3`` is the float nearest a third, as ``1 / 3``).

    Raises ``ValueError`` for anything else: not a number, 0, 1 or more, a zero denominator."""
    try:
        value = Fraction("".join(str(text).split()))
    except (ValueError, ZeroDivisionError) as error:
        raise ValueError(f"{text!r} is not a fraction such as 1/3 or a decimal such as 0.33") from error
    if not 0 < value < 1:
        raise ValueError(f"{text} is not strictly between 0 and 1")
    return float(value)


def fraction_text(value: float) -> str:
    """A fraction of the median duration as a reader knows it: ``1/3``, ``1/4``, ``1/6`` where it is
    a fraction of small terms (to six digits, as an exclusion key keeps it) that is not a decimal of
    one or two places (``0.2``, ``0.35``), else the decimal (``0.33``)."""
    near = Fraction(value).limit_denominator(12)
    if abs(float(near) - value) > 1e-6 or near.denominator == 1:
        return f"{value:.6g}"
    if near.denominator > 4 and (near * 100).denominator == 1:
        return f"{value:.2g}"
    return f"{near.numerator}/{near.denominator}"


def speeding(frame: pd.DataFrame, fraction: float) -> np.ndarray:
    """Duration below ``fraction`` of the median duration of the same sample."""
    if schema.DURATION not in frame:
        return np.zeros(len(frame), dtype=bool)
    duration = pd.to_numeric(frame[schema.DURATION], errors="coerce")
    if duration.isna().all():
        return np.zeros(len(frame), dtype=bool)
    groups = frame[schema.SAMPLE] if schema.SAMPLE in frame else pd.Series(0, index=frame.index)
    median = duration.groupby(groups).transform("median")
    return (duration < fraction * median).fillna(False).to_numpy(dtype=bool)


def batteries(codebook: Codebook) -> dict[str, list[str]]:
    """Matrix batteries: question code -> its item variables (ordinal items sharing a question)."""
    found: dict[str, list[str]] = {}
    for variable in codebook.variables:
        if variable.kind == "ordinal" and variable.question != variable.name:
            found.setdefault(variable.question, []).append(variable.name)
    return found


def straightlining(frame: pd.DataFrame, codebook: Codebook, minimum: int) -> np.ndarray:
    """The same answer to every item of any battery of ``minimum`` or more items (all answered)."""
    flagged = np.zeros(len(frame), dtype=bool)
    for items in batteries(codebook).values():
        present = [item for item in items if item in frame]
        if len(present) < minimum:
            continue
        ids: dict[str, int] = {}
        answers = np.column_stack([_text_codes(frame[item], ids) for item in present])
        flagged |= (answers[:, 0] >= 0) & (answers == answers[:, :1]).all(axis=1)
    return flagged


def _text_codes(values: pd.Series, ids: dict[str, int]) -> np.ndarray:
    """Codes (-1 missing) of one column, numbered through ``ids`` (text -> code, shared by the
    columns compared), so that the same answer gets the same code whatever the columns' dtypes."""
    codes, uniques = pd.factorize(values)  # one pass over the rows; cheap for a categorical
    texts = np.array([ids.setdefault(str(u), len(ids)) for u in uniques] or [-1], dtype=np.int64)
    return np.where(codes >= 0, texts[np.clip(codes, 0, None)], -1)


def attention_failed(frame: pd.DataFrame, parameters: dict[str, dict[str, str]]) -> np.ndarray:
    """An answered attention check (``parameters`` ``correct=``) answered with another code."""
    failed = np.zeros(len(frame), dtype=bool)
    for code, params in parameters.items():
        if "correct" not in params or code not in frame:
            continue
        correct = [c.strip() for c in params["correct"].split(",") if c.strip()]
        answers = frame[code].astype("string")
        failed |= (answers.notna() & ~answers.isin(correct)).fillna(False).to_numpy(dtype=bool)
    return failed


def _answer_matrix(frame: pd.DataFrame, codebook: Codebook) -> np.ndarray:
    """Integer codes per substantive answer (-1 when missing), ``(n, questions)``, as the smallest
    integer type that holds them (comparing pairs of rows reads less memory)."""
    columns = [v.name for v in codebook.variables if v.kind in SUBSTANTIVE and v.name in frame]
    coded = [pd.factorize(frame[column])[0] for column in columns]  # any dtype; missing is -1
    largest = max((int(codes.max()) for codes in coded if len(codes)), default=0)
    dtype = np.int8 if largest < 127 else np.int16 if largest < 32767 else np.int64
    matrix = np.full((len(frame), len(columns)), -1, dtype=dtype)
    for j, codes in enumerate(coded):
        matrix[:, j] = codes
    return matrix


def near_duplicates(
    frame: pd.DataFrame, codebook: Codebook, threshold: float, *, seed: int = 2016
) -> np.ndarray:
    """Responses whose answers match another response's on at least ``threshold`` of the questions
    either of them answered (Kuriakose & Robbins' percent match).

    Candidates: responses that agree on a random band of questions with three or more answers
    (:data:`BANDS` bands), each compared with up to :data:`NEIGHBOURS` others of its band. A band
    has :data:`BAND_WIDTH` questions, or more in a large study: as many as make a chance agreement
    of two unrelated responses rare (the product of the band's answer counts at least
    :data:`CHANCE` times the number of responses), so that the pairs compared grow with the
    responses rather than with their square. A pair differing on a few questions agrees on a band
    that misses them; with 16 bands most such pairs are met (and then their full match decides).
    """
    matrix = _answer_matrix(frame, codebook)
    n, q = matrix.shape
    flagged = np.zeros(n, dtype=bool)
    levels = matrix.max(axis=0) + 1 if n else np.zeros(0)  # factorize codes run 0..levels-1
    informative = np.flatnonzero(levels >= 3)
    if n < 2 or len(informative) < 2:
        return flagged
    rng = np.random.default_rng(seed)
    multipliers = rng.integers(1, 2**61, size=q, dtype=np.uint64) | np.uint64(1)
    for _ in range(BANDS):
        band = _band(rng, informative, levels, n)
        with np.errstate(over="ignore"):  # a hash: wrapping is intended; collisions are only candidates
            keys = ((matrix[:, band] + 2).astype(np.uint64) * multipliers[band]).sum(axis=1, dtype=np.uint64)
        order = np.argsort(keys)
        sorted_keys = keys[order]
        for step in range(1, NEIGHBOURS + 1):
            same = sorted_keys[step:] == sorted_keys[:-step]
            if not same.any():
                break
            first, second = order[:-step][same], order[step:][same]
            hit = _percent_match(matrix, first, second) >= threshold
            flagged[first[hit]] = True
            flagged[second[hit]] = True
    return flagged


def _band(rng: np.random.Generator, informative: np.ndarray, levels: np.ndarray, n: int) -> np.ndarray:
    """A random band: :data:`BAND_WIDTH` informative questions, then more (up to all but one) until
    the product of their answer counts (missing counted as an answer) reaches ``CHANCE * n``."""
    shuffled = rng.permutation(informative)
    enough = np.log(CHANCE * n)
    reach = np.cumsum(np.log(levels[shuffled] + 1.0))
    width = max(BAND_WIDTH, int(np.searchsorted(reach, enough)) + 1)
    return shuffled[: min(width, len(informative) - 1)]


def _percent_match(matrix: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Share of the questions either answered on which two responses agree, pair by pair."""
    result = np.empty(len(first))
    for start in range(0, len(first), 20_000):  # bounded memory
        a, b = matrix[first[start : start + 20_000]], matrix[second[start : start + 20_000]]
        answered_a, answered_b = a >= 0, b >= 0
        same = ((a == b) & answered_a).sum(axis=1)
        either = (answered_a | answered_b).sum(axis=1)
        result[start : start + 20_000] = np.where(either > 0, same / np.maximum(either, 1), 0.0)
    return result


def item_nonresponse(frame: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Per answerable variable: complete responses without an answer, as ``missing`` and ``share``.

    A question shown only to some (relevance) counts those not shown as missing too; its
    ``relevance`` column says so.
    """
    rows = []
    for variable in codebook.variables:
        if variable.kind in {"meta", "order", "flag", "arm"} or variable.name not in frame:
            continue
        values = frame[variable.name]
        missing = values.isna()
        if not pd.api.types.is_numeric_dtype(values):  # text, categorical or object: "" is no answer
            missing |= (values == "").fillna(False).astype(bool)
        rows.append(
            {
                "variable": variable.name,
                "question": variable.question,
                "missing": int(missing.sum()),
                "n": len(frame),
                "share": float(missing.mean()) if len(frame) else np.nan,
                "relevance": variable.relevance,
            }
        )
    return pd.DataFrame(rows)
