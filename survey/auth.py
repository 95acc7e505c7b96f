"""Staff sign-in with brute-force protection: after repeated failures for one username, further
attempts are refused for a while, whatever the password. Only staff usernames (hashed) are counted;
participants never sign in and leave nothing here."""

from __future__ import annotations

import hashlib
import time

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.db.models import F, Sum

from .models import RateBucket

MAX_FAILURES = 5
WINDOW_MINUTES = 15
E_LOCKED = "Too many failed sign-ins for this account. Try again in {minutes} minutes."


def _bucket_name(username: str) -> str:
    return "login:" + hashlib.sha256(username.strip().lower().encode()).hexdigest()[:24]


def recent_failures(username: str) -> int:
    minute = int(time.time() // 60)
    total = RateBucket.objects.filter(
        name=_bucket_name(username), minute__gt=minute - WINDOW_MINUTES
    ).aggregate(n=Sum("count"))["n"]
    return total or 0


def record_failure(username: str) -> None:
    minute = int(time.time() // 60)
    bucket, _ = RateBucket.objects.get_or_create(name=_bucket_name(username), minute=minute)
    RateBucket.objects.filter(pk=bucket.pk).update(count=F("count") + 1)


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    def clean(self):
        username = self.data.get("username", "")
        if recent_failures(username) >= MAX_FAILURES:
            raise forms.ValidationError(E_LOCKED.format(minutes=WINDOW_MINUTES), code="locked")
        try:
            return super().clean()
        except forms.ValidationError:
            record_failure(username)
            raise
