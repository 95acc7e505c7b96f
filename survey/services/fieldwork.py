"""Fieldwork writes: cell quotas (checked as answers arrive, counted on completion) and the day's counts.

Quotas are safe under concurrency on both databases. A completion claims a place in every cell its
answers fall in with one conditional ``UPDATE ... SET filled = filled + 1 WHERE filled < limit`` per
cell, in the order of the cells' ids (so two completions never wait on each other in a cycle). On
PostgreSQL the update locks the row and re-checks the condition after a concurrent claim commits; on
SQLite writers queue (``BEGIN IMMEDIATE``). If any cell is full the claims made so far are rolled
back (a savepoint) and the participant is screened out; the table's check constraint refuses a count
above the limit whatever the code does.

A day's counts (``FieldworkCount``) are bare numbers per sample, day and kind; they are inserted
with "insert or ignore" and incremented in place, so no participant request meets a database error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from ..models import FieldworkCount, Quota, Sample, Study
from .exports import audit_record

E_LIMIT_BELOW_FILLED = gettext_lazy(
    "{filled} completions are already counted in {name!r}; the limit cannot be lower"
)
E_QUOTA_NAME_TAKEN = gettext_lazy("the study already has a quota called {name!r}")
E_NO_CONDITIONS = gettext_lazy("choose at least one answer that puts a participant in the cell")


def fieldwork_count(*, sample_id: int, kind: str, synthetic: bool = False, by: int = 1) -> None:
    """Add ``by`` (may be negative, never below 0) to today's count of ``kind`` for a sample."""
    day = timezone.localdate()
    FieldworkCount.objects.bulk_create(
        [FieldworkCount(sample_id=sample_id, day=day, kind=kind, synthetic=synthetic, count=0)],
        ignore_conflicts=True,
    )
    rows = FieldworkCount.objects.filter(sample_id=sample_id, day=day, kind=kind, synthetic=synthetic)
    if by < 0:
        rows = rows.filter(count__gte=-by)
    rows.update(count=F("count") + by)


def _cells(sample_id: int, study_id: int) -> list[Quota]:
    return list(
        Quota.objects.filter(Q(sample_id=sample_id) | Q(sample__isnull=True), study_id=study_id).order_by(
            "pk"
        )
    )


def quota_full_cell(*, study_id: int, sample_id: int, answers: dict[str, Any]) -> Quota | None:
    """A cell the answers fall in that has no place left (limit 0: the participant does not qualify)."""
    return next(
        (cell for cell in _cells(sample_id, study_id) if cell.matches(answers) and cell.filled >= cell.limit),
        None,
    )


class _CellFull(Exception):
    def __init__(self, cell: Quota) -> None:
        self.cell = cell


def quota_claim(*, study_id: int, sample_id: int, answers: dict[str, Any]) -> Quota | None:
    """Count one completion in every cell ``answers`` fall in; returns the full cell that refused it
    (then nothing is counted), or None. Runs inside the caller's transaction."""
    cells = [cell for cell in _cells(sample_id, study_id) if cell.matches(answers)]
    if not cells:
        return None
    try:
        with transaction.atomic():
            for cell in cells:
                claimed = Quota.objects.filter(pk=cell.pk, filled__lt=F("limit")).update(
                    filled=F("filled") + 1
                )
                if not claimed:
                    raise _CellFull(cell)
    except _CellFull as full:
        return full.cell
    return None


def quota_release(*, study_id: int, sample_id: int, answers: dict[str, Any]) -> None:
    """Give back the places a withdrawn completion held (its cells can take another participant)."""
    for cell in _cells(sample_id, study_id):
        if cell.matches(answers):
            Quota.objects.filter(pk=cell.pk, filled__gt=0).update(filled=F("filled") - 1)


@dataclass(frozen=True)
class QuotaData:
    name: str
    sample: Sample | None
    conditions: dict[str, list[str]]
    limit: int


@transaction.atomic
def quota_save(*, user: AbstractBaseUser, study: Study, quota: Quota | None, data: QuotaData) -> Quota:
    """Add a cell quota to ``study`` or change one (its count stays); audited."""
    if not data.conditions or not all(data.conditions.values()):
        raise ValidationError(str(E_NO_CONDITIONS), code="no_conditions")
    if Quota.objects.filter(study=study, name=data.name).exclude(pk=quota.pk if quota else None).exists():
        raise ValidationError(E_QUOTA_NAME_TAKEN.format(name=data.name), code="quota_name_taken")
    cell = Quota.objects.select_for_update().get(pk=quota.pk) if quota else Quota(study=study)
    if data.limit < cell.filled:
        raise ValidationError(
            E_LIMIT_BELOW_FILLED.format(filled=cell.filled, name=cell.name), code="limit_below_filled"
        )
    cell.name, cell.sample, cell.conditions, cell.limit = data.name, data.sample, data.conditions, data.limit
    cell.full_clean()
    cell.save()
    audit_record(
        user=user,
        action="quota_changed" if quota else "quota_added",
        study=study,
        quota=cell.name,
        sample=cell.sample.slug if cell.sample else None,
        conditions=cell.conditions,
        limit=cell.limit,
    )
    return cell


@transaction.atomic
def quota_grid_create(
    *,
    user: AbstractBaseUser,
    study: Study,
    sample: Sample | None,
    dimensions: list[tuple[str, list[tuple[str, str]]]],
    limit: int,
) -> list[Quota]:
    """One cell per combination of the dimensions' choices (e.g. age band × gender), each with ``limit``.

    ``dimensions`` is ``[(question code, [(choice code, choice label), ...]), ...]``; cells are named
    by their labels. Refused as a whole when any name is already taken.
    """
    combinations: list[list[tuple[str, str, str]]] = [[]]
    for code, choices in dimensions:
        combinations = [
            [*combo, (code, choice, label)] for combo in combinations for choice, label in choices
        ]
    prefix = f"{sample.slug}: " if sample else ""
    cells = [
        Quota(
            study=study,
            sample=sample,
            name=(prefix + " × ".join(label for _code, _choice, label in combo))[:200],
            conditions={code: [choice] for code, choice, _label in combo},
            limit=limit,
        )
        for combo in combinations
        if combo
    ]
    taken = set(
        Quota.objects.filter(study=study, name__in=[c.name for c in cells]).values_list("name", flat=True)
    )
    if taken:
        raise ValidationError(E_QUOTA_NAME_TAKEN.format(name=sorted(taken)[0]), code="quota_name_taken")
    for cell in cells:
        cell.full_clean()
    Quota.objects.bulk_create(cells)
    audit_record(
        user=user,
        action="quota_added",
        study=study,
        quotas=[cell.name for cell in cells],
        sample=sample.slug if sample else None,
        limit=limit,
    )
    return cells


@transaction.atomic
def quota_delete(*, user: AbstractBaseUser, quota: Quota) -> None:
    study, name = quota.study, quota.name
    quota.delete()
    audit_record(user=user, action="quota_removed", study=study, quota=name)
