"""Studies, the samples they are fielded to, who may work on them, and their consent texts."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..languages import text_for

E_NOT_PIPED = _(
    "%(field)s is read before any answer, so “${” in it would be shown as typed: write the words "
    "themselves. Piping (${code}) works in question texts, choice labels and page titles."
)


DEFAULT_SPEEDING = 1 / 3  # of the median duration: analysis.quality.QualityRules' default


def refuse_piping(fields: dict[str, tuple[object, str]]) -> None:
    """Refuse ``${`` in texts participants read before answering (study title, consent, who is
    asking): nothing can be piped into them. ``fields`` maps a field name to its value (a string or
    ``{language: text}``) and the name people know it by. Raises ``ValidationError`` by field."""
    errors = {}
    for name, (value, label) in fields.items():
        texts = value.values() if isinstance(value, dict) else [value]
        if any("${" in str(text or "") for text in texts):
            errors[name] = ValidationError(E_NOT_PIPED, code="not_piped", params={"field": label})
    if errors:
        raise ValidationError(errors)


def validate_languages(value: object) -> None:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValidationError("Languages must be a non-empty list of language codes.", code="languages")
    if len(set(value)) != len(value):
        raise ValidationError("A language is listed twice.", code="languages_duplicate")


class Study(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_studies"
    )
    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200, help_text="The title staff see (in the first language).")
    titles = models.JSONField(default=dict, blank=True, help_text="{language code: title participants see}")
    languages = models.JSONField(
        default=list,
        validators=[validate_languages],
        help_text='Language codes, e.g. ["en", "zh"].',
    )
    opens_on = models.DateField(null=True, blank=True)
    closes_on = models.DateField(null=True, blank=True)
    target_size = models.PositiveIntegerField(
        null=True, blank=True, help_text="Completed responses that close the study."
    )
    data_freeze_on = models.DateField(
        null=True, blank=True, help_text="After this date answers can no longer be withdrawn."
    )
    completed_marker = models.BooleanField(
        default=False,
        help_text="Tell a browser that has completed the survey so, instead of starting again (a cookie "
        "holding no identifier; leave off where devices are shared).",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="StudyMembership", related_name="studies", blank=True
    )
    speeding_fraction = models.FloatField(
        default=DEFAULT_SPEEDING,
        help_text="A completed response counts as speeding when its duration is under this fraction of "
        "its sample's median duration (analysis.quality).",
    )
    first_released_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the first release (results, aggregate tables, claims report) was recorded in the "
        "disclosure ledger; the speeding fraction is fixed from then on.",
    )

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(speeding_fraction__gt=0) & Q(speeding_fraction__lt=1),
                name="study_speeding_fraction_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=Q(closes_on__isnull=True)
                | Q(opens_on__isnull=True)
                | Q(closes_on__gte=models.F("opens_on")),
                name="study_closes_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    def clean(self) -> None:
        validate_languages(self.languages)
        refuse_piping(
            {"title": (self.title, _("The study title")), "titles": (self.titles, _("The study title"))}
        )

    @property
    def speeding_fixed(self) -> bool:
        """Whether the speeding fraction can no longer change: something was released at it."""
        return self.first_released_at is not None

    def title_in(self, language: str) -> str:
        """The title a reader of ``language`` gets by RFC 4647 lookup (a ``zh-Hans`` reader reads the
        ``zh`` title), else the title in the first language that has one, else ``title``."""
        titles = self.titles or {}
        return (
            text_for(titles, language)
            or next((titles[lang] for lang in self.languages if titles.get(lang)), "")
            or self.title
        )


class StudyRole(models.TextChoices):
    RESEARCHER = "researcher", "Researcher"
    ANALYST = "analyst", "Analyst"


class StudyMembership(models.Model):
    """A researcher added to a study, or an analyst assigned to it."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=StudyRole.choices)
    may_export_raw = models.BooleanField(
        default=False, help_text="Analysts see aggregates only unless this is set."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "user"], name="membership_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} on {self.study.slug}"


PANEL_URL = URLValidator(schemes=["https", "http"])


class Sample(models.Model):
    """One fielding of the study's questionnaire to a group (country, wave, panel) with its own link."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="samples")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    default_language = models.CharField(max_length=16)
    target_size = models.PositiveIntegerField(null=True, blank=True)
    is_default = models.BooleanField(default=False, help_text="The sample behind the study's plain link.")
    completion_redirect_url = models.URLField(
        blank=True,
        validators=[PANEL_URL],
        help_text="Panel completion URL; {code} is replaced by the completion code.",
    )
    completion_code = models.CharField(max_length=64, blank=True)
    screenout_redirect_url = models.URLField(
        blank=True,
        validators=[PANEL_URL],
        help_text="Where a participant who does not qualify is sent; {code} is replaced by the screen-out code.",
    )
    screenout_code = models.CharField(max_length=64, blank=True)
    overquota_redirect_url = models.URLField(
        blank=True,
        validators=[PANEL_URL],
        help_text="Where a participant of a full quota cell is sent; {code} is replaced by the over-quota code.",
    )
    overquota_code = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["study", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["study", "slug"], name="sample_unique_slug"),
            models.UniqueConstraint(
                fields=["study"], condition=Q(is_default=True), name="sample_one_default_per_study"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study.slug}/{self.slug}"

    def panel_link(self, outcome: str) -> str | None:
        """The panel's return URL for ``outcome`` (``completion``, ``screenout``, ``overquota``) with its
        code filled in, or None when the sample has none. Nothing about the participant is added."""
        url = getattr(self, f"{outcome}_redirect_url")
        return url.replace("{code}", getattr(self, f"{outcome}_code")) if url else None

    def clean(self) -> None:
        # The study may be an unsaved one from the same page, whose languages did not validate.
        languages = self.study.languages if self.study_id and isinstance(self.study.languages, list) else []
        if self.study_id and self.default_language not in languages:
            raise ValidationError(
                {
                    "default_language": f"Must be one of the study's languages: {', '.join(map(str, languages))}."
                },
                code="sample_language",
            )


class ConsentText(models.Model):
    """A consent text in every language of the study, with who is asking: the research team, a
    contact and the ethics approval (committee and reference). Versions are kept, never edited in use.

    ``texts``, ``research_team``, ``contact`` and ``ethics_committee`` are ``{language code: text}``;
    ``ethics_reference`` (the approval or exemption number) is the same in every language.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="consent_texts")
    version = models.PositiveIntegerField()
    texts = models.JSONField(default=dict, help_text="{language code: consent text}")
    research_team = models.JSONField(
        default=dict, blank=True, help_text="{language code: research team or institution}"
    )
    contact = models.JSONField(
        default=dict, blank=True, help_text="{language code: how participants reach the team}"
    )
    ethics_committee = models.JSONField(
        default=dict, blank=True, help_text="{language code: the ethics committee that approved the study}"
    )
    ethics_reference = models.CharField(
        max_length=200, blank=True, help_text="The approval (or exemption) number the committee gave."
    )
    created_at = models.DateField(auto_now_add=True)

    TRANSLATED_FIELDS = ("texts", "research_team", "contact", "ethics_committee")

    class Meta:
        ordering = ["study", "-version"]
        constraints = [models.UniqueConstraint(fields=["study", "version"], name="consent_unique_version")]

    def __str__(self) -> str:
        return f"Consent v{self.version} of {self.study.slug}"

    def clean(self) -> None:
        refuse_piping(
            {
                "texts": (self.texts, _("The consent text")),
                "research_team": (self.research_team, _("The research team")),
                "contact": (self.contact, _("The contact")),
                "ethics_committee": (self.ethics_committee, _("The ethics committee")),
                "ethics_reference": (self.ethics_reference, _("The ethics approval number")),
            }
        )

    def missing_languages(self) -> list[str]:
        return [lang for lang in self.study.languages if not text_for(self.texts or {}, lang).strip()]

    def missing(self, languages: list[str]) -> dict[str, list[str]]:
        """``{field: [languages without it]}`` for every translated field not complete in ``languages``;
        ``ethics_reference`` is listed (with no language) when it is empty. A text under another tag of
        the same language counts (a ``zh-Hans`` consent serves a ``zh`` questionnaire)."""
        gaps = {
            name: [lang for lang in languages if not str(text_for(getattr(self, name) or {}, lang)).strip()]
            for name in self.TRANSLATED_FIELDS
        }
        result = {name: langs for name, langs in gaps.items() if langs}
        if not self.ethics_reference.strip():
            result["ethics_reference"] = []
        return result

    def is_in_use(self) -> bool:
        return self.versions.filter(status="published").exists()
