"""Staff-side records: the audit log of exports and permission changes, and export jobs.

These describe what staff did (with exact times); nothing here is about a participant.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .fields import OrderedJSONField
from .studies import Study


class AuditEvent(models.Model):
    """One staff action worth answering for later: an export, a report, a change of who may see what."""

    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    study = models.ForeignKey(
        Study, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    action = models.CharField(max_length=40)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["study", "-at"], name="audit_study_recent")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    REMOVED = "removed", _("Deleted")


class ExportRemoval(models.TextChoices):
    """Why an export's files were deleted (its download link then answers 410 Gone)."""

    EXPIRED = "expired", "Expired"
    WITHDRAWAL = "withdrawal", "A participant withdrew"


class ExportJob(models.Model):
    """An export a staff member asked for; large ones run as a background task and report progress."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="export_jobs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs")
    format = models.CharField(max_length=10)
    language = models.CharField(max_length=16)
    options = models.JSONField(
        default=dict,
        blank=True,
        help_text="missing_codes, syntax, partial: see services.exports.EXPORT_OPTIONS.",
    )
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When the worker deletes the files (CANDID_EXPORT_RETENTION_HOURS)."
    )
    removed_reason = models.CharField(max_length=12, choices=ExportRemoval.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"], name="export_job_expiry")]

    def __str__(self) -> str:
        return f"{self.study.slug} {self.format} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return (
            100
            if self.status == ExportStatus.DONE
            else int(100 * self.rows_done / self.rows_total)
            if self.rows_total
            else 0
        )


class ReportStatus(models.TextChoices):
    BUILDING = "building", "Being prepared"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class ReportSnapshot(models.Model):
    """The claims report as last built for a study (one per weighting and set of data-quality exclusions): its figures and verdicts as
    data (``analysis.report.build_report``, every text in all its languages, drawn in the reader's
    language when shown), and the revision it was built from (the data's ``selectors.study_revision``
    and the registry version): shown while the revision holds, rebuilt after any completion,
    withdrawal, new questionnaire version or new registry. Large studies build it in the background."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="report_snapshots")
    weighted = models.BooleanField(default=False)
    exclude = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="Data-quality flags whose responses are left out, comma-separated in a fixed order.",
    )
    revision = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.BUILDING)
    responses = models.PositiveIntegerField(default=0)
    data = OrderedJSONField(default=dict, blank=True)
    problem = models.TextField(blank=True, help_text="Why the report could not be built.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study", "weighted", "exclude"], name="report_one_per_weighting_and_exclusion"
            )
        ]

    def __str__(self) -> str:
        return f"{self.study} report ({'weighted' if self.weighted else 'unweighted'}, {self.status})"


class DisclosureLedger(models.Model):
    """Every release made from one state of a study's data (``selectors.study_revision``): the
    results page, aggregate downloads and claims reports each record what they showed, and every
    later release from the same state is decided with them held beside it (``services.disclosure``).

    One release per state may leave flagged responses out (``DisclosureRecord.exclusion``): two
    would give, by difference, figures of the responses left out that neither shows. Kept only for
    the current state; a withdrawal drops it."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="disclosure_ledgers")
    revision = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "revision"], name="disclosure_ledger_one_per_revision")
        ]

    def __str__(self) -> str:
        return f"{self.study} disclosure ledger ({self.revision[:8]})"


class DisclosureRecord(models.Model):
    """One release of a ledger: its tables as disclosure control saw them (exact ``count`` and
    ``n``, the identities of the respondent sets, ``suppressed``, ``implied``, ``sum_of``).

    They hold exact counts of hidden cells, as the response tables they come from do: never shown,
    read only to decide the next release."""

    ledger = models.ForeignKey(DisclosureLedger, on_delete=models.CASCADE, related_name="records")
    origin = models.CharField(max_length=20)
    options = models.JSONField(default=dict, blank=True)
    exclusion = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="The data-quality flags whose responses were left out.",
    )
    tables = OrderedJSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.ledger} {self.origin} #{self.pk}"


class SignInFailures(models.Model):
    """Failed staff sign-ins in one minute, counted under a key: a keyed hash of the normalised
    username, of a trusted device, or ``all`` (every username together, from untrusted browsers).

    No username, IP address or user agent is stored, and rows older than the counting window are
    deleted as new failures arrive (``survey.auth``). Participants never sign in.
    """

    key = models.CharField(max_length=48)
    minute = models.BigIntegerField(help_text="Minutes since the epoch.")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "minute"], name="signin_failures_unique")]
        verbose_name_plural = "sign-in failures"

    def __str__(self) -> str:
        return f"{self.key}@{self.minute}: {self.count}"


class ResultsSnapshot(models.Model):
    """A study's results page as last built for one set of options (breakdowns, weighting, k,
    exclusions, language), with the data revision it was built from: shown while the revision
    holds, rebuilt after any completion, withdrawal or new version (as :class:`ReportSnapshot`).
    ``payload`` holds the released tables only — figures after disclosure control, never a response."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="results_snapshots")
    key = models.CharField(max_length=64, help_text="Digest of the options.")
    options = models.JSONField(default=dict)
    revision = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.BUILDING)
    responses = models.PositiveIntegerField(default=0)
    payload = OrderedJSONField(default=dict, blank=True)
    problem = models.TextField(blank=True, help_text="Why the results could not be built.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "key"], name="results_one_per_options")]

    def __str__(self) -> str:
        return f"{self.study} results ({self.status})"


class WeightingTargets(models.Model):
    """Population figures a researcher uploaded to weight a study's results: raking margins
    (``variable, category, share|count``) or a post-stratification table (variables and ``count``)."""

    class Kind(models.TextChoices):
        RAKE = "rake", "Raking margins"
        POSTSTRATIFY = "poststratify", "Post-stratification table"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="weighting_targets")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    content = models.TextField(help_text="The CSV as uploaded (a few kilobytes).")
    digest = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["study", "digest"], name="weighting_targets_once")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"
