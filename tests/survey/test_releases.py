"""Release batches (issue 10, item 4): analysts read complete responses only in shuffled batches of at
least k, so a known completion time narrows a response down to its batch and no further."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from django.core.checks import run_checks
from django.db import connection

from survey.models import PendingResponse, ReleaseBatch, Response, ResponseStatus
from survey.receipts import keyed_hash, receipt_hash
from survey.selectors import released_responses, study_monitoring
from survey.services.releases import release_k, responses_release_closed, responses_release_due
from survey.services.responses import receipt_code_for_token
from survey.storage import WITHOUT_ROWID_TABLES, ensure_without_rowid, is_without_rowid
from tests.helpers import close_fieldwork

pytestmark = pytest.mark.django_db


def complete_many(study, n: int, *, sample: str = "china", on: date | None = None) -> list[str]:
    """``n`` complete responses, each finished as ``services.responses`` finishes one (status, receipt
    hash, then the release check), in completion order; their receipt codes in that order."""
    target = study.samples.get(slug=sample)
    version = study.versions.get(status="published")
    codes = []
    for number in range(n):
        token = uuid.uuid4().hex
        code = receipt_code_for_token(study_id=study.pk, token=token)
        PendingResponse.objects.create(
            study=study,
            sample=target,
            version=version,
            consent=version.consent,
            language="zh",
            status=ResponseStatus.COMPLETE,
            answers={"arrival": number},
            creation_hash=keyed_hash(token, "creation"),
            resume_hash=keyed_hash(token, "resume"),
            receipt_hash=receipt_hash(code),
            started_on=on or date.today(),
            duration_seconds=600,
        )
        responses_release_due(sample_id=target.pk, version_id=version.pk)
        codes.append(code)
    return codes


def test_nothing_reaches_analysts_before_k_complete_responses(shipped_study):
    complete_many(shipped_study, release_k() - 1)
    assert not released_responses(shipped_study).exists()
    monitoring = study_monitoring(shipped_study)
    assert monitoring["completed"] == 0 and monitoring["awaiting_release"] == release_k() - 1
    complete_many(shipped_study, 1)
    assert released_responses(shipped_study).count() == release_k()
    assert not PendingResponse.objects.exists()
    batch = ReleaseBatch.objects.get()
    assert batch.size == release_k() and not batch.at_close


def test_a_batch_is_shuffled_with_fresh_ids_and_one_date(shipped_study):
    pending_ids = set()
    for _ in range(3):
        complete_many(shipped_study, release_k() - 1)
        pending_ids |= set(PendingResponse.objects.values_list("pk", flat=True))
        complete_many(shipped_study, 1)
    released = list(Response.objects.order_by("pk"))
    assert len(released) == 3 * release_k()
    assert not pending_ids & {r.pk for r in released}  # ids are not carried over
    assert {r.completed_on for r in released} == {date.today()}
    # How the rows lie in the files (rowid, ctid, xmin, dump order) is measured against arrival by
    # the anonymity audit (test_anonymity_audit.py).
    for batch in ReleaseBatch.objects.all():
        arrivals = sorted(r.answers["arrival"] for r in Response.objects.filter(batch=batch))
        assert arrivals == sorted([*range(release_k() - 1), 0])


def test_batches_are_per_sample_and_version(shipped_study):
    complete_many(shipped_study, release_k() - 1, sample="china")
    complete_many(shipped_study, release_k() - 1, sample="west")
    assert not Response.objects.exists()
    complete_many(shipped_study, 1, sample="west")
    assert set(Response.objects.values_list("sample__slug", flat=True)) == {"west"}


def test_at_close_the_remainder_joins_the_previous_batch(shipped_study):
    complete_many(shipped_study, release_k() + 3)
    assert responses_release_closed(study=shipped_study) == 0  # still in the field: nothing
    shipped_study.closes_on = date.today() - timedelta(days=1)
    shipped_study.save()
    first = set(Response.objects.values_list("pk", flat=True))
    assert responses_release_closed(study=shipped_study) == 3
    batch = ReleaseBatch.objects.get()
    assert batch.size == release_k() + 3 and batch.at_close
    assert first <= set(Response.objects.values_list("pk", flat=True))  # earlier ids kept
    assert not PendingResponse.objects.exists()


def test_a_sample_that_never_had_k_is_released_at_close_as_it_is(shipped_study):
    complete_many(shipped_study, 3)
    assert close_fieldwork(shipped_study) == 3
    assert ReleaseBatch.objects.get().size == 3


def test_reaching_the_target_size_closes_and_releases(participant, shipped_study):
    shipped_study.target_size = 2
    shipped_study.save()
    participant(seed=1)
    assert not Response.objects.exists()
    participant(seed=2)
    assert Response.objects.count() == 2


def test_exports_reports_and_counts_read_only_released_batches(answered_study):
    from survey.bridge import responses_frame
    from survey.services.exports import export_job_create

    complete_many(answered_study, 4)  # complete, waiting for their batch
    frame, _ = responses_frame(answered_study)
    assert len(frame) == 30 == study_monitoring(answered_study)["completed"]
    job = export_job_create(user=answered_study.owner, study=answered_study, fmt="csv", language="en")
    assert job.rows_total == 30


def test_k_is_never_below_ten(settings):
    settings.CANDID_RELEASE_K = 5
    assert release_k() == 10
    assert [m.id for m in run_checks() if m.id == "candid.E001"] == ["candid.E001"]
    settings.CANDID_RELEASE_K = 20
    assert not [m for m in run_checks() if m.id == "candid.E001"]


@pytest.mark.django_db(transaction=True)
def test_sqlite_tables_stay_without_rowid_after_django_rebuilds_them():
    """Django's SQLite schema editor remakes a table on ALTER and drops WITHOUT ROWID; every migrate
    puts it back (post_migrate), so a later migration cannot silently bring the rowid back."""
    if connection.vendor != "sqlite":
        pytest.skip("WITHOUT ROWID is SQLite's")
    assert all(is_without_rowid(connection, table) for table in WITHOUT_ROWID_TABLES)
    from django.db import models

    field = PendingResponse._meta.get_field("language")
    wider = models.CharField(max_length=32)
    wider.set_attributes_from_name("language")
    wider.model = PendingResponse
    with connection.schema_editor() as editor:
        editor.alter_field(PendingResponse, field, wider)  # what a migration's AlterField does
    assert not is_without_rowid(connection, "survey_pendingresponse")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # nothing to apply; post_migrate still runs
    assert is_without_rowid(connection, "survey_pendingresponse")
    assert ensure_without_rowid(connection) == []
    with connection.schema_editor() as editor:
        editor.alter_field(PendingResponse, wider, field)
    ensure_without_rowid(connection)


@pytest.mark.django_db(transaction=True)
def test_the_worker_releases_the_remainder_the_day_after_the_end_date(participant, shipped_study):
    from django_tasks_db.models import DBTaskResult

    from survey.tasks import release_closed

    shipped_study.closes_on = date.today() + timedelta(days=3)
    shipped_study.save()
    participant(seed=1)
    participant(seed=2)
    queued = DBTaskResult.objects.filter(task_path="survey.tasks.release_closed")
    assert queued.count() == 1  # one run per study and date, however many completions
    assert queued.get().run_after.date() == shipped_study.closes_on + timedelta(days=1)
    assert release_closed.call(shipped_study.pk) == 0  # before the date: nothing
    shipped_study.closes_on = date.today() - timedelta(days=1)
    shipped_study.save()
    assert release_closed.call(shipped_study.pk) == 2
    assert Response.objects.count() == 2 and not PendingResponse.objects.exists()


def test_release_responses_command_for_cron(shipped_study, call_command_capture):
    complete_many(shipped_study, 2)
    assert "Released 0 responses" in call_command_capture("release_responses")
    shipped_study.closes_on = date.today() - timedelta(days=1)
    shipped_study.save()
    assert "trust-and-rating-systems: released 2 responses" in call_command_capture("release_responses")
    assert "No study 'nope'" in call_command_capture("release_responses", "--study", "nope")
