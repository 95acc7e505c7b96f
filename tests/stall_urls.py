"""The site's URLs plus one page that never finishes, for the tests of stalled requests."""

import time

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as site


def stall(request: HttpRequest) -> HttpResponse:
    """Busy for a minute in Python (a runaway expression, say): a stall only a time limit ends."""
    end = time.monotonic() + 60
    while time.monotonic() < end:
        pass
    return HttpResponse("finished")


def ready(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ready")


urlpatterns = [path("s/stall/", stall), path("ready/", ready), *site]
