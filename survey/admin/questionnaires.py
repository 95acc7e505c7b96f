"""The researcher's questionnaire editor: versions with their pages, questions and choice lists."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from import_export.admin import ImportExportMixin

from ..instrument import QuestionnaireInvalid
from ..models import Choice, ChoiceList, ConsentText, Question, QuestionnaireVersion, Section
from ..resources import ChoiceResource, QuestionResource
from ..selectors import studies_editable_by
from ..services.questionnaires import (
    publish_problems,
    question_problems,
    questionnaire_new_draft,
    questionnaire_publish,
)
from .base import (
    ReadOnlyWhenPublishedMixin,
    StudyScopedMixin,
    TranslatedForm,
    translated_fieldnames,
    translated_form,
)


class SectionForm(TranslatedForm):
    translated_fields = ("label",)

    class Meta:
        model = Section
        fields = ("code", "position", "relevance", "randomize", "shuffle")


class QuestionForm(TranslatedForm):
    translated_fields = ("label", "hint", "constraint_message")
    required_translations = ("label",)

    class Meta:
        model = Question
        fields = (
            "section",
            "parent",
            "position",
            "code",
            "type",
            "required",
            "relevance",
            "constraint",
            "appearance",
            "parameters",
            "choice_list",
            "randomize",
            "reverse_scale",
            "source",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        version = (
            cleaned.get("section").version
            if cleaned.get("section")
            else getattr(self.instance, "version", None)
        )
        if version is None or self.errors:
            return cleaned
        for problem in question_problems(version=version, question=self.instance, data=cleaned):
            self.add_error(None, forms.ValidationError(str(problem), code=problem.code))
        return cleaned


class ChoiceForm(TranslatedForm):
    translated_fields = ("label",)
    required_translations = ("label",)

    class Meta:
        model = Choice
        fields = ("code", "position")


class VersionInlineMixin(ReadOnlyWhenPublishedMixin):
    form_base: type[TranslatedForm]
    plain_fields: tuple[str, ...]

    def version_of(self, obj: QuestionnaireVersion) -> QuestionnaireVersion:
        return obj

    def get_formset(self, request: HttpRequest, obj: QuestionnaireVersion | None = None, **kwargs: Any):
        languages = obj.languages if obj else []
        kwargs["form"] = translated_form(self.form_base, languages)
        kwargs["fields"] = list(self.plain_fields)
        return super().get_formset(request, obj, **kwargs)  # type: ignore[misc]

    def get_fields(self, request: HttpRequest, obj: QuestionnaireVersion | None = None) -> list[str]:
        languages = obj.languages if obj else []
        return [*self.plain_fields, *translated_fieldnames(self.form_base, languages)]


class SectionInline(VersionInlineMixin, admin.TabularInline):
    model = Section
    form_base = SectionForm
    plain_fields = ("position", "code", "relevance", "randomize", "shuffle")
    extra = 0
    ordering = ("position",)


class QuestionInline(VersionInlineMixin, admin.TabularInline):
    model = Question
    form_base = QuestionForm
    plain_fields = ("section", "position", "code", "type", "required", "relevance", "choice_list")
    extra = 0
    show_change_link = True
    ordering = ("section__position", "position")

    def get_fields(self, request: HttpRequest, obj: QuestionnaireVersion | None = None) -> list[str]:
        languages = obj.languages if obj else []
        return [*self.plain_fields, *[f"label__{language}" for language in languages]]

    def get_formset(self, request: HttpRequest, obj: QuestionnaireVersion | None = None, **kwargs: Any):
        formset = super().get_formset(request, obj, **kwargs)
        fields = formset.form.base_fields
        if obj is not None and "section" in fields:
            fields["section"].queryset = Section.objects.filter(version=obj)
            fields["choice_list"].queryset = ChoiceList.objects.filter(version=obj)
        return formset


class ChoiceListInline(ReadOnlyWhenPublishedMixin, admin.TabularInline):
    model = ChoiceList
    fields = ("name", "choices_summary")
    readonly_fields = ("choices_summary",)
    extra = 0
    show_change_link = True

    def version_of(self, obj: QuestionnaireVersion) -> QuestionnaireVersion:
        return obj

    @admin.display(description="Choices")
    def choices_summary(self, obj: ChoiceList) -> str:
        return ", ".join(choice.code for choice in obj.choices.all()) if obj.pk else ""


class PublishForm(forms.Form):
    consent = forms.ModelChoiceField(queryset=ConsentText.objects.none(), label="Consent text")

    def __init__(self, *args: Any, version: QuestionnaireVersion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consent"].queryset = ConsentText.objects.filter(study=version.study)
        self.fields["consent"].initial = version.consent or self.fields["consent"].queryset.first()


@admin.register(QuestionnaireVersion)
class QuestionnaireVersionAdmin(StudyScopedMixin, ReadOnlyWhenPublishedMixin, admin.ModelAdmin):
    list_display = ("study", "number", "status", "created_on", "published_on", "actions_column")
    list_filter = ("status", ("study", RelatedOnlyFieldListFilter))
    fields = (
        "study",
        "number",
        "status",
        "form_id",
        "languages",
        "default_language",
        "consent",
        "published_on",
    )
    readonly_fields = ("number", "status", "published_on")
    inlines = (SectionInline, QuestionInline, ChoiceListInline)
    change_form_template = "admin/survey/questionnaireversion/change_form.html"

    def version_of(self, obj: QuestionnaireVersion) -> QuestionnaireVersion:
        return obj

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # New versions come from an import or from "New draft", which keep numbering and codes right.
        return False

    @admin.display(description="")
    def actions_column(self, obj: QuestionnaireVersion) -> str:
        links = [
            (
                reverse("admin:survey_questionnaireversion_preview", args=[obj.pk, lang]),
                f"Preview [{lang}]",
            )
            for lang in obj.languages
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    def get_urls(self):
        own = [
            path(
                "<int:pk>/preview/<str:language>/",
                self.admin_site.admin_view(self.preview_view),
                name="survey_questionnaireversion_preview",
            ),
            path(
                "<int:pk>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="survey_questionnaireversion_publish",
            ),
            path(
                "<int:pk>/new-draft/",
                self.admin_site.admin_view(self.new_draft_view),
                name="survey_questionnaireversion_new_draft",
            ),
        ]
        return own + super().get_urls()

    def _version(self, request: HttpRequest, pk: int, *, edit: bool) -> QuestionnaireVersion:
        version = get_object_or_404(self.get_queryset(request).select_related("study"), pk=pk)
        if edit and not (
            request.user.has_perm("survey.change_questionnaireversion")
            and studies_editable_by(request.user).filter(pk=version.study_id).exists()
        ):
            raise PermissionDenied
        return version

    def preview_view(self, request: HttpRequest, pk: int, language: str) -> HttpResponse:
        from ..views.preview import render_preview

        version = self._version(request, pk, edit=False)
        return render_preview(request, version, language)

    def publish_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = self._version(request, pk, edit=True)
        form = PublishForm(request.POST or None, version=version)
        problems = publish_problems(version, form.fields["consent"].initial)
        if request.method == "POST" and form.is_valid():
            try:
                questionnaire_publish(
                    version=version, consent=form.cleaned_data["consent"], user=request.user
                )
            except QuestionnaireInvalid as error:
                problems = error.problems
            else:
                self.message_user(request, f"Version {version.number} is published.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:survey_questionnaireversion_change", args=[version.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Publish {version}",
            "version": version,
            "form": form,
            "problems": problems,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/survey/questionnaireversion/publish.html", context)

    def new_draft_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = self._version(request, pk, edit=True)
        if request.method != "POST":
            return HttpResponseRedirect(
                reverse("admin:survey_questionnaireversion_change", args=[version.pk])
            )
        try:
            draft = questionnaire_new_draft(version=version, user=request.user)
        except QuestionnaireInvalid as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:survey_questionnaireversion_change", args=[version.pk])
            )
        self.message_user(
            request,
            f"Draft version {draft.number} created from version {version.number}.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:survey_questionnaireversion_change", args=[draft.pk]))


class VersionPartAdmin(StudyScopedMixin, ReadOnlyWhenPublishedMixin, ImportExportMixin, admin.ModelAdmin):
    """Questions and choices also have pages of their own, with spreadsheet import and export."""

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_import_resource_kwargs(request, **kwargs), "user": request.user}

    def get_export_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_export_resource_kwargs(request, **kwargs), "user": request.user}


@admin.register(Question)
class QuestionAdmin(VersionPartAdmin):
    study_path = "version__study"
    resource_classes = [QuestionResource]
    list_display = ("code", "type", "version", "section", "position", "required")
    list_filter = (
        ("version__study", RelatedOnlyFieldListFilter),
        ("version", RelatedOnlyFieldListFilter),
        "type",
    )
    search_fields = ("code",)

    def version_of(self, obj: Question) -> QuestionnaireVersion:
        return obj.version

    def get_form(
        self, request: HttpRequest, obj: Question | None = None, change: bool = False, **kwargs: Any
    ):
        kwargs["form"] = translated_form(QuestionForm, obj.version.languages if obj else [])
        kwargs["fields"] = list(QuestionForm.Meta.fields)
        form = super().get_form(request, obj, change=change, **kwargs)
        scoped = {
            "section": Section.objects.filter(version=obj.version) if obj else None,
            "choice_list": ChoiceList.objects.filter(version=obj.version) if obj else None,
            "parent": Question.objects.filter(version=obj.version, type__in=["matrix", "list_experiment"])
            if obj
            else None,
        }
        for name, queryset in scoped.items():
            if queryset is not None and name in form.base_fields:  # read-only users get no inputs
                form.base_fields[name].queryset = queryset
        return form

    def get_fields(self, request: HttpRequest, obj: Question | None = None) -> list[str]:
        return [
            *QuestionForm.Meta.fields,
            *translated_fieldnames(QuestionForm, obj.version.languages if obj else []),
        ]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # add questions from their version's page, where the languages are known


class ChoiceInline(ReadOnlyWhenPublishedMixin, admin.TabularInline):
    model = Choice
    extra = 0
    ordering = ("position",)

    def version_of(self, obj: ChoiceList) -> QuestionnaireVersion:
        return obj.version

    def get_formset(self, request: HttpRequest, obj: ChoiceList | None = None, **kwargs: Any):
        kwargs["form"] = translated_form(ChoiceForm, obj.version.languages if obj else [])
        kwargs["fields"] = list(ChoiceForm.Meta.fields)
        return super().get_formset(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ChoiceList | None = None) -> list[str]:
        return [
            *ChoiceForm.Meta.fields,
            *translated_fieldnames(ChoiceForm, obj.version.languages if obj else []),
        ]


@admin.register(ChoiceList)
class ChoiceListAdmin(StudyScopedMixin, ReadOnlyWhenPublishedMixin, admin.ModelAdmin):
    study_path = "version__study"
    list_display = ("name", "version")
    list_filter = (("version__study", RelatedOnlyFieldListFilter),)
    fields = ("version", "name")
    inlines = (ChoiceInline,)

    def version_of(self, obj: ChoiceList) -> QuestionnaireVersion:
        return obj.version

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Choice)
class ChoiceAdmin(VersionPartAdmin):
    study_path = "choice_list__version__study"
    resource_classes = [ChoiceResource]
    list_display = ("code", "choice_list", "position")
    list_filter = (("choice_list__version__study", RelatedOnlyFieldListFilter),)

    def version_of(self, obj: Choice) -> QuestionnaireVersion:
        return obj.choice_list.version

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_form(self, request: HttpRequest, obj: Choice | None = None, change: bool = False, **kwargs: Any):
        kwargs["form"] = translated_form(ChoiceForm, obj.choice_list.version.languages if obj else [])
        kwargs["fields"] = list(ChoiceForm.Meta.fields)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Choice | None = None) -> list[str]:
        return [
            *ChoiceForm.Meta.fields,
            *translated_fieldnames(ChoiceForm, obj.choice_list.version.languages if obj else []),
        ]
