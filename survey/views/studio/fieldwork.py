"""Fieldwork: cell quotas and the monitor (per sample, per day, drop-off, quota fill; synthetic and
test apart)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ...models import Quota, Sample
from ...selectors import fieldwork_monitor, linkable, questionnaire_language, quota_questions
from ...services.fieldwork import QuotaData, quota_delete, quota_grid_create, quota_save
from .access import render_studio, studio_page, study_for
from .forms import QuotaForm, QuotaGridForm


def _language(study) -> str:
    return questionnaire_language(study.languages, get_language() or "en")


@studio_page
def monitor(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for(request, slug)
    return render_studio(
        request,
        "survey/studio/monitor.html",
        title=_("Fieldwork"),
        study=study,
        section="monitor",
        monitor=fieldwork_monitor(study),
    )


@studio_page
def quotas(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for(request, slug)
    samples = list(study.samples.all())
    questions = quota_questions(study)
    return render_studio(
        request,
        "survey/studio/quotas.html",
        title=_("Quotas"),
        study=study,
        section="quotas",
        quotas=Quota.objects.filter(study=study).select_related("sample").order_by("sample__slug", "name"),
        questions=questions,
        grid_form=QuotaGridForm(samples=samples, questions=questions, language=_language(study))
        if questions
        else None,
    )


@studio_page
@require_http_methods(["GET", "POST"])
def quota_edit(request: HttpRequest, slug: str, quota_id: int | None = None) -> HttpResponse:
    study = study_for(request, slug, edit=True)
    quota = Quota.objects.filter(study=study, pk=quota_id).first() if quota_id else None
    if quota_id and quota is None:
        raise Http404("No such quota.")
    form = QuotaForm(
        request.POST or None,
        samples=list(linkable(Sample, user=request.user, within=study)),
        questions=quota_questions(study),
        language=_language(study),
        existing=quota,
    )
    if request.method == "POST" and form.is_valid():
        data = QuotaData(
            name=form.cleaned_data["name"].strip(),
            sample=form.sample_obj(),
            conditions=form.cleaned_data["conditions"],
            limit=form.cleaned_data["limit"],
        )
        try:
            saved = quota_save(user=request.user, study=study, quota=quota, data=data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Quota %(name)s is saved.") % {"name": saved.name})
            return HttpResponseRedirect(reverse("survey:studio_quotas", args=[study.slug]))
    return render_studio(
        request,
        "survey/studio/quota_form.html",
        title=_("Quota %(name)s") % {"name": quota.name} if quota else _("New quota"),
        study=study,
        section="quotas",
        form=form,
        quota=quota,
        status=400 if form.errors else 200,
    )


@studio_page
@require_POST
def quota_grid(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for(request, slug, edit=True)
    form = QuotaGridForm(
        request.POST,
        samples=list(study.samples.all()),
        questions=quota_questions(study),
        language=_language(study),
    )
    if form.is_valid():
        try:
            cells = quota_grid_create(
                user=request.user,
                study=study,
                sample=form.sample_obj(),
                dimensions=form.cleaned_data["dimensions"],
                limit=form.cleaned_data["limit"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(n)s quota cells are added.") % {"n": len(cells)})
    else:
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    return HttpResponseRedirect(reverse("survey:studio_quotas", args=[study.slug]))


@studio_page
@require_POST
def quota_remove(request: HttpRequest, slug: str, quota_id: int) -> HttpResponse:
    study = study_for(request, slug, edit=True)
    quota = Quota.objects.filter(study=study, pk=quota_id).first()
    if quota is not None:
        quota_delete(user=request.user, quota=quota)
        messages.success(request, _("Quota %(name)s is removed.") % {"name": quota.name})
    return HttpResponseRedirect(reverse("survey:studio_quotas", args=[study.slug]))
