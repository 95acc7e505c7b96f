"""Settings for the test suite: the database still comes from DATABASE_URL (SQLite by default)."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "candid-test-secret-key-" + "t" * 40
CANDID_RECEIPT_KEY = "candid-test-receipt-key"
# Argon2 is what production uses; tests hash many passwords and only need a working hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
