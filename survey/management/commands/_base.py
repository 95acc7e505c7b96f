"""What every Candid command shares: bad input ends with a message, never a traceback."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError


class CandidCommand(BaseCommand):
    """A command whose file-system failures (a folder that does not exist, a file that cannot be
    read or written) end with the path and the reason as a ``CommandError``, like its other refusals."""

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            raise CommandError(f"{where}{error.strerror or error}") from error
