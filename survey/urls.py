from django.urls import path

from .views import home

app_name = "survey"

urlpatterns = [
    path("", home.index, name="index"),
]
