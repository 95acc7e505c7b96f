"""What the results page counts and offers (issue 16 review, items 9 and 14): drop-off counts the
responses the rest of the page counts (synthetic ones on a synthetic page), and no attention check
or randomised-response item is offered as a breakdown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from survey.models import PendingResponse, ResultsSnapshot
from survey.selectors import study_dropoff
from survey.services.results import breakdown_choices
from tests.survey.test_results_presentation import signed_in, unfinished  # noqa: F401

pytestmark = pytest.mark.django_db


def test_drop_off_of_a_synthetic_study_is_shown_and_labelled(signed_in, answered_study):  # noqa: F811
    unfinished(answered_study, 1, 6)
    PendingResponse.objects.filter(study=answered_study).update(is_synthetic=True)
    assert study_dropoff(answered_study) == []  # real responses only, by default
    response = signed_in.get(reverse("survey:study_results", args=[answered_study.slug]) + "?k=5&lang=en")
    payload = ResultsSnapshot.objects.get().payload
    assert payload["data"] == "synthetic"
    assert [row["count"] for row in payload["dropoff"]] == [5]  # 6, rounded to 5
    body = response.content.decode()
    assert "Unfinished responses by the last page reached" in body and "Synthetic data." in body


def test_attention_checks_and_randomised_response_are_not_breakdowns(answered_study, monkeypatch):
    offered = dict(breakdown_choices(answered_study, "en"))
    assert "attention" not in offered and "scam_worry" in offered
    monkeypatch.setattr(
        "survey.services.results.study_parameters",
        lambda study: {"scam_worry": {"randomized_response": "forced", "p_truth": "0.75"}},
    )
    assert "scam_worry" not in dict(breakdown_choices(answered_study, "en"))


def test_monitoring_says_what_waits_for_release_so_its_figures_agree(client, make_user, answered_study):
    """Responses completed but waiting for their release batch are started and in the completion
    rate, so the table shows them as their own figure (it read "started 16, completed 0, 93.8%")."""
    import re

    from survey.models import StudyMembership
    from survey.roles import ANALYST
    from survey.services.releases import release_k
    from tests.survey.test_releases import complete_many

    waiting = release_k() - 1
    complete_many(answered_study, waiting, sample="china")
    user = make_user("monitoring_analyst", ANALYST)
    StudyMembership.objects.create(study=answered_study, user=user, role="analyst")
    client.force_login(user)
    body = client.get(reverse("survey:results", args=[answered_study.slug]), HTTP_ACCEPT_LANGUAGE="en")
    body = body.content.decode()
    assert "Completed, waiting for release" in body and 'id="awaiting-release"' in body
    rows = re.findall(r"<tr><th scope=\"row\">[^<]*</th>((?:<td>[^<]*</td>\s*)+)</tr>", body)
    figures = [re.findall(r"<td>([^<]*)</td>", row)[:4] for row in rows]
    assert len(figures) == 2
    for started, completed, held, rate in figures:
        assert int(started) == int(completed) + int(held) and rate == "100%"  # nobody in progress here
    assert sorted(int(held) for _s, _c, held, _r in figures) == [0, waiting]
