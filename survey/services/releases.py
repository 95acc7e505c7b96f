"""Releasing complete responses to analysts in shuffled batches of at least k.

Why: someone who holds a copy of the database (files, log, a dump) and knows when a person finished
must not be able to pick that person's response out of fewer than k = ``CANDID_RELEASE_K`` (20,
never below 10). A row written when its participant finishes carries that moment in every physical
trace a database keeps: SQLite's rowid and page layout, PostgreSQL's ``xmin`` and ``ctid``, the order
of a dump. So a completion does not reach the table analysts read at once.

How: "Finish" marks the participant's ``PendingResponse`` complete. When k complete responses of one
sample and questionnaire version are waiting, the completion that made them k copies all of them
to ``Response`` in one transaction: a shuffled order, fresh random ids, the batch's date as every
completion date, and the pending rows deleted. A batch is per sample and version because both can
be known from outside (the link someone used; the version live at the time).

When the fieldwork closes (the study's end date has passed, or it or the sample reached its target
size) the remainder of each sample and version is released too, merged with that key's previous
batch where there is one: the previous batch's responses (keeping their ids) and the remainder are
written again together, in one shuffled order, as one new batch. Only a sample and version with
fewer than k complete responses in all ends with a batch smaller than k, and then it is their
number, not their arrival order, that narrows them (``manage.py anonymity_audit`` reports such
batches).

After each release the tables are scrubbed of the pending rows' old versions (``survey.storage``).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from ..models import FieldworkKind, PendingResponse, ReleaseBatch, Response, ResponseStatus, Sample, Study
from ..selectors import completions_by_sample, release_k
from ..storage import PENDING_TABLE, RELEASED_TABLE
from .fieldwork import fieldwork_count
from .maintenance import scrub_after_commit


@transaction.atomic
def responses_release_due(*, sample_id: int, version_id: int) -> ReleaseBatch | None:
    """Release the waiting complete responses of one sample and version if there are at least k.

    Called inside the completion's transaction, so the batch is written by that one transaction.
    Concurrent completions of the sample queue on a lock of its row.
    """
    _lock_sample(sample_id)
    waiting = list(
        PendingResponse.objects.select_for_update()
        .filter(sample_id=sample_id, version_id=version_id, status=ResponseStatus.COMPLETE)
        .order_by("pk")
    )
    if len(waiting) < release_k():
        return None
    return _release(waiting, previous=None, at_close=False)


@transaction.atomic
def responses_release_closed(*, study: Study) -> int:
    """Release the remainder of every sample whose fieldwork is over; the number of responses released.

    A sample's fieldwork is over when the study's end date has passed or the study or the sample
    reached its target size. Nothing happens for a study still in the field.
    """
    closed = closed_samples(study)
    released = 0
    for sample_id in closed:
        _lock_sample(sample_id)
        waiting = list(
            PendingResponse.objects.select_for_update()
            .filter(sample_id=sample_id, status=ResponseStatus.COMPLETE)
            .order_by("version_id", "pk")
        )
        by_version: dict[int, list[PendingResponse]] = {}
        for row in waiting:
            by_version.setdefault(row.version_id, []).append(row)
        for version_id, rows in by_version.items():
            previous = None
            if len(rows) < release_k():
                previous = (
                    ReleaseBatch.objects.select_for_update()
                    .filter(sample_id=sample_id, version_id=version_id)
                    .order_by("-pk")
                    .first()
                )
            _release(rows, previous=previous, at_close=True)
            released += len(rows)
    return released


def release_at_close_schedule(*, study: Study) -> None:
    """Have the background worker release the remainder the day after the study's end date
    (``tasks.release_closed``), once this transaction commits; one queued run per study and date.

    Called on each completion, so a study closed by its date never waits for a staff visit or for
    ``manage.py release_responses`` (which does the same from cron).
    """
    if study.closes_on is None:
        return
    when = timezone.make_aware(datetime.combine(study.closes_on + timedelta(days=1), time.min))
    transaction.on_commit(lambda: _enqueue_release(study.pk, when))


def _enqueue_release(study_id: int, when: datetime) -> None:
    from django_tasks_db.models import DBTaskResult

    from ..tasks import release_closed

    queued = DBTaskResult.objects.filter(
        task_path=release_closed.module_path, status="READY", run_after=when, args_kwargs__args=[study_id]
    )
    if not queued.exists():
        release_closed.using(run_after=when).enqueue(study_id)


def closed_samples(study: Study) -> list[int]:
    """Ids of the study's samples whose fieldwork is over (see :func:`responses_release_closed`)."""
    samples = list(Sample.objects.filter(study=study).values_list("pk", "target_size"))
    if study.closes_on is not None and timezone.localdate() > study.closes_on:
        return [pk for pk, _ in samples]
    done = completions_by_sample(study)
    if study.target_size and sum(done.values()) >= study.target_size:
        return [pk for pk, _ in samples]
    return [pk for pk, target in samples if target and done.get(pk, 0) >= target]


def _lock_sample(sample_id: int) -> None:
    list(Sample.objects.select_for_update().filter(pk=sample_id).values_list("pk", flat=True))


def _release(rows: list[PendingResponse], *, previous: ReleaseBatch | None, at_close: bool) -> ReleaseBatch:
    """Copy ``rows`` (and ``previous``'s responses) to ``Response`` as one shuffled batch."""
    first = rows[0]
    today = timezone.localdate()
    earlier = list(Response.objects.filter(batch=previous)) if previous is not None else []
    batch = ReleaseBatch.objects.create(
        study_id=first.study_id,
        sample_id=first.sample_id,
        version_id=first.version_id,
        released_on=today,
        size=len(rows) + len(earlier),
        at_close=at_close,
    )
    released = [_released_copy(row, batch) for row in rows] + [
        _moved(response, batch) for response in earlier
    ]
    secrets.SystemRandom().shuffle(released)
    PendingResponse.objects.filter(pk__in=[row.pk for row in rows]).delete()
    if previous is not None:
        Response.objects.filter(batch=previous).delete()
        previous.delete()
    Response.objects.bulk_create(released)  # one INSERT, rows in the shuffled order
    # The day's completions are counted when they are released, as the batch dates them.
    synthetic = sum(1 for row in rows if row.is_synthetic)
    for flag, n in ((False, len(rows) - synthetic), (True, synthetic)):
        if n:
            fieldwork_count(sample_id=first.sample_id, kind=FieldworkKind.COMPLETED, synthetic=flag, by=n)
    scrub_after_commit(tables=[PENDING_TABLE, *([RELEASED_TABLE] if earlier else [])])
    return batch


def _released_copy(row: PendingResponse, batch: ReleaseBatch) -> Response:
    return Response(
        id=uuid.uuid4(),
        study_id=row.study_id,
        sample_id=row.sample_id,
        version_id=row.version_id,
        consent_id=row.consent_id,
        batch=batch,
        language=row.language,
        answers=row.answers,
        display=row.display,
        completed_on=batch.released_on,
        duration_seconds=row.duration_seconds,
        is_synthetic=row.is_synthetic,
        receipt_hash=row.receipt_hash,
    )


def _moved(response: Response, batch: ReleaseBatch) -> Response:
    response.batch = batch
    response.completed_on = batch.released_on
    return response


@transaction.atomic
def responses_rebatch_short(*, batch_id: int) -> ReleaseBatch | None:
    """After a withdrawal: a batch left with fewer than k responses joins its neighbour of the same
    sample and version (the next batch, else the previous one), written again as one shuffled batch.

    Runs inside the withdrawal's transaction. Returns the merged batch, or None when nothing was
    needed (or the batch has no neighbour: then its sample and version never had k responses).
    """
    batch = ReleaseBatch.objects.select_for_update().filter(pk=batch_id).first()
    if batch is None:
        return None
    _lock_sample(batch.sample_id)
    remaining = list(Response.objects.filter(batch=batch))
    if len(remaining) >= release_k():
        ReleaseBatch.objects.filter(pk=batch.pk).update(size=len(remaining))
        return None
    siblings = ReleaseBatch.objects.select_for_update().filter(
        sample_id=batch.sample_id, version_id=batch.version_id
    )
    neighbour = (
        siblings.filter(pk__gt=batch.pk).order_by("pk").first()
        or siblings.filter(pk__lt=batch.pk).order_by("-pk").first()
    )
    if neighbour is None:
        ReleaseBatch.objects.filter(pk=batch.pk).update(size=len(remaining))
        return None
    earlier = remaining + list(Response.objects.filter(batch=neighbour))
    merged = ReleaseBatch.objects.create(
        study_id=batch.study_id,
        sample_id=batch.sample_id,
        version_id=batch.version_id,
        released_on=max(batch.released_on, neighbour.released_on),
        size=len(earlier),
        at_close=batch.at_close or neighbour.at_close,
    )
    moved = [_moved(response, merged) for response in earlier]
    secrets.SystemRandom().shuffle(moved)
    Response.objects.filter(batch__in=[batch, neighbour]).delete()
    ReleaseBatch.objects.filter(pk__in=[batch.pk, neighbour.pk]).delete()
    Response.objects.bulk_create(moved)
    scrub_after_commit(tables=[RELEASED_TABLE])
    return merged
