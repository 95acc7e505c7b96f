from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs) -> None:
    """Keep the role groups and their permissions in step after every migrate (and test flush)."""
    from django.contrib.auth.models import Group, Permission

    from .roles import sync_roles

    sync_roles(Group, Permission)


def _keep_without_rowid(sender, using: str = "default", **kwargs) -> None:
    """Django's SQLite schema editor rebuilds a table without ``WITHOUT ROWID`` whenever a migration
    alters it; every migrate ends by putting the clause back (see ``survey.storage``)."""
    from django.db import connections

    from .storage import ensure_without_rowid

    ensure_without_rowid(connections[using])


class SurveyConfig(AppConfig):
    name = "survey"
    verbose_name = "Candid surveys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from . import checks  # noqa: F401  (registers the system checks)
        from .auth import on_logged_in, on_login_failed

        post_migrate.connect(_sync_roles, sender=self)
        post_migrate.connect(_keep_without_rowid, sender=self)
        user_login_failed.connect(on_login_failed, dispatch_uid="candid-signin-failed")
        user_logged_in.connect(on_logged_in, dispatch_uid="candid-signin-device")


class CandidAdminConfig(admin_apps.AdminConfig):
    """Django's admin with Candid's site: superusers only (``survey.admin_site``)."""

    default = False  # named in INSTALLED_APPS; SurveyConfig stays this module's default
    default_site = "survey.admin_site.CandidAdminSite"
