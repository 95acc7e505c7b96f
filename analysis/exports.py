"""Exports of response data: CSV, XLSX, SPSS, Stata, Parquet and JSON, each with its codebook beside it.

Every writer takes an iterable of DataFrame chunks (all with the codebook's columns), so CSV, XLSX,
Parquet and JSON stream in constant memory; SPSS and Stata files are written by pyreadstat from one
frame (the formats are written whole). Text a spreadsheet would execute — cells and headers starting
with ``= + - @``, a tab or a carriage return — is neutralised in CSV and XLSX with a leading
apostrophe (OWASP, "CSV Injection"). Synthetic data says so in every file's label or first note.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .codebook import Codebook

FORMATS = ("csv", "xlsx", "sav", "dta", "parquet", "json")
LABELLED_KINDS = frozenset({"categorical", "ordinal", "rank", "arm", "binary", "flag"})
NUMERIC_KINDS = frozenset({"numeric", "count", "binary", "flag"})
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
SYNTHETIC_NOTE = (
    "SYNTHETIC DATA generated from a seeded model by simulate_respondents, not collected from people."
)


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, prefixed with an apostrophe; anything else unchanged."""
    if isinstance(value, str) and value.startswith(DANGEROUS_START):
        return "'" + value
    return value


def _neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``neutralise`` applied to every text cell and header, column by column (vectorised)."""
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            texts = (
                values.where(values.map(lambda v: isinstance(v, str))) if values.dtype == object else values
            )

            risky = texts.str.startswith(DANGEROUS_START).fillna(False).astype(bool)
            if risky.any():
                frame[column] = values.where(~risky, "'" + texts)
    frame.columns = [neutralise(str(c)) for c in frame.columns]
    return frame


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
) -> int:
    """UTF-8 CSV (with a byte-order mark for Excel when ``bom``); returns the number of rows."""
    rows = 0
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        for index, frame in enumerate(frames):
            if values == "labels":
                frame = _labelled(frame, codebook, language)
            frame = _neutralise_frame(frame)
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
) -> int:
    """XLSX in write-only mode (streamed); a second sheet lists the variables with their labels."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("responses")

    def text_cell(value: Any) -> Any:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # never a formula, whatever it starts with
        return cell

    sheet.append([text_cell(neutralise(name)) for name in codebook.names])
    rows = 0
    for frame in frames:
        if values == "labels":
            frame = _labelled(frame, codebook, language)
        frame = _neutralise_frame(frame)
        for record in frame.itertuples(index=False, name=None):
            sheet.append([text_cell(None if _missing(v) else _plain(v)) for v in record])
            rows += 1
    variables = workbook.create_sheet("variables")
    variables.append(["variable", "type", "label", "values"])
    for variable in codebook.variables:
        values_text = "; ".join(
            f"{code} = {variable.value_label_in(code, language)}" for code in variable.value_labels
        )
        variables.append(
            [
                text_cell(neutralise(x))
                for x in (variable.name, variable.kind, variable.label_in(language), values_text)
            ]
        )
    if codebook.synthetic:
        workbook.create_sheet("SYNTHETIC").append([SYNTHETIC_NOTE])
    workbook.save(path)
    return rows


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


STATA_NAME = re.compile(r"[^A-Za-z0-9_]")


def stata_names(names: list[str]) -> dict[str, str]:
    """Names valid in Stata and SPSS (letters, digits, _; at most 32): long ones get a short hash."""
    mapping = {}
    for name in names:
        safe = STATA_NAME.sub("_", name)
        if len(safe) > 32:
            safe = safe[:25] + "_" + hashlib.sha256(name.encode()).hexdigest()[:6]
        mapping[name] = safe
    return mapping


def _statistical_frame(
    frames: Iterable[pd.DataFrame], codebook: Codebook, language: str
) -> tuple[pd.DataFrame, dict, dict, dict]:
    """One frame with labelled variables as integer codes 1..k, plus labels, value labels and measures."""
    frame = pd.concat(list(frames), ignore_index=True) if frames is not None else pd.DataFrame()
    frame = frame.reindex(columns=codebook.names)
    column_labels, value_labels, measures = {}, {}, {}
    for variable in codebook.variables:
        column_labels[variable.name] = variable.label_in(language)[:250] or variable.name
        if variable.kind in {"binary", "flag"}:
            frame[variable.name] = pd.to_numeric(frame[variable.name], errors="coerce")
            value_labels[variable.name] = {
                int(code): variable.value_label_in(code, language) for code in variable.value_labels
            }
            measures[variable.name] = "nominal"
        elif variable.kind in LABELLED_KINDS:
            codes = list(variable.value_labels)
            numbers = {code: i for i, code in enumerate(codes, start=1)}
            frame[variable.name] = (
                frame[variable.name]
                .map(lambda v, numbers=numbers: numbers.get(str(v), np.nan) if pd.notna(v) else np.nan)
                .astype(float)
            )
            value_labels[variable.name] = {
                i: variable.value_label_in(code, language) for code, i in numbers.items()
            }
            measures[variable.name] = "ordinal" if variable.kind in {"ordinal", "rank"} else "nominal"
        elif variable.kind in NUMERIC_KINDS or variable.name in {
            "questionnaire_version",
            "consent_version",
            "duration_seconds",
            "synthetic",
            "display_seed",
        }:
            frame[variable.name] = pd.to_numeric(frame[variable.name], errors="coerce").astype(float)
            measures[variable.name] = "scale"
        else:
            frame[variable.name] = (
                frame[variable.name].astype(object).where(frame[variable.name].notna(), "").astype(str)
            )
            measures[variable.name] = "nominal"
    return frame, column_labels, value_labels, measures


def write_sav(frames: Iterable[pd.DataFrame], codebook: Codebook, path: Path, *, language: str = "en") -> int:
    """SPSS ``.sav`` with variable labels, value labels and measurement levels in ``language``."""
    import pyreadstat

    frame, labels, values, measures = _statistical_frame(frames, codebook, language)
    names = stata_names(list(frame.columns))
    frame = frame.rename(columns=names)
    pyreadstat.write_sav(
        frame,
        str(path),
        file_label=(SYNTHETIC_NOTE if codebook.synthetic else codebook.title)[:64],
        column_labels={names[k]: v for k, v in labels.items()},
        variable_value_labels={names[k]: v for k, v in values.items()},
        variable_measure={names[k]: v for k, v in measures.items()},
        note=[
            "SYNTHETIC DATA generated from a seeded model by",
            "simulate_respondents, not collected from people.",
        ]
        if codebook.synthetic
        else None,
    )
    return len(frame)


def write_dta(frames: Iterable[pd.DataFrame], codebook: Codebook, path: Path, *, language: str = "en") -> int:
    """Stata ``.dta`` (version 15) with variable and value labels in ``language``."""
    import pyreadstat

    frame, labels, values, _measures = _statistical_frame(frames, codebook, language)
    names = stata_names(list(frame.columns))
    frame = frame.rename(columns=names)
    pyreadstat.write_dta(
        frame,
        str(path),
        file_label=(SYNTHETIC_NOTE if codebook.synthetic else codebook.title)[:80],
        column_labels={names[k]: v[:80] for k, v in labels.items()},
        variable_value_labels={names[k]: v for k, v in values.items()},
    )
    return len(frame)


def _arrow_schema(codebook: Codebook):
    import pyarrow as pa

    fields = []
    for variable in codebook.variables:
        if variable.kind in {"numeric", "count"} or variable.name in {"duration_seconds", "display_seed"}:
            kind = pa.float64()
        elif variable.kind in {"binary", "flag"} or variable.name in {
            "questionnaire_version",
            "consent_version",
            "synthetic",
        }:
            kind = pa.int64()
        else:
            kind = pa.string()
        fields.append(pa.field(variable.name, kind))
    metadata = {
        "candid.codebook": codebook.to_json(),
        "candid.data": "synthetic" if codebook.synthetic else "collected",
    }
    return pa.schema(fields, metadata=metadata)


def write_parquet(
    frames: Iterable[pd.DataFrame], codebook: Codebook, path: Path, *, language: str = "en"
) -> int:
    """Parquet, written chunk by chunk; the codebook travels in the file's metadata too."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema(codebook)
    rows = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        for frame in frames:
            table = pa.Table.from_pandas(
                _coerce_for_arrow(frame, schema), schema=schema, preserve_index=False
            )
            writer.write_table(table)
            rows += len(frame)
    return rows


def _coerce_for_arrow(frame: pd.DataFrame, schema) -> pd.DataFrame:
    import pyarrow as pa

    frame = frame.copy()
    for field in schema:
        column = frame[field.name]
        if field.type == pa.string():
            frame[field.name] = (
                column.astype(object).where(column.notna(), None).map(lambda v: None if v is None else str(v))
            )
        elif field.type == pa.int64():
            frame[field.name] = pd.to_numeric(column, errors="coerce").astype("Int64")
        else:
            frame[field.name] = pd.to_numeric(column, errors="coerce").astype(float)
    return frame


def write_json(
    frames: Iterable[pd.DataFrame], codebook: Codebook, path: Path, *, language: str = "en"
) -> int:
    """``{"data": "synthetic"|"collected", "study": ..., "responses": [...]}``, streamed."""
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
            for record in frame.to_dict(orient="records"):
                clean = {k: _plain(v) for k, v in record.items() if not _missing(v)}
                handle.write(("" if rows == 0 else ",\n") + json.dumps(clean, ensure_ascii=False))
                rows += 1
        handle.write("\n]}\n")
    return rows


WRITERS: dict[str, Callable[..., int]] = {
    "csv": write_csv,
    "xlsx": write_xlsx,
    "sav": write_sav,
    "dta": write_dta,
    "parquet": write_parquet,
    "json": write_json,
}


def write_codebook(codebook: Codebook, data_path: Path, *, language: str = "en") -> tuple[Path, Path]:
    """``<file>.codebook.json`` and ``<file>.codebook.html`` beside the data file."""
    json_path = data_path.with_name(data_path.name + ".codebook.json")
    html_path = data_path.with_name(data_path.name + ".codebook.html")
    payload = codebook.to_dict()
    payload["stata_names"] = {k: v for k, v in stata_names(codebook.names).items() if k != v}
    json_path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    html_path.write_text(codebook.to_html(language), encoding="utf-8")
    return json_path, html_path


def export(
    frames: Iterable[pd.DataFrame],
    codebook: Codebook,
    path: Path,
    fmt: str,
    *,
    language: str = "en",
    **options: Any,
) -> int:
    """Write ``frames`` to ``path`` in ``fmt`` and the codebook beside it; returns the rows written."""
    if fmt not in WRITERS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    rows = WRITERS[fmt](frames, codebook, Path(path), language=language, **options)
    write_codebook(codebook, Path(path), language=language)
    return rows
