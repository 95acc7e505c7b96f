"""A study's claims: its registry (shown to its members, uploaded by its researchers) and the claims
report judged on its data (a page, and HTML, JSON and PDF downloads, in English or Chinese).

Every view answers 404 for a study the user may not see (``selectors.may_see_results``), so its
existence is not revealed; uploading needs the right to edit the study.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from analysis.claims import REGISTRY, RegistryError
from analysis.quality import FLAGS
from analysis.report_html import render_body, render_document, render_pdf

from ..forms import ClaimsRegistryForm
from ..languages import django_locale, site_language
from ..models import ClaimsRegistry, ReportSnapshot, ReportStatus, Study
from ..selectors import (
    claims_registry_current,
    claims_registry_versions,
    may_see_results,
    questionnaire_codebook,
    studies_editable_by,
    study_title,
)
from ..services.claims import claims_registry_attach, claims_registry_check
from ..services.disclosure import in_words
from ..services.exports import audit_record
from ..services.reports import (
    census_access,
    report_localised,
    report_prepared,
    report_text,
)

DOWNLOADS = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "json": "application/json; charset=utf-8",
}


def _study(request: HttpRequest, slug: str) -> Study:
    study = get_object_or_404(Study, slug=slug)
    if not may_see_results(request.user, study):
        raise Http404("No such study.")
    return study


def _reading(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET and HEAD only — but a study the user may not see answers 404 to every method first, so
    not even a 405 reveals that it exists."""

    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args, **kwargs) -> HttpResponse:
        _study(request, slug)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return view(request, slug, *args, **kwargs)

    return wrapper


def _may_edit(request: HttpRequest, study: Study) -> bool:
    return studies_editable_by(request.user).filter(pk=study.pk).exists()


def _context(request: HttpRequest, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


@staff_member_required
@require_http_methods(["GET", "POST"])
def registry(request: HttpRequest, slug: str) -> HttpResponse:
    """The study's registry, its versions and the variables a registry may name; researchers upload."""
    study = _study(request, slug)
    may_edit = _may_edit(request, study)
    form, problems, checked, status = ClaimsRegistryForm(), [], None, 200
    if request.method == "POST":
        if not may_edit:
            raise Http404("No such study.")
        form = ClaimsRegistryForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["registry"]
            content = upload.read()
            try:
                if request.POST.get("action") == "check":
                    checked = claims_registry_check(study=study, content=content)
                else:
                    attached, created = claims_registry_attach(
                        study=study, content=content, file_name=upload.name, user=request.user
                    )
                    messages.success(
                        request,
                        _("Version %(version)s of the claims registry is attached.")
                        % {"version": attached.version}
                        if created
                        else _("This registry is already the one the study uses; nothing changed."),
                    )
                    return HttpResponseRedirect(reverse("survey:claims_registry", args=[study.slug]))
            except RegistryError as error:
                problems = [
                    {"claim": p.claim, "field": p.field, "message": p.render(_)} for p in error.problems
                ]
        status = 400 if problems or form.errors else 200
    codebook = questionnaire_codebook(study)
    return render(
        request,
        "survey/claims/registry.html",
        _context(
            request,
            _("Claims registry: %(study)s") % {"study": study_title(study)},
            study=study,
            current=claims_registry_current(study),
            versions=claims_registry_versions(study),
            may_edit=may_edit,
            form=form,
            problems=problems,
            checked=checked,
            variables=[v for v in codebook.variables if v.kind != "meta"],
            samples=study.samples.all(),
        ),
        status=status,
    )


@staff_member_required
@_reading
def registry_download(request: HttpRequest, slug: str, version: int) -> HttpResponse:
    """One registry version as the TOML file it was attached as."""
    study = _study(request, slug)
    found = get_object_or_404(ClaimsRegistry, study=study, version=version)
    response = HttpResponse(found.text, content_type="application/toml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-claims-v{found.version}.toml"'
    return response


@staff_member_required
@_reading
def registry_example(request: HttpRequest, slug: str) -> HttpResponse:
    """The registry shipped with Candid, whose comments describe the format: a model to copy."""
    _study(request, slug)
    response = HttpResponse(REGISTRY.read_bytes(), content_type="application/toml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{REGISTRY.name}"'
    return response


def _languages(study: Study, snapshot: ReportSnapshot | None = None) -> list[tuple[str, str]]:
    """The site languages the report is offered in: those serving one of the study's languages or
    of its registry's texts (an English-only study with an English registry is not offered 简体中文)."""
    codes = list(study.languages or [])
    if snapshot is not None and isinstance(snapshot.data, dict):
        codes += (snapshot.data.get("registry") or {}).get("languages") or []
    served = {django_locale(code) for code in codes}
    return [(code, name) for code, name in settings.LANGUAGES if code in served] or [
        (code, name) for code, name in settings.LANGUAGES if code == settings.LANGUAGE_CODE
    ]


def _language(request: HttpRequest, study: Study, snapshot: ReportSnapshot | None = None) -> str:
    """The report's language: ``?language=`` when it is one of :func:`_languages`, else the page's
    when it is, else the first of them."""
    known = [code for code, _name in _languages(study, snapshot)]
    asked = site_language(request.GET.get("language", ""))  # zh, zh-Hans, zh_CN: zh-hans
    page = translation.get_language() or settings.LANGUAGE_CODE
    return asked if asked in known else page if page in known else known[0]


def _exclude(request: HttpRequest) -> tuple[str, ...]:
    """The data-quality flags whose responses the reader leaves out (``?exclude=``, known ones)."""
    asked = request.GET.getlist("exclude")
    return tuple(flag for flag in FLAGS if flag in asked)


def _prepared(request: HttpRequest, study: Study):
    """Whether the report is weighted, whether the census margins fit but are reserved for members
    with the raw-data right (``services.reports.census_access``), and the report's snapshot."""
    fits, allowed = census_access(request.user, study)
    weighted = request.GET.get("weights") == "census" and allowed
    return (
        weighted,
        allowed,
        fits and not allowed,
        report_prepared(study, weighted=weighted, exclude=_exclude(request)),
    )


def _census_note(weighted: bool, census: bool, census_withheld: bool) -> str:
    """Why an unweighted report is unweighted when the census margins fit (``report_text``'s
    ``census``): reserved for members with the raw-data right, or offered as another report."""
    if weighted:
        return ""
    return "reserved" if census_withheld else "offered" if census else ""


def _query(language: str, weighted: bool, exclude: tuple[str, ...]) -> str:
    """The report's options as a query string, for its links and downloads."""
    return urlencode(
        [
            ("language", language),
            *([("weights", "census")] if weighted else []),
            *(("exclude", f) for f in exclude),
        ]
    )


@staff_member_required
@_reading
def report(request: HttpRequest, slug: str) -> HttpResponse:
    """The claims report as a page in the reader's language (``?language=`` to switch), weighted with
    the census margins shipped for the study's sample when ``?weights=census`` and they fit. Kept
    until the data or the registry change; built in the background when the study is large."""
    study = _study(request, slug)
    weighted, census, census_withheld, snapshot = _prepared(request, study)
    language = _language(request, study, snapshot)
    title = _("Claims report: %(study)s") % {"study": study_title(study)}
    exclude = _exclude(request)
    context = {
        "study": study,
        "snapshot": snapshot,
        "weighted": weighted,
        "may_edit": _may_edit(request, study),
        "flags": FLAGS,
        "exclude": exclude,
    }
    if snapshot.status == ReportStatus.BUILDING:
        return render(request, "survey/claims/report_status.html", _context(request, title, **context))
    if snapshot.problem or not snapshot.data:
        # A kept problem may be a message id (no registry, releases held): read in the reader's language.
        problem = in_words(snapshot.problem) if snapshot.problem else ""
        return render(
            request, "survey/claims/empty.html", _context(request, title, problem=problem, **context)
        )
    with translation.override(language):
        text = report_text(census=_census_note(weighted, census, census_withheld))
        body = render_body(report_localised(snapshot, language=language), text)
        languages = _languages(study, snapshot)
        response = render(
            request,
            "survey/claims/report.html",
            _context(
                request,
                title,
                body=body,
                language=language,
                languages=languages,
                census=census,
                census_withheld=census_withheld,
                query=_query(language, weighted, exclude),
                **context,
            ),
        )
    audit_record(
        user=request.user,
        action="report_viewed",
        study=study,
        weighted=weighted,
        responses=snapshot.responses,
        language=language,
        exclude=list(exclude),
    )
    response["Cache-Control"] = "no-store"
    return response


@staff_member_required
@_reading
def report_download(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    """The claims report as a file: ``pdf``, ``html`` (self-contained) or ``json`` (the data)."""
    study = _study(request, slug)
    if fmt not in DOWNLOADS:
        raise Http404("No such format.")
    weighted, census, census_withheld, snapshot = _prepared(request, study)
    if snapshot.status != ReportStatus.DONE or snapshot.problem or not snapshot.data:
        return HttpResponseRedirect(reverse("survey:report", args=[study.slug]))
    language = _language(request, study, snapshot)
    with translation.override(language):
        text = report_text(census=_census_note(weighted, census, census_withheld))
        localised = report_localised(snapshot, language=language)
        if fmt == "json":
            content: bytes | str = json.dumps(localised, ensure_ascii=False, indent=2)
        else:
            document = render_document(localised, text)
            content = render_pdf(document) if fmt == "pdf" else document
    audit_record(
        user=request.user,
        action="report_downloaded",
        study=study,
        weighted=weighted,
        responses=snapshot.responses,
        language=language,
        format=fmt,
        exclude=list(_exclude(request)),
    )
    response = HttpResponse(content, content_type=DOWNLOADS[fmt])
    synthetic = "-synthetic" if snapshot.data.get("data") == "synthetic" else ""
    excluded = "-excluding-flagged" if _exclude(request) else ""
    name = f"{study.slug}-claims-{language}{'-weighted' if weighted else ''}{excluded}{synthetic}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
