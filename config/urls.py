"""Top-level URLs: the participant site at the root, the researchers' and analysts' admin at /admin/."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("survey.urls")),
]
