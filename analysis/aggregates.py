"""Aggregate tables for download: one tidy long CSV and a formatted XLSX (a sheet per table, notes).

Both are written from a results payload (``survey.services.results``: tables already through the
disclosure step), so a download holds exactly what the page shows. One CSV row per variable ×
statistic × level × group; in the CSV, text a spreadsheet would run as a formula is neutralised
(``analysis.exports.neutralise``); XLSX cells are written as typed strings or numbers, never
formulas, so they hold every text as it is. Every word written is marked with ``gettext_noop`` and
read through the caller's ``translate`` (Django's ``gettext`` in the language of the file's labels).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import xlsxwriter

from .exports import neutralise
from .quality import fraction_text
from .results import COLUMNS as TABLE_COLUMNS
from .results import DETERMINED, NO_VARIANCE, ONE_COLUMN, ONE_ROW
from .translation import Translate, gettext_noop, identity

# One row per variable x level x group: the results' table columns, then how and from what.
COLUMNS = (*TABLE_COLUMNS, "weighting", "data")
SHEET_NAME_LIMIT = 31


def _count_or_withheld(count: int | None, translate: Translate) -> int | str:
    """A released count, or words saying disclosure control withheld it (None in the payload)."""
    return translate(gettext_noop("withheld by disclosure control")) if count is None else count


def weighting_text(payload: dict[str, Any], translate: Translate = identity) -> str:
    """How the figures are weighted, in one line (for the ``weighting`` column and the notes);
    raking variables by their labels where the payload has them."""
    weighting = payload.get("weighting", {})
    method = weighting.get("method", "none")
    source = weighting.get("source", "")
    if method == "none":
        return translate(gettext_noop("unweighted"))
    if method == "rake":
        everyone = translate(gettext_noop("all"))
        samples = ", ".join(str(r.get("sample") or everyone) for r in weighting.get("reports", []))
        # absent from results kept before
        variables = ", ".join(weighting.get("variable_labels") or weighting.get("variables", []))
        if variables:
            text = gettext_noop("raked to %(source)s on %(variables)s (%(samples)s)")
        else:
            text = gettext_noop("raked to %(source)s (%(samples)s)")
        return translate(text) % {"source": source, "variables": variables, "samples": samples}
    return translate(gettext_noop("post-stratified to %(source)s")) % {"source": source}


NOTES = {
    "primary": gettext_noop("suppressed: fewer than k respondents"),
    "complementary": gettext_noop(
        "suppressed so that hidden figures cannot be worked out from totals or other tables"
    ),
    "value": gettext_noop("suppressed: no rounding of the value is shared by the answers of k respondents"),
    "too_few_answers": gettext_noop("not estimable: too few answers"),
    "not_estimable": gettext_noop("not estimable from these answers"),
    "shown_before": gettext_noop(
        "fewer than k respondents, shown because a release made before (at a lower k, or as a "
        "difference of figures it showed) already gave it"
    ),
}
SHOWN_BEFORE_LINE = gettext_noop(
    "Except %(count)s figures that releases made before already gave (at a lower k, or as a "
    "difference of figures they showed): hiding them now would not protect them, so they are "
    "shown, each with a note."
)
ROUNDED = gettext_noop(
    "rounded to the nearest %(width)s (the finest width whose bin holds the answers of %(k)s "
    "respondents); interval widened to the same width and cut to the answers the question allows"
)
MEDIANS = gettext_noop(
    "exact when %(k)s respondents gave that answer, else rounded to the nearest 1, 2, 5, 10, 20, "
    "50 ... (column rounded_to), intervals widened to the same width and cut to the answers the "
    "question allows"
)
INDIRECT = frozenset({"list_experiment", "randomized_response"})
BEYOND_LIMITS = gettext_noop(
    "outside 0 to 1 as computed (an indirect estimate is a difference, not a count of people); not cut off"
)
TEST = "rao_scott_p"  # the statistic of a test row: the p-value of the Rao–Scott test by a breakdown
TEST_NOTES = {
    "withheld": gettext_noop("not shown: cells of this cross-table are hidden by disclosure control"),
    ONE_COLUMN: gettext_noop("not applicable: only one group answered (a test needs two groups or more)"),
    ONE_ROW: gettext_noop(
        "not applicable: every answer was the same (a test needs two different answers or more)"
    ),
    DETERMINED: gettext_noop(
        "not applicable: each group gave one answer only (the breakdown determines the answer), "
        "and the test is not defined for such a table"
    ),
    NO_VARIANCE: gettext_noop(
        "not applicable: the design leaves this cross-table's shares no sampling variance "
        "(each sample answered one way), so the test statistic is not defined"
    ),
}
FLAG_NAMES = {
    "speeding": gettext_noop("Speeding"),
    "straightlining": gettext_noop("Straight-lining in a matrix"),
    "attention_failed": gettext_noop("Failed attention check"),
    "duplicate": gettext_noop("Near-duplicate answers"),
}
# A p-value below this is given as "p < 0.0001" on the page and in the XLSX (the CSV keeps the float).
P_FLOOR, P_FLOOR_TEXT = 1e-4, "0.0001"


def figure_label(
    row: dict[str, Any], item: dict[str, Any] | None, translate: Translate = identity
) -> str | None:
    """What an indirect-estimate row is, for its ``level_label`` (the counting question's label alone
    would not say): the list experiment's sensitive statement (``item["sensitive"]``) or the
    randomised-response question, the direct question's answers, or their difference. Other rows
    keep their level's label."""
    statistic, level_label = row.get("statistic"), row.get("level_label")
    if statistic == "list_experiment":
        statement = (item or {}).get("sensitive") or row.get("label") or ""
        return translate(gettext_noop("“%(statement)s” — indirect estimate (list experiment)")) % {
            "statement": statement
        }
    if statistic == "randomized_response":
        return translate(gettext_noop("indirect estimate (randomised response)"))
    if statistic == "direct":  # "in": the answers that hold the view; "out": not (those answers)
        return translate(gettext_noop("%(answers)s — direct question")) % {"answers": level_label}
    if statistic == "difference":
        return translate(
            gettext_noop("difference, indirect − direct (below 0: the direct question overstates)")
        )
    return level_label


def tidy_rows(
    payload: dict[str, Any], *, guard: bool = True, translate: Translate = identity
) -> list[dict[str, Any]]:
    """The payload's table as rows of :data:`COLUMNS`, then a row per Rao–Scott test (statistic
    :data:`TEST`, its p-value as the estimate, NA when there is none, and why in ``note``); counts
    as whole numbers; indirect estimates' rows say what they are (:func:`figure_label`); with
    ``guard``, labels neutralised for a CSV opened in a spreadsheet."""
    weighting, data = weighting_text(payload, translate), payload.get("data", "real")
    items = {item["question"]: item for item in payload.get("items", [])}
    rows = []
    for row in [*payload["table"], *_test_rows(payload, translate)]:
        out = {column: row.get(column) for column in COLUMNS}
        out["level_label"] = figure_label(row, items.get(row.get("question")), translate)
        out["n"] = _whole(out["n"])
        note = out["note"] or ""
        out["note"] = translate(NOTES[note]) if note in NOTES else note
        if out["statistic"] in INDIRECT and not out["note"] and beyond_limits(out):
            out["note"] = translate(BEYOND_LIMITS)
        if out.get("rounded_to") and not out["note"]:
            out["note"] = translate(ROUNDED) % {"width": f"{out['rounded_to']:g}", "k": payload.get("k", 10)}
        out["weighting"], out["data"] = weighting, data
        rows.append({k: neutralise(v) if guard and isinstance(v, str) else v for k, v in out.items()})
    return rows


def beyond_limits(row: dict[str, Any]) -> bool:
    """Whether a shown share's estimate or 95% CI falls below 0 or above 1."""
    if row.get("suppressed"):
        return False
    values = [row.get(c) for c in ("estimate", "ci_low", "ci_high")]
    return any(v is not None and v == v and not 0 <= v <= 1 for v in values)


def _whole(count: Any) -> int | None:
    """A released count as an integer (280, not 280.0); None when hidden or absent."""
    return None if count is None or count != count else int(count)


def _breakdown_labels(payload: dict[str, Any]) -> dict[str, str]:
    """Each breakdown's label as the table's rows carry it (in the language of the labels)."""
    return {
        row["group_variable"]: row["group_variable_label"]
        for row in payload["table"]
        if row.get("group_variable") and row.get("group_variable_label")
    }


def _test_rows(payload: dict[str, Any], translate: Translate) -> list[dict[str, Any]]:
    """One row per Rao–Scott test of the payload's items: p-value, F and degrees of freedom in words."""
    labels = _breakdown_labels(payload)
    rows = []
    for item in payload.get("items", []):
        for test in item.get("tests", []):
            reason = "withheld" if test.get("withheld") else test.get("not_applicable", "")
            note = translate(TEST_NOTES[reason]) if reason in TEST_NOTES else reason
            if not reason:
                note = translate(gettext_noop("Rao–Scott F = %(f)s on %(ndf)s and %(ddf)s df")) % {
                    "f": f"{test['f']:.4g}",
                    "ndf": f"{test['ndf']:.3g}",
                    "ddf": f"{test['ddf']:.4g}",
                }
            rows.append(
                {
                    "question": item["question"],
                    "variable": test["variable"],
                    "label": item["label"],
                    "statistic": TEST,
                    "group_variable": test["by"],
                    "group_variable_label": labels.get(test["by"], test["by"]),
                    "estimate": None if reason else test.get("p_value"),
                    "suppressed": bool(test.get("withheld")),
                    "note": note,
                }
            )
    return rows


def write_csv(payload: dict[str, Any], notes: dict[str, str], *, translate: Translate = identity) -> str:
    """The tidy long table as CSV text, its header the first line (``pandas.read_csv`` and R's
    ``read.csv`` read it as it is); the ``data`` column says whether it is synthetic, and the
    XLSX notes sheet what the file is. Column names and codes stay as they are; words (notes,
    weighting) go through ``translate``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in tidy_rows(payload, translate=translate):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


def write_xlsx(payload: dict[str, Any], notes: dict[str, str], *, translate: Translate = identity) -> bytes:
    """A workbook: a notes sheet (design, weights, k, source, synthetic flag) and a sheet per table,
    its words through ``translate``."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    bold = book.add_format({"bold": True})
    percent = book.add_format({"num_format": "0.0%"})
    number = book.add_format({"num_format": "0.00"})
    # the p-value of a test: four decimals, or "< 0.0001" below that (still a number in the cell)
    p_value = book.add_format({"num_format": f'[<{P_FLOOR_TEXT}]"< {P_FLOOR_TEXT}";0.0000'})
    _notes_sheet(book, payload, notes, bold, translate)
    rows = tidy_rows(payload, guard=False, translate=translate)  # typed string cells: never formulas
    tables: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        # every test on one sheet; the other figures a sheet per question and statistic
        key = ("tests", "") if row["statistic"] == TEST else (row["question"] or "", row["statistic"] or "")
        tables.setdefault(key, []).append(row)
    used: set[str] = {"notes"}
    for (question, statistic), part in tables.items():
        sheet = book.add_worksheet(_sheet_name(f"{question} {statistic}".strip(), used))
        title = (
            translate(gettext_noop("Rao–Scott tests of independence"))
            if not statistic
            else str(part[0]["label"] or question)
        )
        sheet.write_string(0, 0, title, bold)
        for j, column in enumerate(COLUMNS):
            sheet.write_string(2, j, column, bold)
        for i, row in enumerate(part, start=3):
            for j, column in enumerate(COLUMNS):
                value = row[column]
                if isinstance(value, bool):
                    sheet.write_boolean(i, j, value)
                elif isinstance(value, int | float):
                    share = column in {"estimate", "se", "ci_low", "ci_high"} and statistic in PERCENT
                    test = column == "estimate" and row["statistic"] == TEST
                    style = percent if share else number if column == "deff" else p_value if test else None
                    sheet.write_number(i, j, value, style)
                elif value is not None:
                    sheet.write_string(i, j, str(value))
        sheet.freeze_panes(3, 0)
        sheet.set_column(0, 1, 18)
        sheet.set_column(2, 2, 40)
        sheet.set_column(5, 5, 28)
    book.close()
    return buffer.getvalue()


PERCENT = {
    "share",
    "selected",
    "ranked_first",
    "direct",
    "list_experiment",
    "randomized_response",
    "difference",
}


def _notes_sheet(
    book: Any, payload: dict[str, Any], notes: dict[str, str], bold: Any, translate: Translate
) -> None:
    sheet = book.add_worksheet("notes")
    t = translate
    flags = ", ".join(t(FLAG_NAMES.get(flag, flag)) for flag in payload.get("exclude", []))
    breakdowns = _breakdown_labels(payload)
    lines = [
        (t(gettext_noop("Study")), f"{notes.get('title', '')} ({notes.get('study', '')})"),
        (
            t(gettext_noop("Data")),
            t(gettext_noop("SYNTHETIC — generated from a seeded model, not collected from people"))
            if payload.get("data") == "synthetic"
            else t(gettext_noop("collected")),
        ),
        (t(gettext_noop("Responses used")), _count_or_withheld(payload.get("n"), t)),
        (
            t(gettext_noop("Excluded by data-quality flags")),
            f"{_count_or_withheld(payload.get('excluded', 0), t)} ({flags or t(gettext_noop('none'))})",
        ),
        *(
            [
                (
                    t(gettext_noop("Speeding flag")),
                    t(gettext_noop("duration under %(fraction)s of the sample's median"))
                    % {"fraction": fraction_text(payload["speeding"])},
                )
            ]
            if payload.get("speeding") is not None
            else []
        ),
        *((t(gettext_noop("Note")), note) for note in payload.get("notes", [])),
        (
            t(gettext_noop("Design")),
            t(
                gettext_noop(
                    "samples as strata; Taylor-linearised standard errors (R survey's svymean/svyciprop)"
                )
            ),
        ),
        (t(gettext_noop("Weights")), weighting_text(payload, t)),
        (
            t(gettext_noop("Breakdowns")),
            ", ".join(breakdowns.get(b, b) for b in payload.get("by", [])) or t(gettext_noop("none")),
        ),
        (
            t(gettext_noop("Disclosure control")),
            t(
                gettext_noop(
                    "cells of 1 to %(largest)s respondents suppressed, with complementary cells; "
                    "counts rounded to 5, shares to 0.1 point"
                )
            )
            % {"largest": payload.get("k", 10) - 1}
            + (
                " " + t(SHOWN_BEFORE_LINE) % {"count": payload["shown_before"]}
                if payload.get("shown_before")
                else ""
            ),
        ),
        (t(gettext_noop("Medians")), t(MEDIANS) % {"k": payload.get("k", 10)}),
        (t(gettext_noop("Source")), notes.get("source", "")),
    ]
    for i, (name, value) in enumerate(lines):
        sheet.write_string(i, 0, name, bold)
        sheet.write_string(i, 1, str(value))
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 1, 100)


def _sheet_name(text: str, used: set[str]) -> str:
    """A unique sheet name within Excel's 31 characters, without the characters it forbids."""
    clean = "".join("_" if c in "[]:*?/\\" else c for c in text)[:SHEET_NAME_LIMIT] or "table"
    name, number = clean, 1
    while name.lower() in used:
        number += 1
        suffix = f" ({number})"
        name = clean[: SHEET_NAME_LIMIT - len(suffix)] + suffix
    used.add(name.lower())
    return name
