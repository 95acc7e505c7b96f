"""Top-level URLs: the participant site at the root, the admin at /admin/, and Django's language
switch for staff pages at /i18n/setlang/."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("survey.urls")),
]

handler400 = "survey.views.errors.bad_request"
handler403 = "survey.views.errors.permission_denied"
handler404 = "survey.views.errors.page_not_found"
handler500 = "survey.views.errors.server_error"
