"""Model fields Candid needs beyond Django's own."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class OrderedJSONField(models.TextField):
    """A JSON document stored as text, so that the order of its keys survives the database.

    PostgreSQL's ``jsonb`` (what Django's ``JSONField`` uses there) keeps objects with their keys
    sorted by length and then bytes, not in the order they were written; SQLite keeps them as
    written. A document whose key order is meaningful — a report's tables in the registry's order,
    samples in the study's order — must read back the same on both. It is not queried inside (no
    key lookups), only stored and read whole.
    """

    description = "JSON kept as text (key order preserved)"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return None if value is None else json.loads(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                return value
        return value

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)

    def value_to_string(self, obj: models.Model) -> str:
        return self.get_prep_value(self.value_from_object(obj)) or ""
