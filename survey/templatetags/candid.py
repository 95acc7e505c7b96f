from typing import Any

from django import forms, template
from django.forms import BoundField, Form

register = template.Library()


@register.filter
def field_named(form: Form, name: str) -> BoundField | None:
    """``form[name]`` for a name held in a variable (templates cannot index by variable)."""
    return form[name] if name in form.fields else None


def _is_choice_group(field: BoundField) -> bool:
    return isinstance(field.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple)


@register.filter
def anchor_id(field: BoundField) -> str:
    """The id the error summary links to: the first option of a radio or checkbox group."""
    return f"{field.auto_id}_0" if _is_choice_group(field) else field.auto_id


@register.filter
def options(field: BoundField) -> list[dict[str, Any]]:
    """Radio or checkbox options with their ids and checked state, rendered directly by the template
    (Django's per-option widget templates cost most of a page's rendering time)."""
    value = field.value()
    chosen = (
        {str(v) for v in value}
        if isinstance(value, list | tuple)
        else ({str(value)} if value not in (None, "") else set())
    )
    return [
        {"id": f"{field.auto_id}_{index}", "value": code, "label": label, "checked": str(code) in chosen}
        for index, (code, label) in enumerate(field.field.choices)
    ]


@register.filter
def title_for(study: Any, staff_language: str) -> str:
    """The study's title in the language of the staff page (``zh-hans`` reads the ``zh`` title)."""
    from ..selectors import study_title

    return study_title(study, staff_language or "en")


@register.filter
def plain(value: Any) -> str:
    """An audit detail as a person reads it: lists joined, yes/no for booleans, a dash for nothing."""
    from django.utils.translation import gettext

    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(plain(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {plain(item)}" for key, item in value.items())
    return str(value)


@register.filter
def percent(fraction: float | None) -> str:
    """A fraction as a share a person reads: 1 as "100%", 0.625 as "62.5%" (at most one decimal,
    the active language's decimal mark and way of writing a percentage); a dash for no figure."""
    from django.template.defaultfilters import floatformat
    from django.utils.translation import gettext

    if fraction is None or fraction == "":
        return "—"
    return gettext("%(value)s%%") % {"value": floatformat(float(fraction) * 100, -1)}


@register.filter
def language_name(code: str) -> str:
    """A language code as a person reads it: ``简体中文 (zh)``, ``English (en)``; an unknown code as is."""
    from ..languages import language_name as name

    return name(code)
