"""Pages for researchers and analysts: monitoring, exports and their downloads (the claims report is
``views.claims``).

Every view checks the user's rights on the study (``selectors.may_see_results``/``may_export_raw``)
and answers 404 for studies the user may not see, so their existence is not revealed.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from analysis.exports import FORMATS

from ..languages import study_language
from ..models import ExportJob, ExportRemoval, ExportStatus, Study
from ..selectors import (
    claims_registry_current,
    may_export_raw,
    may_see_results,
    study_monitoring,
    study_title,
)
from ..services.exports import (
    EXPORT_OPTIONS,
    EXTRA_FILES,
    audit_record,
    export_folder,
    export_job_create,
    export_job_run,
)
from ..services.reports import census_access
from ..tasks import run_export


def _study(request: HttpRequest, slug: str, *, export: bool = False) -> Study:
    study = get_object_or_404(Study, slug=slug)
    allowed = may_export_raw(request.user, study) if export else may_see_results(request.user, study)
    if not allowed:
        if export and may_see_results(request.user, study):
            raise Http404("You may see this study's reports, not its raw data.")
        raise Http404("No such study.")
    return study


def _context(request: HttpRequest, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


@staff_member_required
def results(request: HttpRequest, slug: str) -> HttpResponse:
    study = _study(request, slug)
    return render(
        request,
        "survey/analyst/results.html",
        _context(
            request,
            _("Results: %(study)s") % {"study": study_title(study)},
            study=study,
            monitoring=study_monitoring(study),
            registry=claims_registry_current(study),
            census=census_access(request.user, study)[1],
            may_export=may_export_raw(request.user, study),
            jobs=ExportJob.objects.filter(study=study, user=request.user)[:10],
            participant_links=[
                (s, request.build_absolute_uri(reverse("survey:entry_sample", args=[study.slug, s.slug])))
                for s in study.samples.all()
            ],
        ),
    )


@staff_member_required
@require_http_methods(["GET", "POST"])
def export_start(request: HttpRequest, slug: str) -> HttpResponse:
    study = _study(request, slug, export=True)
    title = _("Export: %(title)s") % {"title": study_title(study)}
    if request.method == "POST":
        fmt = request.POST.get("format", "")
        language = study_language(request.POST.get("language", ""), study.languages)
        options = {name: request.POST.get(name) == "on" for name in EXPORT_OPTIONS}
        error = None
        if fmt not in FORMATS or language is None:
            error = _("Choose a format and a language.")
        elif options["syntax"] and fmt != "csv":
            error = _("SPSS and Stata syntax files go with a CSV export.")
        elif options["partial"] and options["quality_flags"]:
            error = _(
                "Quality flags are computed on complete responses: export them without partial responses."
            )
        if error:
            return render(
                request,
                "survey/analyst/export.html",
                _context(request, title, study=study, formats=FORMATS, error=error),
                status=400,
            )
        job = export_job_create(user=request.user, study=study, fmt=fmt, language=language, options=options)
        if job.rows_total <= settings.CANDID_EXPORT_INLINE_MAX:
            export_job_run(job_id=str(job.pk))
        else:
            run_export.enqueue(str(job.pk))
        return HttpResponseRedirect(reverse("survey:export_status", args=[job.pk]))
    return render(
        request, "survey/analyst/export.html", _context(request, title, study=study, formats=FORMATS)
    )


def _job(request: HttpRequest, job_id) -> ExportJob:
    job = get_object_or_404(ExportJob.objects.select_related("study"), pk=job_id)
    if job.user_id != request.user.pk or not may_export_raw(request.user, job.study):
        raise Http404("No such export.")
    return job


@staff_member_required
def export_status(request: HttpRequest, job_id) -> HttpResponse:
    job = _job(request, job_id)
    return render(
        request,
        "survey/analyst/export_status.html",
        _context(
            request,
            _("Export: %(title)s") % {"title": study_title(job.study)},
            job=job,
            refresh=job.status in {ExportStatus.QUEUED, ExportStatus.RUNNING},
        ),
    )


def _gone(request: HttpRequest, job: ExportJob) -> HttpResponse:
    """410 Gone: the export's files were deleted (expired, or a participant withdrew)."""
    withdrawal = job.removed_reason == ExportRemoval.WITHDRAWAL
    return render(
        request,
        "survey/analyst/export_gone.html",
        _context(
            request,
            _("Export deleted"),
            job=job,
            withdrawal=withdrawal,
            hours=f"{settings.CANDID_EXPORT_RETENTION_HOURS:g}",
        ),
        status=410,
    )


@staff_member_required
def export_download(request: HttpRequest, job_id) -> HttpResponse:
    job = _job(request, job_id)
    expired = job.expires_at is not None and job.expires_at <= timezone.now()
    if job.status == ExportStatus.REMOVED or (job.status == ExportStatus.DONE and expired):
        return _gone(request, job)
    if job.status != ExportStatus.DONE:
        raise Http404("The export is not ready.")
    name = request.GET.get("file", job.file_name)
    allowed = {
        job.file_name,
        *(f"{job.file_name}{suffix}" for suffix in EXTRA_FILES),
    }
    if name not in allowed:
        raise Http404("No such file.")
    try:
        handle = open(export_folder(job) / name, "rb")  # noqa: SIM115 (FileResponse closes it)
    except FileNotFoundError:
        return _gone(request, job)
    audit_record(user=request.user, action="export_downloaded", study=job.study, file=name, job=str(job.pk))
    response = FileResponse(handle, as_attachment=True, filename=name)
    response["Cache-Control"] = "no-store"
    return response
