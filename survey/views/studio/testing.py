"""Trying a version before participants do: the preview (every page at once, nothing saved), the test
run (walk it exactly as a participant would, in any language, with a chosen seed and list-experiment
arms; answers kept apart, in ``TestRun``), and the logic map (which questions depend on which)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ... import flow
from ...forms import PageForm, is_well_formed, live_state, submit_page, text_in
from ...instrument import iter_questions
from ...languages import language_name
from ...models import TestRun
from ...participant_text import LANGUAGE_NAMES, translation_for
from ...selectors import logic_map, version_to_spec
from ...services import testruns
from ..participant import needs_live_state, page_form_kwargs
from ..preview import render_preview
from .access import render_studio, studio_page, study_for, version_for


@studio_page
def preview(request: HttpRequest, slug: str, number: int, language: str) -> HttpResponse:
    study = study_for(request, slug)
    version = version_for(study, number)
    return render_preview(
        request,
        version,
        language,
        switch_url=lambda other: reverse("survey:studio_preview", args=[study.slug, version.number, other]),
        back_url=reverse("survey:studio_version", args=[study.slug, version.number]),
        arm="treatment" if request.GET.get("arm") == "treatment" else "control",
    )


class TestRunForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"))
    sample = forms.ChoiceField(label=gettext_lazy("As a participant of sample"), required=False)
    seed = forms.IntegerField(
        label=gettext_lazy("Randomisation seed"),
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        help_text=gettext_lazy("Empty: a new random order. The same seed shows the same order again."),
    )

    def __init__(
        self, *args: Any, languages: list[str], samples: list[Any], experiments: list[str], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [(code, language_name(code)) for code in languages]
        self.fields["sample"].choices = [("", _("(none)")), *[(s.slug, s.name) for s in samples]]
        self.experiments = experiments
        for code in experiments:
            self.fields[f"arm__{code}"] = forms.ChoiceField(
                label=_("Arm of list experiment %(code)s") % {"code": code},
                choices=[
                    ("", _("At random, as for a participant")),
                    (flow.ARM_CONTROL, _("Control (the control items only)")),
                    (flow.ARM_TREATMENT, _("Treatment (with the sensitive item)")),
                ],
                required=False,
            )

    def arm_fields(self) -> list[forms.BoundField]:
        return [self[f"arm__{code}"] for code in self.experiments]


@studio_page
@require_http_methods(["GET", "POST"])
def test_start(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Choose a language, a sample, a seed and each list experiment's arm; then walk the questionnaire."""
    study = study_for(request, slug)
    version = version_for(study, number)
    spec = version_to_spec(version)
    experiments = [q["code"] for _s, q, _p in iter_questions(spec) if q["type"] == "list_experiment"]
    samples = list(study.samples.all())
    initial_language = (
        request.GET.get("language") if request.GET.get("language") in version.languages else None
    )
    form = TestRunForm(
        request.POST or None,
        languages=version.languages,
        samples=samples,
        experiments=experiments,
        initial={
            "language": initial_language or version.default_language,
            "sample": request.GET.get("sample", ""),
        },
    )
    if request.method == "POST" and form.is_valid():
        sample = next((s for s in samples if s.slug == form.cleaned_data.get("sample")), None)
        run = testruns.run_start(
            user=request.user,
            version=version,
            language=form.cleaned_data["language"],
            spec=spec,
            seed=form.cleaned_data.get("seed"),
            arms={code: form.cleaned_data.get(f"arm__{code}", "") for code in experiments},
            sample=sample,
        )
        return HttpResponseRedirect(reverse("survey:studio_test_run", args=[study.slug, run.pk]))
    runs = TestRun.objects.filter(version=version, user=request.user)[:10]
    return render_studio(
        request,
        "survey/studio/test_start.html",
        title=_("Test run of version %(number)s") % {"number": version.number},
        study=study,
        section="questionnaire",
        version=version,
        form=form,
        runs=runs,
    )


def _run_for(request: HttpRequest, slug: str, run_id: Any) -> tuple[Any, TestRun]:
    study = study_for(request, slug)
    run = get_object_or_404(TestRun.objects.select_related("version"), pk=run_id, version__study=study)
    if run.user_id != request.user.pk:
        raise Http404("No such test run.")
    return study, run


@studio_page
@require_http_methods(["POST"])
def test_relevance(request: HttpRequest, slug: str, run_id: Any, index: int) -> HttpResponse:
    """What the participant page's ``relevance`` endpoint answers, for the page a test run is on:
    ``{"relevant": [codes], "choices": {question: [choice codes]}}``. Nothing is stored."""
    _study, run = _run_for(request, slug, run_id)
    spec = version_to_spec(run.version)
    plan = testruns.run_plan(spec, run)
    all_pages = flow.pages(spec, plan)
    if run.finished or not all_pages or index != min(run.position, len(all_pages) - 1):
        return JsonResponse({"relevant": None}, status=409)
    current = all_pages[index]
    kwargs = page_form_kwargs(spec, language=run.language, display=plan, answers=run.answers)
    if not is_well_formed(PageForm(questions=current.questions, **kwargs), request.POST):
        return JsonResponse({"relevant": None}, status=400)
    with translation_for(run.language):
        codes, offered = live_state(
            data=request.POST, page_questions=current.questions, stored=run.answers, form_kwargs=kwargs
        )
    return JsonResponse({"relevant": codes, "choices": offered})


@studio_page
@require_http_methods(["GET", "POST"])
def test_run(request: HttpRequest, slug: str, run_id: Any) -> HttpResponse:
    """The page the test run has reached, exactly as a participant sees it, marked as a test."""
    study, run = _run_for(request, slug, run_id)
    spec = version_to_spec(run.version)
    if request.GET.get("lang") in run.version.languages and request.GET["lang"] != run.language:
        testruns.run_move(run=run, page_index=run.position, language=request.GET["lang"])
        return HttpResponseRedirect(request.path)
    plan = testruns.run_plan(spec, run)
    all_pages = flow.pages(spec, plan)
    if run.finished or not all_pages:
        return _finished(request, study, run, spec, plan)
    index = min(run.position, len(all_pages) - 1)
    current = all_pages[index]
    kwargs = page_form_kwargs(spec, language=run.language, display=plan, answers=run.answers)
    form = None
    if request.method == "POST":
        if request.POST.get("action") == "back":
            previous = flow.previous_page(all_pages, index, run.answers)
            testruns.run_move(run=run, page_index=index if previous is None else previous)
            return HttpResponseRedirect(request.path)
        if not is_well_formed(PageForm(questions=current.questions, **kwargs), request.POST):
            return HttpResponseRedirect(request.path)
        with translation_for(run.language):
            result = submit_page(
                data=request.POST, page_questions=current.questions, stored=run.answers, form_kwargs=kwargs
            )
        if result.answers is not None:
            testruns.run_save_page(
                run=run, spec=spec, page_index=index, answers=result.answers, codes=result.codes
            )
            return HttpResponseRedirect(request.path)
        form = result.form
    if form is None:
        # As on the participant page: every question of the page is in the HTML, those that do not
        # apply (yet) hidden, so the live check can show a follow-up on the same page as one answers.
        questions = current.questions
        initial = {
            code: run.answers[code] for q in questions for code in flow.answer_codes(q) if code in run.answers
        }
        form = PageForm(initial=initial, questions=questions, **kwargs)
        relevant = {q["code"] for q in flow.relevant_questions(current, run.answers)}
    else:
        relevant = {item.spec["code"] for item in form.rendered}
    applying = [p.index for p in all_pages if flow.page_applies(p, run.answers) or p.index == index]
    staff_language = get_language() or "en"
    with translation_for(run.language):
        response = render(
            request,
            "survey/studio/test_page.html",
            {
                "study": study,
                "run": run,
                "language": run.language,
                "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in run.version.languages],
                "title": flow.form_title(spec, study, run.language),
                "section_label": flow.piped(
                    text_in(current.section["label"], run.language, spec["default_language"]),
                    spec,
                    run.answers,
                    run.language,
                ),
                "form": form,
                "relevant": relevant,
                # The same live relevance, choice filters and or_other box as the participant page.
                "relevance_url": (
                    reverse("survey:studio_test_relevance", args=[study.slug, run.pk, index])
                    if needs_live_state(current.questions)
                    else ""
                ),
                "page_index": index,
                "is_last": flow.next_page(all_pages, index, run.answers) is None,
                "receipt": "",
                "has_previous": flow.previous_page(all_pages, index, run.answers) is not None,
                "progress_current": applying.index(index) + 1,
                "progress_total": len(applying),
                "staff_language": staff_language,
            },
        )
    response["Cache-Control"] = "no-store"
    return response


def _finished(
    request: HttpRequest, study: Any, run: TestRun, spec: dict[str, Any], plan: dict[str, Any]
) -> HttpResponse:
    answers = [
        {
            "code": code,
            "value": run.answers[code],
            "shown": flow.display_value(spec, code, run.answers[code], run.language),
        }
        for _s, q, _p in iter_questions(spec)
        for code in flow.answer_codes(q)
        if code in run.answers
    ]
    return render_studio(
        request,
        "survey/studio/test_done.html",
        title=_("Test run finished"),
        study=study,
        section="questionnaire",
        version=run.version,
        run=run,
        answers=answers,
        page_order=plan["sections"],
    )


@studio_page
def logic(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Which questions depend on which (relevance, constraints, piped texts), and pages' conditions."""
    study = study_for(request, slug)
    version = version_for(study, number)
    return render_studio(
        request,
        "survey/studio/logic.html",
        title=_("Logic map of version %(number)s") % {"number": version.number},
        study=study,
        section="questionnaire",
        version=version,
        map=logic_map(version, get_language() or "en"),
    )
