"""django-import-export resources: questions and choices in and out of spreadsheets, by natural key.

A row names its version as ``<study slug>:<version number>`` and is matched on ``(version, code)``,
so re-importing an edited sheet updates questions instead of duplicating them. Imports run in a
transaction, with a dry run first in the admin, and refuse published versions and studies the
importing user may not edit.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from import_export import fields, resources, widgets

from .instrument import validate
from .models import Choice, ChoiceList, Question, QuestionnaireVersion, Section
from .selectors import studies_editable_by, version_to_spec

E_VERSION_REF = "version must be written as '<study slug>:<number>', not {value!r}"
E_NOT_YOURS = "you may not edit study {study!r}"


class VersionWidget(widgets.ForeignKeyWidget):
    def __init__(self) -> None:
        super().__init__(QuestionnaireVersion)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> QuestionnaireVersion | None:
        if not value:
            return None
        slug, _, number = str(value).rpartition(":")
        if not slug or not number.isdigit():
            raise ValueError(E_VERSION_REF.format(value=value))
        return QuestionnaireVersion.objects.select_related("study").get(study__slug=slug, number=int(number))

    def render(self, value: QuestionnaireVersion | None, obj: Any = None, **kwargs: Any) -> str:
        return f"{value.study.slug}:{value.number}" if value else ""


class InVersionWidget(widgets.ForeignKeyWidget):
    """A section or choice list named by its code inside the row's version."""

    def get_queryset(self, value: Any, row: Any, *args: Any, **kwargs: Any):
        version = VersionWidget().clean(row.get("version"))
        return self.model.objects.filter(version=version)


class _EditableOnly(resources.ModelResource):
    def __init__(self, user: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user
        self.touched: set[int] = set()

    def version_of(self, instance: Any) -> QuestionnaireVersion:
        raise NotImplementedError

    def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        version = self.version_of(instance)
        if self.user is None or not studies_editable_by(self.user).filter(pk=version.study_id).exists():
            raise PermissionDenied(E_NOT_YOURS.format(study=version.study.slug))
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
