"""The test settings with ``tests.stall_urls``, for gunicorn runs of the stalled-request tests."""

from config.settings.test import *  # noqa: F403

ROOT_URLCONF = "tests.stall_urls"
DEBUG = False
