"""The withdrawal page's promise, tested on the files (issue 10, item 8): after a withdrawal no trace
of the answers stays in the database files, on SQLite (file and write-ahead log) and on PostgreSQL
(the data directory, after the worker's scrub)."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from survey.models import PendingResponse, Response
from survey.storage import PENDING_TABLE, RELEASED_TABLE, scrub
from tests.helpers import close_fieldwork

pytestmark = pytest.mark.django_db(transaction=True)

MARKER = "withdrawn-answer-7Q2ZK9XW"


def database_files() -> list[Path]:
    """Every file that holds this test database's rows (skips when they cannot be read here)."""
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        return [path for path in (name, Path(f"{name}-wal")) if path.exists()]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('data_directory') || '/base/' || oid FROM pg_database"
            " WHERE datname = current_database()"
        )
        folder = Path(cursor.fetchone()[0])
        cursor.execute("CHECKPOINT")  # the rows reach the files before they are read
    if not os.access(folder, os.R_OK | os.X_OK):
        pytest.skip(f"the PostgreSQL data directory ({folder}) cannot be read by this user")
    return [path for path in folder.iterdir() if path.is_file()]


def traces() -> int:
    return sum(path.read_bytes().count(MARKER.encode()) for path in database_files())


@pytest.fixture
def small_study(admin_user_):
    """A one-page study: its rows stay under PostgreSQL's compression threshold (about 2 kB), so the
    answers lie in the files as they are and a search for them can fail only if they are gone."""
    from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish
    from tests.specs import consent_details, tiny_spec

    spec = tiny_spec()
    spec["sections"][0]["questions"].append(
        {
            **spec["sections"][0]["questions"][1],
            "code": "note",
            "type": "text",
            "relevance": "",
            "constraint": "",
        }
    )
    version = questionnaire_import(spec=spec, owner=admin_user_, study_slug="small")
    consent = consent_create(study=version.study, texts={"en": "C", "zh": "C"}, **consent_details())
    return questionnaire_publish(version=version, consent=consent).study


def answered_with_marker(study, marker: str = MARKER) -> str:
    """A participant who typed ``marker`` and finished; their receipt code."""
    import re

    from tests.survey.test_participant_flow import agree

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    page_url = agree(client, f"/s/{study.slug}/")["Location"]
    thanks = client.post(page_url, {"q1": "yes", "q2": "3", "note": marker}, follow=True).content.decode()
    return re.search(r'id="receipt-code">([^<]+)<', thanks).group(1).strip()


def withdraw(code: str) -> None:
    page = Client(HTTP_ACCEPT_LANGUAGE="en").post("/withdraw/", {"code": code, "action": "confirm"})
    assert "Your answers have been deleted for good" in page.content.decode()
    if connection.vendor == "postgresql":  # what the background worker runs after a withdrawal
        from django_tasks_db.models import DBTaskResult

        assert DBTaskResult.objects.filter(task_path="survey.tasks.scrub_tables").exists()
        assert scrub([PENDING_TABLE, RELEASED_TABLE]) == []


def test_a_withdrawn_released_response_leaves_no_trace_in_the_files(small_study):
    code = answered_with_marker(small_study)
    close_fieldwork(small_study)
    assert Response.objects.filter(answers__note=MARKER).exists()
    if connection.vendor == "postgresql":
        scrub([PENDING_TABLE, RELEASED_TABLE])
    assert traces() >= 1  # the check can see the answers while they are there
    withdraw(code)
    assert not Response.objects.exists()
    assert traces() == 0


def test_a_withdrawn_pending_response_leaves_no_trace_in_the_files(small_study):
    code = answered_with_marker(small_study)
    assert traces() >= 1
    withdraw(code)
    assert not PendingResponse.objects.exists()
    assert traces() == 0


def test_a_release_leaves_no_copy_of_the_pending_row(small_study):
    """What arrival order the pending table's rows kept goes with them: after a release, the only
    copy of the answers is the released row."""
    answered_with_marker(small_study)
    assert traces() >= 1
    close_fieldwork(small_study)
    if connection.vendor == "postgresql":
        scrub([PENDING_TABLE])
    released = Response.objects.get()
    Response.objects.filter(pk=released.pk).update(answers={**released.answers, "note": "replaced"})
    if connection.vendor == "postgresql":
        scrub([RELEASED_TABLE])
    else:
        scrub([])
    assert traces() == 0


def wal_segments() -> list[Path]:
    """PostgreSQL's write-ahead log files (skips where they cannot be read, or where the server keeps
    removed segments for reuse with their contents: ``wal_recycle = on``, which the README forbids)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('data_directory'), current_setting('wal_recycle')")
        directory, recycle = cursor.fetchone()
    if recycle == "on":
        pytest.skip("this PostgreSQL server has wal_recycle = on (the README asks for off)")
    folder = Path(directory) / "pg_wal"
    if not os.access(folder, os.R_OK | os.X_OK):
        pytest.skip(f"PostgreSQL's write-ahead log ({folder}) cannot be read by this user")
    return [path for path in folder.iterdir() if re.fullmatch(r"[0-9A-F]{24}", path.name)]


def test_the_scrub_leaves_the_segment_holding_the_completions_behind(small_study):
    """PostgreSQL keeps every change in commit order, with commit times, until a checkpoint removes
    its segment, and a checkpoint removes only the segments before the one it starts in: the scrub
    ends the segment first, so the completions' segment is removed (after a release or withdrawal)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's write-ahead log (SQLite's is truncated: test above)")
    answered_with_marker(small_study)
    close_fieldwork(small_study)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
        written_in = cursor.fetchone()[0]
        assert scrub([PENDING_TABLE]) == []
        cursor.execute("SELECT pg_walfile_name(redo_lsn) FROM pg_control_checkpoint()")
        checkpoint_starts_in = cursor.fetchone()[0]
    assert checkpoint_starts_in > written_in


def test_a_withdrawn_response_leaves_no_trace_in_the_write_ahead_log(small_study):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's write-ahead log (SQLite's is truncated: tests above)")
    marker = f"withdrawn-{secrets.token_hex(8)}"  # the log is the whole server's: this run's own
    code = answered_with_marker(small_study, marker)
    close_fieldwork(small_study)

    def wal_traces() -> int:
        return sum(path.read_bytes().count(marker.encode()) for path in wal_segments())

    assert wal_traces() >= 1  # the check can see the answers while they are there
    withdraw(code)
    assert wal_traces() == 0


def test_a_busy_write_ahead_log_is_left_to_the_worker_without_holding_the_request():
    """SQLite: a reader on an old snapshot keeps the log from being truncated; the participant's
    request gives up within a second and the background worker tries again."""
    import sqlite3
    import time

    from django_tasks_db.models import DBTaskResult

    from survey.services.maintenance import QUICK_ATTEMPTS, _scrub_now

    if connection.vendor != "sqlite":
        pytest.skip("the write-ahead log checkpoint is SQLite's")
    from survey.models import RateBucket

    reader = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM survey_ratebucket").fetchone()  # a snapshot held open
        RateBucket.objects.create(name="probe", minute=1)  # a write after it, in the log
        started = time.monotonic()
        _scrub_now([PENDING_TABLE])
        assert time.monotonic() - started < 0.05 * QUICK_ATTEMPTS * (QUICK_ATTEMPTS + 1) + 1
        assert DBTaskResult.objects.filter(task_path="survey.tasks.scrub_tables").exists()
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert scrub([]) == []  # once the reader is gone, the worker's run truncates the log
    assert Path(f"{connection.settings_dict['NAME']}-wal").stat().st_size == 0
