"""The one bridge from the database to pandas: a study's released responses as a wide DataFrame.

Which responses: ``selectors.released_responses`` (complete, released in a batch, not withdrawn).

Column names come from ``analysis.schema``; the codebook from ``analysis.codebook``. Responses
are streamed in chunks (``iterator(chunk_size=...)``: a server-side cursor on PostgreSQL), so memory
stays flat in the number of responses, and the number of queries does not depend on it either.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis import missing, schema
from analysis.codebook import Codebook, Variable, codebook_from_specs
from analysis.exports import NUMERIC_KINDS
from analysis.results import parameters_by_question

from . import flow
from .models import ConsentText, QuestionnaireVersion, Study
from .selectors import cached_spec, in_progress_responses, released_responses

DEFAULT_CHUNK = 5000
NUMBER_COLUMNS = {
    schema.QUESTIONNAIRE_VERSION,
    schema.CONSENT_VERSION,
    schema.DURATION,
    schema.SYNTHETIC,
    schema.SEED,
    missing.FURTHEST_PAGE,
}
FIELDS = (
    "id",
    "sample__slug",
    "language",
    "version__number",
    "consent__version",
    "completed_on",
    "duration_seconds",
    "is_synthetic",
    "answers",
    "display",
)


def _specs(study: Study) -> list[tuple[int, dict[str, Any]]]:
    versions = QuestionnaireVersion.objects.filter(study=study, status="published").values_list(
        "pk", "number"
    )
    return [(number, cached_spec(pk)) for pk, number in versions]


def study_parameters(study: Study) -> dict[str, dict[str, str]]:
    """Each question's XLSForm ``parameters`` (latest published version): what the data-quality
    flags read (``correct=`` declares an attention check; ``analysis.quality.with_flag_columns``)."""
    return parameters_by_question(_specs(study))


def legacy_responses(study: Study) -> bool:
    """Whether some response was completed before ``display["not_shown"]`` was stored: the database
    cannot judge relevance, so those studies take the Python path (``flow.not_shown``)."""
    return released_responses(study).exclude(display__has_key="not_shown").exists()


def _complete(study: Study, include_synthetic: bool):
    return released_responses(study, include_synthetic=include_synthetic)


def study_codebook(study: Study, *, include_synthetic: bool = True, partial: bool = False) -> Codebook:
    """The codebook of the study's exports; ``partial`` adds the two columns of partial exports."""
    synthetic = include_synthetic and _complete(study, True).filter(is_synthetic=True).exists()
    if partial and include_synthetic and not synthetic:
        synthetic = in_progress_responses(study).filter(is_synthetic=True).exists()
    codebook = codebook_from_specs(
        study=study.slug,
        title=study.title,
        languages=study.languages,
        specs=_specs(study),
        synthetic=synthetic,
        consent=[
            {
                "version": consent.version,
                "research_team": consent.research_team,
                "contact": consent.contact,
                "ethics_committee": consent.ethics_committee,
                "ethics_reference": consent.ethics_reference,
            }
            for consent in ConsentText.objects.filter(study=study, versions__status="published")
            .distinct()
            .order_by("version")
        ],
    )
    if partial:
        codebook.variables[len(schema.META_COLUMNS) : len(schema.META_COLUMNS)] = PARTIAL_VARIABLES
    return codebook


PARTIAL_VARIABLES = [
    Variable(
        missing.RESPONSE_STATUS,
        "meta",
        missing.RESPONSE_STATUS,
        label={"en": "complete (released) or in_progress (not finished: still answering, or abandoned)"},
    ),
    Variable(
        missing.FURTHEST_PAGE,
        "meta",
        missing.FURTHEST_PAGE,
        label={"en": "In-progress responses: furthest page reached (1 = first page in display order)"},
    ),
]


@dataclass(frozen=True)
class Layout:
    """How a codebook's columns come from a response's answers and display record."""

    multi: dict[str, list[str]]  # multiple-choice question -> its choices (one 0/1 column each)
    ranks: dict[str, int]  # ranking question -> number of rank columns
    arms: list[str]  # list experiments (which list the participant saw)
    order_names: set[str]  # columns recording a randomised order
    reversed_names: list[str]  # 0/1 columns: the scale was shown reversed
    text_names: list[str]  # columns of text (codes, free text, orders); the rest are numbers
    choice_versions: dict[str, list[int]]  # 0/1 column -> the versions offering that option


def column_layout(codebook: Codebook) -> Layout:
    multi: dict[str, list[str]] = {}
    ranks: dict[str, int] = {}
    arms: list[str] = []
    for variable in codebook.variables:
        base, _, suffix = variable.name.partition(schema.CHOICE_SEPARATOR)
        if variable.kind == "binary" and suffix and variable.question == base:
            multi.setdefault(base, []).append(suffix)
        elif variable.kind == "rank":
            ranks[base] = ranks.get(base, 0) + 1
        elif variable.kind == "arm":
            arms.append(base)
    return Layout(
        multi=multi,
        ranks=ranks,
        arms=arms,
        order_names={v.name for v in codebook.variables if v.kind == "order"},
        reversed_names=[v.name for v in codebook.variables if v.kind == "flag"],
        text_names=[
            v.name for v in codebook.variables if v.name not in NUMBER_COLUMNS and v.kind not in NUMERIC_KINDS
        ],
        choice_versions={
            v.name: v.versions for v in codebook.variables if v.kind == "binary" and v.question in multi
        },
    )


def _row(values: tuple, layout: Layout, specs: dict[int, dict[str, Any]]) -> dict[str, Any]:
    rid, sample, language, version, consent, completed, duration, synthetic, answers, display = values
    if "not_shown" not in display:  # completed before Candid stored it: judged now, as at completion
        display = {**display, "not_shown": flow.not_shown(specs[version], display, answers)}
    row: dict[str, Any] = {
        schema.RESPONSE_ID: str(rid),
        schema.SAMPLE: sample,
        schema.LANGUAGE: language,
        schema.QUESTIONNAIRE_VERSION: version,
        schema.CONSENT_VERSION: consent,
        schema.COMPLETED_ON: completed.isoformat() if completed else None,
        schema.DURATION: duration,
        schema.SYNTHETIC: int(synthetic),
        schema.SEED: display.get("seed"),
        schema.PAGE_ORDER: " ".join(display.get("sections", [])),
        schema.NOT_SHOWN: " ".join(display["not_shown"]),
    }
    for code, value in answers.items():
        if code in layout.multi:
            chosen = set(value)
            for choice in layout.multi[code]:
                name = schema.choice_column(code, choice)
                if version in layout.choice_versions[name]:  # else the option was not offered
                    row[name] = int(choice in chosen)
        elif code in layout.ranks:
            for rank, choice in enumerate(value, start=1):
                row[schema.rank_column(code, rank)] = choice
        else:
            row[code] = value
    for code in layout.arms:
        arm = display.get("arms", {}).get(code)
        if arm is not None and code in answers:
            row[schema.arm_column(code)] = arm
    for code, order in {**display.get("options", {}), **display.get("items", {})}.items():
        name = schema.order_column(code)
        if name in layout.order_names:
            row[name] = " ".join(order)
    for code in display.get("reversed", []):
        row[schema.reversed_column(code)] = 1
    return row


def iter_response_frames(
    study: Study,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    include_synthetic: bool = True,
    codebook: Codebook | None = None,
) -> Iterator[pd.DataFrame]:
    """The study's complete responses, ``chunk_size`` rows at a time, every chunk with all columns.

    On PostgreSQL the database computes the columns (``survey.bridge_copy``); elsewhere Python does.
    """
    from . import bridge_copy

    codebook = codebook or study_codebook(study, include_synthetic=include_synthetic)
    if bridge_copy.available() and not legacy_responses(study):
        return bridge_copy.iter_frames(
            study, codebook, chunk_size=chunk_size, include_synthetic=include_synthetic
        )
    return iter_python_frames(study, codebook, chunk_size=chunk_size, include_synthetic=include_synthetic)


def iter_python_frames(
    study: Study, codebook: Codebook, *, chunk_size: int = DEFAULT_CHUNK, include_synthetic: bool = True
) -> Iterator[pd.DataFrame]:
    """The bridge's columns built in Python from each response's answers and display record."""
    layout = column_layout(codebook)
    specs = dict(_specs(study))
    rows: list[dict[str, Any]] = []
    columns = codebook.names
    for values in (
        _complete(study, include_synthetic)
        .order_by("pk")
        .values_list(*FIELDS)
        .iterator(chunk_size=chunk_size)
    ):
        rows.append(_row(values, layout, specs))
        if len(rows) >= chunk_size:
            yield _frame(rows, columns, layout)
            rows = []
    if rows:
        yield _frame(rows, columns, layout)


def _frame(rows: list[dict[str, Any]], columns: list[str], layout: Layout) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows).reindex(columns=columns)
    for name in layout.reversed_names:
        frame[name] = frame[name].fillna(0).astype(int)
    for name in layout.text_names:  # text even in a chunk where nobody answered
        frame[name] = frame[name].astype("str")
    return frame


def iter_partial_frames(
    study: Study, codebook: Codebook, *, chunk_size: int = DEFAULT_CHUNK, include_synthetic: bool = True
) -> Iterator[pd.DataFrame]:
    """Released responses (``response_status`` complete) then responses in progress, for drop-off
    analysis: the codebook must come from ``study_codebook(partial=True)``.

    A response in progress gets a new random id in every export (its working id never leaves the
    database), no completion date or duration, ``furthest_page`` and what relevance hid on the pages
    it reached; both parts are in the order of their random ids, never of arrival. Complete responses
    still waiting for their release batch are in neither part (``selectors.released_responses``).
    """
    for frame in iter_python_frames(
        study, codebook, chunk_size=chunk_size, include_synthetic=include_synthetic
    ):
        frame[missing.RESPONSE_STATUS] = "complete"
        yield frame
    layout, specs = column_layout(codebook), dict(_specs(study))
    pending = in_progress_responses(study, include_synthetic=include_synthetic).order_by("pk")
    rows: list[dict[str, Any]] = []
    for values in pending.values_list(*PENDING_FIELDS).iterator(chunk_size=chunk_size):
        sample, language, version, consent, synthetic, answers, display, furthest = values
        plan = {**display, "not_shown": flow.not_shown(specs[version], display, answers, upto=furthest)}
        row = _row(
            (uuid.uuid4(), sample, language, version, consent, None, None, synthetic, answers, plan),
            layout,
            specs,
        )
        rows.append({**row, missing.RESPONSE_STATUS: "in_progress", missing.FURTHEST_PAGE: furthest + 1})
        if len(rows) >= chunk_size:
            yield _frame(rows, codebook.names, layout)
            rows = []
    if rows:
        yield _frame(rows, codebook.names, layout)


PENDING_FIELDS = (
    "sample__slug",
    "language",
    "version__number",
    "consent__version",
    "is_synthetic",
    "answers",
    "display",
    "furthest",
)


def responses_frame(study: Study, *, include_synthetic: bool = True) -> tuple[pd.DataFrame, Codebook]:
    """Every complete response of ``study`` in one DataFrame, with its codebook."""
    codebook = study_codebook(study, include_synthetic=include_synthetic)
    frames = list(iter_response_frames(study, include_synthetic=include_synthetic, codebook=codebook))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=codebook.names)
    return frame, codebook
