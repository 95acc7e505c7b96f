"""Questionnaires as versioned data: version → sections (pages) → questions, and choice lists.

A published version is immutable. Every write path — model ``save``/``delete``, queryset
``update``/``delete``, the admin, the importer — goes through the guards below, so a test can
prove that no path changes a published version. "New draft" copies a version instead.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .studies import ConsentText, Study

PUBLISHED_IMMUTABLE = "Version {number} of {study} is published and cannot be changed; make a new draft."


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class QuestionType(models.TextChoices):
    SINGLE_CHOICE = "single_choice", _("Single choice")
    MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
    LIKERT = "likert", _("Likert item")
    MATRIX = "matrix", _("Matrix (items sharing one choice list)")
    INTEGER = "integer", _("Integer")
    DECIMAL = "decimal", _("Decimal")
    TEXT = "text", _("Short text")
    LONG_TEXT = "long_text", _("Long text")
    DATE = "date", _("Date")
    RANKING = "ranking", _("Ranking")
    SLIDER = "slider", _("Slider (range)")
    NOTE = "note", _("Note (text only)")
    LIST_EXPERIMENT = "list_experiment", _("List experiment")
    CALCULATE = "calculate", _("Calculation (computed, not shown)")


CHOICE_TYPES = frozenset({"single_choice", "multiple_choice", "likert", "ranking", "matrix"})
GROUP_TYPES = frozenset({"matrix", "list_experiment"})


class PublishedGuardQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes that would touch a published version."""

    version_path = "version"

    def _touches_published(self) -> bool:
        return self.filter(**{f"{self.version_path}__status": VersionStatus.PUBLISHED}).exists()

    def update(self, **kwargs):
        if self._touches_published():
            raise ValidationError("Published versions cannot be changed.", code="published_immutable")
        return super().update(**kwargs)

    def delete(self):
        if self._touches_published():
            raise ValidationError("Published versions cannot be changed.", code="published_immutable")
        return super().delete()


class VersionQuerySet(PublishedGuardQuerySet):
    def _touches_published(self) -> bool:
        return self.filter(status=VersionStatus.PUBLISHED).exists()


class ChoiceQuerySet(PublishedGuardQuerySet):
    version_path = "choice_list__version"


class QuestionnaireVersion(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    form_id = models.CharField(max_length=100, blank=True)
    form_version = models.CharField(
        max_length=100, blank=True, help_text="The XLSForm settings' version (a label such as 2024-05-01)."
    )
    title = models.JSONField(default=dict, help_text="{language code: title}")
    languages = models.JSONField(default=list)
    language_names = models.JSONField(
        default=dict, blank=True, help_text="{code: name as in the spreadsheet header}"
    )
    default_language = models.CharField(max_length=16)
    consent = models.ForeignKey(
        ConsentText, null=True, blank=True, on_delete=models.PROTECT, related_name="versions"
    )
    created_on = models.DateField(auto_now_add=True)
    published_on = models.DateField(null=True, blank=True)

    objects = VersionQuerySet.as_manager()

    class Meta:
        ordering = ["study", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="version_unique_number"),
            models.UniqueConstraint(
                fields=["study"], condition=Q(status="draft"), name="version_one_draft_per_study"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_on__isnull=False),
                name="version_published_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study.slug} v{self.number} ({self.get_status_display()})"

    def save(self, *args, **kwargs) -> None:
        self.assert_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.assert_editable()
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    def stored_is_published(self) -> bool:
        return (
            bool(self.pk) and type(self).objects.filter(pk=self.pk, status=VersionStatus.PUBLISHED).exists()
        )

    def assert_editable(self) -> None:
        if self.stored_is_published():
            raise ValidationError(
                PUBLISHED_IMMUTABLE.format(number=self.number, study=self.study.slug),
                code="published_immutable",
            )


class VersionPart(models.Model):
    """A piece of a version; it may only change while its version is a draft."""

    objects = PublishedGuardQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.owning_version().assert_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.owning_version().assert_editable()
        return super().delete(*args, **kwargs)

    def owning_version(self) -> QuestionnaireVersion:
        return self.version


class Section(VersionPart):
    """A page of the questionnaire (a top-level XLSForm group)."""

    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.CASCADE, related_name="sections")
    code = models.CharField(max_length=64)
    position = models.PositiveIntegerField(default=0)
    label = models.JSONField(default=dict, blank=True)
    relevance = models.TextField(blank=True)
    randomize = models.BooleanField(default=False, help_text="Show this page's questions in a random order.")
    shuffle = models.BooleanField(
        default=False, help_text="This page may change places with the other shuffled pages."
    )

    class Meta:
        ordering = ["version", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="section_unique_code")]

    def __str__(self) -> str:
        return self.code


class ChoiceList(VersionPart):
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.CASCADE, related_name="choice_lists")
    name = models.CharField(max_length=64)

    class Meta:
        ordering = ["version", "name"]
        constraints = [models.UniqueConstraint(fields=["version", "name"], name="choicelist_unique_name")]

    def __str__(self) -> str:
        return self.name


class Choice(VersionPart):
    choice_list = models.ForeignKey(ChoiceList, on_delete=models.CASCADE, related_name="choices")
    code = models.CharField(max_length=64)
    position = models.PositiveIntegerField(default=0)
    label = models.JSONField(default=dict)
    # Left in place when the options are shuffled or reversed ("Don't know" stays last).
    anchor = models.BooleanField(default=False)
    # In a multiple choice, chosen only alone ("None of these").
    exclusive = models.BooleanField(default=False)
    # The choices sheet's other columns ({column: text}), which a question's choice_filter reads.
    columns = models.JSONField(default=dict, blank=True)

    objects = ChoiceQuerySet.as_manager()

    class Meta:
        ordering = ["choice_list", "position"]
        constraints = [models.UniqueConstraint(fields=["choice_list", "code"], name="choice_unique_code")]

    def __str__(self) -> str:
        return self.code

    def owning_version(self) -> QuestionnaireVersion:
        return self.choice_list.version


class Question(VersionPart):
    """A question, a note, or a group of items (matrix, list experiment) whose items point to it."""

    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.CASCADE, related_name="questions")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="questions")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="items",
        help_text="The matrix or list experiment this item belongs to.",
    )
    position = models.PositiveIntegerField(default=0)
    code = models.CharField(max_length=64, help_text="Stable variable name.")
    type = models.CharField(max_length=20, choices=QuestionType.choices)
    label = models.JSONField(default=dict, blank=True)
    hint = models.JSONField(default=dict, blank=True)
    required = models.BooleanField(default=False)
    relevance = models.TextField(blank=True)
    constraint = models.TextField(blank=True)
    constraint_message = models.JSONField(default=dict, blank=True)
    appearance = models.CharField(max_length=100, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    choice_list = models.ForeignKey(
        ChoiceList, null=True, blank=True, on_delete=models.RESTRICT, related_name="questions"
    )
    randomize = models.BooleanField(default=False, help_text="Random option (or item) order.")
    reverse_scale = models.BooleanField(default=False, help_text="Show the scale reversed to half.")
    source = models.TextField(blank=True, help_text="Instrument the item follows, e.g. WVS Q57.")
    # XLSForm columns (survey.xlsform): an expression the server computes and stores as the answer,
    # an expression that keeps a choice when true, a pre-filled answer, and shown-but-not-editable.
    calculation = models.TextField(blank=True)
    choice_filter = models.TextField(blank=True)
    default = models.TextField(blank=True)
    read_only = models.BooleanField(default=False)

    class Meta:
        ordering = ["version", "section__position", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="question_unique_code"),
            models.CheckConstraint(
                condition=Q(type__in=sorted(CHOICE_TYPES)) | Q(choice_list__isnull=True),
                name="question_choices_only_for_choice_types",
            ),
        ]

    def __str__(self) -> str:
        return self.code
