"""Django's admin, for superusers only.

Researchers and analysts work in the studio (``/studio/``) and the results pages. Signed in as
staff they keep what those pages borrow from the admin — its sign-in, sign-out and password pages,
and its header (the analysts' pages extend ``admin/base_site.html``) — and nothing else: the admin's
front page sends them to the studio, and every other admin page is refused (403). Installed as the
default site by :class:`survey.apps.CandidAdminConfig`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy

OPEN_TO_STAFF = frozenset({"logout", "password_change", "password_change_done", "jsi18n"})


def superuser_only(user: Any) -> bool:
    """Whether ``user`` may use the admin's own pages."""
    return bool(user.is_active and user.is_staff and user.is_superuser)


class CandidAdminSite(admin.AdminSite):
    site_header = "Candid"
    site_title = "Candid"
    index_title = gettext_lazy("Studies, questionnaires and results")
    site_url = "/studio/"  # "View site" leads to the researcher's workbench

    def admin_view(
        self, view: Callable[..., HttpResponse], cacheable: bool = False
    ) -> Callable[..., HttpResponse]:
        checked = super().admin_view(view, cacheable)

        @wraps(checked)
        def superusers_only(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if user.is_active and user.is_staff and not user.is_superuser:
                name = request.resolver_match.url_name if request.resolver_match else None
                if name == "index":
                    return redirect("survey:studio")
                if name not in OPEN_TO_STAFF:
                    raise PermissionDenied("The admin is for superusers; researchers use the studio.")
            return checked(request, *args, **kwargs)

        return superusers_only

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        """The admin's context; without its sidebar for researchers and analysts, where it is empty
        and said "You don't have permission to view or edit anything." on the pages they may use."""
        context = super().each_context(request)
        if not superuser_only(request.user):
            context["is_nav_sidebar_enabled"] = False
        return context

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        """No admin links in the header or sidebar of a page a researcher or analyst sees."""
        if not superuser_only(request.user):
            return []
        return super().get_app_list(request, app_label)
