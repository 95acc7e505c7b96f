"""Consent texts per version and language, with the research team, contact and ethics approval.

A version a published questionnaire uses is evidence of what participants agreed to: it is shown
read-only, and a change is a new version (prefilled from it).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ...instrument import QuestionnaireInvalid
from ...models import ConsentText
from ...services.questionnaires import consent_create, consent_update
from .access import render_studio, studio_page, study_for
from .forms import ConsentForm


@studio_page
def consent_list(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for(request, slug)
    consents = list(
        ConsentText.objects.filter(study=study)
        .annotate(published_in=Max("versions__number", filter=Q(versions__status="published")))
        .order_by("-version")
    )
    rows = [
        {
            "consent": consent,
            "missing": consent.missing(study.languages),
            "in_use": consent.published_in is not None,
        }
        for consent in consents
    ]
    return render_studio(
        request,
        "survey/studio/consent_list.html",
        title=_("Consent"),
        study=study,
        section="consent",
        rows=rows,
    )


@studio_page
@require_http_methods(["GET", "POST"])
def consent_edit(request: HttpRequest, slug: str, number: int | None = None) -> HttpResponse:
    """A new consent version (``?from=N`` starts from version N), or a change to one not yet in use."""
    study = study_for(request, slug, edit=number is None or request.method == "POST")
    consent = get_object_or_404(ConsentText, study=study, version=number) if number else None
    in_use = consent is not None and consent.is_in_use()
    source = consent
    if consent is None and (request.GET.get("from") or "").isdigit():
        source = ConsentText.objects.filter(study=study, version=int(request.GET["from"])).first()
    form = ConsentForm(request.POST or None, languages=study.languages, existing=source)
    if request.method == "POST" and not in_use and form.is_valid():
        try:
            if consent is None:
                consent = consent_create(study=study, user=request.user, **form.values())
            else:
                consent = consent_update(consent=consent, user=request.user, **form.values())
        except ValidationError as error:
            form.add_error(None, error.messages)
        except QuestionnaireInvalid as error:
            form.add_error(None, [p.message for p in error.problems])
        else:
            missing = consent.missing(study.languages)
            messages.success(request, _("Consent version %(number)s is saved.") % {"number": consent.version})
            if missing:
                messages.warning(
                    request,
                    _(
                        "It is not complete yet: publishing needs the text, research team, contact and ethics committee in every language, and the approval number."
                    ),
                )
            return HttpResponseRedirect(reverse("survey:studio_consent", args=[study.slug]))
    return render_studio(
        request,
        "survey/studio/consent_form.html",
        title=_("Consent version %(number)s") % {"number": consent.version}
        if consent
        else _("New consent version"),
        study=study,
        section="consent",
        form=form,
        consent=consent,
        in_use=in_use,
        status=400 if form.errors else 200,
    )
