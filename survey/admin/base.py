"""What every Candid admin page shares: study scoping by role, choices limited to what the user may
link to, refusals shown as messages, and per-language text fields."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Model, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from ..auth import ThrottledAdminAuthenticationForm, ThrottledPasswordChangeForm
from ..models import Study
from ..selectors import linkable, studies_editable_by, studies_visible_to

E_NOT_SAVED = _("Nothing was saved: {reason}")
E_CONFLICT = _("it conflicts with data saved meanwhile. Reload the page and try again.")


E_NULL_CHARACTER = _("Null characters are not allowed.")


def _texts_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _texts_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts_in(item)


def no_null_characters(value: Any) -> None:
    """Refuse a NUL anywhere in a JSON value: PostgreSQL cannot store one (and no text needs it)."""
    if any("\x00" in text for text in _texts_in(value)):
        raise ValidationError(E_NULL_CHARACTER, code="null_characters_not_allowed")


class CandidModelForm(forms.ModelForm):
    """The base of every Candid admin form.

    Django skips a uniqueness or check constraint when one of its fields is not on the form, and
    the database then refuses the row (a 500 for the user). Here fields not on the form take
    part with the values stored on the object, so such a conflict is a form error instead.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.JSONField):
                field.validators.append(no_null_characters)

    def _stored_values_checked(self) -> set[str]:
        return {name for name in self._get_validation_exclusions() if name in self.fields}

    def validate_unique(self) -> None:
        try:
            self.instance.validate_unique(exclude=self._stored_values_checked())
        except ValidationError as error:
            self._update_errors(error)

    def validate_constraints(self) -> None:
        try:
            self.instance.validate_constraints(exclude=self._stored_values_checked())
        except ValidationError as error:
            self._update_errors(error)


def restrict_choices(form_class: type[forms.BaseForm], *, user: Any, within: Model | None) -> None:
    """Limit every foreign-key and many-to-many choice of ``form_class`` to ``selectors.linkable``.

    The queryset is both what the select offers and what a POST is checked against, so a forged
    id is refused with the field's "select a valid choice" error and nothing is saved.
    """
    for field in form_class.base_fields.values():
        if isinstance(field, forms.ModelChoiceField):
            allowed = linkable(field.queryset.model, user=user, within=within)
            field.queryset = field.queryset.filter(pk__in=allowed.values("pk"))


class RefusalsAsMessagesMixin:
    """A save that the models refuse after the form was valid (a version published meanwhile, a
    row changed by someone else) ends on the same page with the reason, not a server error.

    Django's admin runs each POST in one transaction, which the refusal rolls back whole.
    """

    def _refusal(self, request: HttpRequest, error: Exception) -> HttpResponse:
        reason = " ".join(error.messages) if isinstance(error, ValidationError) else E_CONFLICT
        self.message_user(request, E_NOT_SAVED.format(reason=reason), messages.ERROR)  # type: ignore[attr-defined]
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().changeform_view(request, *args, **kwargs)  # type: ignore[misc]
        except (ValidationError, IntegrityError) as error:
            if request.method != "POST":
                raise
            return self._refusal(request, error)

    def changelist_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().changelist_view(request, *args, **kwargs)  # type: ignore[misc]
        except (ValidationError, IntegrityError) as error:
            if request.method != "POST":
                raise
            return self._refusal(request, error)

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().delete_view(request, *args, **kwargs)  # type: ignore[misc]
        except (ValidationError, IntegrityError) as error:
            if request.method != "POST":
                raise
            return self._refusal(request, error)


class StudyScopedMixin(RefusalsAsMessagesMixin):
    """Limits an admin to the studies the user may see, and edits to those they may edit.

    ``study_path`` is the lookup from the model to its study. An object of another study is a
    404 on every view (never a redirect that confirms it exists). Every choice on its forms is
    limited by :func:`restrict_choices`, which also keeps an existing object in its place: its
    study or version field offers its own only, so a forged one is refused with a form error.
    """

    study_path: ClassVar[str] = "study"
    form = CandidModelForm

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

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        restrict_choices(form, user=request.user, within=obj)
        return form


class ScopedInlineFormSet(BaseInlineFormSet):
    """Each row's hidden id may only name a row of this formset: Django checks a posted id against
    every row of the table, so a forged one would be accepted as a choice and silently dropped."""

    def add_fields(self, form: forms.BaseForm, index: int | None) -> None:
        super().add_fields(form, index)
        own = form.fields.get(self._pk_field.name)
        if isinstance(own, forms.ModelChoiceField):
            own.queryset = own.queryset.filter(pk__in=self.get_queryset().values("pk"))


class ScopedInline(admin.TabularInline):
    """An inline whose choices are limited like its page's (see :func:`restrict_choices`)."""

    form = CandidModelForm
    formset = ScopedInlineFormSet

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any):
        formset = super().get_formset(request, obj, **kwargs)
        restrict_choices(formset.form, user=request.user, within=obj)
        return formset


class TranslatedForm(CandidModelForm):
    """A model form that shows each JSON text field as one input per language, side by side.

    A language whose input was not on the page (not in the POST at all, as opposed to sent
    empty) keeps its stored text, and so do languages the form does not show: saving a page
    never drops a text that the page did not display.
    """

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
            texts = dict(getattr(self.instance, name, None) or {})
            for language in self.languages:
                key = f"{name}__{language}"
                if self.is_bound and self.add_prefix(key) not in self.data:
                    continue
                value = (cleaned.get(key) or "").strip()
                if value:
                    texts[language] = value
                else:
                    texts.pop(language, None)
            setattr(self.instance, name, texts)
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


admin.site.login_form = ThrottledAdminAuthenticationForm  # the sign-in page staff share (LOGIN_URL)
admin.site.password_change_form = ThrottledPasswordChangeForm  # and its password-change page
