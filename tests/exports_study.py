"""A study answered in three questionnaire versions, as the bridge hands it to the exports.

Between versions a question is reworded (``q1``), a choice deleted (``colour``: ``blue`` in v1 only;
``fruit``: ``香蕉`` in v1-v2), choices added (``colour``: ``purple`` from v3) and a question added
(``new_q`` from v2). Names are hostile to statistics packages: Stata's reserved ``long`` and ``in``,
SPSS's ``WITH``, Chinese choice codes, ``a-b`` beside ``a_b``. ``q1`` is coded 1 Yes / 0 No / 99 Don't
know / -1 Refused (a code the CSV guards as a spreadsheet formula). Each row is one kind of
respondent; ``EXPECTED`` says what every export must show for it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis import schema
from analysis.codebook import Codebook, codebook_from_specs
from survey.instrument import normalize


def _choices(*pairs: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [{"code": code, "label": {"en": en, "zh": zh}} for code, en, zh in pairs]


YN = _choices(
    ("1", "Yes", "是"), ("0", "No", "否"), ("99", "Don't know", "不知道"), ("-1", "Refused", "拒绝回答")
)
COLOURS = {
    "red": ("Red", "红"),
    "green": ("Green", "绿"),
    "blue": ("Blue", "蓝"),
    "purple": ("Purple", "紫"),
}
FRUIT = {
    "苹果": ("Apple", "苹果"),
    "香蕉": ("Banana", "香蕉"),
    "a-b": ("A-B", "甲-乙"),
    "a_b": ("A_B", "甲_乙"),
}


def spec(version: int) -> dict[str, Any]:
    colours = (
        ["red", "green", "blue"] if version == 1 else ["red", "green"] + (["purple"] if version == 3 else [])
    )
    fruit = [f for f in FRUIT if not (f == "香蕉" and version == 3)]
    q1_label = {"en": "Do you trust people?", "zh": "你信任别人吗？"}
    if version > 1:
        q1_label = {"en": "Generally speaking, do you trust people?", "zh": "一般来说，你信任别人吗？"}
    questions = [
        {"code": "q1", "type": "single_choice", "label": q1_label, "choice_list": "yn", "required": True},
        {
            "code": "long",
            "type": "integer",
            "label": {"en": "How long?", "zh": "多久？"},
            "relevance": "${q1} = 1",
        },
        {"code": "in", "type": "text", "label": {"en": "In what?", "zh": "在哪里？"}},
        {"code": "WITH", "type": "decimal", "label": {"en": "With what weight?", "zh": "多重？"}},
        {"code": "when", "type": "date", "label": {"en": "When?", "zh": "何时？"}},
        {
            "code": "colour",
            "type": "single_choice",
            "label": {"en": "Colour", "zh": "颜色"},
            "choice_list": "c",
        },
        {
            "code": "fruit",
            "type": "multiple_choice",
            "label": {"en": "Fruit", "zh": "水果"},
            "choice_list": "f",
        },
    ]
    if version > 1:
        questions.append({"code": "new_q", "type": "integer", "label": {"en": "New", "zh": "新"}})
    return normalize(
        {
            "form_id": "three",
            "title": {"en": "Three versions", "zh": "三个版本"},
            "languages": ["en", "zh"],
            "sections": [{"code": "p1", "label": {"en": "Page", "zh": "页"}, "questions": questions}],
            "choice_lists": [
                {"name": "yn", "choices": YN},
                {"name": "c", "choices": _choices(*((c, *COLOURS[c]) for c in colours))},
                {"name": "f", "choices": _choices(*((f, *FRUIT[f]) for f in fruit))},
            ],
        }
    )


def codebook() -> Codebook:
    return codebook_from_specs(
        study="three", title="Three versions", languages=["en", "zh"], specs=[(n, spec(n)) for n in (1, 2, 3)]
    )


def _multi(version: int, chosen: list[str] | None) -> dict[str, Any]:
    """The bridge's 0/1 columns: only options the version offered, only when the question was answered."""
    offered = [f for f in FRUIT if not (f == "香蕉" and version == 3)]
    if chosen is None:
        return {}
    return {schema.choice_column("fruit", f): int(f in chosen) for f in offered}


# (version, answers, not shown) -> one row each
RESPONSES: list[tuple[int, dict[str, Any], list[str]]] = [
    # v1, answered a choice v2 deleted (blue), a Chinese option, a date, a decimal as typed
    (1, {"q1": "1", "long": 12, "in": "=cmd", "WITH": 0.1, "when": "2024-02-29", "colour": "blue"}, []),
    # v1, "long" hidden by relevance, "in" left blank
    (1, {"q1": "0", "WITH": 70.25, "colour": "red"}, ["long"]),
    # v2, answered the new question, don't know = 99
    (2, {"q1": "99", "new_q": -97, "colour": "green", "when": "2025-12-31"}, ["long"]),
    # v3, a choice only v3 has
    (3, {"q1": "1", "long": 3, "in": "上海", "colour": "purple"}, []),
]
CHOSEN = [["苹果", "a-b"], None, ["香蕉"], ["a_b"]]


def frames(chunk: int = 2) -> list[pd.DataFrame]:
    book = codebook()
    rows = []
    for i, ((version, answers, hidden), chosen) in enumerate(zip(RESPONSES, CHOSEN, strict=True)):
        rows.append(
            {
                schema.RESPONSE_ID: f"r{i}",
                schema.SAMPLE: "main",
                schema.LANGUAGE: "en",
                schema.QUESTIONNAIRE_VERSION: version,
                schema.CONSENT_VERSION: 1,
                schema.COMPLETED_ON: "2026-01-1" + str(i),
                schema.DURATION: 300,
                schema.SYNTHETIC: 0,
                schema.SEED: 1,
                schema.PAGE_ORDER: "p1",
                schema.NOT_SHOWN: " ".join(hidden),
                **answers,
                **_multi(version, chosen),
            }
        )
    frame = pd.DataFrame.from_records(rows).reindex(columns=book.names)
    for name in ("q1", "in", "when", "colour", schema.NOT_SHOWN):
        frame[name] = frame[name].astype("str")
    frame = frame.replace({np.nan: None}).astype(frame.dtypes.to_dict())
    return [frame.iloc[i : i + chunk].reset_index(drop=True) for i in range(0, len(frame), chunk)]


# What each cell must become, by kind of missing: (row, variable) -> kind
EXPECTED_MISSING = {
    (0, "new_q"): "not_in_version",
    (1, "new_q"): "not_in_version",
    (1, "long"): "not_shown",
    (2, "long"): "not_shown",
    (1, "in"): "not_answered",
    (2, "in"): "not_answered",
    (1, "when"): "not_answered",
    (2, "WITH"): "not_answered",
    (3, "WITH"): "not_answered",
    (3, "when"): "not_answered",
    (1, "fruit__苹果"): "not_answered",
    (3, "fruit__香蕉"): "not_in_version",
    (3, "new_q"): "not_answered",
}
