"""Who owns what a command creates."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def resolve_owner(username: str | None):
    users = get_user_model().objects
    if username:
        user = users.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        return user
    user = users.filter(is_superuser=True).order_by("pk").first()
    if user is None:
        raise CommandError("No owner: create a superuser first (manage.py createsuperuser) or pass --owner.")
    return user
