"""Distribution: each sample's participant link with a copy button and a QR code (an SVG drawn on the
server with segno, no third-party service), the panel's redirect URLs, and a test link."""

from __future__ import annotations

import io

import segno
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from ...models import Sample, Study
from ...selectors import latest_published_version
from .access import render_studio, studio_page, study_for


def participant_link(request: HttpRequest, study: Study, sample: Sample) -> str:
    """The link a sample's participants open (the study's plain link for the default sample)."""
    path = (
        reverse("survey:entry", args=[study.slug])
        if sample.is_default
        else reverse("survey:entry_sample", args=[study.slug, sample.slug])
    )
    return request.build_absolute_uri(path)


@studio_page
def distribute(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for(request, slug)
    published = latest_published_version(study)
    samples = [
        {
            "sample": sample,
            "link": participant_link(request, study, sample),
            "redirects": [
                (outcome, sample.panel_link(outcome))
                for outcome in ("completion", "screenout", "overquota")
                if sample.panel_link(outcome)
            ],
        }
        for sample in study.samples.all()
    ]
    return render_studio(
        request,
        "survey/studio/distribute.html",
        title=_("Distribute"),
        study=study,
        section="distribute",
        published=published,
        samples=samples,
    )


@studio_page
def qr_code(request: HttpRequest, slug: str, sample_slug: str) -> HttpResponse:
    """The QR code of a sample's participant link, as a scalable SVG image (``?download=1`` to save it)."""
    study = study_for(request, slug)
    sample = study.samples.filter(slug=sample_slug).first()
    if sample is None:
        raise Http404("No such sample.")
    link = participant_link(request, study, sample)
    buffer = io.BytesIO()
    segno.make(link, error="m").save(
        buffer, kind="svg", scale=8, border=4, title=link, xmldecl=True, svgns=True, nl=False
    )
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{study.slug}-{sample.slug}-qr.svg"'
    return response
