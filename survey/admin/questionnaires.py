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
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats

from ..instrument import QuestionnaireInvalid
from ..models import Choice, ChoiceList, ConsentText, Question, QuestionnaireVersion, Section
from ..models.questionnaires import GROUP_TYPES
from ..models.studies import validate_languages
from ..resources import ChoiceResource, QuestionResource
from ..selectors import linkable, studies_editable_by
from ..services.questionnaires import (
    publish_problems,
    question_problems,
    questionnaire_new_draft,
    questionnaire_publish,
)
from .base import (
    CandidModelForm,
    ReadOnlyWhenPublishedMixin,
    ScopedInline,
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


E_PARAMETERS = _(
    'Parameters must be an object of names and plain values, e.g. {"start": 0, "end": 10, "step": 1}.'
)


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

    def clean_parameters(self) -> dict[str, Any]:
        value = self.cleaned_data.get("parameters")
        if value in (None, ""):
            return {}
        plain = (str, int, float, bool)
        if not isinstance(value, dict) or not all(isinstance(v, plain) for v in value.values()):
            raise forms.ValidationError(E_PARAMETERS, code="parameters")
        return value

    def proposed(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        """The question as it would be saved: the form's fields over the stored values.

        A page that shows some fields only (the version page's question rows) must not check the
        question as if the fields it does not show were blank.
        """
        question: dict[str, Any] = {}
        for name in QuestionForm.Meta.fields:  # all of them, whichever this form shows
            if name in self.fields:
                question[name] = cleaned.get(name)
            elif (
                name in {"section", "parent", "choice_list"} and getattr(self.instance, f"{name}_id") is None
            ):
                question[name] = None  # a new row has no related object yet
            else:
                question[name] = getattr(self.instance, name)
        return question

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        question = self.proposed(cleaned)
        version = question["section"].version if question["section"] else None
        if version is None:
            return cleaned
        for problem in question_problems(version=version, question=self.instance, data=question):
            self.add_error(None, forms.ValidationError(str(problem), code=problem.code))
        return cleaned


class QuestionRowForm(QuestionForm):
    """A question as a row of its version's page, which shows its label only."""

    translated_fields = ("label",)


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


ADMIN_INLINE_ROWS = 100  # a version's change page lists no more rows of one kind (issue 10, item 11)


class SectionInline(VersionInlineMixin, ScopedInline):
    model = Section
    form_base = SectionForm
    plain_fields = ("position", "code", "relevance", "randomize", "shuffle")
    extra = 0
    ordering = ("position",)


class QuestionInline(VersionInlineMixin, ScopedInline):
    model = Question
    form_base = QuestionRowForm
    plain_fields = ("section", "position", "code", "type", "required", "relevance", "choice_list")
    extra = 0
    show_change_link = True
    ordering = ("section__position", "position")


class ChoiceListInline(ReadOnlyWhenPublishedMixin, ScopedInline):
    model = ChoiceList
    fields = ("name", "choices_summary")
    readonly_fields = ("choices_summary",)
    extra = 0
    show_change_link = True

    def version_of(self, obj: QuestionnaireVersion) -> QuestionnaireVersion:
        return obj

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("choices")  # one query, not one per list

    @admin.display(description=_("Choices"))
    def choices_summary(self, obj: ChoiceList) -> str:
        return ", ".join(choice.code for choice in obj.choices.all()) if obj.pk else ""


class PublishForm(forms.Form):
    consent = forms.ModelChoiceField(queryset=ConsentText.objects.none(), label=_("Consent text"))

    def __init__(self, *args: Any, version: QuestionnaireVersion, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consent"].queryset = linkable(ConsentText, user=user, within=version)
        self.fields["consent"].initial = version.consent or self.fields["consent"].queryset.first()


E_LANGUAGE_NOT_LISTED = _("The default language must be one of the version's languages.")


class VersionForm(CandidModelForm):
    class Meta:
        model = QuestionnaireVersion
        fields = ("study", "form_id", "languages", "default_language", "consent")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        languages = cleaned.get("languages", self.instance.languages)
        if "languages" in self.fields and "languages" in cleaned:
            try:
                validate_languages(languages)
            except forms.ValidationError as error:
                self.add_error("languages", error)
                return cleaned
        default = cleaned.get("default_language", self.instance.default_language)
        if isinstance(languages, list) and default not in languages:
            self.add_error(
                "default_language" if "default_language" in self.fields else None,
                forms.ValidationError(E_LANGUAGE_NOT_LISTED, code="default_language"),
            )
        return cleaned


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
    readonly_fields = ("number", "status", "published_on", "edited_elsewhere")
    form = VersionForm
    inlines = (SectionInline, QuestionInline, ChoiceListInline)
    change_form_template = "admin/survey/questionnaireversion/change_form.html"

    def version_of(self, obj: QuestionnaireVersion) -> QuestionnaireVersion:
        return obj

    def _long_inlines(self, obj: QuestionnaireVersion) -> dict[type, int]:
        """The inlines with more rows than one page can show in time, and their row counts."""
        counts = {
            SectionInline: obj.sections.count(),
            QuestionInline: obj.questions.count(),
            ChoiceListInline: obj.choice_lists.count(),
        }
        return {inline: count for inline, count in counts.items() if count > ADMIN_INLINE_ROWS}

    def get_inlines(self, request: HttpRequest, obj: QuestionnaireVersion | None) -> list[type]:
        long = self._long_inlines(obj) if obj is not None else {}
        return [inline for inline in self.inlines if inline not in long]

    def get_fields(self, request: HttpRequest, obj: QuestionnaireVersion | None = None) -> list[str]:
        fields = [f for f in super().get_fields(request, obj) if f != "edited_elsewhere"]
        return [*fields, "edited_elsewhere"] if obj is not None and self._long_inlines(obj) else fields

    @admin.display(description=_("Too long for this page"))
    def edited_elsewhere(self, obj: QuestionnaireVersion) -> str:
        """Where the rows left out of this page are edited: the studio, or their own lists."""
        long = self._long_inlines(obj)
        studio = reverse("survey:studio_version", args=[obj.study.slug, obj.number])
        places = {
            SectionInline: (_("%(count)s pages"), studio),
            QuestionInline: (
                _("%(count)s questions"),
                f"{reverse('admin:survey_question_changelist')}?version__id__exact={obj.pk}",
            ),
            ChoiceListInline: (
                _("%(count)s choice lists"),
                f"{reverse('admin:survey_choicelist_changelist')}?version__id__exact={obj.pk}",
            ),
        }
        links = [(places[inline][1], places[inline][0] % {"count": count}) for inline, count in long.items()]
        return format_html(
            '{} {} — <a href="{}">{}</a>',
            _("More than %(limit)s rows are not listed here:") % {"limit": ADMIN_INLINE_ROWS},
            format_html_join(", ", '<a href="{}">{}</a>', links),
            studio,
            _("edit them in the studio"),
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # New versions come from an import or from "New draft", which keep numbering and codes right.
        return False

    @admin.display(description="")
    def actions_column(self, obj: QuestionnaireVersion) -> str:
        links = [
            (
                reverse("admin:survey_questionnaireversion_preview", args=[obj.pk, lang]),
                _("Preview [%(language)s]") % {"language": lang},
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
        form = PublishForm(request.POST or None, version=version, user=request.user)
        problems = publish_problems(version, form.fields["consent"].initial)
        if request.method == "POST" and form.is_valid():
            try:
                questionnaire_publish(
                    version=version, consent=form.cleaned_data["consent"], user=request.user
                )
            except QuestionnaireInvalid as error:
                problems = error.problems
            else:
                self.message_user(
                    request,
                    _("Version %(number)s is published.") % {"number": version.number},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:survey_questionnaireversion_change", args=[version.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Publish %(version)s") % {"version": version},
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
            _("Draft version %(draft)s created from version %(number)s.")
            % {"draft": draft.number, "number": version.number},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:survey_questionnaireversion_change", args=[draft.pk]))


class VersionPartAdmin(StudyScopedMixin, ReadOnlyWhenPublishedMixin, ImportExportMixin, admin.ModelAdmin):
    """Questions and choices also have pages of their own, with spreadsheet import and export."""

    import_template_name = "admin/survey/import.html"
    # Spreadsheets only (CSV and XLSX, for import and export): tablib's other readers
    # (HTML, ODS, YAML, JSON, TSV, XLS) fail on input they cannot read with errors of their own, past
    # django-import-export's checks (an HTML table without a header row answered 500).
    formats = [base_formats.CSV, base_formats.XLSX]

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
        if "parent" in form.base_fields:  # read-only users get no inputs
            parent = form.base_fields["parent"]
            parent.queryset = parent.queryset.filter(type__in=sorted(GROUP_TYPES))
        return form

    def get_fields(self, request: HttpRequest, obj: Question | None = None) -> list[str]:
        return [
            *QuestionForm.Meta.fields,
            *translated_fieldnames(QuestionForm, obj.version.languages if obj else []),
        ]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # add questions from their version's page, where the languages are known


class ChoiceInline(ReadOnlyWhenPublishedMixin, ScopedInline):
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
    list_filter = (("version__study", RelatedOnlyFieldListFilter), ("version", RelatedOnlyFieldListFilter))
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
