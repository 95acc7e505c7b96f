"""A study's claims registry: the TOML text of published claims its report judges, kept in versions."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .studies import Study


class ClaimsRegistry(models.Model):
    """One version of a study's claims registry (``analysis.claims``), as attached.

    Versions are never changed: attaching a different text adds the next version, and the highest
    version is the one the study's report uses. A study with none has no claims report.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="claims_registries")
    version = models.PositiveIntegerField()
    text = models.TextField(help_text="The registry in TOML, exactly as attached.")
    file_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64)
    title = models.CharField(max_length=300, blank=True)
    claims = models.PositiveIntegerField(default=0, help_text="How many claims it holds.")
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attached_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "claims registry"
        verbose_name_plural = "claims registries"
        ordering = ["study", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["study", "version"], name="claims_registry_unique_version")
        ]

    def __str__(self) -> str:
        return f"Claims registry v{self.version} of {self.study.slug}"
