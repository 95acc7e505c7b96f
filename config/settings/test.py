"""Settings for the test suite: the database still comes from DATABASE_URL (SQLite by default)."""

import os

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "candid-test-secret-key-" + "t" * 40
CANDID_RECEIPT_KEY = "candid-test-receipt-key"
# Argon2 is what production uses; tests hash many passwords and only need a working hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# No request time budget unless a test sets one: on a busy machine a slow test request must fail
# on its own assertions, not turn into a "please try again" page.
CANDID_REQUEST_BUDGET_SECONDS = float(os.environ.get("CANDID_REQUEST_BUDGET_SECONDS", "0"))
# Likewise no inline build deadline of its own: a slow build must not turn into "being built".
CANDID_INLINE_BUILD_SECONDS = float(os.environ.get("CANDID_INLINE_BUILD_SECONDS", "0"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# SQLite: a file, not Django's shared in-memory database. With an in-memory database the live
# server's request threads and the test's thread share one connection, and two threads on one
# sqlite3 connection can deadlock (one holds SQLite's mutex waiting for the GIL, the other holds
# the GIL waiting for the mutex) — the browser tests once hung CI that way. A file gives every
# thread its own connection, as in production, with WAL and the busy timeout above.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"candid-test-{os.getpid()}.sqlite3")
    }
