"""Settings shared by every environment. Values that differ between machines come from the environment."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("CANDID_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database_from_env() -> dict:
    """DATABASE_URL, or an SQLite file under var/ tuned for safe concurrent writes."""
    url = os.environ.get("DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    else:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        config = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "candid.sqlite3")}
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the single writer; FULL makes a commit durable before a
        # "thank you" page is shown; IMMEDIATE takes the write lock at BEGIN so two writers queue
        # on the busy timeout instead of failing with "database is locked" on lock upgrade.
        # secure_delete overwrites deleted rows with zeros (a withdrawal leaves no trace in the
        # file), and journal_size_limit=0 shrinks the log to nothing whenever it restarts, so old
        # frames do not linger past its end (see survey/storage.py).
        config["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
                " PRAGMA journal_size_limit=0;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    return config


DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "survey.apps.CandidAdminConfig",  # Django's admin, for superusers only (survey.admin_site)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "import_export",
    "survey",
    # After survey: survey's ``db_worker`` command (one that survives a database restart) replaces its own.
    "django_tasks_db",
]

# Long exports run as background tasks: Django's tasks framework with a database-backed queue,
# worked by `manage.py db_worker` (started by `make serve`).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
CANDID_EXPORT_INLINE_MAX = 5000  # responses; larger exports go to the background worker
# Export files are deleted by the background worker this many hours after they are written (and at
# once, whatever their age, when a participant of the study withdraws).
CANDID_EXPORT_RETENTION_HOURS = float(os.environ.get("CANDID_EXPORT_RETENTION_HOURS", "24"))
# Questionnaire files (studio uploads and the command line), checked before parsing: survey/xlsform/limits.py.
CANDID_UPLOAD_MAX_BYTES = int(os.environ.get("CANDID_UPLOAD_MAX_BYTES", "5000000"))
CANDID_UPLOAD_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("CANDID_UPLOAD_MAX_UNCOMPRESSED_BYTES", "50000000"))
# 1,500 rows: the studio's pages of the largest form stay near 2 s (bench/bench_xlsform_upload.py).
CANDID_UPLOAD_MAX_ROWS = int(os.environ.get("CANDID_UPLOAD_MAX_ROWS", "1500"))
CANDID_UPLOAD_MAX_CELL_CHARS = int(os.environ.get("CANDID_UPLOAD_MAX_CELL_CHARS", "10000"))
# Uploads stay in memory up to the size limit and are never written to a temporary file.
FILE_UPLOAD_HANDLERS = ["survey.uploads.BoundedMemoryUploadHandler"]
CANDID_REPORT_INLINE_MAX = 50_000  # responses; larger studies' reports are built in the background
CANDID_RESULTS_INLINE_MAX = 50_000  # responses; larger studies' results pages are built in the background

# k: complete responses reach analysts in shuffled release batches of at least this many (of one
# sample and questionnaire version), so that a known completion time narrows a response down to no
# fewer than k. Never below 10 (a system check refuses less); see survey/services/releases.py.
CANDID_RELEASE_K = env_int("CANDID_RELEASE_K", 20)
# Smallest cell the results page and its downloads release (never below 5): an analyst may raise k
# there, not lower it, since two releases at different k differ by exactly the cells between them.
CANDID_RESULTS_K = env_int("CANDID_RESULTS_K", 10)

# Spreadsheet import of questions and choices only for those who may change them (researchers);
# export for those who may view them. Rows are still checked against the user's studies one by one.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"


MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "survey.middleware.NoStoreMiddleware",
    "survey.middleware.RequestTimeBudgetMiddleware",
    "survey.middleware.ExpressionBudgetMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "survey.middleware.NullCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "survey.auth.TrustedDeviceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "survey.views.errors.DatabaseTroubleMiddleware",
]
CSRF_FAILURE_VIEW = "survey.views.errors.csrf_failure"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Staff pages follow the browser (LocaleMiddleware) or the language chosen in their header; the
# participant pages follow the questionnaire's languages instead (survey.views.participant). Every
# Chinese variant (zh, zh-CN, zh-SG, zh-Hans) falls back to Simplified Chinese.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# The claims report's stylesheet lives with the code that draws the report (analysis/ never imports
# Django), and is served from here as /static/analysis/report.css.
STATICFILES_DIRS = [("analysis", BASE_DIR / "analysis" / "assets")]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# Participant pages make no third-party requests and run no inline script without a nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin, not no-referrer: Chromium sends "Origin: null" on form posts under no-referrer,
# which fails the CSRF origin check; other sites still receive no referrer at all.
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# The CSRF cookie lives for the browser session, not Django's default year: participants have no
# sign-in session to keep the token in, and must not carry a year-long cookie from a survey site.
CSRF_COOKIE_AGE = None

# A request still running after this many seconds is stopped with the "please try again" page;
# gunicorn's own timeout (config/gunicorn.py) is longer, so it never has to kill a worker.
CANDID_REQUEST_BUDGET_SECONDS = float(os.environ.get("CANDID_REQUEST_BUDGET_SECONDS", "20"))
# A staff page (results, claims report) builds inline for at most this many seconds, and never into
# the last seconds of the request budget; past that the build goes to the background worker and the
# page says it is being built (survey.middleware.inline_deadline). 0: only the budget limits it.
CANDID_INLINE_BUILD_SECONDS = float(os.environ.get("CANDID_INLINE_BUILD_SECONDS", "10"))
# The time one request may spend evaluating a questionnaire's expressions (relevance, constraints,
# calculations); past it the participant gets the "please try again" page. 0: no limit.
CANDID_EXPRESSION_BUDGET_SECONDS = float(os.environ.get("CANDID_EXPRESSION_BUDGET_SECONDS", "2"))

# The receipt-code hash key: separate from SECRET_KEY so rotating one does not orphan the other.
CANDID_RECEIPT_KEY = os.environ.get("CANDID_RECEIPT_KEY", "")

LOGIN_URL = "admin:login"

# Staff sign-in throttling (survey/auth.py): the first backend refuses locked sign-ins, the second
# checks passwords. Failures per account, and over all accounts from untrusted browsers, in a window.
AUTHENTICATION_BACKENDS = [
    "survey.auth.SignInThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
CANDID_SIGNIN_FAILURES = 5
CANDID_SIGNIN_WINDOW_MINUTES = 15
CANDID_SIGNIN_SPRAY_LIMIT = 50

# Logs never carry who a participant is: no IP, user agent, referrer or query string is logged by
# Candid; Django's request logger names only the path, and every record passes through a filter that
# removes query strings and addresses anyway (config/log_filters.py; gunicorn's logs too, through
# config/gunicorn.py, which also keeps its access log to method, path and status).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_participant_traces": {"()": "config.log_filters.NoParticipantTraces"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["no_participant_traces"]},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"django.server": {"handlers": ["console"], "level": "ERROR", "propagate": False}},
}
