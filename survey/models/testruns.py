"""Test runs: a researcher walking a questionnaire as a participant would, kept apart from responses."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from .questionnaires import QuestionnaireVersion
from .studies import Sample


class TestRun(models.Model):
    """One walk through a version (a draft or a published one) by a member of the study's team.

    Its answers live here, never in :class:`~survey.models.Response`: nothing in monitoring, exports,
    reports or quotas reads this table. The randomisation seed and the list-experiment arms are the
    researcher's choice, so any participant's view can be replayed; the display order is computed
    afresh from them on every page, so a test run follows a draft as it is being edited.
    """

    __test__ = False  # not a test case, whatever pytest infers from the name

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.CASCADE, related_name="test_runs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="test_runs")
    sample = models.ForeignKey(Sample, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    language = models.CharField(max_length=16)
    seed = models.PositiveIntegerField()
    arms = models.JSONField(default=dict, blank=True, help_text="{list experiment code: control|treatment}")
    answers = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)
    furthest = models.PositiveIntegerField(default=0)
    finished = models.BooleanField(default=False)
    started_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Test run of {self.version} by {self.user}"
