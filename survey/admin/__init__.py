"""Django admin pages for superusers (`survey.admin_site`); researchers and analysts use the studio."""

from . import questionnaires, studies  # noqa: F401  (registers the admin classes)
