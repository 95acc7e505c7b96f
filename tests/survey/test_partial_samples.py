"""Results and the claims report of a study whose released responses come from one sample only: the
shipped study with respondents from the ``west`` sample alone, so questions shown only to the China
sample have no answers and the claims about mainland respondents cannot be measured."""

from __future__ import annotations

import html
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from survey.models import ReportSnapshot, Response, StudyMembership
from survey.roles import ANALYST
from tests.helpers import close_fieldwork

pytestmark = pytest.mark.django_db


@pytest.fixture
def west_only(shipped_study, make_user, client):
    call_command(
        "simulate_respondents",
        shipped_study.slug,
        "--sample",
        "west",
        "-n",
        "15",
        "--seed",
        "3",
        "--workers",
        "1",
        stdout=StringIO(),
    )
    close_fieldwork(shipped_study)
    assert set(Response.objects.values_list("sample__slug", flat=True)) == {"west"}
    analyst = make_user("west_analyst", ANALYST)
    StudyMembership.objects.create(study=shipped_study, user=analyst, role="analyst")
    client.force_login(analyst)
    return shipped_study


def test_results_and_downloads_show_a_question_nobody_answered(client, west_only):
    url = reverse("survey:study_results", args=[west_only.slug])
    page = client.get(url + "?lang=en")
    assert page.status_code == 200
    body = html.unescape(page.content.decode())
    section = body[body.index('id="q-aware_local_app"') :]
    section = section[: section.index("</section>")]  # shown only to the China sample
    assert "No answers: nobody in the responses used here answered this question." in section
    assert "<table" not in section
    for fmt in ("csv", "xlsx"):
        download = client.get(reverse("survey:study_results_download", args=[west_only.slug, fmt]))
        assert download.status_code == 200, fmt


@pytest.mark.parametrize("query", ["", "&weights=census"], ids=["unweighted", "census"])
def test_the_claims_report_marks_what_it_cannot_measure(client, west_only, admin_user_, query):
    """Every claim of the shipped registry is about the mainland sample, which has no released
    responses here: each is "not measured" (the report's verdict for data that lack a figure)."""
    client.force_login(admin_user_)  # the census-weighted report needs the raw-data right
    page = client.get(reverse("survey:report", args=[west_only.slug]) + "?language=en" + query)
    assert page.status_code == 200
    body = html.unescape(page.content.decode())
    assert "could not be built" not in body and "concatenate" not in body
    snapshot = ReportSnapshot.objects.get(weighted=bool(query))
    assert not snapshot.problem
    verdicts = {claim["id"]: claim["verdict"] for claim in snapshot.data["claims"]}
    assert verdicts and set(verdicts.values()) == {"not measured"}
    assert 'class="verdict verdict-not-measured"' in body
