"""The researcher's editor, as Django admin pages scoped to the studies each user may see."""

from . import questionnaires, studies  # noqa: F401  (registers the admin classes)
