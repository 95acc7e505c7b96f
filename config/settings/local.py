"""Developer and demo settings: safe defaults so `make demo` needs no set-up. Never for production."""

import os

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "candid-demo-only-not-secret-" + "x" * 32)
CANDID_RECEIPT_KEY = os.environ.get("CANDID_RECEIPT_KEY", "candid-demo-receipt-key")
