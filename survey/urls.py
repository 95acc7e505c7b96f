from django.urls import path

from .views import analyst, home, participant

app_name = "survey"

urlpatterns = [
    path("", home.index, name="index"),
    path("withdraw/", participant.withdraw, name="withdraw"),
    path("studies/<slug:slug>/", analyst.results, name="results"),
    path("studies/<slug:slug>/report/", analyst.report, name="report"),
    path("studies/<slug:slug>/export/", analyst.export_start, name="export"),
    path("exports/<uuid:job_id>/", analyst.export_status, name="export_status"),
    path("exports/<uuid:job_id>/download/", analyst.export_download, name="export_download"),
    path("s/<slug:study_slug>/", participant.entry, name="entry"),
    path("s/<slug:study_slug>/p/<int:index>/", participant.page, name="page"),
    path("s/<slug:study_slug>/<slug:sample_slug>/", participant.entry, name="entry_sample"),
]
