"""The floor of the stack for the submission benchmark: a bare Django view that stores one whole
response's answers (posted as JSON) in one transaction, with no session, form, logic or template.

Served beside the real site (``bench.settings``) by the same gunicorn in the same run, so the ratio
of Candid's cost per page to this view's cost per request is what Candid's own work adds.
"""

from __future__ import annotations

import json
import uuid
from datetime import date

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401
from survey.models import PendingResponse, QuestionnaireVersion

_TARGETS: dict[str, tuple[int, int, int, int]] = {}


@csrf_exempt
def bare_insert(request: HttpRequest, slug: str) -> HttpResponse:
    answers = json.loads(request.body)
    if slug not in _TARGETS:  # looked up once per worker, so the floor is the insert alone
        version = QuestionnaireVersion.objects.filter(study__slug=slug, status="published")
        version = version.order_by("-number").select_related("study").first()
        sample_id = version.study.samples.values_list("pk", flat=True).first()
        _TARGETS[slug] = (version.study_id, sample_id, version.pk, version.consent_id)
    study_id, sample_id, version_id, consent_id = _TARGETS[slug]
    with transaction.atomic():
        PendingResponse.objects.create(  # the table participants write to (never released: in progress)
            study_id=study_id,
            sample_id=sample_id,
            version_id=version_id,
            consent_id=consent_id,
            language="en",
            answers=answers,
            creation_hash=uuid.uuid4().hex,
            resume_hash=uuid.uuid4().hex,
            started_on=date.today(),
            is_synthetic=True,  # told apart from the real participants' responses in the count check
        )
    return HttpResponse("stored", content_type="text/plain")


urlpatterns = [*urlpatterns, path("bench/bare-insert/<slug:slug>/", bare_insert)]
