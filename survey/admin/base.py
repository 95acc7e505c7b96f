"""What every Candid admin page shares: study scoping by role, and per-language text fields."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from ..auth import ThrottledAdminAuthenticationForm
from ..models import Study
from ..selectors import studies_editable_by, studies_visible_to


class StudyScopedMixin:
    """Limits an admin to the studies the user may see, and edits to those they may edit.

    ``study_path`` is the lookup from the model to its study. An object of another study is a
    404 on every view (never a redirect that confirms it exists).
    """

    study_path: ClassVar[str] = "study"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.study_path}__in": studies_visible_to(request.user)}).distinct()

    def study_of(self, obj: Any) -> Study | None:
        for part in self.study_path.split("__"):
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj

    def may_edit(self, request: HttpRequest, obj: Any) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        study = self.study_of(obj)
        return study is not None and studies_editable_by(request.user).filter(pk=study.pk).exists()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self.may_edit(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self.may_edit(request, obj)  # type: ignore[misc]

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if obj is None:
            raise Http404("No such object.")
        return obj

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.related_model is Study and not request.user.is_superuser:
            kwargs["queryset"] = studies_editable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class TranslatedForm(forms.ModelForm):
    """A model form that shows each JSON text field as one input per language, side by side."""

    translated_fields: ClassVar[tuple[str, ...]] = ()
    required_translations: ClassVar[tuple[str, ...]] = ()
    languages: ClassVar[tuple[str, ...]] = ()
    long_text: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.translated_fields:
            values = getattr(self.instance, name, None) or {}
            for language in self.languages:
                widget = (
                    forms.Textarea(attrs={"rows": 4, "cols": 60})
                    if self.long_text
                    else forms.TextInput(attrs={"size": 30})
                )
                self.fields[f"{name}__{language}"] = forms.CharField(
                    label=f"{name.replace('_', ' ').capitalize()} [{language}]",
                    required=name in self.required_translations,
                    initial=values.get(language, ""),
                    widget=widget,
                )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in self.translated_fields:
            setattr(
                self.instance,
                name,
                {
                    language: cleaned[f"{name}__{language}"].strip()
                    for language in self.languages
                    if cleaned.get(f"{name}__{language}", "").strip()
                },
            )
        return cleaned


def translated_form(base: type[TranslatedForm], languages: list[str]) -> type[TranslatedForm]:
    """``base`` with one field per language of ``languages``."""
    return type(base.__name__, (base,), {"languages": tuple(languages)})


def translated_fieldnames(base: type[TranslatedForm], languages: list[str]) -> list[str]:
    return [f"{name}__{language}" for name in base.translated_fields for language in languages]


class ReadOnlyWhenPublishedMixin:
    """Nothing of a published version can be changed or deleted from the admin."""

    def version_of(self, obj: Any):
        raise NotImplementedError

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and self.version_of(obj).is_published:
            return False
        return super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and self.version_of(obj).is_published:
            return False
        return super().has_delete_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and self.version_of(obj).is_published:
            return False
        try:
            return super().has_add_permission(request, obj)  # type: ignore[misc]
        except TypeError:
            return super().has_add_permission(request)  # type: ignore[misc]


admin.site.login_form = ThrottledAdminAuthenticationForm
admin.site.site_header = "Candid"
admin.site.site_title = "Candid"
admin.site.index_title = "Studies, questionnaires and results"
admin.site.site_url = "/studio/"  # "View site" leads researchers to their workbench
