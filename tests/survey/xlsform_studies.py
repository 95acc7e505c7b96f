"""Studies published from a small XLSForm, for tests that walk their participant pages."""

from __future__ import annotations

import re

from django.test import Client

from survey.models import PendingResponse
from survey.xlsform import read_xlsform
from tests.survey.xlsform_helpers import workbook

CONSENT_KEY = re.compile(r'name="consent_key" value="([^"]+)"')


def publish_xlsform(owner, slug: str, survey, choices=None, settings=None):
    """Import the workbook's spec as study ``slug`` (English) and publish it; the study."""
    from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish
    from tests.specs import consent_details

    spec = read_xlsform(workbook(survey, choices=choices, settings=settings), name=f"{slug}.xlsx")
    version = questionnaire_import(spec=spec, owner=owner, study_slug=slug)
    consent = consent_create(study=version.study, texts={"en": "C"}, **consent_details(("en",)))
    return questionnaire_publish(version=version, consent=consent).study


def start(slug: str) -> Client:
    """A browser in English that has agreed to study ``slug``'s consent."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    url = f"/s/{slug}/"
    key = CONSENT_KEY.search(client.get(url).content.decode()).group(1)
    client.post(url, {"consent_key": key, "agree": "yes", "action": "agree"})
    return client


def stored_answers() -> dict:
    return PendingResponse.objects.get().answers
