"""Reading and writing questionnaire files by extension (.xlsx XLSForm or .json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .instrument import Problem, QuestionnaireInvalid, spec_from_json, untranslated_read_instead
from .xlsform import read_xlsform, write_xlsform
from .xlsform.limits import check_size, read_limited

FORMATS = ("xlsx", "json")
# A questionnaire is 8 levels deep; the parser, and much that reads a spec, recurses once a level.
MAX_JSON_DEPTH = 64
E_JSON_SYNTAX = gettext_lazy("not valid JSON: {error}")
E_JSON_TOO_DEEP = gettext_lazy("the JSON is nested more than {limit} levels deep")


def json_document(name: str, content: bytes) -> Any:
    """``content`` parsed as JSON; else :class:`QuestionnaireInvalid` located at ``name``: not UTF-8,
    not JSON, or nested deeper than ``MAX_JSON_DEPTH`` (the parser's own recursion, thousands of
    ``[``, is caught and reported the same way)."""
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        message = E_JSON_SYNTAX.format(error=error)
        raise QuestionnaireInvalid([Problem(name, message, "json_syntax")]) from error
    except RecursionError:
        deep = True
    else:
        deep = _deeper_than(data, MAX_JSON_DEPTH)
    if deep:
        message = E_JSON_TOO_DEEP.format(limit=MAX_JSON_DEPTH)
        raise QuestionnaireInvalid([Problem(name, message, "json_too_deep")])
    return data


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether lists and objects nest in ``value`` more than ``limit`` deep (without recursing)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            stack += [(child, depth + 1) for child in (item.values() if isinstance(item, dict) else item)]
    return False


def read_questionnaire_file(path: str | Path, *, notices: list[Problem] | None = None) -> dict[str, Any]:
    """A validated spec from a file, read no further than the upload limit
    (:func:`survey.xlsform.limits.read_limited`). ``notices``: see :func:`read_questionnaire_bytes`."""
    path = Path(path)
    return read_questionnaire_bytes(path.name, read_limited(path), notices=notices)


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
        return spec_from_json(json_document(name, content))
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
