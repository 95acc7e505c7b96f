"""Writing exports and the audit trail of staff actions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from analysis.codebook import Codebook
from analysis.exports import FORMATS, export, write_codebook

from .. import bridge_copy
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


def export_write(
    study: Study,
    codebook: Codebook,
    path: Path,
    fmt: str,
    *,
    language: str,
    include_synthetic: bool = True,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = 2000,
    **options: Any,
) -> int:
    """Write the study's complete responses in ``fmt`` with the codebook beside; returns the rows.

    CSV of codes on PostgreSQL is written by the database itself (``survey.bridge_copy``); every other
    case goes through the bridge's DataFrames and ``analysis.exports``.
    """
    if fmt == "csv" and bridge_copy.available(fmt, options.get("values", "codes")):
        rows = bridge_copy.copy_csv(
            study,
            codebook,
            path,
            include_synthetic=include_synthetic,
            bom=options.get("bom", False),
            progress=progress,
        )
        write_codebook(codebook, path, language=language)
        return rows

    def frames():
        done = 0
        for frame in iter_response_frames(
            study, include_synthetic=include_synthetic, codebook=codebook, chunk_size=chunk_size
        ):
            yield frame
            done += len(frame)
            if progress:
                progress(done)

    return export(frames(), codebook, path, fmt, language=language, **options)


def export_job_run(*, job_id: str) -> ExportJob:
    """Write the export file, updating progress chunk by chunk."""
    job = ExportJob.objects.select_related("study").get(pk=job_id)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING)
    folder = export_folder(job)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{job.study.slug}-responses.{job.format}"
    codebook = study_codebook(job.study)

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows_done=done)

    try:
        rows = export_write(
            job.study, codebook, folder / name, job.format, language=job.language, progress=progress
        )
    except Exception as error:
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error=type(error).__name__)
        raise
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.DONE, file_name=name, rows_done=rows)
    job.refresh_from_db()
    return job
