"""Who may open a studio page: staff signed in, on a study they own or are a member of.

A study the user may not see is a 404 (its existence is not revealed); a study they may see but not
design (an analyst) answers 403 on the design pages.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from ...models import QuestionnaireVersion, Study
from ...selectors import may_edit_study, studies_visible_to

View = Callable[..., HttpResponse]


def studio_page(view: View) -> View:
    """Staff only (others are sent to sign in), and never cached: studio pages show unpublished work."""

    @staff_member_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    return wrapped


def study_for(request: HttpRequest, slug: str, *, edit: bool = False) -> Study:
    study = get_object_or_404(studies_visible_to(request.user), slug=slug)
    if edit and not may_edit_study(request.user, study):
        raise PermissionDenied
    return study


def version_for(study: Study, number: int) -> QuestionnaireVersion:
    return get_object_or_404(QuestionnaireVersion, study=study, number=number)


def render_studio(
    request: HttpRequest,
    template: str,
    *,
    title: str,
    study: Study | None = None,
    section: str = "",
    status: int = 200,
    **context: Any,
) -> HttpResponse:
    return render(
        request,
        template,
        {
            "title": title,
            "study": study,
            "section": section,
            "may_edit": may_edit_study(request.user, study) if study else False,
            **context,
        },
        status=status,
    )
