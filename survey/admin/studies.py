"""Admin for studies, their samples, members and consent texts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ..models import AuditEvent, ConsentText, Sample, Study, StudyMembership
from ..selectors import staff_accounts, studies_editable_by
from .base import (
    CandidModelForm,
    ScopedInline,
    StudyScopedMixin,
    TranslatedForm,
    translated_fieldnames,
    translated_form,
)


class SampleInline(ScopedInline):
    model = Sample
    extra = 0
    fields = (
        "slug",
        "name",
        "default_language",
        "is_default",
        "target_size",
        "completion_redirect_url",
        "completion_code",
        "screenout_redirect_url",
        "screenout_code",
        "overquota_redirect_url",
        "overquota_code",
    )


E_NO_SUCH_ACCOUNT = _(
    "No active staff account has exactly this username. Ask an administrator for the exact username."
)


class MembershipForm(CandidModelForm):
    """A member is named by their exact username: no list of accounts is ever shown."""

    user = forms.ModelChoiceField(
        queryset=staff_accounts(),
        to_field_name="username",
        label=_("Username"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 24}),
        error_messages={"invalid_choice": E_NO_SUCH_ACCOUNT},
    )

    class Meta:
        model = StudyMembership
        fields = ("user", "role", "may_export_raw")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["user"] = self.instance.user.username


class MembershipInline(ScopedInline):
    model = StudyMembership
    form = MembershipForm
    extra = 0
    fields = ("user", "role", "may_export_raw")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("user")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log, for admins only; nothing in it can be edited."""

    list_display = ("at", "user", "action", "study")
    list_filter = ("action", "study")
    readonly_fields = ("at", "user", "action", "study", "detail")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Study)
class StudyAdmin(StudyScopedMixin, admin.ModelAdmin):
    study_path = "pk"
    list_display = ("title", "slug", "owner", "opens_on", "closes_on", "target_size", "results_link")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    fields = (
        "title",
        "slug",
        "languages",
        "opens_on",
        "closes_on",
        "target_size",
        "data_freeze_on",
    )
    inlines = (SampleInline, MembershipInline)

    def get_queryset(self, request: HttpRequest):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        from ..selectors import studies_visible_to

        return queryset.filter(pk__in=studies_visible_to(request.user).values("pk"))

    def study_of(self, obj: Study) -> Study:
        return obj

    @admin.display(description=_("Results"))
    def results_link(self, obj: Study) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("survey:results", args=[obj.slug]),
            _("Monitoring, report, exports"),
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is StudyMembership and formset.has_changed():
            from ..services.exports import audit_record

            audit_record(
                user=request.user,
                action="permissions_changed",
                study=form.instance,
                members=[
                    f"{m.user.username}:{m.role}:{'raw' if m.may_export_raw else 'aggregates'}"
                    for m in form.instance.memberships.select_related("user")
                ],
            )

    def save_model(self, request: HttpRequest, obj: Study, form: Any, change: bool) -> None:
        if not change:
            obj.owner = request.user
        super().save_model(request, obj, form, change)


class ConsentForm(TranslatedForm):
    translated_fields = ConsentText.TRANSLATED_FIELDS
    required_translations = ("texts",)
    long_text = True

    class Meta:
        model = ConsentText
        fields = ("study", "version", "ethics_reference")


@admin.register(ConsentText)
class ConsentTextAdmin(StudyScopedMixin, admin.ModelAdmin):
    list_display = ("study", "version", "created_at")
    list_filter = (("study", RelatedOnlyFieldListFilter),)

    def languages_for(self, obj: ConsentText | None, request: HttpRequest) -> list[str]:
        if obj is not None:
            return obj.study.languages
        study_id = str(request.GET.get("study") or request.POST.get("study") or "")
        study = (
            studies_editable_by(request.user).filter(pk=int(study_id)).first()
            if study_id.isascii() and study_id.isdigit() and len(study_id) < 19
            else None
        )
        return study.languages if study else ["en", "zh"]

    def get_form(
        self,
        request: HttpRequest,
        obj: ConsentText | None = None,
        change: bool = False,
        **kwargs: Any,
    ):
        kwargs["form"] = translated_form(ConsentForm, self.languages_for(obj, request))
        kwargs["fields"] = ["study", "version", "ethics_reference"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ConsentText | None = None) -> list[str]:
        return [
            "study",
            "version",
            *translated_fieldnames(ConsentForm, self.languages_for(obj, request)),
            "ethics_reference",
        ]

    def has_change_permission(self, request: HttpRequest, obj: ConsentText | None = None) -> bool:
        # A consent text that participants agreed to is evidence; it is never edited, only superseded.
        if obj is not None and obj.is_in_use():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: ConsentText | None = None) -> bool:
        if obj is not None and obj.is_in_use():
            return False
        return super().has_delete_permission(request, obj)
