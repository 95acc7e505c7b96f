from django.urls import path

from .views import home, participant

app_name = "survey"

urlpatterns = [
    path("", home.index, name="index"),
    path("withdraw/", participant.withdraw, name="withdraw"),
    path("s/<slug:study_slug>/", participant.entry, name="entry"),
    path("s/<slug:study_slug>/p/<int:index>/", participant.page, name="page"),
    path("s/<slug:study_slug>/<slug:sample_slug>/", participant.entry, name="entry_sample"),
]
