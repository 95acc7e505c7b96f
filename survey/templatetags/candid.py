from django import template
from django.forms import BoundField, Form

register = template.Library()


@register.filter
def field_named(form: Form, name: str) -> BoundField | None:
    """``form[name]`` for a name held in a variable (templates cannot index by variable)."""
    return form[name] if name in form.fields else None
