"""Writing exports, deleting them again, and the audit trail of staff actions.

Export files hold microdata, so they do not outlive their use: each is deleted by the background
worker ``CANDID_EXPORT_RETENTION_HOURS`` (24) after it was written, and every export file of a
study is deleted at once when one of its participants withdraws (``export_files_forget``). A
deleted export's download link answers 410 Gone with the reason.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from analysis.codebook import Codebook
from analysis.exports import EXTENSIONS, FORMATS, export, write_codebook
from analysis.quality import QualityRules, with_flag_columns

from .. import bridge_copy
from ..bridge import (
    iter_partial_frames,
    iter_response_frames,
    legacy_responses,
    study_codebook,
    study_parameters,
)
from ..models import AuditEvent, ExportJob, ExportRemoval, ExportStatus, Study
from ..selectors import in_progress_responses, released_responses

# Files written beside an export's data file, downloadable from its page.
EXTRA_FILES = (".codebook.html", ".codebook.json", ".sps", ".do")


def audit_record(
    *, user: AbstractBaseUser | None, action: str, study: Study | None = None, **detail: Any
) -> AuditEvent:
    return AuditEvent.objects.create(user=user, study=study, action=action, detail=detail)


def export_folder(job: ExportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / "exports" / str(job.pk)


def _delete_folders(job_ids: list[Any]) -> None:
    for job_id in job_ids:
        shutil.rmtree(Path(settings.MEDIA_ROOT) / "exports" / str(job_id), ignore_errors=True)


@transaction.atomic
def export_files_forget(*, study_id: int) -> int:
    """Delete every export file of a study that could hold a withdrawn response; returns how many
    exports lost their files.

    Called by the withdrawal service inside its transaction. Every finished or running export of the
    study is marked removed (reason: withdrawal) and its folder deleted now, whatever its age: any
    of them may hold the response, and saying which would tell when that person answered. A running
    export notices the mark when it finishes and deletes what it wrote (``export_job_run``). Files
    are deleted before the transaction commits: if it rolls back, an export is lost, never a
    withdrawal.
    """
    jobs = list(
        ExportJob.objects.select_for_update()
        .filter(study_id=study_id, status__in=[ExportStatus.DONE, ExportStatus.RUNNING])
        .values_list("pk", flat=True)
    )
    ExportJob.objects.filter(pk__in=jobs).update(
        status=ExportStatus.REMOVED, removed_reason=ExportRemoval.WITHDRAWAL, expires_at=None
    )
    _delete_folders(jobs)
    return len(jobs)


def export_files_expire(*, now: datetime | None = None) -> int:
    """Delete the files of every export past its ``expires_at``; returns how many were deleted.

    Run by the background worker (``tasks.expire_exports``, enqueued for each export's expiry time)
    and by ``manage.py expire_exports`` (for cron, should the worker have been down).
    """
    now = now or timezone.now()
    jobs = list(
        ExportJob.objects.filter(status=ExportStatus.DONE, expires_at__lte=now).values_list("pk", flat=True)
    )
    ExportJob.objects.filter(pk__in=jobs, status=ExportStatus.DONE).update(
        status=ExportStatus.REMOVED, removed_reason=ExportRemoval.EXPIRED
    )
    _delete_folders(jobs)
    return len(jobs)


def django_language(code: str) -> str:
    """The Django language of a questionnaire language code (``zh`` is Simplified Chinese here)."""
    return "zh-hans" if code.split("-")[0] == "zh" else code


def export_retention() -> timedelta:
    return timedelta(hours=settings.CANDID_EXPORT_RETENTION_HOURS)


# Options an export may take, all off by default: missing answers as codes in CSV/XLSX/Parquet/JSON,
# SPSS and Stata syntax beside a CSV, responses in progress beside the released ones, and the four
# data-quality flags as 0/1 columns (``analysis.quality.with_flag_columns``: computed over every
# response at once, so the export holds the whole frame; not with partial responses).
EXPORT_OPTIONS = ("missing_codes", "syntax", "partial", "quality_flags")


@transaction.atomic
def export_job_create(
    *, user: AbstractBaseUser, study: Study, fmt: str, language: str, options: dict[str, bool] | None = None
) -> ExportJob:
    """Record the request (and its audit event); the caller runs it now or enqueues it."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    if language not in study.languages:
        raise ValueError(f"study {study.slug!r} has no language {language!r}")
    options = {name: True for name in EXPORT_OPTIONS if (options or {}).get(name)}
    total = released_responses(study).count()
    if options.get("partial"):
        total += in_progress_responses(study).count()
    job = ExportJob.objects.create(
        study=study, user=user, format=fmt, language=language, rows_total=total, options=options
    )
    audit_record(
        user=user,
        action="export_requested",
        study=study,
        format=fmt,
        language=language,
        responses=total,
        job=str(job.pk),
        **options,
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
    chunk_size: int = 10_000,
    partial: bool = False,
    **options: Any,
) -> int:
    """Write the study's complete responses in ``fmt`` with the codebook beside; returns the rows.

    ``partial`` adds responses in progress (``bridge.iter_partial_frames``; the codebook must be
    ``study_codebook(partial=True)``). CSV of codes on PostgreSQL is written by the database itself
    (``survey.bridge_copy``) unless missing codes or syntax are asked for; every other case goes
    through the bridge's DataFrames and ``analysis.exports``. Candid's words in the files (the
    codebook page, missing-value labels) are in the active Django language.
    """
    if (
        fmt == "csv"
        and not partial
        and not options.get("quality_flags")
        and bridge_copy.available(fmt, options.get("values", "codes"))
        and not options.get("missing_codes")
        and not options.get("syntax")
        and not legacy_responses(study)
    ):
        rows = bridge_copy.copy_csv(
            study,
            codebook,
            path,
            include_synthetic=include_synthetic,
            bom=options.get("bom", False),
            progress=progress,
        )
        write_codebook(codebook, path, language=language, translate=gettext)
        return rows

    if options.pop("quality_flags", False):
        if partial:
            raise ValueError("quality flags are computed on complete responses only")
        whole = [
            pd.concat(
                list(iter_response_frames(study, include_synthetic=include_synthetic, codebook=codebook))
            )
        ]
        frame, codebook = with_flag_columns(
            whole[0],
            codebook,
            parameters=study_parameters(study),
            rules=QualityRules(speeding=study.speeding_fraction),
        )
        if progress:
            progress(len(frame))
        return export([frame], codebook, path, fmt, language=language, translate=gettext, **options)

    def frames():
        done = 0
        source = iter_partial_frames if partial else iter_response_frames
        for frame in source(
            study, include_synthetic=include_synthetic, codebook=codebook, chunk_size=chunk_size
        ):
            yield frame
            done += len(frame)
            if progress:
                progress(done)

    return export(frames(), codebook, path, fmt, language=language, translate=gettext, **options)


def export_job_run(*, job_id: str) -> ExportJob:
    """Write the export file, updating progress chunk by chunk."""
    job = ExportJob.objects.select_related("study").get(pk=job_id)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING)
    folder = export_folder(job)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{job.study.slug}-responses.{EXTENSIONS.get(job.format, job.format)}"
    options = dict(job.options)
    codebook = study_codebook(job.study, partial=bool(options.get("partial")))

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows_done=done)

    try:
        with translation.override(django_language(job.language)):
            rows = export_write(
                job.study,
                codebook,
                folder / name,
                job.format,
                language=job.language,
                progress=progress,
                **options,
            )
    except Exception as error:
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error=type(error).__name__)
        _delete_folders([job.pk])
        raise
    expires_at = timezone.now() + export_retention()
    finished = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
        status=ExportStatus.DONE, file_name=name, rows_done=rows, expires_at=expires_at
    )
    if not finished:  # a participant withdrew while the file was written: it may hold their answers
        _delete_folders([job.pk])
    else:
        from ..tasks import expire_exports  # the tasks module imports this one

        deletion = expire_exports.using(run_after=expires_at)
        if deletion.get_backend().supports_defer:
            deletion.enqueue()
    job.refresh_from_db()
    return job
