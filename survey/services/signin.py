"""Writing the staff sign-in failure counters (see ``survey.auth`` for the rules they serve)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F

from ..models import SignInFailures


@transaction.atomic
def signin_failure_record(*, keys: Iterable[str], minute: int, window: int) -> None:
    """Count one failed sign-in under each of ``keys`` in ``minute``, and forget counts older than
    ``window`` minutes (so nothing about a failure outlives the time it is counted for)."""
    SignInFailures.objects.filter(minute__lte=minute - window).delete()
    for key in keys:
        bucket, _ = SignInFailures.objects.get_or_create(key=key, minute=minute)
        SignInFailures.objects.filter(pk=bucket.pk).update(count=F("count") + 1)


@transaction.atomic
def signin_failures_clear(*, keys: Iterable[str] | None = None) -> int:
    """Forget the failures counted under ``keys`` (every failure when None); returns rows removed."""
    rows = SignInFailures.objects.all() if keys is None else SignInFailures.objects.filter(key__in=list(keys))
    removed, _ = rows.delete()
    return removed
