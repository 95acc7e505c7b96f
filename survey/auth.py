"""Staff sign-in throttling: per account, across accounts (password spraying), never forever.

Rules, for every sign-in that goes through Django's ``authenticate`` (the admin's and any other):

- **Per account.** After ``CANDID_SIGNIN_FAILURES`` failures for one username within
  ``CANDID_SIGNIN_WINDOW_MINUTES``, further attempts for it are refused, whatever the password,
  until the oldest counted failure leaves the window. The username is counted in the form Django's
  authentication compares (the form strips it and applies Unicode NFKC, as
  ``django.contrib.auth.forms.UsernameField`` does), case-folded on top: ``ｖｉctim`` and
  ``Victim`` are the same account here. Unknown usernames are counted alike, so the lock tells
  nothing about which accounts exist.
- **Across accounts.** After ``CANDID_SIGNIN_SPRAY_LIMIT`` failures over all usernames within the
  window, sign-in from browsers that are not trusted devices pauses until the count falls.
- **Trusted devices, never locked out forever.** A browser where an account signed in successfully
  gets a signed, HttpOnly *device cookie* bound to that account's primary key and password and to
  a random device id (OWASP's "device cookies" scheme against online guessing; a new password ends
  every cookie issued before). Attempts *for that account* from it are counted on the device alone and are exempt from the account's lock and the site-wide
  pause, so a stranger's guessing cannot lock a member of staff out of their own browser. The
  cookie is the account's, not its name's: accounts ``Carol`` and ``carol`` are two accounts, and
  one's cookie is nothing to the other (an attacker needs the account's password to get one).
  Attempts refused while locked are not counted, so a lock ends one window after the last failure
  that counted. ``manage.py signin_unlock`` lifts locks by hand.
- **Password changes.** A wrong old password on the password-change page (``/admin/password_change/``,
  the one staff share) counts as a failed sign-in of that account, and a locked account cannot
  change its password there, so a borrowed session is no unlimited password oracle.

What is stored (``SignInFailures``): per minute, counts under a keyed hash (HMAC with the
secret key) of the normalised username or of the device id, and one count for all usernames —
no username, IP address, user agent or session. Rows older than the window are deleted.
Participants never sign in, so nothing here is about them.
"""

from __future__ import annotations

import secrets
import time
import unicodedata
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UsernameField
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from .models import SignInFailures

E_LOCKED = _("Too many failed sign-ins for this account. Try again in {minutes} minutes.")
E_PAUSED = _(
    "Sign-in is paused for a while after many failed attempts on this site. Try again in {minutes} "
    "minutes, or from a browser where you signed in before."
)
DEVICE_COOKIE = "candid_staff_device"
DEVICE_SALT = "candid-staff-device"
DEVICE_DAYS = 90
ALL_ACCOUNTS = "all"


def failure_limit() -> int:
    return settings.CANDID_SIGNIN_FAILURES


def window_minutes() -> int:
    return settings.CANDID_SIGNIN_WINDOW_MINUTES


def spray_limit() -> int:
    return settings.CANDID_SIGNIN_SPRAY_LIMIT


def normalise_username(raw: Any) -> str:
    """The username as authentication compares it (stripped, NFKC), case-folded as well."""
    value = UsernameField().to_python(raw if isinstance(raw, str) else "")
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())


def _keyed(kind: str, value: str) -> str:
    return f"{kind}:" + salted_hmac("candid-signin-" + kind, value, algorithm="sha256").hexdigest()[:32]


def account_key(raw_username: Any) -> str:
    return _keyed("account", normalise_username(raw_username))


def _now_minute() -> int:
    return int(time.time() // 60)


def recent_failures(key: str) -> int:
    """Failures counted under ``key`` within the window (one query)."""
    since = _now_minute() - window_minutes()
    total = SignInFailures.objects.filter(key=key, minute__gt=since).aggregate(n=Sum("count"))["n"]
    return total or 0


def _device_value(user: Any) -> str:
    """The account a device cookie is for: its primary key and its password (Django's session
    hash of it), so that changing the password ends every device cookie issued before."""
    return _keyed("user", f"{user.pk}:{user.get_session_auth_hash()}")


def trusted_device(request: HttpRequest | None, raw_username: Any) -> str | None:
    """The counting key of this browser's device cookie when it was issued to the account that
    ``raw_username`` signs in as (found as Django's ``ModelBackend`` finds it: by natural key, after
    the sign-in form's NFKC), else None."""
    if request is None or not request.COOKIES.get(DEVICE_COOKIE):
        return None
    try:
        value = signing.loads(request.COOKIES[DEVICE_COOKIE], salt=DEVICE_SALT, max_age=DEVICE_DAYS * 86400)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("u"), str) or not value.get("d"):
        return None
    model = get_user_model()
    try:
        user = model._default_manager.get_by_natural_key(UsernameField().to_python(raw_username or ""))
    except model.DoesNotExist:
        return None
    if not secrets.compare_digest(value["u"], _device_value(user)):
        return None
    return _keyed("device", str(value["d"]))


def account_lock(raw_username: Any) -> str | None:
    """The message refusing ``raw_username``'s account while it is locked, else None."""
    if recent_failures(account_key(raw_username)) >= failure_limit():
        return str(E_LOCKED).format(minutes=window_minutes())
    return None


def lock_reason(request: HttpRequest | None, raw_username: Any) -> str | None:
    """Why a sign-in for ``raw_username`` from ``request`` is refused now (a message), or None."""
    device = trusted_device(request, raw_username)
    if device is not None:  # the account's own browser: its own count only
        if recent_failures(device) >= failure_limit():
            return str(E_LOCKED).format(minutes=window_minutes())
        return None
    locked = account_lock(raw_username)
    if locked is not None:
        return locked
    if recent_failures(ALL_ACCOUNTS) >= spray_limit():
        return str(E_PAUSED).format(minutes=window_minutes())
    return None


def failure_record(raw_username: Any, device: str | None = None) -> None:
    """Count one failed sign-in (or wrong old password) of ``raw_username``: on its trusted ``device``
    alone when it came from one, else against the account and the site."""
    from .services.signin import signin_failure_record

    keys = [device] if device is not None else [account_key(raw_username), ALL_ACCOUNTS]
    signin_failure_record(keys=keys, minute=_now_minute(), window=window_minutes())


class SignInThrottleBackend:
    """First in ``AUTHENTICATION_BACKENDS``: refuses a locked sign-in before any password is checked
    (Django's ``authenticate`` stops at ``PermissionDenied``), and otherwise lets the next backend
    decide. It authenticates nobody and has no ``get_user`` or permission methods, so Django never
    takes it for the backend a session belongs to."""

    def authenticate(self, request: HttpRequest | None, username: Any = None, **kwargs: Any) -> None:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        reason = lock_reason(request, username)
        if reason is not None:
            if request is not None:
                request.candid_signin_refused = reason  # type: ignore[attr-defined]
            raise PermissionDenied(reason)
        return None


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    """Count a failure, on the device when it came from the account's trusted device (not one
    refused by a lock: those would keep the lock alive forever)."""
    if request is not None and getattr(request, "candid_signin_refused", None):
        return
    username = credentials.get("username", credentials.get(get_user_model().USERNAME_FIELD))
    failure_record(username, trusted_device(request, username))


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    """Mark this browser as a trusted device of ``user`` (its primary key, not its name); the
    middleware sets the cookie."""
    if request is not None:
        request.candid_device_cookie = signing.dumps(  # type: ignore[attr-defined]
            {"u": _device_value(user), "d": secrets.token_urlsafe(18)}, salt=DEVICE_SALT
        )


class TrustedDeviceMiddleware:
    """Sets the device cookie chosen at a successful sign-in (signals cannot touch the response)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        value = getattr(request, "candid_device_cookie", None)
        if value:
            response.set_cookie(
                DEVICE_COOKIE,
                value,
                max_age=DEVICE_DAYS * 86400,
                httponly=True,
                secure=settings.SESSION_COOKIE_SECURE,
                samesite="Lax",
            )
        return response


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in form, saying why a locked sign-in was refused."""

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except forms.ValidationError:
            reason = getattr(self.request, "candid_signin_refused", None)
            if reason:
                raise forms.ValidationError(reason, code="locked") from None
            raise


class ThrottledPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's password-change form (the page staff share): a wrong old password is a failed
    sign-in of the account, and a locked account is refused before its password is checked."""

    def clean_old_password(self) -> str:
        username = self.user.get_username()
        reason = account_lock(username)
        if reason is not None:
            raise forms.ValidationError(reason, code="locked")
        try:
            return super().clean_old_password()
        except forms.ValidationError:
            failure_record(username)
            raise
