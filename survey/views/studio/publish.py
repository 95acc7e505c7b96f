"""Publishing: the checklist of what blocks it, the changes since the last published version with
their comparability warnings, the consent version to use, and a confirmation."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from ... import flow
from ...diff import diff_versions
from ...instrument import QuestionnaireInvalid
from ...instrument_files import untranslated_note
from ...models import ConsentText, VersionStatus
from ...selectors import claim_variables, linkable, publish_checklist, version_to_spec
from ...services.questionnaires import questionnaire_publish
from .access import render_studio, studio_page, study_for, version_for


class PublishForm(forms.Form):
    consent = forms.ModelChoiceField(
        queryset=ConsentText.objects.none(),
        label=gettext_lazy("Consent version participants agree to"),
        widget=forms.RadioSelect,
        empty_label=None,
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I understand that a published version can never be changed: later changes go into a new draft."
        ),
    )

    def __init__(self, *args, version, user, initial_consent, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # What the admin offers too: this study's consent texts, and only to those who may edit it.
        self.fields["consent"].queryset = linkable(ConsentText, user=user, within=version).order_by(
            "-version"
        )
        self.fields["consent"].label_from_instance = lambda c: _("Version %(number)s") % {"number": c.version}
        self.initial["consent"] = initial_consent


def _comparison(study, version, against):
    return diff_versions(
        version_to_spec(against), version_to_spec(version), claim_variables=claim_variables(study)
    )


def _title_note(spec: dict, study) -> str:
    """A form without a title in a study language is published (as a label missing there is), saying
    what those readers see at the top of each page instead."""
    notes = [
        _("The form has no title in %(language)s: readers of %(language)s see “%(title)s”.")
        % {"language": language, "title": flow.form_title(spec, study, language)}
        for language in flow.missing_titles(spec, study)
    ]
    return " ".join(notes)


@studio_page
@require_http_methods(["GET", "POST"])
def publish(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    study = study_for(request, slug, edit=True)
    version = version_for(study, number)
    if version.status != VersionStatus.DRAFT:
        messages.info(request, _("Version %(number)s is already published.") % {"number": version.number})
        return HttpResponseRedirect(reverse("survey:studio_version", args=[study.slug, version.number]))
    default_consent = version.consent or ConsentText.objects.filter(study=study).order_by("-version").first()
    form = PublishForm(
        request.POST or None, version=version, user=request.user, initial_consent=default_consent
    )
    chosen = default_consent
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["consent"]
        try:
            questionnaire_publish(version=version, consent=chosen, user=request.user)
        except QuestionnaireInvalid:
            pass  # the checklist below lists every reason
        else:
            messages.success(
                request,
                _("Version %(number)s is published: participants who open the study's links now answer it.")
                % {"number": version.number},
            )
            return HttpResponseRedirect(reverse("survey:studio_distribute", args=[study.slug]))
    elif request.method == "POST" and form.cleaned_data.get("consent"):
        chosen = form.cleaned_data["consent"]
    previous = study.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()
    checklist = publish_checklist(version, chosen)
    spec = version_to_spec(version)
    return render_studio(
        request,
        "survey/studio/publish.html",
        title=_("Publish version %(number)s") % {"number": version.number},
        study=study,
        section="questionnaire",
        version=version,
        form=form,
        checklist=checklist,
        ready=not any(checklist.values()),
        # Not blocking: texts missing in a language are shown in the default language there.
        untranslated=" ".join(filter(None, [untranslated_note(spec), _title_note(spec, study)])),
        previous=previous,
        diff=_comparison(study, version, previous) if previous else None,
        status=400 if request.method == "POST" else 200,
    )


@studio_page
def diff(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The changes from version ``?against=`` (default: the one before) to version ``number``."""
    study = study_for(request, slug)
    version = version_for(study, number)
    against_number = request.GET.get("against", "")
    against = (
        study.versions.filter(number=int(against_number)).first()
        if against_number.isdigit()
        else study.versions.filter(number__lt=version.number).order_by("-number").first()
    )
    if against is None or against.pk == version.pk:
        raise Http404("No version to compare with.")
    return render_studio(
        request,
        "survey/studio/diff.html",
        title=_("Changes from version %(old)s to version %(new)s")
        % {"old": against.number, "new": version.number},
        study=study,
        section="questionnaire",
        version=version,
        previous=against,
        diff=_comparison(study, version, against),
    )
