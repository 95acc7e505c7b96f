"""Fixtures shared by the whole suite: users in each role, and the shipped study loaded and published."""

from __future__ import annotations

import os
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SHIPPED_STUDY = ROOT / "survey" / "fixtures" / "trust_and_rating_systems"


def pytest_sessionstart(session):
    """Compile the translations a pulled change made stale (``make setup`` does it too), so that a
    test of Chinese words never reads an old .mo. Each file is written aside and moved into place."""
    msgfmt = shutil.which("msgfmt")
    for po in ROOT.glob("locale/*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        if msgfmt is None:
            pytest.exit(f"{mo} is missing or stale and msgfmt is not installed: run `make setup`.")
        partial = mo.with_suffix(f".{os.getpid()}.tmp")
        subprocess.run([msgfmt, "--check-format", "-o", str(partial), str(po)], check=True)
        os.replace(partial, mo)


DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


def uses_database(item: pytest.Item) -> bool:
    """Whether a test touches the database: marked ``django_db`` or asking, itself or through its
    fixtures, for one of pytest-django's database fixtures (anything else is refused database access)."""
    if item.get_closest_marker("django_db") is not None:
        return True
    return not DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


def pytest_collection_modifyitems(config, items):
    """``CANDID_DB_FREE_SHARE=i/n``: of the tests that touch no database, run only those whose id
    hashes to ``i`` modulo ``n`` (``make test`` runs its two passes side by side, one per database,
    and the database-free tests need to run once, not in both). ``CANDID_DB_TESTS=0`` leaves out the
    tests that touch a database (the share that stands in for a PostgreSQL pass without a server).
    Tests marked ``one_database`` run in the last share only (``make test``'s PostgreSQL pass, the
    production database; the SQLite pass has the browser tests), or in the share their marker
    names (``one_database(share=0)``: the SQLite pass), so that the two passes take about as long."""
    share = os.environ.get("CANDID_DB_FREE_SHARE", "")
    with_database = os.environ.get("CANDID_DB_TESTS", "1") != "0"
    if not share and with_database:
        return
    part, parts = (int(x) for x in share.split("/")) if share else (0, 1)
    keep, drop = [], []
    for item in items:
        if (marker := item.get_closest_marker("one_database")) is not None:
            (keep if part == marker.kwargs.get("share", parts - 1) % parts else drop).append(item)
        elif uses_database(item):
            (keep if with_database else drop).append(item)
        else:
            (keep if zlib.crc32(item.nodeid.encode()) % parts == part else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _default_language():
    """Django's LocaleMiddleware activates the request's language in the thread and never puts it
    back, so a test whose participant answered in Chinese would leave Chinese active for the next
    test in the same thread. Every test starts from the default language."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_spec_cache():
    """Test databases reuse primary keys; the per-process spec cache must not outlive a test."""
    from survey.selectors import _published_spec

    _published_spec.cache_clear()
    yield
    _published_spec.cache_clear()


@pytest.fixture
def make_user(django_user_model):
    def make(username: str, role: str | None = None, *, superuser: bool = False):
        user = django_user_model.objects.create_user(
            username=username, password="pw-" + username, is_staff=True, is_superuser=superuser
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def admin_user_(make_user):
    return make_user("boss", superuser=True)


@pytest.fixture
def shipped_study(admin_user_):
    from survey.services.studies import study_load_bundle

    study, _ = study_load_bundle(directory=SHIPPED_STUDY, owner=admin_user_)
    return study


@pytest.fixture
def call_command_capture(admin_user_):
    """Run a management command; return what it printed, including a CommandError's message."""
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    def run(*args: str) -> str:
        out = StringIO()
        try:
            call_command(*args, stdout=out, stderr=out)
        except CommandError as error:
            out.write(str(error))
        return out.getvalue()

    return run


@pytest.fixture
def participant(shipped_study):
    """A browser (Django test client) in Chinese, and a helper to walk it through the shipped study."""
    from django.test import Client

    from survey.simulation import Respondent, walk

    def run(
        *,
        language: str = "zh-CN,zh;q=0.9",
        sample: str = "china",
        seed: int = 1,
        url: str | None = None,
        client=None,
        **extra,
    ):
        browser = client or Client(HTTP_ACCEPT_LANGUAGE=language, **extra)
        outcome = walk(browser, url or f"/s/{shipped_study.slug}/", Respondent(seed, sample))
        return browser, outcome

    return run


@pytest.fixture
def answered_study(shipped_study, admin_user_):
    """The shipped study with 15 synthetic respondents per sample, sent through the real pages and
    released to analysts (as when the fieldwork closes: 15 is fewer than a release batch).

    The pages run once per session; later tests that start from the same tables get the rows they
    wrote (``tests.db_snapshot``), and the fixtures' objects are re-read from them."""
    from io import StringIO

    from django.core.cache import cache
    from django.core.management import call_command

    from survey.models import Study
    from survey.selectors import _published_spec
    from tests.db_snapshot import replay
    from tests.helpers import close_fieldwork

    def build() -> None:
        call_command(
            "simulate_respondents",
            shipped_study.slug,
            "-n",
            "15",
            "--seed",
            "7",
            "--workers",
            "1",
            stdout=StringIO(),
        )
        close_fieldwork(shipped_study)

    if replay(build):
        shipped_study.pk = Study.objects.get(slug=shipped_study.slug).pk
        admin_user_.pk = type(admin_user_).objects.get(username=admin_user_.username).pk
    # Either way the test starts from the database alone: nothing the pages left in a cache.
    _published_spec.cache_clear()
    cache.clear()
    shipped_study.refresh_from_db()
    admin_user_.refresh_from_db()
    return shipped_study


@pytest.fixture
def logic_study(admin_user_):
    """Study "logic": page one asks q1 (yes/no) and, when q1 = yes, q2 on the same page; page two
    asks q3 when q1 = yes (its label pipes q1); page three asks q4."""
    from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish
    from tests.specs import consent_details, tiny_spec

    spec = tiny_spec()
    spec["sections"].append(
        {
            **spec["sections"][0],
            "code": "p2",
            "questions": [
                {
                    **spec["sections"][0]["questions"][1],
                    "code": "q3",
                    "relevance": "${q1} = 'yes'",
                    "constraint": "",
                    "constraint_message": {},
                    "label": {"en": "You said ${q1}. How many?", "zh": "你说${q1}。几个？"},
                    "required": True,
                },
            ],
        }
    )
    spec["sections"].append(
        {
            **spec["sections"][0],
            "code": "p3",
            "questions": [
                {
                    **spec["sections"][0]["questions"][1],
                    "code": "q4",
                    "relevance": "",
                    "constraint": "",
                    "constraint_message": {},
                },
            ],
        }
    )
    version = questionnaire_import(spec=spec, owner=admin_user_, study_slug="logic")
    return questionnaire_publish(
        version=version,
        consent=consent_create(study=version.study, texts={"en": "C", "zh": "C"}, **consent_details()),
    ).study
