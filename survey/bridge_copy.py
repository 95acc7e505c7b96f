"""The bridge on PostgreSQL: the same columns as ``survey.bridge``, computed by the database.

``bridge.iter_response_frames`` turns each response's JSON answers into the codebook's columns in
Python, which costs about ten times PostgreSQL's own ``COPY`` of the same rows. Here the flattening
is SQL (``jsonb_to_record`` unpacks a row's answers in one pass) run by ``COPY (SELECT ...) TO
STDOUT``, for two uses:

- ``copy_csv``: CSV exports of codes, byte for byte what ``analysis.exports.write_csv`` writes from
  the bridge's frames (same header, values, quoting, RFC 4180 line ends, and spreadsheet formulas
  neutralised as ``analysis.exports.neutralise`` does);
- ``iter_frames``: the bridge's DataFrames, parsed from the COPY stream by pandas' CSV reader.

Tests keep both equal to the Python path. SQLite, and labelled values, use ``survey.bridge`` alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
from django.db import connection
from psycopg import sql

from analysis import schema
from analysis.codebook import Codebook
from analysis.exports import DANGEROUS_START, neutralise
from analysis.formulas import NUMBER_PATTERN

from .bridge import Layout, column_layout
from .models import ConsentText, QuestionnaireVersion, Response, Sample, Study

PROGRESS_EVERY = 10_000
STARTS = sql.SQL(", ").join(sql.Literal(ord(c)) for c in DANGEROUS_START)  # first characters
APOSTROPHE = sql.Literal("'")
NUMBER = sql.Literal(f"^{NUMBER_PATTERN}$")  # a number (-5) is no formula: never guarded
MISSING = "\x1f"  # how COPY marks a missing value for the frame reader (CSV exports leave it empty)


def available(fmt: str = "frames", values: str = "codes") -> bool:
    """Whether the COPY path serves this: PostgreSQL, and frames or a CSV of codes (the caller also
    checks ``bridge.legacy_responses``)."""
    return connection.vendor == "postgresql" and fmt in {"frames", "csv"} and values == "codes"


class _Columns:
    """SQL for each codebook column. For CSV (``for_csv``) text is neutralised and empty text is
    missing, as ``write_csv`` does; for frames values are as the bridge's Python path has them."""

    def __init__(self, codebook: Codebook, *, for_csv: bool) -> None:
        self.layout: Layout = column_layout(codebook)
        self.for_csv = for_csv
        self.scalars = [name for name in codebook.names if self._is_scalar(name)]
        self.lists = sorted(set(self.layout.multi) | set(self.layout.ranks))

    def record(self) -> sql.Composable:
        """Every answer the columns need, unpacked in one pass: scalars as text, lists as jsonb."""
        return sql.SQL(", ").join(
            [sql.SQL("{} text").format(sql.Identifier(code)) for code in self.scalars]
            + [sql.SQL("{} jsonb").format(sql.Identifier(code)) for code in self.lists]
            or [sql.SQL('"-" text')]
        )

    def _is_scalar(self, name: str) -> bool:
        layout = self.layout
        base, _, suffix = name.partition(schema.CHOICE_SEPARATOR)
        return not (
            name in schema.META_COLUMNS
            or (base in layout.multi and suffix in layout.multi[base])
            or (base in layout.ranks and suffix.startswith("rank"))
            or (base in layout.arms and name == schema.arm_column(base))
            or name in layout.order_names
            or name in layout.reversed_names
        )

    def neutral(self, text: sql.Composable) -> sql.Composable:
        text = sql.SQL("({})").format(text)  # ->> binds more loosely than ||
        if not self.for_csv:
            return text
        return sql.SQL(
            "NULLIF(CASE WHEN ascii(ltrim({t}, {q})) IN ({s}) AND {t} !~ {n} THEN {q} || {t} ELSE {t} END, '')"
        ).format(t=text, s=STARTS, q=APOSTROPHE, n=NUMBER)

    def joined(self, array: sql.Composable) -> sql.Composable:
        """A JSON array of codes as space-separated text (the bridge's ``" ".join``)."""
        return self.neutral(
            sql.SQL("array_to_string(ARRAY(SELECT jsonb_array_elements_text({})), ' ')").format(array)
        )

    def answer(self, code: str) -> sql.Composable:
        """A scalar answer: in CSV, text neutralised but numbers (say -3, or the text "-3") as they are."""
        text = sql.SQL("a.{}").format(sql.Identifier(code))
        if not self.for_csv:
            return text
        return sql.SQL(
            "CASE WHEN ascii(ltrim({t}, {q})) IN ({s}) AND jsonb_typeof(r.answers -> {c}) = 'string'"
            " AND {t} !~ {n} THEN {q} || {t} ELSE {t} END"
        ).format(t=text, s=STARTS, c=sql.Literal(code), q=APOSTROPHE, n=NUMBER)

    def column(self, name: str) -> sql.Composable:
        layout, literal = self.layout, sql.Literal
        base, _, suffix = name.partition(schema.CHOICE_SEPARATOR)
        field = sql.SQL("a.{}").format(sql.Identifier(base))
        fixed = {
            schema.RESPONSE_ID: "r.id::text",
            schema.QUESTIONNAIRE_VERSION: "v.number",
            schema.CONSENT_VERSION: "c.version",
            schema.COMPLETED_ON: "to_char(r.completed_on, 'YYYY-MM-DD')",
            schema.DURATION: "r.duration_seconds",
            schema.SYNTHETIC: "r.is_synthetic::int",
            schema.SEED: "r.display ->> 'seed'",
        }
        if name in fixed:
            return sql.SQL(fixed[name])
        if name == schema.SAMPLE:
            return self.neutral(sql.SQL("s.slug"))
        if name == schema.LANGUAGE:
            return self.neutral(sql.SQL("r.language"))
        if name == schema.PAGE_ORDER:
            return self.joined(sql.SQL("COALESCE(r.display -> 'sections', '[]')"))
        if name == schema.NOT_SHOWN:
            return self.joined(sql.SQL("COALESCE(r.display -> 'not_shown', '[]')"))
        if base in layout.multi and suffix in layout.multi[base]:
            offered = sql.SQL(", ").join(sql.Literal(n) for n in layout.choice_versions[name] or [-1])
            return sql.SQL(
                "CASE WHEN {f} IS NOT NULL AND v.number IN ({o}) THEN ({f} ? {c})::int END"
            ).format(f=field, c=literal(suffix), o=offered)
        if base in layout.ranks and suffix.startswith("rank"):
            rank = int(suffix.removeprefix("rank"))
            return self.neutral(sql.SQL("{} ->> {}").format(field, literal(rank - 1)))
        if base in layout.arms and name == schema.arm_column(base):
            answered = (
                sql.SQL("{} IS NOT NULL").format(field)
                if base in {*self.scalars, *self.lists}
                else sql.SQL("r.answers ? {}").format(literal(base))
            )
            arm = self.neutral(sql.SQL("r.display -> 'arms' ->> {}").format(literal(base)))
            return sql.SQL("CASE WHEN {a} THEN {arm} END").format(a=answered, arm=arm)
        if name in layout.order_names:
            code = literal(name.removesuffix(schema.order_column("")))
            order = sql.SQL("COALESCE(r.display -> 'items' -> {c}, r.display -> 'options' -> {c})").format(
                c=code
            )
            return sql.SQL("CASE WHEN {o} IS NOT NULL THEN {j} END").format(o=order, j=self.joined(order))
        if name in layout.reversed_names:
            code = literal(name.removesuffix(schema.reversed_column("")))
            return sql.SQL("COALESCE((r.display -> 'reversed' ? {})::int, 0)").format(code)
        return self.answer(name)


def query(study: Study, codebook: Codebook, *, include_synthetic: bool = True, for_csv: bool) -> sql.Composed:
    """``COPY (SELECT <the codebook's columns> ...) TO STDOUT``, ordered by response id.

    The rows are ``selectors.released_responses(study, include_synthetic=...)``, written in SQL.
    """
    columns = _Columns(codebook, for_csv=for_csv)
    table = sql.Identifier
    return sql.SQL(
        "COPY (SELECT {columns} FROM {responses} r"
        " CROSS JOIN LATERAL jsonb_to_record(r.answers) AS a({record})"
        " JOIN {samples} s ON s.id = r.sample_id"
        " JOIN {versions} v ON v.id = r.version_id"
        " JOIN {consents} c ON c.id = r.consent_id"
        " WHERE r.study_id = {study}{synthetic}"
        " ORDER BY r.id) TO STDOUT (FORMAT csv{null})"
    ).format(
        columns=sql.SQL(", ").join(columns.column(name) for name in codebook.names),
        record=columns.record(),
        responses=table(Response._meta.db_table),
        samples=table(Sample._meta.db_table),
        versions=table(QuestionnaireVersion._meta.db_table),
        consents=table(ConsentText._meta.db_table),
        study=sql.Literal(study.pk),
        synthetic=sql.SQL("" if include_synthetic else " AND NOT r.is_synthetic"),
        null=sql.SQL("") if for_csv else sql.SQL(", NULL {}").format(sql.Literal(MISSING)),
    )


def _rows(study: Study, codebook: Codebook, *, include_synthetic: bool, for_csv: bool) -> Iterator[bytes]:
    """The COPY stream, one row at a time (PostgreSQL sends one message per row, ending in "\\n")."""
    with connection.cursor() as cursor:
        statement = query(study, codebook, include_synthetic=include_synthetic, for_csv=for_csv)
        with cursor.cursor.copy(statement) as copy:
            for row in copy:
                yield bytes(row)


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
    batch: list[bytes] = []
    with open(path, "wb") as handle:
        handle.write(("\ufeff" if bom else "").encode() + header.getvalue().encode())
        for row in _rows(study, codebook, include_synthetic=include_synthetic, for_csv=True):
            batch.append(row[:-1])
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


def iter_frames(
    study: Study, codebook: Codebook, *, chunk_size: int, include_synthetic: bool = True
) -> Iterator[pd.DataFrame]:
    """The bridge's frames: text columns as text (a code "1" stays "1"), numbers as numbers."""
    names = codebook.names
    texts = dict.fromkeys(column_layout(codebook).text_names, "str")
    batch: list[bytes] = []

    def frame() -> pd.DataFrame:
        parsed = pd.read_csv(
            io.BytesIO(b"".join(batch)),
            header=None,
            names=names,
            dtype=texts,
            na_values=[MISSING],
            keep_default_na=False,
        )
        batch.clear()
        return parsed

    for row in _rows(study, codebook, include_synthetic=include_synthetic, for_csv=False):
        batch.append(row)
        if len(batch) >= chunk_size:
            yield frame()
    if batch:
        yield frame()
