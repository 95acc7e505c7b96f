"""CSV exports on PostgreSQL without Python in the loop: the bridge's flattening written as SQL.

``iter_response_frames`` turns each response's JSON answers into the codebook's columns in Python,
which costs about ten times PostgreSQL's own ``COPY`` of the same rows. Here the same columns are
computed by PostgreSQL (``jsonb`` operators) and written by ``COPY (SELECT ...) TO STDOUT CSV``; the
file has the same header, columns, values, quoting, spreadsheet-formula neutralising
(``analysis.exports.neutralise``) and RFC 4180 line ends as ``analysis.exports.write_csv`` with
``values="codes"``. A test keeps the two paths equal. Other databases, formats and labelled
values use the bridge.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from django.db import connection
from psycopg import sql

from analysis import schema
from analysis.codebook import Codebook
from analysis.exports import DANGEROUS_START, neutralise

from .bridge import Layout, column_layout
from .models import ConsentText, QuestionnaireVersion, Response, Sample, Study

PROGRESS_EVERY = 10_000
STARTS = sql.SQL(", ").join(sql.Literal(ord(c)) for c in DANGEROUS_START)  # first characters


def available(fmt: str, values: str = "codes") -> bool:
    return fmt == "csv" and values == "codes" and connection.vendor == "postgresql"


def _neutral(text: sql.Composable) -> sql.Composable:
    """Text starting like a spreadsheet formula gets a leading apostrophe; empty text is missing."""
    text = sql.SQL("({})").format(text)  # ->> binds more loosely than ||
    return sql.SQL("NULLIF(CASE WHEN ascii({t}) IN ({s}) THEN {q} || {t} ELSE {t} END, '')").format(
        t=text, s=STARTS, q=sql.Literal("'")
    )


def _joined(array: sql.Composable) -> sql.Composable:
    """A JSON array of codes as space-separated text (the bridge's ``" ".join``)."""
    return _neutral(
        sql.SQL("array_to_string(ARRAY(SELECT jsonb_array_elements_text({})), ' ')").format(array)
    )


def _answer(code: str) -> sql.Composable:
    """An answer as the bridge writes it: text neutralised, numbers (say -3) as they are."""
    text = sql.SQL("a.{}").format(sql.Identifier(code))  # from jsonb_to_record: one pass per row
    return sql.SQL(
        "CASE WHEN ascii({t}) IN ({s}) AND jsonb_typeof(r.answers -> {c}) = 'string'"
        " THEN {q} || {t} ELSE {t} END"
    ).format(t=text, s=STARTS, c=sql.Literal(code), q=sql.Literal("'"))


def _is_scalar(name: str, layout: Layout) -> bool:
    base, _, suffix = name.partition(schema.CHOICE_SEPARATOR)
    return not (
        name in schema.META_COLUMNS
        or (base in layout.multi and suffix in layout.multi[base])
        or (base in layout.ranks and suffix.startswith("rank"))
        or (base in layout.arms and name == schema.arm_column(base))
        or name in layout.order_names
        or name in layout.reversed_names
    )


def _column(name: str, layout: Layout, in_record: set[str]) -> sql.Composable:
    """The SQL for one codebook column; ``a.<code>`` are answers unpacked once per row."""
    base, _, suffix = name.partition(schema.CHOICE_SEPARATOR)
    literal = sql.Literal
    field = sql.SQL("a.{}").format(sql.Identifier(base))
    if name == schema.RESPONSE_ID:
        return sql.SQL("r.id::text")
    if name == schema.SAMPLE:
        return _neutral(sql.SQL("s.slug"))
    if name == schema.LANGUAGE:
        return _neutral(sql.SQL("r.language"))
    if name == schema.QUESTIONNAIRE_VERSION:
        return sql.SQL("v.number")
    if name == schema.CONSENT_VERSION:
        return sql.SQL("c.version")
    if name == schema.COMPLETED_ON:
        return sql.SQL("to_char(r.completed_on, 'YYYY-MM-DD')")
    if name == schema.DURATION:
        return sql.SQL("r.duration_seconds")
    if name == schema.SYNTHETIC:
        return sql.SQL("r.is_synthetic::int")
    if name == schema.SEED:
        return sql.SQL("r.display ->> 'seed'")
    if name == schema.PAGE_ORDER:
        return _joined(sql.SQL("COALESCE(r.display -> 'sections', '[]')"))
    if base in layout.multi and suffix in layout.multi[base]:
        return sql.SQL("CASE WHEN {f} IS NOT NULL THEN ({f} ? {c})::int END").format(
            f=field, c=literal(suffix)
        )
    if base in layout.ranks and suffix.startswith("rank"):
        rank = int(suffix.removeprefix("rank"))
        return _neutral(sql.SQL("{} ->> {}").format(field, literal(rank - 1)))
    if base in layout.arms and name == schema.arm_column(base):
        answered = (
            sql.SQL("{} IS NOT NULL").format(field)
            if base in in_record
            else sql.SQL("r.answers ? {}").format(literal(base))
        )
        return sql.SQL("CASE WHEN {a} THEN {arm} END").format(
            a=answered, arm=_neutral(sql.SQL("r.display -> 'arms' ->> {}").format(literal(base)))
        )
    if name in layout.order_names:
        code = name.removesuffix(schema.order_column(""))
        order = sql.SQL("COALESCE(r.display -> 'items' -> {c}, r.display -> 'options' -> {c})").format(
            c=literal(code)
        )
        return sql.SQL("CASE WHEN {o} IS NOT NULL THEN {j} END").format(o=order, j=_joined(order))
    if name in layout.reversed_names:
        code = name.removesuffix(schema.reversed_column(""))
        return sql.SQL("COALESCE((r.display -> 'reversed' ? {})::int, 0)").format(literal(code))
    return _answer(name)


def query(study: Study, codebook: Codebook, *, include_synthetic: bool = True) -> sql.Composed:
    layout = column_layout(codebook)
    table = sql.Identifier
    # Every answer the columns need, unpacked in one pass: scalars as text, lists as jsonb.
    scalars = [name for name in codebook.names if _is_scalar(name, layout)]
    lists = sorted(set(layout.multi) | set(layout.ranks))
    record = sql.SQL(", ").join(
        [sql.SQL("{} text").format(sql.Identifier(code)) for code in scalars]
        + [sql.SQL("{} jsonb").format(sql.Identifier(code)) for code in lists]
        or [sql.SQL('"-" text')]
    )
    in_record = {*scalars, *lists}
    return sql.SQL(
        "COPY (SELECT {columns} FROM {responses} r"
        " CROSS JOIN LATERAL jsonb_to_record(r.answers) AS a({record})"
        " JOIN {samples} s ON s.id = r.sample_id"
        " JOIN {versions} v ON v.id = r.version_id"
        " JOIN {consents} c ON c.id = r.consent_id"
        " WHERE r.study_id = {study} AND r.status = 'complete'{synthetic}"
        " ORDER BY r.id) TO STDOUT (FORMAT csv)"
    ).format(
        columns=sql.SQL(", ").join(_column(name, layout, in_record) for name in codebook.names),
        record=record,
        responses=table(Response._meta.db_table),
        samples=table(Sample._meta.db_table),
        versions=table(QuestionnaireVersion._meta.db_table),
        consents=table(ConsentText._meta.db_table),
        study=sql.Literal(study.pk),
        synthetic=sql.SQL("" if include_synthetic else " AND NOT r.is_synthetic"),
    )


def copy_csv(
    study: Study,
    codebook: Codebook,
    path: Path,
    *,
    include_synthetic: bool = True,
    bom: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the study's complete responses to ``path`` as CSV; returns the number of rows."""
    header = io.StringIO()
    csv.writer(header, lineterminator="\r\n").writerow([neutralise(n) for n in codebook.names])
    rows = 0
    with open(path, "wb") as handle, connection.cursor() as cursor:
        handle.write(("\ufeff" if bom else "").encode() + header.getvalue().encode())
        with cursor.cursor.copy(query(study, codebook, include_synthetic=include_synthetic)) as copy:
            batch: list[bytes] = []
            for row in copy:  # PostgreSQL sends one message per row, ending in "\n"
                batch.append(bytes(row[:-1]))
                if len(batch) == PROGRESS_EVERY:
                    rows += _write_rows(handle, batch)
                    if progress:
                        progress(rows)
            rows += _write_rows(handle, batch)
    return rows


def _write_rows(handle, batch: list[bytes]) -> int:
    """Rows with RFC 4180 line ends (a line break inside a quoted field stays as it is)."""
    if batch:
        handle.write(b"\r\n".join(batch) + b"\r\n")
    count = len(batch)
    batch.clear()
    return count
