"""Writes the bad-spreadsheet corpus beside this file: python tests/survey/bad_xlsforms/build.py

Each case is a small XLSForm with one fault; test_xlsform_rejects.py asserts the message for each.
Edit CASES and rerun to add one.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

HERE = Path(__file__).parent
SURVEY = [
    "type",
    "name",
    "label::English (en)",
    "label::Chinese (zh)",
    "required",
    "relevant",
    "constraint",
    "parameters",
]
CHOICES = [
    ["list_name", "name", "label::English (en)", "label::Chinese (zh)"],
    ["yn", "yes", "Yes", "是"],
    ["yn", "no", "No", "否"],
]


def q(type_, name, en="Question", zh="问题", required="", relevant="", constraint="", parameters=""):
    return [type_, name, en, zh, required, relevant, constraint, parameters]


CASES: dict[str, dict] = {
    "duplicate_name": {"survey": [q("integer", "age"), q("integer", "age")]},
    "unknown_list": {"survey": [q("select_one nolist", "q1")]},
    # A label missing in one language is accepted (the default language's is shown); in every one, not.
    "missing_label": {"survey": [q("integer", "q1"), q("integer", "q2", en="", zh="")]},
    "bad_expression": {"survey": [q("integer", "q1"), q("integer", "q2", relevant="${q1} >= ")]},
    "unknown_reference": {"survey": [q("integer", "q1", relevant="${nope} = 1")]},
    "later_reference": {"survey": [q("integer", "q1", relevant="${q2} > 3"), q("integer", "q2")]},
    "unsupported_type": {"survey": [q("geopoint", "where")]},
    "metadata_type": {"survey": [q("start", "started"), q("integer", "q1")]},
    "duplicate_column": {
        "header": ["type", "name", "name", "label"],
        "survey": [["integer", "q1", "q1", "Q"]],
    },
    "duplicate_choice": {
        "survey": [q("select_one yn", "q1")],
        "choices": [*CHOICES, ["yn", "yes", "Yes again", "是"]],
    },
    "unclosed_group": {"survey": [q("begin_group", "page1"), q("integer", "q1")]},
    "unmatched_end": {"survey": [q("integer", "q1"), q("end_group", "")]},
    "bad_required": {"survey": [q("integer", "q1", required="maybe")]},
    "no_survey_sheet": {"sheet": "questions", "survey": [q("integer", "q1")]},
    "or_other": {"survey": [q("integer or_other", "q1")]},
    "slider_without_range": {"survey": [q("range", "score", parameters="step=1")]},
    "attention_unknown_code": {"survey": [q("select_one yn", "check", parameters="correct=yes,maybe")]},
    "attention_wrong_type": {"survey": [q("integer", "check", parameters="correct=7")]},
    "unknown_function": {"survey": [q("integer", "q1"), q("integer", "q2", relevant="foo(${q1}) = 1")]},
    "refused_function": {
        "survey": [q("integer", "q1"), q("integer", "q2", relevant="pulldata('prices', 'p', 'k', ${q1}) > 1")]
    },
    "regex_lookahead": {"survey": [q("text", "code", constraint="regex(., '^[a-z]+(?=[0-9])')")]},
    "plain_nested_group": {
        "survey": [
            q("begin_group", "p1"),
            q("begin_group", "inner"),
            q("integer", "q1"),
            q("end_group", ""),
            q("end_group", ""),
        ]
    },
    "unsupported_column": {
        "header": ["type", "name", "label", "body::accuracyThreshold"],
        "survey": [["integer", "q1", "Q", "5"]],
    },
    "bad_name": {"survey": [q("integer", "my question")]},
    "matrix_mixed_lists": {
        "survey": [
            q("begin_group", "p1"),
            q("begin_group", "m1", parameters=""),
            q("select_one yn", "a"),
            q("select_one ab", "b"),
            q("end_group", ""),
            q("end_group", ""),
        ],
        "choices": [*CHOICES, ["ab", "a", "A", "甲"], ["ab", "b", "B", "乙"]],
        "appearance": {"m1": "table-list"},
    },
}


def build() -> None:
    for name, case in CASES.items():
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = case.get("sheet", "survey")
        header = list(case.get("header", SURVEY))
        appearance = case.get("appearance")
        if appearance:
            header.append("appearance")
        sheet.append(header)
        for row in case["survey"]:
            extra = [appearance.get(row[1], "")] if appearance else []
            sheet.append([*row, *extra])
        choices = workbook.create_sheet("choices")
        for row in case.get("choices", CHOICES):
            choices.append(row)
        workbook.save(HERE / f"{name}.xlsx")
    (HERE / "not_a_workbook.xlsx").write_text("type,name,label\ninteger,q1,Q\n", encoding="utf-8")


if __name__ == "__main__":
    build()
