"""A draft (or published) version shown as participants will see it, without saving anything."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from ..forms import PageForm, text_in
from ..models import QuestionnaireVersion
from ..selectors import version_to_spec


def render_preview(request: HttpRequest, version: QuestionnaireVersion, language: str) -> HttpResponse:
    if language not in version.languages:
        raise Http404("The questionnaire has no such language.")
    spec = version_to_spec(version)
    choice_lists = {cl["name"]: cl["choices"] for cl in spec["choice_lists"]}
    pages = [
        {
            "section": section,
            "label": text_in(section["label"], language, spec["default_language"]),
            "form": PageForm(
                questions=section["questions"],
                choice_lists=choice_lists,
                language=language,
                fallback_language=spec["default_language"],
                auto_id=f"p{index}_%s",
            ),
        }
        for index, section in enumerate(spec["sections"])
    ]
    context = {
        "version": version,
        "language": language,
        "title": text_in(spec["title"], language, spec["default_language"]) or version.study.title,
        "pages": pages,
        "preview": True,
    }
    response = render(request, "survey/preview.html", context)
    response["Cache-Control"] = "no-store"
    return response
