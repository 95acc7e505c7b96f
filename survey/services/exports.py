"""Writing exports and the audit trail of staff actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from analysis.exports import FORMATS, export

from ..bridge import iter_response_frames, study_codebook
from ..models import AuditEvent, ExportJob, ExportStatus, Response, Study


def audit_record(
    *, user: AbstractBaseUser | None, action: str, study: Study | None = None, **detail: Any
) -> AuditEvent:
    return AuditEvent.objects.create(user=user, study=study, action=action, detail=detail)


def export_folder(job: ExportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / "exports" / str(job.pk)


@transaction.atomic
def export_job_create(*, user: AbstractBaseUser, study: Study, fmt: str, language: str) -> ExportJob:
    """Record the request (and its audit event); the caller runs it now or enqueues it."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    if language not in study.languages:
        raise ValueError(f"study {study.slug!r} has no language {language!r}")
    total = Response.objects.filter(study=study, status="complete").count()
    job = ExportJob.objects.create(study=study, user=user, format=fmt, language=language, rows_total=total)
    audit_record(
        user=user,
        action="export_requested",
        study=study,
        format=fmt,
        language=language,
        responses=total,
        job=str(job.pk),
    )
    return job


def export_job_run(*, job_id: str) -> ExportJob:
    """Write the export file, updating progress chunk by chunk."""
    job = ExportJob.objects.select_related("study").get(pk=job_id)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING)
    folder = export_folder(job)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{job.study.slug}-responses.{job.format}"
    codebook = study_codebook(job.study)

    def with_progress():
        done = 0
        for frame in iter_response_frames(job.study, codebook=codebook, chunk_size=2000):
            yield frame
            done += len(frame)
            ExportJob.objects.filter(pk=job.pk).update(rows_done=done)

    try:
        export(with_progress(), codebook, folder / name, job.format, language=job.language)
    except Exception as error:
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error=type(error).__name__)
        raise
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.DONE, file_name=name)
    job.refresh_from_db()
    return job
