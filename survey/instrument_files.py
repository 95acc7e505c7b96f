"""Reading and writing questionnaire files by extension (.xlsx XLSForm or .json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .instrument import Problem, QuestionnaireInvalid, spec_from_json
from .xlsform import read_xlsform, write_xlsform

FORMATS = ("xlsx", "json")


def read_questionnaire_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "xlsx":
        return read_xlsform(path.read_bytes())
    if suffix == "json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise QuestionnaireInvalid(
                [Problem(path.name, f"not valid JSON: {error}", "json_syntax")]
            ) from error
        return spec_from_json(data)
    raise QuestionnaireInvalid(
        [
            Problem(
                path.name,
                f"unsupported file type .{suffix}; use .xlsx (XLSForm) or .json",
                "file_type",
            )
        ]
    )


def questionnaire_bytes(spec: dict[str, Any], fmt: str) -> bytes:
    if fmt == "xlsx":
        return write_xlsform(spec)
    if fmt == "json":
        return (json.dumps(spec, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
