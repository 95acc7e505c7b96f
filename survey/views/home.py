"""The site's front page: what Candid is, and where researchers sign in. Lists no study."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "survey/index.html", {"title": "Candid"})
