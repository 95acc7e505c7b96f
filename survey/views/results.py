"""The results page of a study, its aggregate downloads and the upload of population figures.

For the study's researchers and analysts (``selectors.may_see_results``); aggregates only, every
figure from the snapshot that went through the disclosure step. Options travel in the query string
(``by``, ``weighting``, ``rake_on``, ``exclude``, ``k``, ``lang``), so a view of the results can be bookmarked.

Two releases that differ in one setting differ by exactly the respondents the setting moves, so the
settings that would move a few at a time are not the requester's: k may be raised above the
operator's ``CANDID_RESULTS_K`` but never lowered below it, and speeding is "faster than the study's
speeding fraction of the median duration" (``Study.speeding_fraction``, a third by default), set by
its researchers in the studio, never chosen per request, and fixed from the study's first release
(``services.studies.study_update`` refuses a change after it; ``services.disclosure`` records it).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analysis import schema
from analysis.aggregates import write_csv, write_xlsx
from analysis.quality import FLAGS, fraction_text
from analysis.suppression import MIN_K

from ..languages import django_locale, own_name, study_language
from ..margins import margins_title
from ..models import ReportStatus, Study, WeightingTargets
from ..selectors import may_see_results, study_language_names, study_title
from ..services.disclosure import in_words
from ..services.exports import audit_record
from ..services.refusals import COMPUTATION_ERRORS, problem_of
from ..services.results import (
    ResultsOptions,
    TargetsRefused,
    breakdown_choices,
    payload_in_words,
    rake_choices,
    results_prepared,
    shipped_targets,
    weighting_targets_upload,
)
from .results_page import page_context

MAX_BREAKDOWNS = 3


def _study(request: HttpRequest, slug: str) -> Study:
    study = get_object_or_404(Study, slug=slug)
    if not may_see_results(request.user, study):
        raise Http404("No such study.")
    return study


def _language(study: Study, requested: str) -> str:
    """The study language asked for (``zh-hans``, ``zh-Hans``, ``zh_CN`` read a study's ``zh``),
    else the page's, else the study's first."""
    found = study_language(requested, study.languages)
    if found:
        return found
    active = (get_language() or "en").split("-")[0]
    return active if active in study.languages else study.languages[0]


def _k_floor() -> int:
    return max(MIN_K, settings.CANDID_RESULTS_K)


def _options(study: Study, query: QueryDict) -> tuple[ResultsOptions, list[str]]:
    """Options from the query string; anything unknown is dropped with a message, never a 500."""
    problems = []
    language = _language(study, query.get("lang", ""))
    allowed = {name for name, _label in breakdown_choices(study, language)}
    asked = query.getlist("by")
    usable = [b for b in asked if b in allowed]
    by = usable[:MAX_BREAKDOWNS] if "by" in query else [schema.SAMPLE]
    if len(usable) < len(asked):
        problems.append(_("A breakdown that is not a single-choice question of this study was left out."))
    if len(usable) > MAX_BREAKDOWNS:
        problems.append(
            _("At most %(n)s breakdowns at a time: the first %(n)s were used.") % {"n": MAX_BREAKDOWNS}
        )
    floor = _k_floor()
    try:
        k = int(query.get("k", floor))
    except ValueError:
        k = floor
        problems.append(_("k must be a whole number; %(k)s is used.") % {"k": floor})
    if k < floor:
        problems.append(_("k cannot be lowered below %(k)s here; %(k)s is used.") % {"k": floor})
        k = floor
    weighting = query.get("weighting", "none")
    known = (
        {"none"}
        | {f"shipped:{name}" for name in shipped_targets(study)}
        | {
            f"upload:{digest}"
            for digest in WeightingTargets.objects.filter(study=study).values_list("digest", flat=True)
        }
    )
    if weighting not in known:
        weighting = "none"
        problems.append(_("Unknown weighting; the results are unweighted."))
    exclude = tuple(flag for flag in query.getlist("exclude") if flag in FLAGS)
    options = ResultsOptions(
        by=tuple(by),
        weighting=weighting,
        k=k,
        language=language,
        exclude=exclude,
        speeding=study.speeding_fraction,
        rake_on=_rake_on(study, weighting, language, query),
    )
    return options, problems


def _rake_on(study: Study, weighting: str, language: str, query: QueryDict) -> tuple[str, ...]:
    """The raking variables asked for, in the file's order; () for all of them (every box ticked,
    none, or weights that are not raking margins). The boxes name the file they were shown for
    (``rake_file``): ticked for another file, they are not carried to a newly chosen one. A name
    the file lacks is kept, so that the results say it is not one of the file's variables."""
    variables = [name for name, _label in rake_choices(study, weighting, language)]
    shown_for = query.get("rake_file", weighting)
    asked = list(dict.fromkeys(query.getlist("rake_on")))
    if not variables or shown_for != weighting or not asked:
        return ()
    chosen = [name for name in variables if name in asked] + [name for name in asked if name not in variables]
    return () if chosen == variables else tuple(chosen)


@staff_member_required
def results_page(request: HttpRequest, slug: str) -> HttpResponse:
    study = _study(request, slug)
    options, problems = _options(study, request.GET)
    snapshot = results_prepared(study, options)
    raking = rake_choices(study, options.weighting, options.language)
    names = study_language_names(study)  # a language known by its name alone (x-tetun) is so called
    context = {
        **admin.site.each_context(request),
        "title": _("Results: %(study)s") % {"study": study_title(study)},
        "study": study,
        "options": options,
        "problems": problems,
        "snapshot": snapshot,
        "problem": in_words(snapshot.problem),  # a kept problem in the reader's language
        "breakdowns": breakdown_choices(study, options.language),
        "label_languages": [(code, own_name(code, names)) for code in study.languages],
        "weightings": _weightings(study),
        "rake_choices": raking,
        "raked_on": options.rake_on or [name for name, _label in raking],
        "flags": FLAGS,
        "speeding": fraction_text(study.speeding_fraction),
        "k_floor": _k_floor(),
        "query": request.GET.urlencode(),
    }
    if snapshot.status == ReportStatus.DONE and snapshot.payload:
        context.update(page_context(snapshot.payload))
        context["weighting_source"] = margins_title(snapshot.payload["weighting"].get("source", ""))
        audit_record(user=request.user, action="results_viewed", study=study, options=snapshot.options)
    template = (
        "survey/results/building.html"
        if snapshot.status == ReportStatus.BUILDING
        else "survey/results/page.html"
    )
    response = render(request, template, context)
    response["Cache-Control"] = "no-store"
    return response


def _weightings(study: Study) -> list[tuple[str, str]]:
    choices = [("none", _("Unweighted"))]
    choices += [
        (f"shipped:{name}", _("Shipped margins: %(name)s") % {"name": margins_title(name)})
        for name in shipped_targets(study)
    ]
    kinds = {
        WeightingTargets.Kind.RAKE: _("Raking margins"),
        WeightingTargets.Kind.POSTSTRATIFY: _("Post-stratification table"),
    }
    choices += [
        (f"upload:{t.digest}", f"{t.name} ({kinds.get(t.kind, t.kind)})")
        for t in WeightingTargets.objects.filter(study=study)
    ]
    return choices


@staff_member_required
def results_download(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    """The page's tables as one tidy CSV or a formatted XLSX (a sheet per table and notes)."""
    study = _study(request, slug)
    if fmt not in {"csv", "xlsx"}:
        raise Http404("No such format.")
    options, problems = _options(study, request.GET)
    if problems:  # the file would not be the one asked for: say why instead of changing it
        return _refused(" ".join(str(p) for p in problems), status=400)
    snapshot = results_prepared(study, options)
    if snapshot.status == ReportStatus.FAILED or snapshot.problem:
        # A kept problem may be a message id (releases held): read in the reader's language.
        problem = in_words(snapshot.problem) if snapshot.problem else _("The results could not be built.")
        return _refused(problem, status=409)
    if snapshot.status == ReportStatus.DONE and not snapshot.payload:
        return _refused(_("There are no responses to release yet."), status=409)
    if snapshot.status != ReportStatus.DONE:  # being built: the page says so and offers it when done
        return HttpResponseRedirect(
            f"{reverse('survey:study_results', args=[study.slug])}?{request.GET.urlencode()}"
        )
    with translation.override(django_locale(options.language)):  # one language: the labels'
        notes = _notes(study, snapshot.payload)
        payload = payload_in_words(snapshot.payload)
        if fmt == "csv":
            body = write_csv(payload, notes, translate=_).encode("utf-8-sig")
            content_type = "text/csv; charset=utf-8"
        else:
            body = write_xlsx(payload, notes, translate=_)
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    audit_record(
        user=request.user, action="aggregates_downloaded", study=study, format=fmt, options=snapshot.options
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-results.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


def _refused(message: str, *, status: int) -> HttpResponse:
    """A download refused: a plain-text reason with a 4xx status (not the page, with 200)."""
    response = HttpResponse(message + "\n", content_type="text/plain; charset=utf-8", status=status)
    response["Cache-Control"] = "no-store"
    return response


def _notes(study: Study, payload: dict[str, Any]) -> dict[str, str]:
    return {
        "study": study.slug,
        "title": study_title(study),
        "source": _("Candid, study %(slug)s") % {"slug": study.slug},
    }


@staff_member_required
@require_POST
def weighting_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """Keep an uploaded margins or post-stratification file and show the results weighted by it."""
    study = _study(request, slug)
    upload = request.FILES.get("targets")
    target = reverse("survey:study_results", args=[study.slug])
    if upload is None:
        messages.error(request, _("Choose a CSV file of population figures to upload."))
        return HttpResponseRedirect(target)
    try:
        targets = weighting_targets_upload(
            user=request.user, study=study, name=upload.name, content=upload.read(1_000_001)
        )
    except TargetsRefused as refused:  # every problem at once, and nothing kept
        for problem in refused.problems:
            messages.error(request, problem)
        return HttpResponseRedirect(target)
    except COMPUTATION_ERRORS as error:  # Candid's refusal as worded; a library's logged, not shown
        messages.error(request, in_words(problem_of(error, doing="weighting upload")))
        return HttpResponseRedirect(target)
    query = QueryDict(mutable=True)
    query["weighting"] = f"upload:{targets.digest}"
    return HttpResponseRedirect(f"{target}?{query.urlencode()}")
