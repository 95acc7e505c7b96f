"""The studio's home (the researcher's studies), creating a study, its overview and its settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ...models import Sample
from ...models.studies import DEFAULT_SPEEDING
from ...selectors import studio_studies, study_overview
from ...services.studies import (
    sample_delete,
    sample_save,
    study_create,
    study_member_remove,
    study_member_set,
    study_update,
)
from .access import render_studio, studio_page, study_for
from .forms import MemberForm, MemberFormSet, SampleForm, SampleFormSet, StudyForm, grown, speeding_shown


@studio_page
def home(request: HttpRequest) -> HttpResponse:
    return render_studio(
        request,
        "survey/studio/home.html",
        title=_("Your studies"),
        rows=studio_studies(request.user),
        may_create=request.user.has_perm("survey.add_study"),
    )


def _errors_into(form: StudyForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


@studio_page
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    """Title per language, link name, languages, dates, samples with their redirects, members."""
    if not request.user.has_perm("survey.add_study"):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    if data is not None and "add_sample" in data:
        data = grown(data, "samples")
    if data is not None and "add_member" in data:
        data = grown(data, "members")
    form = StudyForm(
        data, initial={"languages": ["en", "zh-Hans"], "speeding_fraction": speeding_shown(DEFAULT_SPEEDING)}
    )
    languages = form.chosen_languages()
    samples = SampleFormSet(
        data,
        prefix="samples",
        languages=languages,
        initial=[{"name": _("Main sample"), "slug": "main", "default_language": "en", "is_default": True}],
    )
    members = MemberFormSet(data, prefix="members", owner=request.user)
    saving = data is not None and not {"add_sample", "add_member", "refresh"} & set(data)
    # Every form is checked (not short-circuited) so that all their errors show at once.
    valid = saving and form.is_valid() & samples.is_valid() & members.is_valid()
    if valid and samples.check_languages(form.cleaned_data["languages"]):
        try:
            study = study_create(
                user=request.user,
                data=form.study_data(),
                samples=samples.samples(),
                members=members.members(),
            )
        except ValidationError as error:
            _errors_into(form, error)
        else:
            messages.success(request, _("The study is created. Now give it a questionnaire."))
            return HttpResponseRedirect(reverse("survey:studio_import", args=[study.slug]))
    return render_studio(
        request,
        "survey/studio/study_form.html",
        title=_("Create a study"),
        form=form,
        samples=samples,
        members=members,
        creating=True,
        status=400 if saving else 200,
    )


@studio_page
def overview(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for(request, slug)
    return render_studio(
        request,
        "survey/studio/overview.html",
        title=study.title,
        study=study,
        section="overview",
        overview=study_overview(request.user, study),
    )


@studio_page
@require_http_methods(["GET", "POST"])
def settings(request: HttpRequest, slug: str) -> HttpResponse:
    """The study's titles, link name, languages and dates; its samples and members are below."""
    study = study_for(request, slug, edit=True)
    data = request.POST if request.method == "POST" else None
    form = StudyForm(
        data, initial=_initial(study), in_use=study.languages, speeding_fixed=study.speeding_fixed
    )
    if data is not None and "refresh" not in data and form.is_valid():
        try:
            study = study_update(user=request.user, study=study, data=form.study_data())
        except ValidationError as error:
            _errors_into(form, error)
        else:
            messages.success(request, _("The study's settings are saved."))
            return HttpResponseRedirect(reverse("survey:studio_settings", args=[study.slug]))
    return _settings_page(request, study, form=form, status=400 if form.errors else 200)


def _settings_page(request: HttpRequest, study, *, form=None, sample_form=None, member_form=None, status=200):
    return render_studio(
        request,
        "survey/studio/settings.html",
        title=_("Settings"),
        study=study,
        section="settings",
        form=form
        or StudyForm(initial=_initial(study), in_use=study.languages, speeding_fixed=study.speeding_fixed),
        study_samples=study.samples.all(),
        sample_form=sample_form or SampleForm(languages=study.languages, prefix="new-sample"),
        memberships=study.memberships.select_related("user").order_by("user__username"),
        member_form=member_form or MemberForm(prefix="member", owner=study.owner),
        status=status,
    )


def _initial(study) -> dict:
    return {
        "languages": study.languages,
        "titles": study.titles or {study.languages[0]: study.title},
        "slug": study.slug,
        "opens_on": study.opens_on,
        "closes_on": study.closes_on,
        "data_freeze_on": study.data_freeze_on,
        "target_size": study.target_size,
        "completed_marker": study.completed_marker,
        "speeding_fraction": speeding_shown(study.speeding_fraction),
    }


def _sample_initial(sample: Sample) -> dict:
    initial = {
        "name": sample.name,
        "slug": sample.slug,
        "default_language": sample.default_language,
        "target_size": sample.target_size,
        "is_default": sample.is_default,
    }
    for outcome in ("completion", "screenout", "overquota"):
        initial[f"{outcome}_redirect_url"] = getattr(sample, f"{outcome}_redirect_url")
        initial[f"{outcome}_code"] = getattr(sample, f"{outcome}_code")
    return initial


@studio_page
@require_http_methods(["GET", "POST"])
def sample_edit(request: HttpRequest, slug: str, sample_slug: str | None = None) -> HttpResponse:
    """Add a sample (``sample_slug`` None) or change one."""
    study = study_for(request, slug, edit=True)
    sample = study.samples.filter(slug=sample_slug).first() if sample_slug else None
    if sample_slug and sample is None:
        raise Http404("No such sample.")
    prefix = "new-sample" if sample is None else "sample"
    form = SampleForm(
        request.POST if request.method == "POST" else None,
        languages=study.languages,
        prefix=prefix,
        initial=_sample_initial(sample) if sample else None,
    )
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["default_language"] not in study.languages:
            form.add_error("default_language", _("Choose one of the study's languages."))
        elif (
            study.samples.filter(slug=form.cleaned_data["slug"])
            .exclude(pk=sample.pk if sample else None)
            .exists()
        ):
            form.add_error("slug", _("Another sample of this study has this link name."))
        else:
            try:
                sample_save(user=request.user, study=study, sample=sample, data=form.sample_data())
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The sample is saved."))
                return HttpResponseRedirect(reverse("survey:studio_settings", args=[study.slug]) + "#samples")
    if sample is None:
        return _settings_page(request, study, sample_form=form, status=400 if form.errors else 200)
    return render_studio(
        request,
        "survey/studio/sample_form.html",
        title=_("Sample %(name)s") % {"name": sample.name},
        study=study,
        section="settings",
        form=form,
        sample=sample,
        status=400 if form.errors else 200,
    )


@studio_page
@require_POST
def sample_remove(request: HttpRequest, slug: str, sample_slug: str) -> HttpResponse:
    study = study_for(request, slug, edit=True)
    sample = study.samples.filter(slug=sample_slug).first()
    if sample is not None:
        try:
            sample_delete(user=request.user, sample=sample)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The sample is removed."))
    return HttpResponseRedirect(reverse("survey:studio_settings", args=[study.slug]) + "#samples")


@studio_page
@require_POST
def member_add(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for(request, slug, edit=True)
    form = MemberForm(request.POST, prefix="member", owner=study.owner)
    if form.is_valid():
        study_member_set(
            study=study,
            user=form.cleaned_data["username"],
            role=form.cleaned_data["role"],
            may_export_raw=bool(form.cleaned_data.get("may_export_raw")),
            by=request.user,
        )
        messages.success(request, _("The member is added."))
        return HttpResponseRedirect(reverse("survey:studio_settings", args=[study.slug]) + "#members")
    return _settings_page(request, study, member_form=form, status=400)


@studio_page
@require_POST
def member_remove(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    study = study_for(request, slug, edit=True)
    membership = study.memberships.select_related("user").filter(user__username=username).first()
    if membership is not None:
        study_member_remove(study=study, user=membership.user, by=request.user)
        messages.success(request, _("%(username)s is no longer a member.") % {"username": username})
    return HttpResponseRedirect(reverse("survey:studio_settings", args=[study.slug]) + "#members")
