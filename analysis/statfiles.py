"""SPSS ``.sav`` and Stata ``.dta`` files (pyreadstat), and the syntax files that do the same to the CSV.

What a statistics package receives, per variable (the codebook says the same):

- a choice is its number (``Variable.values``: the code itself when every code is an integer, else
  the list's numbering — ``codebook.number_codes``), labelled with every version's choices; a
  multiple choice is one 0/1 variable per option; a ranking one variable per place holding the
  number of the choice ranked there; a list experiment its count and its arm (1 control, 2 treatment);
- dates are dates (SPSS ``DATE11``, Stata ``%td``); numbers are doubles, as answered; text is text;
- missing answers carry their kind (``analysis.missing``): SPSS user-missing codes, declared and
  labelled; Stata extended missing ``.a``–``.d``, labelled;
- names follow ``analysis.varnames`` (legal and unique per format); a renamed variable's label starts
  with its original name.

Memory stays flat: chunks are converted to numbers as they arrive (text stays text) and kept in a
temporary file, with the two things the file's dictionary needs from all of them (each text's width
and the answers a missing code must avoid); then the chunks are read back one at a time, their
missing codes filled in, and written by ``analysis.statrows`` in pyreadstat's layout (Stata's
strLs, texts of 2,045 bytes or more, too: only a digest of each distinct one is kept).
"""

from __future__ import annotations

import datetime as dt
import pickle
import tempfile
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from . import missing, schema
from .codebook import Codebook, Variable
from .statrows import text_width, write_chunks
from .translation import Translate, identity
from .varnames import legal_names

LABELLED = frozenset({"categorical", "ordinal", "rank", "arm"})
NUMBERS = frozenset({"numeric", "count", "binary", "flag"})
NUMBER_META = frozenset(
    {
        schema.QUESTIONNAIRE_VERSION,
        schema.CONSENT_VERSION,
        schema.DURATION,
        schema.SYNTHETIC,
        schema.SEED,
        missing.FURTHEST_PAGE,
    }
)
SPSS_EPOCH = dt.date(1582, 10, 14)  # SPSS dates are seconds since this day
STATA_EPOCH = dt.date(1960, 1, 1)  # Stata %td dates are days since this day
KIND = "\0kind"  # suffix of a converted chunk's column of kinds of missing
KIND_INDEX = {kind: i for i, kind in enumerate(missing.KINDS, start=1)}
SYNTHETIC_LINES = [
    "SYNTHETIC DATA generated from a seeded model by",
    "simulate_respondents, not collected from people.",
]


def variable_type(variable: Variable) -> str:
    """``number``, ``date`` or ``text``: how the variable is stored in SPSS and Stata."""
    if variable.kind in LABELLED or variable.kind in NUMBERS or variable.name in NUMBER_META:
        return "number"
    if variable.kind == "date" or variable.name == schema.COMPLETED_ON:
        return "date"
    return "text"


def _dates(values: pd.Series, fmt: str) -> pd.Series:
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
    epoch = pd.Timestamp(SPSS_EPOCH if fmt == "sav" else STATA_EPOCH)
    days = (parsed - epoch).dt.days.astype(float)
    return days * 86400.0 if fmt == "sav" else days


def _convert(chunk: pd.DataFrame, codebook: Codebook, fmt: str) -> pd.DataFrame:
    """One chunk as the numbers and texts the file holds, plus an int8 ``<name>\\0kind`` column per
    answer variable (0 answered, else 1 + the index of its kind of missing)."""
    kinds = missing.missing_kinds(chunk, codebook)
    out: dict[str, pd.Series] = {}
    for variable in codebook.variables:
        values = chunk[variable.name] if variable.name in chunk else pd.Series(None, index=chunk.index)
        kind = variable_type(variable)
        if variable.kind in LABELLED:
            numbers = {code: float(n) for code, n in variable.values.items()}
            out[variable.name] = values.map(numbers).astype(float)
        elif kind == "number":
            out[variable.name] = pd.to_numeric(values, errors="coerce").astype(float)
        elif kind == "date":
            out[variable.name] = _dates(values, fmt)
        else:
            out[variable.name] = values.astype(object).where(values.notna(), "").astype(str)
        if variable.name in kinds:
            out[variable.name + KIND] = kinds[variable.name].map(KIND_INDEX).fillna(0).astype(np.int8)
            if kind != "text":
                out[variable.name] = out[variable.name].where(kinds[variable.name].isna())
    return pd.DataFrame(out, index=chunk.index)


@dataclass
class Spool:
    """Converted chunks kept on disk between the two passes, and what was learnt from them."""

    file: IO[bytes]
    widths: dict[str, int]
    low: dict[str, set[float]]  # answers at or below the highest missing code, per number or text answer
    flagged: set[str] = field(default_factory=set)  # variables with a kind of missing per cell
    chunks: int = 0

    def add(self, converted: pd.DataFrame) -> None:
        self.flagged.update(name[: -len(KIND)] for name in converted.columns if name.endswith(KIND))
        for name in self.widths:
            self.widths[name] = max(self.widths[name], text_width(converted[name]))
        for name, taken in self.low.items():
            values = converted[name]
            if not pd.api.types.is_numeric_dtype(values):  # a text answer "-97" must not read as missing
                values = pd.to_numeric(values, errors="coerce")
            taken.update(values[values <= max(missing.SPSS_CODES.values())].unique().tolist())
        pickle.dump(converted, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        self.chunks += 1

    def __iter__(self) -> Iterator[pd.DataFrame]:
        for _ in range(self.chunks):
            yield pickle.load(self.file)  # noqa: S301 - our own unlinked temporary file


def _spooled(frames: Iterable[pd.DataFrame], codebook: Codebook, fmt: str, spool: IO[bytes]) -> Spool:
    """Convert every chunk (``_convert``) into ``spool`` (pickled, one chunk at a time), noting what
    the file's dictionary needs from all of them: each text's width in bytes, and the answers that
    could collide with a missing code (``missing.shifted_codes``)."""
    texts = [v.name for v in codebook.variables if variable_type(v) == "text"]
    numbers = [v.name for v in codebook.variables if variable_type(v) != "text" and v.kind not in LABELLED]
    numbers += [name for name in texts if missing.has_status(codebook.variable(name))]
    summary = Spool(spool, {name: 1 for name in texts}, {name: set() for name in numbers})
    for chunk in frames:
        converted = _convert(chunk, codebook, fmt)
        summary.add(converted)
    if not summary.chunks:  # no responses: the columns still make a file
        summary.add(_convert(pd.DataFrame(columns=codebook.names), codebook, fmt))
    spool.seek(0)
    return summary


def missing_codes(codebook: Codebook, spool: Spool) -> dict[str, dict[str, int]]:
    """Each answer variable's SPSS missing codes: a choice's by its numbers, any other's by its
    answers (a text's by those that read as numbers, as the CSV's ``missing_codes`` do)."""
    codes: dict[str, dict[str, int]] = {}
    for variable in codebook.variables:
        if variable.name not in spool.flagged:
            continue
        if variable.kind in LABELLED:
            codes[variable.name] = missing.shifted_codes(list(variable.values.values()))
        else:
            codes[variable.name] = missing.shifted_codes(sorted(spool.low.get(variable.name, ())))
    return codes


def _filled(
    converted: pd.DataFrame, codebook: Codebook, codes: dict[str, dict[str, int]], fmt: str
) -> pd.DataFrame:
    """One converted chunk with its missing codes filled in (its kinds of missing left for the caller
    to drop). SPSS: numeric and date variables hold
    their code (``missing.shifted_codes``), text the code as text. Stata: a numeric variable with
    missing cells becomes an object column holding the extended-missing letter there (pyreadstat's
    convention); text stays empty."""
    frame = converted
    for variable in codebook.variables:
        flag = variable.name + KIND
        if flag not in frame or not frame[flag].any():
            continue
        kinds = frame[flag]
        text = variable_type(variable) == "text"
        for name, index in KIND_INDEX.items():
            cells = kinds == index
            if not cells.any():
                continue
            if fmt == "sav":
                code = codes[variable.name][name]
                frame.loc[cells, variable.name] = str(code) if text else float(code)
            elif not text:
                column = frame[variable.name].astype(object).where(frame[variable.name].notna(), None)
                column[cells] = missing.STATA_CODES[name]
                frame[variable.name] = column
    return frame


def file_label(variable: Variable, language: str, name: str) -> str:
    """The variable's label in ``language`` in a file where it is called ``name``: its wording (or
    its name), after its original name when the file renamed it."""
    text = variable.label_in(language) or variable.name
    return f"{variable.name}: {text}" if name != variable.name else text


def _value_labels(
    variable: Variable, language: str, fmt: str, codes: dict[str, int], translate: Translate
) -> dict:
    labels: dict = {}
    if variable.kind in LABELLED or variable.kind in {"binary", "flag"}:
        numbers = variable.values or {code: int(code) for code in variable.value_labels}
        labels = {numbers[code]: variable.value_label_in(code, language) for code in variable.value_labels}
    if codes:
        text = variable_type(variable) == "text"
        for kind, label in missing.LABELS.items():
            key = (str(codes[kind]) if text else codes[kind]) if fmt == "sav" else missing.STATA_CODES[kind]
            if fmt == "dta" and text:
                continue
            labels[key] = translate(label)
    return labels


def write_statistical(
    frames: Iterable[pd.DataFrame],
    codebook: Codebook,
    path: Path,
    fmt: str,
    *,
    language: str = "en",
    translate: Translate = identity,
) -> int:
    """Write ``.sav`` (``fmt="sav"``) or ``.dta`` (``"dta"``); returns the rows written.

    The codebook's variables get their SPSS missing codes set (``Variable.missing_codes``), so the
    codebook written after the data says what the file holds.
    """
    with tempfile.TemporaryFile() as file:
        spool = _spooled(frames, codebook, fmt, file)
        columns = [v.name for v in codebook.variables]
        codes = missing_codes(codebook, spool)
        names = legal_names(codebook.names, fmt)
        options = _dictionary(codebook, names, codes, fmt, language, translate)
        chunks = (_filled(chunk, codebook, codes, fmt)[columns].rename(columns=names) for chunk in spool)
        widths = {names[name]: width for name, width in spool.widths.items()}
        return write_chunks(chunks, path, fmt, text_widths=widths, **options)


def _dictionary(
    codebook: Codebook,
    names: dict[str, str],
    codes: dict[str, dict[str, int]],
    fmt: str,
    language: str,
    translate: Translate,
) -> dict[str, Any]:
    """pyreadstat's options for the file: labels, value labels, formats, missing values, notes."""
    labels, values, formats, missing_ranges, stata_missing, measures = {}, {}, {}, {}, {}, {}
    for variable in codebook.variables:
        name, kind = names[variable.name], variable_type(variable)
        label = file_label(variable, language, name)
        labels[name] = label[:80] if fmt == "dta" else label
        value_labels = _value_labels(variable, language, fmt, codes.get(variable.name, {}), translate)
        if value_labels:
            values[name] = value_labels
        if kind == "date":
            formats[name] = "DATE11" if fmt == "sav" else "%td"
        if variable.name in codes:
            variable.missing_codes = codes[variable.name]
            spss = codes[variable.name]
            if fmt == "sav" and kind == "text":
                missing_ranges[name] = [str(spss[k]) for k in missing.KINDS[:3]]
            elif fmt == "sav":
                missing_ranges[name] = [{"lo": min(spss.values()), "hi": max(spss.values())}]
            elif kind != "text":
                stata_missing[name] = list(missing.STATA_CODES.values())
        measures[name] = (
            "ordinal"
            if variable.kind in {"ordinal", "rank"}
            else "scale"
            if kind != "text" and variable.kind not in LABELLED | {"binary", "flag"}
            else "nominal"
        )
    title = SYNTHETIC_LINES[0] if codebook.synthetic else codebook.title
    if fmt == "sav":
        return {
            "file_label": (" ".join(SYNTHETIC_LINES) if codebook.synthetic else codebook.title)[:64],
            "column_labels": labels,
            "variable_value_labels": values,
            "variable_measure": measures,
            "variable_format": formats,
            "missing_ranges": missing_ranges,
            "note": _notes(codebook, names),
        }
    return {
        "file_label": (" ".join(SYNTHETIC_LINES) if codebook.synthetic else title)[:80],
        "column_labels": labels,
        "variable_value_labels": values,
        "variable_format": formats,
        "missing_user_values": stata_missing,
    }


def _notes(codebook: Codebook, names: dict[str, str]) -> list[str]:
    """The file's notes (SPSS documents): synthetic data, then each numbered list's code ↔ value map."""
    notes = list(SYNTHETIC_LINES) if codebook.synthetic else []
    for variable in codebook.variables:
        if variable.coding == "numbered" and variable.kind in LABELLED:
            mapping = ", ".join(f"{n} = {code}" for code, n in variable.values.items())
            notes += textwrap.wrap(f"{names[variable.name]} ({variable.name}) values: {mapping}", 80)
    return notes
