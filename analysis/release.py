"""The figures a results page releases beside its tables, as tables for the one disclosure step.

A results page shows, together with the results tables (``analysis.results``): the number of
responses used (and, when flagged responses are left out, how many were), item non-response per
question, the data-quality flag counts and the unfinished responses by the last page reached.
They are the same respondents counted again, so they go through
:func:`analysis.suppression.disclose` in the same call as the tables, each figure identified by
its set of respondents (``suppression.fingerprints``): a question's "answered" is its n in the
results, a failed attention check is the sum of the check's wrong answers, and the number of
responses is the base of every missing count. A hidden figure then cannot be worked out by
subtracting one released figure from another (Hundepool et al. 2012, *Statistical Disclosure
Control*, §5.3, linked tables).

Leaving flagged responses out makes a second release of the same data: the figures without them
beside the figures with them (the page without exclusions) give the left-out respondents' own
table by difference. :func:`left_out` writes that table down (never shown: ``implied``) and ties
every figure of the release without exclusions to its two parts, so that the disclosure step
protects the left-out respondents' small cells as it protects any other (the release without
exclusions keeps its own decisions: ``disclose(..., fixed=...)``).

Every function is pure: arrays and frames in, new frames out.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .codebook import Codebook
from .quality import FLAGS
from .suppression import Release, fingerprints

RESPONSES, NONRESPONSE, FLAG_COUNTS, DROPOFF = (
    "release:responses",
    "release:nonresponse",
    "release:flags",
    "release:dropoff",
)
LEFT_OUT = "left out:"  # the name of a left-out respondents' table: this prefix and the full table's
USED, EXCLUDED, MISSING, ANSWERED = "used", "excluded", "missing", "answered"
SKIPPED_KINDS = frozenset({"meta", "order", "flag", "arm"})
FINGERPRINTED = frozenset({"set", "stat"})


def _set(fingerprint: tuple[int, int, int], *place: Hashable) -> tuple:
    """A figure's identity: its respondents' fingerprint, or its place when it counts no one."""
    return ("set", *fingerprint) if fingerprint[2] else ("empty", *place)


def _row(variable: str, level: str, count: int, n: int, cell: tuple, base: tuple, **more: Any) -> dict:
    return {
        "variable": variable,
        "group_variable": "",
        "group": "",
        "level": level,
        "count": int(count),
        "n": int(n),
        "cell": cell,
        "base": base,
        **more,
    }


def responses_table(keys: np.ndarray, kept: np.ndarray | None = None) -> pd.DataFrame:
    """The number of responses used: one row; leaving some out (``kept``, a boolean mask over every
    response), two rows — used and excluded — of every response. ``keys`` (``(n, 2)``) are every
    response's fingerprint numbers (``suppression.row_keys``)."""
    everyone = fingerprints(keys, np.zeros(len(keys), dtype=np.int64), 1)[0]
    if kept is None or kept.all():
        return pd.DataFrame(
            [_row("responses", USED, everyone[2], everyone[2], _set(everyone), _set(everyone))]
        )
    used, out = fingerprints(keys, np.where(kept, 0, 1), 2)
    return pd.DataFrame(
        [
            _row("responses", level, fp[2], everyone[2], _set(fp, "responses", level), _set(everyone))
            for level, fp in ((USED, used), (EXCLUDED, out))
        ]
    )


def missing_mask(values: pd.Series) -> np.ndarray:
    """No answer: missing, or an empty text (as ``quality.item_nonresponse`` counts it)."""
    missing = values.isna()
    if not pd.api.types.is_numeric_dtype(values):
        missing |= (values == "").fillna(False).astype(bool)
    return missing.to_numpy(dtype=bool)


def nonresponse_table(frame: pd.DataFrame, codebook: Codebook, keys: np.ndarray) -> pd.DataFrame:
    """Item non-response: per answerable question, its missing answers (shown) and its answered ones
    (the question's n in the results: implied here), of every response of ``frame``.

    ``keys`` are the fingerprint numbers of ``frame``'s rows. A missing count is not hidden by the
    threshold rule on its own (``threshold`` false): the number of responses minus the question's
    n, both shown, gives it anyway; it is hidden when it is the same respondents as a small
    answer (a question shown only after another answer) or to protect another figure.
    """
    names = [v.name for v in codebook.variables if v.kind not in SKIPPED_KINDS and v.name in frame.columns]
    if not names:
        return pd.DataFrame()
    missing = np.column_stack([missing_mask(frame[name]) for name in names]).astype(float)
    total = len(frame)
    everyone = fingerprints(keys, np.zeros(total, dtype=np.int64), 1)[0]
    sums = keys.T @ missing  # (2, questions): exact, every term an integer below 2^26
    counts = missing.sum(axis=0)
    rows = []
    for j, name in enumerate(names):
        gone = (int(sums[0, j]), int(sums[1, j]), int(counts[j]))
        kept = (everyone[0] - gone[0], everyone[1] - gone[1], total - gone[2])
        variable = codebook.variable(name)
        common = {"question": variable.question, "relevance": variable.relevance, "threshold": False}
        rows.append(
            _row(name, MISSING, gone[2], total, _set(gone, "missing", name), _set(everyone), **common)
            | {"estimate": gone[2] / total if total else np.nan}
        )
        rows.append(
            _row(name, ANSWERED, kept[2], total, _set(kept, "answered", name), _set(everyone), **common)
            | {"implied": True, "estimate": kept[2] / total if total else np.nan}
        )
    return pd.DataFrame(rows)


def flags_table(
    flags: pd.DataFrame,
    keys: np.ndarray,
    *,
    frame: pd.DataFrame,
    parameters: Mapping[str, Mapping[str, str]],
) -> pd.DataFrame:
    """Flag counts of every response: flagged (shown) and not flagged (implied) per flag.

    ``flags`` are ``quality.quality_flags`` of ``frame`` (every response), ``keys`` their
    fingerprint numbers. With one attention check declared, the failed count is the sum of the
    check's wrong answers in the results (``sum_of``), which the disclosure step then weighs.
    """
    total = len(flags)
    everyone = fingerprints(keys, np.zeros(total, dtype=np.int64), 1)[0]
    checks = {code: p["correct"] for code, p in parameters.items() if p.get("correct") and code in frame}
    rows = []
    for flag in FLAGS:
        yes, no = fingerprints(keys, np.where(flags[flag].to_numpy(dtype=bool), 0, 1), 2)
        parts = _wrong_answers(frame, keys, checks) if flag == "attention_failed" else None
        rows.append(
            _row(flag, "yes", yes[2], total, _set(yes, flag, "yes"), _set(everyone), sum_of=parts)
            | {"estimate": yes[2] / total if total else np.nan}
        )
        rows.append(
            _row(flag, "no", no[2], total, _set(no, flag, "no"), _set(everyone), implied=True)
            | {"estimate": no[2] / total if total else np.nan}
        )
    return pd.DataFrame(rows)


def _wrong_answers(frame: pd.DataFrame, keys: np.ndarray, checks: dict[str, str]) -> list[tuple] | None:
    """Identities of the one attention check's answers other than the correct ones (overall)."""
    if len(checks) != 1:
        return None  # a union of several checks' failures is no sum of released cells
    ((code, correct),) = checks.items()
    right = {c.strip() for c in correct.split(",") if c.strip()}
    codes, levels = pd.factorize(frame[code].astype("string"))
    wrong = [j for j, level in enumerate(levels) if str(level) not in right]
    if not wrong:
        return None
    cells = fingerprints(keys, codes, len(levels))
    return [("set", *cells[j]) for j in wrong if cells[j][2]]


def dropoff_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Unfinished responses by the last page reached (``[{"page", "count"}]``), of all unfinished."""
    total = sum(int(row["count"]) for row in rows)
    if not total:
        return pd.DataFrame()
    return pd.DataFrame(
        [
            {
                "variable": "dropoff",
                "group_variable": "",
                "group": "",
                "level": str(row["page"]),
                "count": int(row["count"]),
                "n": total,
                "estimate": int(row["count"]) / total,
            }
            for row in rows
        ]
    )


def left_out(
    full: Mapping[str, pd.DataFrame], decided: Release, kept: Mapping[str, pd.DataFrame]
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The release without exclusions as ``fixed`` tables, and the left-out respondents' own tables.

    ``full`` are the tables of every response (exact, before disclosure), ``decided`` their
    release (what the page without exclusions shows), ``kept`` the tables with flagged responses
    left out. Each left-out figure is a full figure minus its kept counterpart (same table, place
    and level), its identity the difference of the fingerprints; every full figure gets the sum
    equation ``full = kept + left out`` for its cell and its base. Returns ``(fixed, implied)``.
    """
    fixed, implied = {}, {}
    for name, table in full.items():
        rows = table.reset_index(drop=True)
        out = rows.assign(suppressed=decided[name]["suppressed"].to_numpy(dtype=bool))
        if name not in kept or not _fingerprinted(rows):
            fixed[name] = out
            continue
        index = {_place(record): record for record in kept[name].to_dict("records")}
        records, sums, base_sums = [], [], []
        for record in rows.to_dict("records"):
            twin = index.get(_place(record))
            cell = _difference(record["cell"], twin["cell"] if twin else None, name)
            base = _difference(record["base"], twin["base"] if twin else None, name)
            records.append(
                {
                    "variable": record["variable"],
                    "group_variable": record["group_variable"],
                    "group": record["group"],
                    "level": record["level"],
                    "count": int(record["count"]) - (int(twin["count"]) if twin else 0),
                    "n": int(record["n"]) - (int(twin["n"]) if twin else 0),
                    "cell": cell,
                    "base": base,
                    "implied": True,
                    # a left-out missing count is no more a secret than the full and kept ones
                    "threshold": _threshold(record),
                }
            )
            sums.append(_parts(twin["cell"] if twin else None, cell))
            base_sums.append(_parts(twin["base"] if twin else None, base))
        fixed[name] = out.assign(sum_of=sums, base_sum_of=base_sums)
        implied[f"{LEFT_OUT}{name}"] = pd.DataFrame(records)
    return fixed, implied


def _threshold(record: dict[str, Any]) -> bool:
    value = record.get("threshold", True)
    return True if value is None or value != value else bool(value)


def _fingerprinted(table: pd.DataFrame) -> bool:
    return "cell" in table and all(
        isinstance(c, tuple) and c and c[0] in {"set", "stat", "empty"} for c in table["cell"]
    )


def _place(record: dict[str, Any]) -> tuple:
    level = record["level"]
    return (
        record["variable"],
        record["group_variable"] or "",
        record["group"] or "",
        None if level is None or (isinstance(level, float) and np.isnan(level)) else str(level),
    )


def _difference(full: tuple, kept: tuple | None, table: str) -> tuple:
    """The identity of a full figure's respondents not in its kept counterpart."""
    if full[0] not in FINGERPRINTED:
        return ("empty", "left out", table, *full)
    names, fingerprint = full[:-3], np.array(full[-3:], dtype=np.int64)
    if kept is not None and kept[0] in FINGERPRINTED:
        fingerprint = fingerprint - np.array(kept[-3:], dtype=np.int64)
    if fingerprint[2] <= 0:
        return ("empty", "left out", table, *full)
    return (*names, *(int(x) for x in fingerprint))


def _parts(kept: tuple | None, out: tuple) -> list[tuple] | None:
    parts = [key for key in (kept, out) if key is not None and key[0] in FINGERPRINTED]
    return parts if len(parts) == 2 else None
