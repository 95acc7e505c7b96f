"""Exports of response data: CSV, XLSX, SPSS, Stata, Parquet and JSON, each with its codebook beside it.

Every writer takes an iterable of DataFrame chunks (all with the codebook's columns) and holds one
chunk at a time: CSV, XLSX (SpreadsheetML, ``analysis.xlsx``), Parquet and JSON as they come, SPSS
and Stata after a first pass through a temporary file (``analysis.statfiles``). Missing answers are
empty cells, or with ``missing_codes`` the SPSS code of their kind (``analysis.missing``), the
``.sav``'s (found by a first pass of their own) — in numeric columns as numbers, in text as text. Dates are dates in XLSX and Parquet; choice variables
are dictionary (categorical) columns in Parquet. Text a spreadsheet would execute — CSV cells and headers
starting with ``= + - @``, a tab or a carriage return, other than a number such as ``-5`` — is
neutralised with a leading apostrophe (OWASP, "CSV Injection"; ``analysis.formulas``), reversibly:
the syntax files beside a CSV undo it, so SPSS and Stata get every text as typed, as in the .sav and
.dta, while the CSV stays safe to open in a spreadsheet. XLSX cells are typed strings and numbers,
never formulas, so they hold every text as typed. Synthetic data says so in every file's label or
first note.
"""

from __future__ import annotations

import csv
import json
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import missing, schema
from .codebook import Codebook
from .formulas import DANGEROUS_START, NUMBER_PATTERN, neutralise
from .statfiles import write_statistical
from .syntax import spss_syntax, stata_syntax
from .translation import Translate, identity
from .xlsx import Workbook

FORMATS = ("csv", "xlsx", "sav", "dta", "parquet", "json", "long")
# File name endings: the long format is a CSV with one row per response and answer variable.
EXTENSIONS = {"long": "long.csv"}
LONG_COLUMNS = (schema.RESPONSE_ID, schema.QUESTIONNAIRE_VERSION, "variable", "value", "status")
LABELLED_KINDS = frozenset({"categorical", "ordinal", "rank", "arm", "binary", "flag"})
NUMERIC_KINDS = frozenset({"numeric", "count", "binary", "flag"})
SYNTHETIC_NOTE = (
    "SYNTHETIC DATA generated from a seeded model by simulate_respondents, not collected from people."
)


def _neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``neutralise`` applied to every text cell and header, column by column (vectorised): CSV only."""
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            texts = (
                values.where(values.map(lambda v: isinstance(v, str))) if values.dtype == object else values
            )

            risky = texts.str.startswith(DANGEROUS_START).fillna(False).astype(bool)
            quoted = texts.str.startswith("'").fillna(False).astype(bool)
            if quoted.any():  # rare: only texts starting with apostrophes are stripped and looked at
                after = texts[quoted].str.lstrip("'").str.startswith(DANGEROUS_START)
                risky |= after.reindex(texts.index, fill_value=False).astype(bool)
            if risky.any():  # a number (-5, +3) is no formula: left as it is
                number = texts[risky].str.fullmatch(NUMBER_PATTERN).fillna(False).astype(bool)
                risky &= ~number.reindex(texts.index, fill_value=False).astype(bool)
            if risky.any():
                frame[column] = values.where(~risky, "'" + texts)
    frame.columns = [neutralise(str(c)) for c in frame.columns]
    return frame


def _integers(frames: Iterable[pd.DataFrame], codebook: Codebook) -> Iterator[pd.DataFrame]:
    """``frames`` with each integer variable (``Variable.integer``, and the 0/1 columns) as a nullable
    integer column, so every format writes ``18``, never ``18.0`` (a column with a missing answer is
    float in pandas). A column holding something else than whole numbers (stored before a change of
    type) is left as it is."""
    names = [v.name for v in codebook.variables if v.integer or v.kind in {"binary", "flag"}]
    for frame in frames:
        converted = {}
        for name in names:
            if name not in frame or isinstance(frame[name].dtype, pd.Int64Dtype):
                continue
            try:
                numbers = pd.to_numeric(frame[name])
            except (TypeError, ValueError):
                continue
            present = numbers.dropna()
            if pd.api.types.is_numeric_dtype(numbers) and (present == np.round(present)).all():
                converted[name] = numbers.astype("Int64")
        yield frame.assign(**converted) if converted else frame


def _labelled(frame: pd.DataFrame, codebook: Codebook, language: str) -> pd.DataFrame:
    """Codes replaced by their value labels in ``language`` (for people reading a spreadsheet)."""
    frame = frame.copy()
    for variable in codebook.variables:
        if variable.kind in LABELLED_KINDS and variable.value_labels and variable.name in frame:
            labels = {code: variable.value_label_in(code, language) for code in variable.value_labels}
            frame[variable.name] = frame[variable.name].map(
                lambda v, labels=labels: labels.get(str(v), v) if pd.notna(v) else v
            )
    return frame


def write_csv(
    frames: Iterable[pd.DataFrame],
    codebook: Codebook,
    path: Path,
    *,
    language: str = "en",
    bom: bool = False,
    values: str = "codes",
    missing_codes: bool = False,
    translate: Translate = identity,
) -> int:
    """UTF-8 CSV (with a byte-order mark for Excel when ``bom``); returns the number of rows."""
    rows = 0
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        for index, frame in enumerate(frames):
            if values == "labels":
                frame = _labelled(frame, codebook, language)
            frame = _with_missing(_neutralise_frame(frame), codebook, missing_codes)
            frame.to_csv(
                handle,
                header=index == 0,
                index=False,
                quoting=csv.QUOTE_MINIMAL,
                lineterminator="\r\n",  # RFC 4180; also makes every version quote a \r inside a field
            )
            rows += len(frame)
        if rows == 0:
            handle.write(",".join(neutralise(n) for n in codebook.names) + "\r\n")
    return rows


def write_xlsx(
    frames: Iterable[pd.DataFrame],
    codebook: Codebook,
    path: Path,
    *,
    language: str = "en",
    values: str = "codes",
    missing_codes: bool = False,
    translate: Translate = identity,
) -> int:
    """XLSX streamed chunk by chunk (``analysis.xlsx``); dates as dates; a second sheet lists the
    variables with their labels, a third (for synthetic data) says so. Texts are typed string cells,
    which no spreadsheet runs as formulas: written as typed, with no guard (``analysis.formulas``)."""
    dates = {v.name for v in codebook.variables if v.kind == "date" or v.name == schema.COMPLETED_ON}
    sheets = ["responses", "variables"] + (["SYNTHETIC"] if codebook.synthetic else [])
    rows = 0
    with Workbook(path, sheets) as book:
        book.write(0, pd.DataFrame([codebook.names], dtype=object))
        for frame in frames:
            if values == "labels":
                frame = _labelled(frame, codebook, language)
            frame = _with_missing(frame, codebook, missing_codes)
            frame.columns = codebook.names
            book.write(0, frame, dates)
            rows += len(frame)
        described = [
            [
                variable.name,
                variable.kind,
                variable.label_in(language),
                "; ".join(
                    f"{code} = {variable.value_label_in(code, language)}" for code in variable.value_labels
                ),
            ]
            for variable in codebook.variables
        ]
        book.write(1, pd.DataFrame([["variable", "type", "label", "values"], *described], dtype=object))
        if codebook.synthetic:
            book.write(2, pd.DataFrame([[SYNTHETIC_NOTE]], dtype=object))
    return rows


def _missing(value: Any) -> bool:
    return (
        value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value))
    )


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _with_missing(frame: pd.DataFrame, codebook: Codebook, codes: bool) -> pd.DataFrame:
    """``frame`` with cells of a version without the variable emptied, and with ``codes`` every
    missing answer replaced by the SPSS code of its kind (text columns: the code as text)."""
    if not codes:  # only cells of a version without the variable change: usually none at all
        version = frame[schema.QUESTIONNAIRE_VERSION]
        offered = {
            v.name: v.versions for v in codebook.variables if missing.has_status(v) and v.name in frame
        }
        if all(version.isin(versions).all() for versions in offered.values()):
            return frame
    kinds = missing.missing_kinds(frame, codebook)
    frame = frame.copy()
    for name, kind in kinds.items():
        column = frame[name]
        if codes:
            numeric = pd.api.types.is_numeric_dtype(column)
            filled = kind.map(codebook.variable(name).missing_codes or missing.SPSS_CODES)
            frame[name] = column.where(kind.isna(), filled if numeric else filled.map(_code_text))
        else:
            absent = kind == missing.NOT_IN_VERSION
            if absent.any():
                frame[name] = column.where(~absent)
    return frame


def _coded(frames: Iterable[pd.DataFrame], codebook: Codebook) -> Iterator[pd.DataFrame]:
    """``frames`` again, once every answer variable has its SPSS missing codes (``missing_codes``),
    as the ``.sav`` gives them: an answer equal to a code moves that variable's codes 100 lower
    (``missing.shifted_codes``), so no answer reads as missing. The first pass keeps the chunks in
    a temporary file, one at a time; the codes are set before the first chunk is handed on."""
    answers = [v for v in codebook.variables if missing.has_status(v)]
    low: dict[str, set[float]] = {v.name: set() for v in answers if v.kind not in CHOICE_KINDS}
    with tempfile.TemporaryFile() as spool:
        chunks = 0
        for frame in frames:
            for name, taken in low.items():
                if name in frame:
                    numbers = pd.to_numeric(frame[name], errors="coerce").astype(float)
                    taken.update(numbers[numbers <= max(missing.SPSS_CODES.values())].tolist())
            pickle.dump(frame, spool, protocol=pickle.HIGHEST_PROTOCOL)
            chunks += 1
        for variable in answers:
            numbers = variable.values.values() if variable.kind in CHOICE_KINDS else low[variable.name]
            variable.missing_codes = missing.shifted_codes(sorted(numbers))
        spool.seek(0)
        for _ in range(chunks):
            yield pickle.load(spool)  # noqa: S301 - our own unlinked temporary file


def _code_text(code: Any) -> Any:
    return None if _missing(code) else str(int(code))


def write_sav(frames: Iterable[pd.DataFrame], codebook: Codebook, path: Path, **options: Any) -> int:
    """SPSS ``.sav``: see ``analysis.statfiles``."""
    options.pop("missing_codes", None)  # always: user-missing values are how SPSS keeps them
    return write_statistical(frames, codebook, path, "sav", **options)


def write_dta(frames: Iterable[pd.DataFrame], codebook: Codebook, path: Path, **options: Any) -> int:
    """Stata ``.dta`` (version 15): see ``analysis.statfiles``."""
    options.pop("missing_codes", None)  # always: extended missing values
    return write_statistical(frames, codebook, path, "dta", **options)


CHOICE_KINDS = frozenset({"categorical", "ordinal", "rank", "arm"})


def _arrow_schema(codebook: Codebook, missing_codes: bool = False):
    import pyarrow as pa

    fields = []
    for variable in codebook.variables:
        if variable.integer and variable.kind in {"numeric", "count"}:
            kind = pa.int64()
        elif variable.kind in {"numeric", "count"} or variable.name in {"duration_seconds", "display_seed"}:
            kind = pa.float64()
        elif variable.kind in {"binary", "flag"} or variable.name in {
            "questionnaire_version",
            "consent_version",
            "synthetic",
            missing.FURTHEST_PAGE,
        }:
            kind = pa.int64()
        elif variable.kind in CHOICE_KINDS:
            kind = pa.dictionary(pa.int32(), pa.string())
        elif (variable.kind == "date" and not missing_codes) or variable.name == schema.COMPLETED_ON:
            kind = pa.date32()
        else:
            kind = pa.string()
        fields.append(pa.field(variable.name, kind))
    metadata = {
        "candid.codebook": codebook.to_json(),
        "candid.data": "synthetic" if codebook.synthetic else "collected",
    }
    return pa.schema(fields, metadata=metadata)


def write_parquet(
    frames: Iterable[pd.DataFrame],
    codebook: Codebook,
    path: Path,
    *,
    language: str = "en",
    missing_codes: bool = False,
    translate: Translate = identity,
) -> int:
    """Parquet, written chunk by chunk; choice variables as dictionary (categorical) columns, dates as
    dates; the codebook travels in the file's metadata too."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema_ = _arrow_schema(codebook, missing_codes)
    rows = 0
    with pq.ParquetWriter(str(path), schema_) as writer:
        for frame in frames:
            frame = _with_missing(frame, codebook, missing_codes)
            arrays = [_arrow_column(frame[field.name], field.type) for field in schema_]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema_))
            rows += len(frame)
    return rows


def _texts(column: pd.Series) -> list[str | None]:
    return [None if _missing(v) else str(v) for v in column.tolist()]


def _arrow_column(column: pd.Series, kind):
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        return pa.array(_texts(column), type=pa.string()).dictionary_encode().cast(kind)
    if kind == pa.date32():
        parsed = pd.to_datetime(column, errors="coerce", format="ISO8601")
        return pa.array(parsed.dt.date.where(parsed.notna(), None).tolist(), type=kind)
    if kind == pa.string():
        return pa.array(_texts(column), type=kind)
    if kind == pa.int64():
        return pa.array(pd.to_numeric(column, errors="coerce").astype("Int64"), type=kind)
    return pa.array(pd.to_numeric(column, errors="coerce").astype(float), type=kind, from_pandas=True)


def write_json(
    frames: Iterable[pd.DataFrame],
    codebook: Codebook,
    path: Path,
    *,
    language: str = "en",
    missing_codes: bool = False,
    translate: Translate = identity,
) -> int:
    """``{"data": "synthetic"|"collected", "study": ..., "responses": [...]}``, streamed; a missing
    answer is left out of its response, or with ``missing_codes`` holds its code."""
    rows = 0
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(
            json.dumps(
                {"study": codebook.study, "data": "synthetic" if codebook.synthetic else "collected"},
                ensure_ascii=False,
            )[:-1]
        )
        handle.write(', "responses": [\n')
        for frame in frames:
            frame = _with_missing(frame, codebook, missing_codes)
            for record in frame.to_dict(orient="records"):
                clean = {k: _plain(v) for k, v in record.items() if not _missing(v)}
                handle.write(("" if rows == 0 else ",\n") + json.dumps(clean, ensure_ascii=False))
                rows += 1
        handle.write("\n]}\n")
    return rows


def write_long(
    frames: Iterable[pd.DataFrame],
    codebook: Codebook,
    path: Path,
    *,
    language: str = "en",
    bom: bool = False,
    missing_codes: bool = False,
    translate: Translate = identity,
) -> int:
    """CSV in long form: ``response_id, questionnaire_version, variable, value, status``, one row per
    response and answer variable, ``status`` being ``answered`` or the kind of missing
    (``analysis.missing``); ``value`` is empty when missing (the code with ``missing_codes``).
    Returns the number of responses written."""
    responses = 0
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        handle.write(",".join(LONG_COLUMNS) + "\r\n")
        for frame in frames:
            kinds = missing.missing_kinds(frame, codebook)
            valued = _with_missing(_neutralise_frame(frame), codebook, missing_codes)
            parts = [
                pd.DataFrame(
                    {
                        schema.RESPONSE_ID: frame[schema.RESPONSE_ID].to_numpy(),
                        schema.QUESTIONNAIRE_VERSION: frame[schema.QUESTIONNAIRE_VERSION].to_numpy(),
                        "variable": neutralise(name),
                        "value": valued[name].astype(object).to_numpy(),
                        "status": kind.fillna("answered").to_numpy(),
                    }
                )
                for name, kind in kinds.items()
            ]
            if parts:
                long = pd.concat(parts, ignore_index=True)
                long = long.sort_values(schema.RESPONSE_ID, kind="stable")  # a response's rows together
                long.to_csv(handle, header=False, index=False, lineterminator="\r\n")
            responses += len(frame)
    return responses


WRITERS: dict[str, Callable[..., int]] = {
    "csv": write_csv,
    "xlsx": write_xlsx,
    "sav": write_sav,
    "dta": write_dta,
    "parquet": write_parquet,
    "json": write_json,
    "long": write_long,
}


def write_codebook(
    codebook: Codebook,
    data_path: Path,
    *,
    language: str = "en",
    translate: Translate = identity,
    syntax: bool = False,
) -> list[Path]:
    """``<file>.codebook.json`` and ``<file>.codebook.html`` beside the data file; with ``syntax``
    also ``<file>.sps`` and ``<file>.do`` (for a CSV exported with missing codes)."""
    json_path = data_path.with_name(data_path.name + ".codebook.json")
    html_path = data_path.with_name(data_path.name + ".codebook.html")
    json_path.write_text(codebook.to_json(), encoding="utf-8")
    html_path.write_text(codebook.to_html(language, translate, data_path.name), encoding="utf-8")
    written = [json_path, html_path]
    if syntax:
        for suffix, render in ((".sps", spss_syntax), (".do", stata_syntax)):
            path = data_path.with_name(data_path.name + suffix)
            path.write_text(render(codebook, data_path.name, language, translate), encoding="utf-8")
            written.append(path)
    return written


def export(
    frames: Iterable[pd.DataFrame],
    codebook: Codebook,
    path: Path,
    fmt: str,
    *,
    language: str = "en",
    translate: Translate = identity,
    syntax: bool = False,
    **options: Any,
) -> int:
    """Write ``frames`` to ``path`` in ``fmt`` and the codebook beside it; returns the rows written.

    ``options``: ``missing_codes`` (CSV, XLSX, Parquet, JSON), ``bom`` and ``values`` (CSV, XLSX).
    ``syntax`` (CSV) adds SPSS and Stata syntax applying the codebook; it implies ``missing_codes``.
    """
    if fmt not in WRITERS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if syntax and fmt == "csv":
        if options.get("values", "codes") != "codes":  # the scripts recode codes, not labels
            raise ValueError("syntax files read a CSV of codes, not of labels")
        options["missing_codes"] = True
    frames = _integers(frames, codebook)
    if options.get("missing_codes") and fmt not in {"sav", "dta"}:
        frames = _coded(frames, codebook)
    rows = WRITERS[fmt](frames, codebook, Path(path), language=language, translate=translate, **options)
    write_codebook(
        codebook, Path(path), language=language, translate=translate, syntax=syntax and fmt == "csv"
    )
    return rows
