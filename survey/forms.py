"""Participant page forms, built from the questionnaire spec for one page in one language, and the
staff form that uploads a claims registry.

Every question type maps to native inputs (radios, checkboxes, number, date, text); rankings
are one select per option so that they work from the keyboard and without JavaScript; a
slider is a number input (a range control is only a progressive enhancement).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import StepValueValidator
from django.utils.translation import gettext_lazy as _

from . import languages
from .computed import calculated, default_value, filtered_choices
from .exact_numbers import MAX_INTEGER, check_exact
from .instrument import PAGE_FORM_NAMES

MAX_SHORT_TEXT = 500
MAX_LONG_TEXT = 5000
E_RANKING_PERMUTATION = _("Give each option a different rank.")
E_RANKING_INCOMPLETE = _("Rank every option.")
E_NOT_OFFERED = _("“%(option)s” is not offered for your earlier answers: choose another option.")
E_EXCLUSIVE = _("“%(option)s” cannot be chosen together with other answers: choose it alone, or untick it.")


class ExactStepValidator(StepValueValidator):
    """A range's step, checked exactly in decimals: Django's check allows 1e-9 either side of a step,
    so 0.5000000001 passed a step of 0.5 and was stored as a level of its own; a step of 1 is
    checked too (2.5 is not on the scale of an ODK ``range`` with the default step)."""

    def compare(self, a: Decimal, b: Decimal) -> bool:
        return (Decimal(a) - Decimal(self.offset or 0)) % Decimal(b) != 0


class ExactDecimalField(forms.DecimalField):
    """A decimal number that every export format keeps exactly (``survey.exact_numbers``): at most
    15 significant digits, below 10^15 in size, no digit below 10^-15.

    Refused at entry with a message naming the limit, rather than changed when stored (a float with
    more digits would become another number, e.g. 99999999999999.999999 -> 100000000000000.0; 1e400
    once broke every export, 1e-400 was stored as 0).
    """

    def validate(self, value: Decimal | None) -> None:
        super().validate(value)
        if value is not None:
            check_exact(value)


def text_in(texts: dict[str, str], language: str, fallback: str) -> str:
    """The text in ``language``; a complete translation is required to publish, so the fallback is for drafts."""
    # By the one lookup: the same language under another BCP 47 tag (a study in ``zh-Hans``, a form
    # written in ``zh-CN``) is the language itself.
    return languages.text_in(texts, language, fallback) or next((t for t in texts.values() if t), "")


@dataclass(frozen=True)
class RenderedQuestion:
    """What a template needs to show one question."""

    spec: dict[str, Any]
    label: str
    hint: str
    field_names: tuple[str, ...]
    items: tuple[RenderedQuestion, ...] = ()
    item_texts: tuple[str, ...] = ()
    exclusive: tuple[str, ...] = ()  # the options of a multiple choice that are chosen only alone
    read_only: bool = False  # shown with its value (``value``), not editable
    value: str = ""
    hidden_choices: tuple[str, ...] = ()  # options its choice filter does not offer (yet)


class PageForm(forms.Form):
    """The fields of one page. ``questions`` are specs in display order, ``options`` the per-question
    option order (already randomised and possibly reversed)."""

    def __init__(
        self,
        *args: Any,
        questions: list[dict[str, Any]],
        choice_lists: dict[str, list[dict[str, Any]]],
        language: str,
        fallback_language: str,
        options: dict[str, list[str]] | None = None,
        list_items: dict[str, list[dict[str, Any]]] | None = None,
        pipe: Callable[[str], str] | None = None,
        answers: dict[str, Any] | None = None,
        context: Any = None,
        use_defaults: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.pipe = pipe or (lambda text: text)
        # The answers so far and the expression context (survey.logic.Context): what choice filters
        # and read-only values are computed from.
        self.answers = answers or {}
        self.context = context
        # A question's XLSForm default is offered only until its page is first saved: after that an
        # empty answer is the participant's own.
        self.use_defaults = use_defaults
        self.language = language
        self.fallback = fallback_language
        self.questions = questions
        self.rankings: dict[str, list[str]] = {}
        self.exclusive: dict[str, list[str]] = {}
        self.offered: dict[str, set[str]] = {}  # question -> the choices its choice filter offers
        options = options or {}
        list_items = list_items or {}
        self.rendered: list[RenderedQuestion] = []
        for question in questions:
            if question["type"] != "calculate":  # computed when the page is saved, never shown
                self.rendered.append(self._add(question, choice_lists, options, list_items))

    def t(self, texts: dict[str, str]) -> str:
        """A text in the page's language, with ``${code}`` piped from earlier answers."""
        return self.pipe(text_in(texts or {}, self.language, self.fallback))

    def _choices(self, question: dict[str, Any], choice_lists, options) -> list[tuple[str, str]]:
        """Every option in display order; a choice filter's verdict is kept in ``offered`` (the page
        holds all options, those not offered hidden, so the script can show them as answers change)."""
        every = choice_lists.get(question["choice_list"], [])
        if question.get("choice_filter"):
            self.offered[question["code"]] = {
                c["code"] for c in filtered_choices(question, every, self.answers, self.context)
            }
        choices = {c["code"]: self.t(c["label"]) for c in every}
        order = options.get(question["code"]) or list(choices)
        return [(code, choices[code]) for code in order if code in choices]

    def _field(self, question: dict[str, Any], choice_lists, options) -> forms.Field | None:
        label, required = self.t(question["label"]), question["required"]
        match question["type"]:
            case "single_choice" | "likert":
                return forms.ChoiceField(
                    label=label,
                    required=required,
                    choices=self._choices(question, choice_lists, options),
                    widget=forms.RadioSelect,
                )
            case "multiple_choice":
                return forms.MultipleChoiceField(
                    label=label,
                    required=required,
                    choices=self._choices(question, choice_lists, options),
                    widget=forms.CheckboxSelectMultiple,
                )
            case "integer":
                return forms.IntegerField(
                    label=label, required=required, min_value=-MAX_INTEGER, max_value=MAX_INTEGER
                )
            case "decimal":
                return ExactDecimalField(label=label, required=required)
            case "text":
                return forms.CharField(label=label, required=required, max_length=MAX_SHORT_TEXT)
            case "long_text":
                return forms.CharField(
                    label=label,
                    required=required,
                    max_length=MAX_LONG_TEXT,
                    widget=forms.Textarea(attrs={"rows": 5}),
                )
            case "date":
                return forms.DateField(
                    label=label, required=required, widget=forms.DateInput(attrs={"type": "date"})
                )
            case "slider":
                params = question["parameters"]
                # Decimals, as the field cleans to: Django's step check subtracts the start from
                # the value, and a float start made every answer to a stepped range a server error.
                start, end, step = (
                    Decimal(str(params["start"])),
                    Decimal(str(params["end"])),
                    Decimal(str(params.get("step", 1))),
                )
                return ExactDecimalField(
                    label=label,
                    required=required,
                    min_value=start,
                    max_value=end,
                    validators=[ExactStepValidator(step, offset=start)],
                    widget=forms.NumberInput(
                        attrs={
                            "min": params["start"],
                            "max": params["end"],
                            "step": params.get("step", "1"),
                            "data-slider": "1",
                        }
                    ),
                )
        return None

    def _add(self, question, choice_lists, options, list_items) -> RenderedQuestion:
        code, qtype = question["code"], question["type"]
        label, hint = self.t(question["label"]), self.t(question["hint"])
        if qtype == "note":
            return RenderedQuestion(question, label, hint, ())
        if question.get("read_only") or question.get("calculation"):
            # Computed (or fixed) by the server, never posted: shown with its value.
            if code in self.answers:
                value = self.answers[code]
            elif question.get("calculation"):
                value = calculated(question, self.answers, self.context) or ""
            else:
                value = default_value(question)
            if question["choice_list"]:
                labels = {
                    c["code"]: self.t(c["label"]) for c in choice_lists.get(question["choice_list"], [])
                }
                codes = value if isinstance(value, list) else [value] if value != "" else []
                value = ", ".join(labels.get(str(c), str(c)) for c in codes)
            return RenderedQuestion(question, label, hint, (), read_only=True, value=str(value))
        if qtype == "matrix":
            scale = options.get(code)
            item_options = (
                {**options, **{item["code"]: scale for item in question["items"]}} if scale else options
            )
            items = tuple(
                self._add(
                    {**item, "choice_list": question["choice_list"]},
                    choice_lists,
                    item_options,
                    list_items,
                )
                for item in question["items"]
            )
            return RenderedQuestion(
                question, label, hint, tuple(n for item in items for n in item.field_names), items
            )
        if qtype == "list_experiment":
            shown = list_items.get(code) or [
                item for item in question["items"] if item["parameters"].get("role") == "control"
            ]
            self.fields[code] = forms.IntegerField(
                label=label, required=question["required"], min_value=0, max_value=len(shown)
            )
            return RenderedQuestion(
                question,
                label,
                hint,
                (code,),
                item_texts=tuple(self.t(item["label"]) for item in shown),
            )
        if qtype == "ranking":
            choices = self._choices(question, choice_lists, options)
            ranks = [("", "—")] + [(str(i), str(i)) for i in range(1, len(choices) + 1)]
            names = []
            for choice_code, choice_label in choices:
                name = f"{code}__{choice_code}"
                self.fields[name] = forms.ChoiceField(label=choice_label, required=False, choices=ranks)
                names.append(name)
            self.rankings[code] = [choice for choice, _ in choices]
            return RenderedQuestion(question, label, hint, tuple(names))
        self.fields[code] = self._field(question, choice_lists, options)
        if question.get("default") and self.use_defaults:
            self.fields[code].initial = default_value(question)
        hidden = (
            tuple(
                choice
                for choice, _ in self.fields[code].choices
                if code in self.offered and choice not in self.offered[code]
            )
            if qtype in {"single_choice", "likert", "multiple_choice"}
            else ()
        )
        if qtype == "multiple_choice":
            alone = [c["code"] for c in choice_lists.get(question["choice_list"], []) if c.get("exclusive")]
            if alone:
                self.exclusive[code] = alone
            return RenderedQuestion(
                question, label, hint, (code,), exclusive=tuple(alone), hidden_choices=hidden
            )
        return RenderedQuestion(question, label, hint, (code,), hidden_choices=hidden)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for code, offered in self.offered.items():
            value = cleaned.get(code)
            chosen = value if isinstance(value, list) else [value] if value not in (None, "") else []
            refused = [choice for choice in chosen if choice not in offered]
            if refused:
                labels = dict(self.fields[code].choices)
                self.add_error(
                    code,
                    forms.ValidationError(
                        E_NOT_OFFERED,
                        code="not_offered",
                        params={"option": labels.get(refused[0], refused[0])},
                    ),
                )
        for code, alone in self.exclusive.items():
            chosen = cleaned.get(code) or []
            clashing = [choice for choice in chosen if choice in alone]
            if clashing and len(chosen) > 1:
                labels = dict(self.fields[code].choices)
                self.add_error(
                    code,
                    forms.ValidationError(
                        E_EXCLUSIVE, code="exclusive", params={"option": labels.get(clashing[0], clashing[0])}
                    ),
                )
        for question in self.questions:
            if question["type"] != "ranking":
                continue
            code = question["code"]
            ranks = {choice: cleaned.get(f"{code}__{choice}") for choice in self.rankings[code]}
            given = [rank for rank in ranks.values() if rank]
            if not given:
                if question["required"]:
                    self.add_error(
                        f"{code}__{self.rankings[code][0]}",
                        forms.ValidationError(E_RANKING_INCOMPLETE, code="ranking_incomplete"),
                    )
                cleaned[code] = []
            elif len(given) != len(ranks):
                self.add_error(
                    f"{code}__{self.rankings[code][0]}",
                    forms.ValidationError(E_RANKING_INCOMPLETE, code="ranking_incomplete"),
                )
            elif len(set(given)) != len(given):
                self.add_error(
                    f"{code}__{self.rankings[code][0]}",
                    forms.ValidationError(E_RANKING_PERMUTATION, code="ranking_permutation"),
                )
            else:
                cleaned[code] = sorted(ranks, key=lambda choice: int(ranks[choice]))
        return cleaned


E_CONSTRAINT_DEFAULT = _("This answer is not allowed here.")
E_UNEXPECTED_FIELDS = "unexpected fields"
CONTROL_FIELDS = PAGE_FORM_NAMES
E_NEW_QUESTIONS = _(
    "Your answers make more questions apply on this page. Please look at them, then continue."
)


def expected_field_names(form: PageForm) -> set[str]:
    return set(form.fields) | CONTROL_FIELDS


def is_well_formed(form: PageForm, data: Any) -> bool:
    """Only this page's fields, and one value for every field that takes one (a tampered post fails)."""
    if not set(data) <= expected_field_names(form):
        return False
    return all(
        len(data.getlist(name)) <= 1
        for name in data
        if not isinstance(form.fields.get(name), forms.MultipleChoiceField)
    )


def _cleaned_answers(form: PageForm) -> dict[str, Any]:
    """The stored form of a page's cleaned values: rankings as ordered lists, rank fields dropped."""
    ranking_fields = {f"{code}__{choice}" for code, choices in form.rankings.items() for choice in choices}
    return {name: value for name, value in form.cleaned_data.items() if name not in ranking_fields}


def _relevant_so_far(
    data: Any, page_questions: list[dict[str, Any]], stored: dict[str, Any], form_kwargs: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The page's questions that apply, judged in display order with the answers before each (this
    page's as typed: a value that does not validate counts as no answer), and those answers."""
    from . import flow

    codes = {code for question in page_questions for code in flow.answer_codes(question)}
    answers = {k: v for k, v in stored.items() if k not in codes}
    provisional = PageForm(
        data,
        questions=[{**q, "required": False, "choice_filter": ""} for q in page_questions],
        **{**form_kwargs, "answers": answers},
    )
    provisional.is_valid()
    relevant = []
    for question in page_questions:
        if flow.is_true(question["relevance"], {**answers}):
            relevant.append(question)
            if question.get("calculation"):
                value = calculated(question, answers, form_kwargs.get("context"))
                if value is not None:
                    answers[question["code"]] = value
                continue
            if question.get("read_only"):
                fixed = default_value(question)
                if fixed not in ("", []):
                    answers[question["code"]] = fixed
                continue
            for code in flow.answer_codes(question):
                value = provisional.cleaned_data.get(code)
                if value not in (None, "", []):
                    answers[code] = flow.to_json(value)
    return relevant, answers


def relevant_codes(
    *, data: Any, page_questions: list[dict[str, Any]], stored: dict[str, Any], form_kwargs: dict[str, Any]
) -> list[str]:
    """The codes of the page's questions that apply to the answers typed so far, by the same rule
    :func:`submit_page` applies when the page is sent (the server's evaluator is the only one)."""
    return live_state(data=data, page_questions=page_questions, stored=stored, form_kwargs=form_kwargs)[0]


def live_state(
    *, data: Any, page_questions: list[dict[str, Any]], stored: dict[str, Any], form_kwargs: dict[str, Any]
) -> tuple[list[str], dict[str, list[str]]]:
    """(:func:`relevant_codes`, {question: the choice codes its choice filter offers}) for the
    answers typed so far, as :func:`submit_page` will judge them."""
    relevant, answers = _relevant_so_far(data, page_questions, stored, form_kwargs)
    filtered = [q for q in relevant if q.get("choice_filter")]
    offered: dict[str, list[str]] = {}
    if filtered:
        form = PageForm(questions=filtered, **{**form_kwargs, "answers": answers})
        offered = {code: sorted(codes) for code, codes in form.offered.items()}
    return [question["code"] for question in relevant if question["type"] != "calculate"], offered


@dataclass
class PageResult:
    form: PageForm
    answers: dict[str, Any] | None  # None when the page must be shown again
    codes: list[str]  # every variable this page can hold


def submit_page(
    *,
    data: Any,
    page_questions: list[dict[str, Any]],
    stored: dict[str, Any],
    form_kwargs: dict[str, Any],
) -> PageResult:
    """Validate a posted page: relevance is judged in display order with the answers before each
    question (this page's included), irrelevant questions are neither required nor kept, and
    constraints are checked with their messages. The caller saves ``answers`` when it is not None.
    """
    from . import flow

    codes = [code for question in page_questions for code in flow.answer_codes(question)]
    relevant, answers = _relevant_so_far(data, page_questions, stored, form_kwargs)
    # Choice filters read the answers before each question, this page's included.
    form = PageForm(data, questions=relevant, **{**form_kwargs, "answers": answers})
    valid = form.is_valid()
    shown = set(str(data.get("shown", "")).split()) if "shown" in data else None
    brought_in = [
        question
        for question in relevant
        if shown is not None and question["code"] not in shown and question["type"] != "calculate"
    ]
    if brought_in:
        # Without JavaScript a question made relevant by an answer on this very page was not on
        # screen: show the page again with it rather than skip it, and without marking it wrong
        # (it has not been seen, let alone left blank).
        for question in brought_in:
            names = set(flow.answer_codes(question))
            names |= {f"{question['code']}__{choice}" for choice in form.rankings.get(question["code"], [])}
            for name in names:
                form.errors.pop(name, None)
        form.add_error(None, forms.ValidationError(E_NEW_QUESTIONS, code="new_questions"))
        return PageResult(form, None, codes)
    if not valid:
        return PageResult(form, None, codes)

    cleaned = {k: flow.to_json(v) for k, v in _cleaned_answers(form).items() if v not in (None, "", [])}
    context = {**answers, **cleaned}
    for question in relevant:
        targets = question["items"] if question["type"] == "matrix" else [question]
        for target in targets:
            constraint = target.get("constraint") or question.get("constraint")
            value = cleaned.get(target["code"])
            if constraint and value is not None and not flow.is_true(constraint, context, value):
                message = (
                    form.t(target.get("constraint_message") or question.get("constraint_message") or {})
                    or E_CONSTRAINT_DEFAULT
                )
                field = target["code"] if target["code"] in form.fields else next(iter(form.fields), None)
                form.add_error(field, forms.ValidationError(message, code="constraint"))
    if form.errors:
        return PageResult(form, None, codes)
    return PageResult(form, cleaned, codes)


E_REGISTRY_TOO_LARGE = _("A claims registry is a text file of at most 1 MB; this file is larger.")


class ClaimsRegistryForm(forms.Form):
    """A claims registry (TOML) uploaded for a study: checked, and attached unless only checked."""

    registry = forms.FileField(
        label=_("Registry file (TOML)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".toml,text/plain,application/toml"}),
    )

    def clean_registry(self):
        from analysis.claims import MAX_BYTES

        upload = self.cleaned_data["registry"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(E_REGISTRY_TOO_LARGE, code="registry_too_large")
        return upload
