"""Top-level URLs: the participant site at the root, the researchers' and analysts' admin at /admin/."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("survey.urls")),
]

handler400 = "survey.views.errors.bad_request"
handler403 = "survey.views.errors.permission_denied"
handler404 = "survey.views.errors.page_not_found"
handler500 = "survey.views.errors.server_error"
