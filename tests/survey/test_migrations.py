"""Upgrading a database with responses to release batches (migration 0010): responses in progress
keep going (their resume cookies still work), complete ones stay with analysts, one batch per sample
and version, and the tables are stored by their random key."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import date

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("survey", "0009_signin_failures")]
AFTER = [("survey", "0010_release_batches")]


def keyed(value: str, purpose: str) -> str:
    key = (settings.CANDID_RECEIPT_KEY or settings.SECRET_KEY).encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def test_upgrading_moves_responses_in_progress_and_batches_complete_ones():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        owner = old.get_model("auth", "User").objects.create(username="owner")
        study = old.get_model("survey", "Study").objects.create(
            owner=owner, slug="old", title="Old", languages=["en"]
        )
        sample = old.get_model("survey", "Sample").objects.create(
            study=study, slug="main", name="Main", default_language="en", is_default=True
        )
        consent = old.get_model("survey", "ConsentText").objects.create(
            study=study, version=1, texts={"en": "C"}
        )
        version = old.get_model("survey", "QuestionnaireVersion").objects.create(
            study=study,
            number=1,
            status="published",
            published_on=date(2026, 1, 1),
            title={"en": "Old"},
            languages=["en"],
            default_language="en",
        )
        Response = old.get_model("survey", "Response")
        common = {"study": study, "sample": sample, "version": version, "consent": consent, "language": "en"}
        in_progress = Response.objects.create(
            **common,
            answers={"q1": "yes"},
            creation_key="consent-key-1",
            resume_hash=keyed("resume-token-1", "resume"),
            started_on=date(2026, 1, 5),
        )
        for day in (3, 4, 5):
            Response.objects.create(
                **common,
                status="complete",
                answers={"q1": "no"},
                creation_key=f"consent-key-done-{day}",
                receipt_hash=keyed(f"code-{day}", "receipt"),
                started_on=date(2026, 1, day),
                completed_on=date(2026, 1, day),
            )

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        pending = new.get_model("survey", "PendingResponse").objects.get()
        assert pending.pk == in_progress.pk and pending.answers == {"q1": "yes"}
        assert pending.resume_hash == keyed("resume-token-1", "resume")  # the cookie still resumes it
        assert pending.creation_hash == keyed("consent-key-1", "creation")
        released = list(new.get_model("survey", "Response").objects.all())
        assert len(released) == 3 and {r.completed_on for r in released} == {date(2026, 1, 5)}
        batch = new.get_model("survey", "ReleaseBatch").objects.get()
        assert batch.size == 3 and {r.batch_id for r in released} == {batch.pk}
        if connection.vendor == "sqlite":
            from survey.storage import WITHOUT_ROWID_TABLES, is_without_rowid

            assert all(is_without_rowid(connection, table) for table in WITHOUT_ROWID_TABLES)
        assert all(isinstance(r.pk, uuid.UUID) for r in released)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
