from django.apps import AppConfig


class SurveyConfig(AppConfig):
    name = "survey"
    verbose_name = "Candid surveys"
    default_auto_field = "django.db.models.BigAutoField"
