"""What of a failed build reaches a page (``survey.services.refusals``): Candid's own refusals as
they are worded; a library's error text never — it is logged and the page says so in general words,
in the reader's language."""

from __future__ import annotations

import html
import logging

import pytest
from django.urls import reverse

from survey.models import StudyMembership
from survey.roles import ANALYST
from survey.services.refusals import Refused

pytestmark = pytest.mark.django_db

NUMPY = "need at least one array to concatenate"
GENERAL = "Candid could not build this from the data: the error is logged for the site's maintainers."


@pytest.fixture
def signed_in(client, make_user, answered_study):
    user = make_user("refusals_analyst", ANALYST)
    StudyMembership.objects.create(study=answered_study, user=user, role="analyst")
    client.force_login(user)
    return client


def fails_with(error: Exception):
    def fail(*args, **kwargs):
        raise error

    return fail


@pytest.mark.parametrize("error", [ValueError(NUMPY), IndexError(NUMPY), ZeroDivisionError(NUMPY)])
def test_a_library_error_in_the_results_is_logged_not_shown(
    signed_in, answered_study, monkeypatch, caplog, error
):
    from survey.services import results

    monkeypatch.setattr(results, "compute_results", fails_with(error))
    with caplog.at_level(logging.ERROR, logger="candid.errors"):
        page = signed_in.get(reverse("survey:study_results", args=[answered_study.slug]) + "?lang=en")
    body = html.unescape(page.content.decode())
    assert page.status_code == 200 and GENERAL in body and NUMPY not in body
    assert any(record.exc_info and record.exc_info[1] is error for record in caplog.records)
    download = signed_in.get(reverse("survey:study_results_download", args=[answered_study.slug, "csv"]))
    assert download.status_code == 409 and NUMPY not in download.content.decode()
    chinese = signed_in.get(
        reverse("survey:study_results", args=[answered_study.slug]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert "无法根据数据生成" in chinese.content.decode()


def test_candids_own_refusal_is_shown_as_worded(signed_in, answered_study, monkeypatch):
    from survey.services import results

    monkeypatch.setattr(results, "compute_results", fails_with(Refused("Every response is excluded.")))
    download = signed_in.get(reverse("survey:study_results_download", args=[answered_study.slug, "csv"]))
    assert download.status_code == 409 and "Every response is excluded." in download.content.decode()


def test_a_library_error_in_the_claims_report_is_logged_not_shown(signed_in, answered_study, monkeypatch):
    from survey.services import reports

    monkeypatch.setattr(reports, "build_report", fails_with(ValueError(NUMPY)))
    page = signed_in.get(reverse("survey:report", args=[answered_study.slug]) + "?language=en")
    body = html.unescape(page.content.decode())
    assert GENERAL in body and NUMPY not in body


def test_a_library_error_reading_an_upload_is_not_shown(signed_in, answered_study, monkeypatch):
    from survey.views import results

    monkeypatch.setattr(results, "weighting_targets_upload", fails_with(KeyError(NUMPY)))
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("margins.csv", b"variable,category,share\n", content_type="text/csv")
    answer = signed_in.post(
        reverse("survey:weighting_upload", args=[answered_study.slug]), {"targets": upload}, follow=True
    )
    body = html.unescape(answer.content.decode())
    assert GENERAL in body and NUMPY not in body
