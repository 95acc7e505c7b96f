"""Reading and writing questionnaire files by extension (.xlsx XLSForm or .json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from .instrument import Problem, QuestionnaireInvalid, spec_from_json, untranslated_read_instead
from .xlsform import read_xlsform, write_xlsform
from .xlsform.limits import check_size

FORMATS = ("xlsx", "json")


def read_questionnaire_file(path: str | Path, *, notices: list[Problem] | None = None) -> dict[str, Any]:
    """A validated spec from a file; its size is checked against the upload limit before it is read.
    ``notices``: see :func:`read_questionnaire_bytes`."""
    path = Path(path)
    check_size(path.stat().st_size)
    return read_questionnaire_bytes(path.name, path.read_bytes(), notices=notices)


def read_questionnaire_bytes(
    name: str, content: bytes, *, notices: list[Problem] | None = None
) -> dict[str, Any]:
    """A validated spec from a file's ``content``, read as its ``name``'s extension says (an upload).

    The upload limits (survey/xlsform/limits.py) apply to both formats. An XLSForm's notices (a text
    missing in a language, at its cell) are appended to ``notices`` when given.
    """
    check_size(len(content))
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix == "xlsx":
        return read_xlsform(content, name=name, notices=notices)
    if suffix == "json":
        try:
            data = json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise QuestionnaireInvalid([Problem(name, f"not valid JSON: {error}", "json_syntax")]) from error
        return spec_from_json(data)
    raise QuestionnaireInvalid(
        [
            Problem(
                name,
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


def untranslated_note(spec: dict[str, Any]) -> str:
    """What an import accepted without every translation (pyxform only warns about it too): each label,
    hint and constraint message participants will read in the default language instead, one by one
    (``q2 (label: fr)``, ``yn/no (choice label: fr)``); one missing in the default language itself is
    read in another language, which it names (``q2 (message when not accepted: en, read in zh-CN)``).
    "" when every text is in every language."""
    default = spec["default_language"]
    fields = {
        "label": _("label"),
        "hint": _("hint"),
        "constraint_message": _("message when not accepted"),
    }
    listed = []
    for code, field, languages, shown in untranslated_read_instead(spec):
        missing = ", ".join(languages)
        if shown != default:
            missing = _("%(languages)s, read in %(shown)s") % {"languages": missing, "shown": shown}
        listed.append(f"{code} ({_('choice label') if '/' in code else fields[field]}: {missing})")
    if not listed:
        return ""
    return _(
        "Some texts are not written in every language; participants reading those languages see them in "
        "%(default)s: %(list)s."
    ) % {"default": default, "list": "; ".join(listed)}
