"""Fieldwork: cell quotas, and what happened each day (dates only), as bare counts.

Nothing here points to a response: a quota counts completions in its cell, a day's count says how
many participants started, completed, declined, withdrew or were screened out on that date.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .studies import Sample, Study


class Quota(models.Model):
    """At most ``limit`` completed responses whose answers fall in this cell, in one sample (or in the
    whole study when ``sample`` is empty).

    ``conditions`` is ``{question code: [choice codes]}``: a participant is in the cell when, for every
    question named, their answer is one of the codes listed (e.g. ``{"age_band": ["18_29"],
    "gender": ["female"]}``). A cell with limit 0 screens its participants out (they do not qualify)
    and sends them to the sample's screen-out URL; a full cell sends them to the over-quota URL.
    ``filled`` counts completions; the database itself refuses a count above the limit.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="quotas")
    sample = models.ForeignKey(Sample, null=True, blank=True, on_delete=models.CASCADE, related_name="quotas")
    name = models.CharField(max_length=200)
    conditions = models.JSONField(default=dict)
    limit = models.PositiveIntegerField()
    filled = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["study", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(filled__lte=F("limit")), name="quota_never_overfilled"),
            models.UniqueConstraint(fields=["study", "name"], name="quota_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.filled}/{self.limit}"

    def applies_to(self, sample_id: int) -> bool:
        return self.sample_id is None or self.sample_id == sample_id

    def matches(self, answers: dict) -> bool:
        """Whether ``answers`` fall in this cell; a condition not answered (yet) does not match."""
        for code, choices in self.conditions.items():
            value = answers.get(code)
            values = value if isinstance(value, list) else [value]
            if not any(str(v) in choices for v in values if v not in (None, "")):
                return False
        return bool(self.conditions)


class FieldworkKind(models.TextChoices):
    STARTED = "started", _("started")
    COMPLETED = "completed", _("completed")
    DECLINED = "declined", _("declined consent")
    WITHDRAWN = "withdrawn", _("withdrawn")
    SCREENED_OUT = "screened_out", _("screened out")


class FieldworkCount(models.Model):
    """How many participants of a sample did one thing on one day (a date, never a time)."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="fieldwork_counts")
    day = models.DateField()
    kind = models.CharField(max_length=16, choices=FieldworkKind.choices)
    synthetic = models.BooleanField(default=False, help_text="Counts synthetic respondents, apart.")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "day", "kind", "synthetic"], name="fieldwork_count_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sample} {self.day} {self.kind}: {self.count}"
