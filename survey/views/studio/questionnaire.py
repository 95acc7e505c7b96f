"""The questionnaire in the studio: import an XLSForm, see a version (every text in every language),
export it, make a new draft, compare versions."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ...instrument import Problem, QuestionnaireInvalid
from ...instrument_files import questionnaire_bytes, read_questionnaire_bytes, untranslated_note
from ...languages import same_language
from ...models import VersionStatus
from ...selectors import version_outline, version_to_spec
from ...services.questionnaires import questionnaire_import, questionnaire_new_draft, spec_summary
from .access import render_studio, studio_page, study_for, version_for
from .forms import ImportForm

SHIPPED_FORM = settings.BASE_DIR / "survey" / "fixtures" / "trust_and_rating_systems" / "questionnaire.xlsx"
WHERE = re.compile(r"^sheet (?P<sheet>.+?)(?:, row (?P<row>\d+))?(?:, column (?P<column>.+))?$")


def problem_cells(problem: Problem) -> dict[str, str]:
    """A problem's sheet, row and column (XLSForm) or its place in a JSON file, for the problems table."""
    match = WHERE.match(problem.location)
    if match:
        return {**match.groupdict(default=""), "message": problem.message}
    return {"sheet": "", "row": "", "column": problem.location, "message": problem.message}


@studio_page
def questionnaire(request: HttpRequest, slug: str) -> HttpResponse:
    """The study's questionnaire: its draft if it has one, else its latest version, else the import page."""
    study = study_for(request, slug)
    version = study.versions.order_by("status", "-number").first()  # "draft" sorts before "published"
    if version is None:
        return HttpResponseRedirect(reverse("survey:studio_import", args=[study.slug]))
    return HttpResponseRedirect(reverse("survey:studio_version", args=[study.slug, version.number]))


@studio_page
@require_http_methods(["GET", "POST"])
def import_form(request: HttpRequest, slug: str) -> HttpResponse:
    """Upload an XLSForm (or Candid JSON): checked exactly as ``manage.py import_questionnaire`` checks
    it; on any problem nothing is written and every problem is listed with its sheet, row and column.
    Importing into a study with a draft replaces that draft."""
    study = study_for(request, slug, edit=True)
    draft = study.versions.filter(status=VersionStatus.DRAFT).first()
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[dict[str, str]] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            notices: list[Problem] = []
            spec = read_questionnaire_bytes(upload.name, form.cleaned_data["content"], notices=notices)
            version = questionnaire_import(
                spec=spec, owner=request.user, study=study, replace_draft=True, source=upload.name
            )
        except QuestionnaireInvalid as error:
            problems = [problem_cells(p) for p in error.problems]
        else:
            summary = spec_summary(spec)
            messages.success(
                request,
                _(
                    "%(file)s is imported as draft version %(number)s: %(pages)s pages, %(questions)s "
                    "questions, %(notes)s notes, %(lists)s choice lists with %(choices)s choices, in "
                    "%(languages)s."
                )
                % {
                    "file": upload.name,
                    "number": version.number,
                    **summary,
                    "languages": ", ".join(summary["languages"]),
                },
            )
            missing = [lang for lang in study.languages if same_language(lang, spec["languages"]) is None]
            if missing:
                messages.warning(
                    request,
                    _(
                        "The spreadsheet has no texts in %(languages)s, a language of the study: add them before publishing."
                    )
                    % {"languages": ", ".join(missing)},
                )
            note = untranslated_note(spec)
            if note:
                messages.info(request, note)
            if notices:  # each cell, for an XLSForm
                messages.info(request, "; ".join(str(notice) for notice in notices))
            return HttpResponseRedirect(reverse("survey:studio_version", args=[study.slug, version.number]))
    return render_studio(
        request,
        "survey/studio/import.html",
        title=_("Import an XLSForm"),
        study=study,
        section="questionnaire",
        form=form,
        problems=problems,
        draft=draft,
        status=400 if problems or form.errors else 200,
    )


@studio_page
def template_download(request: HttpRequest) -> FileResponse:
    """The shipped study's XLSForm, to start from."""
    return FileResponse(open(SHIPPED_FORM, "rb"), as_attachment=True, filename="candid-example-xlsform.xlsx")


@studio_page
def version(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """A version's pages, questions and lists, every text in every language side by side; a draft with
    the editor's buttons, a published version read-only. A long form is shown a part at a time
    (``?part=N``, or ``?at=<anchor>`` for the part holding a question, page or list)."""
    study = study_for(request, slug)
    current = version_for(study, number)
    part = request.GET.get("part", "")
    outline = version_outline(
        current,
        get_language() or "en",
        part=int(part) if part.isascii() and part.isdigit() else 1,
        anchor=request.GET.get("at", ""),
    )
    others = list(study.versions.exclude(pk=current.pk).order_by("-number").values_list("number", flat=True))
    return render_studio(
        request,
        "survey/studio/version.html",
        title=_("Questionnaire, version %(number)s") % {"number": current.number},
        study=study,
        section="questionnaire",
        version=current,
        outline=outline,
        editable=current.status == VersionStatus.DRAFT,
        other_versions=others,
    )


@studio_page
def version_export(request: HttpRequest, slug: str, number: int, fmt: str) -> HttpResponse:
    """The version as an XLSForm spreadsheet (or Candid JSON), as ``manage.py export_questionnaire``."""
    study = study_for(request, slug)
    current = version_for(study, number)
    content = questionnaire_bytes(version_to_spec(current), fmt)
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if fmt == "xlsx"
        else "application/json",
    )
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-v{current.number}.{fmt}"'
    return response


@studio_page
@require_POST
def new_draft(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    study = study_for(request, slug, edit=True)
    current = version_for(study, number)
    try:
        draft = questionnaire_new_draft(version=current, user=request.user)
    except QuestionnaireInvalid as error:
        messages.error(request, " ".join(p.message for p in error.problems))
        return HttpResponseRedirect(reverse("survey:studio_version", args=[study.slug, current.number]))
    messages.success(
        request,
        _("Version %(number)s is a new draft, copied from version %(copied)s. Edit it, then publish it.")
        % {"number": draft.number, "copied": current.number},
    )
    return HttpResponseRedirect(reverse("survey:studio_version", args=[study.slug, draft.number]))
