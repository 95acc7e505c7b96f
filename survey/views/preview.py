"""A draft (or published) version shown as participants will see it, without saving anything."""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from .. import flow
from ..forms import PageForm, text_in
from ..instrument import iter_questions
from ..models import QuestionnaireVersion
from ..selectors import version_parts, version_parts_navigation, version_to_spec


def render_preview(
    request: HttpRequest,
    version: QuestionnaireVersion,
    language: str,
    *,
    switch_url: Callable[[str], str] | None = None,
    back_url: str = "",
    arm: str = "control",
) -> HttpResponse:
    """Every page of ``version`` in ``language``; ``switch_url(other)`` links the other languages.
    List experiments show the items of ``arm`` (``control``, or ``treatment`` with the sensitive item).
    A long form is shown a part at a time (``?part=N``), as the studio's version page."""
    switch_url = switch_url or (
        lambda other: reverse("admin:survey_questionnaireversion_preview", args=[version.pk, other])
    )
    if language not in version.languages:
        raise Http404("The questionnaire has no such language.")
    spec = version_to_spec(version)
    parts = version_parts(spec)
    asked = request.GET.get("part", "")
    part = min(max(int(asked), 1), len(parts)) if asked.isascii() and asked.isdigit() else 1
    choice_lists = {cl["name"]: cl["choices"] for cl in spec["choice_lists"]}
    list_items = {
        q["code"]: [i for i in q["items"] if arm == "treatment" or i["parameters"].get("role") == "control"]
        for _s, q, _p in iter_questions(spec)
        if q["type"] == "list_experiment"
    }
    pages = [
        {
            "section": section,
            "number": index + 1,
            "label": text_in(section["label"], language, spec["default_language"]),
            "form": PageForm(
                questions=section["questions"][first:end],
                choice_lists=choice_lists,
                language=language,
                fallback_language=spec["default_language"],
                list_items=list_items,
                auto_id=f"p{index}_%s",
            ),
        }
        for index, first, end in parts[part - 1]
        for section in [spec["sections"][index]]
    ]
    context = {
        "version": version,
        "language": language,
        "title": flow.form_title(spec, version.study, language),
        "pages": pages,
        "preview": True,
        "switches": [
            (other, switch_url(other) + (f"?part={part}" if len(parts) > 1 else ""))
            for other in version.languages
            if other != language
        ],
        "parts": version_parts_navigation(spec, parts) if len(parts) > 1 else [],
        "part": part,
        "back_url": back_url,
        "arm": arm,
        "arm_query": "&arm=treatment" if arm == "treatment" else "",
        "has_list_experiment": bool(list_items),
    }
    response = render(request, "survey/preview.html", context)
    response["Cache-Control"] = "no-store"
    return response
