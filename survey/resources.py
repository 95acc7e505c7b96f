"""django-import-export resources: questions and choices in and out of spreadsheets, by natural key.

A row names its version as ``<study slug>:<version number>`` and is matched on ``(version, code)``,
so re-importing an edited sheet updates questions instead of duplicating them. Imports run in a
transaction, with a dry run first in the admin, and refuse published versions and studies the
importing user may not edit.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from .instrument import validate
from .models import Choice, ChoiceList, Question, QuestionnaireVersion, Section
from .selectors import linkable, studies_editable_by, version_to_spec

E_VERSION_REF = "version must be written as '<study slug>:<number>', not {value!r}"
# One message whether the study does not exist or is someone else's: an import must not tell
# which study slugs exist.
E_VERSION_UNKNOWN = "no draft version {value!r} among the studies you may edit"


class VersionWidget(widgets.ForeignKeyWidget):
    """A version named ``<study slug>:<number>``, found among the drafts ``user`` may edit only."""

    def __init__(self) -> None:
        super().__init__(QuestionnaireVersion)
        self.user: Any = None

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> QuestionnaireVersion | None:
        if not value:
            return None
        slug, _, number = str(value).strip().rpartition(":")
        if not slug or not (number.isascii() and number.isdigit()) or len(number) > 9:
            raise ValueError(E_VERSION_REF.format(value=value))
        versions = (
            linkable(QuestionnaireVersion, user=self.user)
            if self.user
            else QuestionnaireVersion.objects.none()
        )
        version = versions.select_related("study").filter(study__slug=slug, number=int(number)).first()
        if version is None:
            raise ValueError(E_VERSION_UNKNOWN.format(value=str(value).strip()))
        return version

    def render(self, value: QuestionnaireVersion | None, obj: Any = None, **kwargs: Any) -> str:
        return f"{value.study.slug}:{value.number}" if value else ""


class InVersionWidget(widgets.ForeignKeyWidget):
    """A section or choice list named by its code inside the row's version."""

    def __init__(self, model: Any, field: str) -> None:
        super().__init__(model, field)
        self.versions = VersionWidget()

    def get_queryset(self, value: Any, row: Any, *args: Any, **kwargs: Any):
        version = self.versions.clean(row.get("version"))
        return linkable(self.model, user=self.versions.user, within=version)


class _EditableOnly(resources.ModelResource):
    """Rows may only name versions, sections and lists the importing user may edit."""

    def __init__(self, user: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user
        self.touched: set[int] = set()
        for field in self.fields.values():  # each resource has its own copy of its fields
            widget = field.widget
            if isinstance(widget, VersionWidget):
                widget.user = user
            elif isinstance(widget, InVersionWidget):
                widget.versions.user = user

    def version_of(self, instance: Any) -> QuestionnaireVersion:
        raise NotImplementedError

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        # Refuse a row naming a version the user may not edit before anything is looked up,
        # as a validation error (a message), never an exception with a traceback.
        try:
            self.fields["version"].widget.clean(row.get("version"))
        except ValueError as error:
            raise ValidationError({"version": str(error)}) from error

    def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        version = self.version_of(instance)
        if self.user is None or not studies_editable_by(self.user).filter(pk=version.study_id).exists():
            raise ValidationError(E_VERSION_UNKNOWN.format(value=VersionWidget().render(version)))
        version.assert_editable()
        self.touched.add(version.pk)

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        # A batch of rows can be fine one by one and still leave a broken form (a relevance that
        # now points forward): check each touched version whole; the transaction rolls back.
        for version in QuestionnaireVersion.objects.filter(pk__in=self.touched):
            problems = validate(version_to_spec(version))
            if problems:
                raise ValidationError([str(problem) for problem in problems])


class QuestionResource(_EditableOnly):
    version = fields.Field(attribute="version", column_name="version", widget=VersionWidget())
    section = fields.Field(
        attribute="section", column_name="section", widget=InVersionWidget(Section, "code")
    )
    choice_list = fields.Field(
        attribute="choice_list",
        column_name="choice_list",
        widget=InVersionWidget(ChoiceList, "name"),
    )
    label = fields.Field(attribute="label", column_name="label", widget=widgets.JSONWidget())
    hint = fields.Field(attribute="hint", column_name="hint", widget=widgets.JSONWidget())
    constraint_message = fields.Field(
        attribute="constraint_message",
        column_name="constraint_message",
        widget=widgets.JSONWidget(),
    )
    parameters = fields.Field(attribute="parameters", column_name="parameters", widget=widgets.JSONWidget())

    class Meta:
        model = Question
        import_id_fields = ("version", "code")
        fields = (
            "version",
            "section",
            "code",
            "position",
            "type",
            "label",
            "hint",
            "required",
            "relevance",
            "constraint",
            "constraint_message",
            "appearance",
            "parameters",
            "choice_list",
            "randomize",
            "reverse_scale",
            "source",
        )
        export_order = fields
        use_transactions = True
        skip_unchanged = True
        report_skipped = True

    def version_of(self, instance: Question) -> QuestionnaireVersion:
        return instance.version


class ChoiceResource(_EditableOnly):
    version = fields.Field(column_name="version", widget=VersionWidget())
    choice_list = fields.Field(
        attribute="choice_list",
        column_name="choice_list",
        widget=InVersionWidget(ChoiceList, "name"),
    )
    label = fields.Field(attribute="label", column_name="label", widget=widgets.JSONWidget())

    class Meta:
        model = Choice
        import_id_fields = ("choice_list", "code")
        fields = ("version", "choice_list", "code", "position", "label")
        export_order = fields
        use_transactions = True
        skip_unchanged = True
        report_skipped = True

    def dehydrate_version(self, choice: Choice) -> str:
        return VersionWidget().render(choice.choice_list.version)

    def version_of(self, instance: Choice) -> QuestionnaireVersion:
        return instance.choice_list.version
