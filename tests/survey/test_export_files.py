"""Export files do not outlive their use: they expire, and a withdrawal deletes every one that could
hold the response (its link then answers 410 with the reason). Checked by grepping the files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from survey.models import ExportJob, ExportStatus, Response
from survey.services import exports as export_services
from survey.tasks import expire_exports

pytestmark = pytest.mark.django_db

MARKER = "withdrawn-answer-7f3a9c"


def _files_holding(root: Path, text: str) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``text`` (as UTF-8): a grep of the media folder."""
    needle = text.encode()
    return [path for path in root.rglob("*") if path.is_file() and needle in path.read_bytes()]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def answered_once(participant, admin_user_, shipped_study):
    """One completed and released response whose free-text answer is a marker we can grep for."""
    from tests.helpers import close_fieldwork

    _, outcome = participant()
    close_fieldwork(shipped_study)
    response = Response.objects.get()
    response.answers = {**response.answers, "comments": MARKER}
    response.save(update_fields=["answers"])
    client = Client()
    client.force_login(admin_user_)
    return outcome, client


def _export(client: Client, study_slug: str, fmt: str) -> ExportJob:
    client.post(reverse("survey:export", args=[study_slug]), {"format": fmt, "language": "en"})
    return ExportJob.objects.order_by("-created_at").first()


def test_withdrawal_deletes_every_export_file_holding_the_answers(answered_once, shipped_study, media):
    outcome, staff = answered_once
    jobs = [_export(staff, shipped_study.slug, fmt) for fmt in ("csv", "xlsx", "json", "parquet", "sav")]
    assert all(job.status == ExportStatus.DONE for job in jobs)
    holding = {path.suffix for path in _files_holding(media, MARKER)}
    assert {".csv", ".json"} <= holding  # the others may compress the text
    participant = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert (
        participant.post("/withdraw/", {"code": outcome.receipt_code, "action": "confirm"}).status_code == 200
    )
    assert Response.objects.count() == 0
    assert _files_holding(media, MARKER) == []
    assert not any((media / "exports").iterdir())
    for job in jobs:
        job.refresh_from_db()
        assert job.status == ExportStatus.REMOVED and job.removed_reason == "withdrawal"
        gone = staff.get(reverse("survey:export_download", args=[job.pk]))
        assert gone.status_code == 410
        assert "withdrew" in gone.content.decode()
        assert "withdrew" in staff.get(reverse("survey:export_status", args=[job.pk])).content.decode()


def test_an_export_running_during_a_withdrawal_deletes_what_it_wrote(
    answered_once, shipped_study, media, monkeypatch
):
    outcome, staff = answered_once
    real_write = export_services.export_write

    def write_then_withdraw(*args, **kwargs):
        rows = real_write(*args, **kwargs)
        # the participant withdraws after the rows were read, before the job is marked done
        Client().post("/withdraw/", {"code": outcome.receipt_code, "action": "confirm"})
        return rows

    monkeypatch.setattr(export_services, "export_write", write_then_withdraw)
    job = _export(staff, shipped_study.slug, "csv")
    assert job.status == ExportStatus.REMOVED and job.removed_reason == "withdrawal"
    assert _files_holding(media, MARKER) == []
    assert staff.get(reverse("survey:export_download", args=[job.pk])).status_code == 410


def test_export_files_expire_and_the_worker_deletes_them(answered_once, shipped_study, media, settings):
    settings.CANDID_EXPORT_RETENTION_HOURS = 24
    _, staff = answered_once
    before = timezone.now()
    job = _export(staff, shipped_study.slug, "csv")
    assert before + timedelta(hours=24) <= job.expires_at <= timezone.now() + timedelta(hours=24)
    status_page = staff.get(reverse("survey:export_status", args=[job.pk])).content.decode()
    assert "deleted at" in status_page
    assert staff.get(reverse("survey:export_download", args=[job.pk])).status_code == 200

    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.get(task_path="survey.tasks.expire_exports")
    assert queued.run_after == job.expires_at  # the worker runs the deletion when the file expires

    assert expire_exports.call() == 0  # not yet
    assert _files_holding(media, MARKER)
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert staff.get(reverse("survey:export_download", args=[job.pk])).status_code == 410  # even before
    assert expire_exports.call() == 1
    assert _files_holding(media, MARKER) == []
    job.refresh_from_db()
    assert job.status == ExportStatus.REMOVED and job.removed_reason == "expired"
    gone = staff.get(reverse("survey:export_download", args=[job.pk]))
    assert gone.status_code == 410 and "24 hours" in gone.content.decode()


def test_expire_exports_command_for_cron(answered_once, shipped_study, media, call_command_capture):
    _, staff = answered_once
    job = _export(staff, shipped_study.slug, "json")
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert "Deleted the files of 1 expired exports" in call_command_capture("expire_exports")
    assert _files_holding(media, MARKER) == []
