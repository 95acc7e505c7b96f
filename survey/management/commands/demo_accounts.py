import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError

from survey.roles import ANALYST, RESEARCHER

from ._base import CandidCommand

DEMO_USERS = (("demo-admin", None), ("demo-researcher", RESEARCHER), ("demo-analyst", ANALYST))


class Command(CandidCommand):
    help = "Create (or reset) the demo staff accounts with fresh random passwords, and print them. Demo only."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo_accounts only runs with DEBUG on: it prints passwords.")
        users = get_user_model().objects
        for username, role in DEMO_USERS:
            user, _ = users.get_or_create(username=username)
            user.is_staff = True
            user.is_superuser = role is None
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save()
            if role:
                user.groups.set([Group.objects.get(name=role)])
            self.stdout.write(f"  {username:16} password {password}   ({role or 'admin'})")
