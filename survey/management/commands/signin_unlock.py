"""Lift staff sign-in locks by hand: one account's, or every count (the site-wide pause included)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from ...auth import ALL_ACCOUNTS, account_key
from ...services.signin import signin_failures_clear
from ._base import CandidCommand


class Command(CandidCommand):
    help = (
        "Forget failed staff sign-ins: those of one account (--username), or all of them (--all), "
        "which also ends a pause after password spraying."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--username", help="The account's username, as typed at sign-in.")
        group.add_argument(
            "--all", action="store_true", dest="everyone", help="Every account, and the site-wide count."
        )

    def handle(self, *args: Any, username: str | None = None, everyone: bool = False, **options: Any) -> None:
        name = (username or "").strip()
        if not everyone and not name:
            raise CommandError("Name an account with --username NAME, or use --all.")
        keys = None if everyone else [account_key(name), ALL_ACCOUNTS]
        removed = signin_failures_clear(keys=keys)
        whom = "every account" if everyone else f"account {name!r}"
        self.stdout.write(f"Sign-in failures forgotten for {whom} ({removed} counts removed).")
