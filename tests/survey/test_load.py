"""A small load run inside `make test`: 20 participants at once against a live server, over HTTP."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from survey.models import PendingResponse, Response
from survey.simulation import HttpClient, Respondent, walk

pytestmark = pytest.mark.django_db(transaction=True)

PARTICIPANTS = 20


def test_twenty_concurrent_participants(live_server, shipped_study):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("concurrent requests need a file or server database; this runs in the PostgreSQL pass")
    outcomes, statuses = [], []

    def participant(seed: int) -> None:
        client = HttpClient(live_server.url, language="zh-CN" if seed % 2 else "en")
        original = client._open

        def recording(path, data):
            page = original(path, data)
            statuses.append(page.status_code)
            return page

        client._open = recording
        outcomes.append(
            walk(
                client,
                f"/s/{shipped_study.slug}/{'china' if seed % 2 else 'west'}/",
                Respondent(seed, "china" if seed % 2 else "west"),
            )
        )
        connection.close()

    threads = [threading.Thread(target=participant, args=(seed,)) for seed in range(PARTICIPANTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    thank_you_pages = sum(1 for outcome in outcomes if outcome.completed)
    assert not [s for s in statuses if s >= 500], "server errors under load"
    assert thank_you_pages == PARTICIPANTS
    stored = Response.objects.count() + PendingResponse.objects.filter(status="complete").count()
    assert stored == thank_you_pages
    assert len({o.receipt_code for o in outcomes}) == PARTICIPANTS
