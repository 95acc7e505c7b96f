"""The studio's forms: they read and check what a researcher typed; the services write it.

Texts that exist in every language of a study are shown as one field per language, side by side
(``<name>__<language>``); :func:`texts_of` gathers them back into ``{language: text}``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import URLValidator
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from analysis.quality import fraction_parsed, fraction_text

from ...computed import unknown_filter_columns
from ...instrument import CHOICE_TYPES
from ...languages import language_choices, language_name, text_for
from ...models import StudyRole
from ...selectors import staff_accounts
from ...services.studies import E_SPEEDING_FIXED, SAMPLE_OUTCOMES, SampleData, StudyData
from ...xlsform.limits import size_problem

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PANEL_URL = URLValidator(schemes=["https", "http"])

E_TITLE_MISSING = _("Give the study a title in %(language)s.")
E_DATES = _("The study cannot close before it opens.")
E_FREEZE = _("Answers must stay withdrawable at least until the study closes.")
E_SAMPLE_LANGUAGE = _("Choose one of the study's languages.")
E_SAMPLE_SLUG_TWICE = _("Two samples have the link name %(slug)s.")
E_NO_SAMPLE = _("Give the study at least one sample.")
E_NO_USER = _("No staff account has the username %(username)s. Check the spelling: it must match exactly.")
E_MEMBER_OWNER = _("The owner is already on the study.")
E_MEMBER_TWICE = _("%(username)s is listed twice.")
E_REDIRECT_CODE = _("Give the code the panel expects with this URL, or leave both empty.")
E_SPEEDING = _(
    "Write the speeding fraction as a fraction such as 1/3 or a decimal such as 0.33, strictly "
    "between 0 and 1."
)


def text_field_name(name: str, language: str) -> str:
    return f"{name}__{language}"


def add_text_fields(
    form: forms.Form,
    name: str,
    languages: list[str],
    *,
    label: str,
    initial: dict[str, str] | None = None,
    long: bool = False,
    required: bool = False,
    max_length: int | None = None,
) -> None:
    """One field per language for the translated text ``name``."""
    for language in languages:
        form.fields[text_field_name(name, language)] = forms.CharField(
            label=f"{label} — {language_name(language)}",
            required=required,
            max_length=max_length,
            initial=(initial or {}).get(language, ""),
            strip=True,
            widget=forms.Textarea(attrs={"rows": 5, "lang": language})
            if long
            else forms.TextInput(attrs={"lang": language}),
        )


def texts_of(cleaned: dict[str, Any], name: str, languages: list[str]) -> dict[str, str]:
    """``{language: text}`` from the per-language fields of ``name`` (empty texts left out)."""
    return {
        language: cleaned[text_field_name(name, language)]
        for language in languages
        if cleaned.get(text_field_name(name, language))
    }


def grown(data: QueryDict, prefix: str) -> QueryDict:
    """The posted data with one more empty row in formset ``prefix`` ("add another", without JavaScript)."""
    copy = data.copy()
    key = f"{prefix}-TOTAL_FORMS"
    copy[key] = str(int(copy.get(key, "0") or 0) + 1)
    return copy


class StudyForm(forms.Form):
    """A study's settings. Title fields exist for every known language; the chosen ones are shown."""

    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Every text of the questionnaire and the consent is written in each of these."),
    )
    slug = forms.SlugField(
        label=_("Link name"),
        max_length=64,
        help_text=_("Part of the participants' link, /s/link-name/: letters, digits and hyphens."),
    )
    opens_on = forms.DateField(label=_("Opens on"), required=False, widget=DATE)
    closes_on = forms.DateField(label=_("Closes on"), required=False, widget=DATE)
    data_freeze_on = forms.DateField(
        label=_("Data freeze"),
        required=False,
        widget=DATE,
        help_text=_("Participants may withdraw their answers until this date."),
    )
    completed_marker = forms.BooleanField(
        label=_("Tell a browser that has completed the survey that it has"),
        required=False,
        help_text=_(
            "The browser keeps a cookie with no identifier and is shown “already completed” instead "
            "of a new start. Leave this off where people share devices (a family computer, a kiosk)."
        ),
    )
    target_size = forms.IntegerField(
        label=_("Target (completed responses)"),
        required=False,
        min_value=1,
        help_text=_("The study closes itself when this many participants have completed it."),
    )

    speeding_fraction = forms.CharField(
        label=_("Speeding fraction"),
        required=False,
        max_length=40,
        help_text=_(
            "A completed response counts as speeding when its duration is under this fraction of its "
            "sample's median duration: a fraction such as 1/3 or a decimal such as 0.33, strictly "
            "between 0 and 1. It is fixed once the study's first results are released."
        ),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def __init__(
        self, *args: Any, in_use: list[str] = (), speeding_fixed: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["languages"].choices = language_choices(list(in_use))
        self.speeding_fixed = speeding_fixed
        if speeding_fixed:
            # Shown as it is; a changed value posted anyway is refused by ``study_update``.
            field = self.fields["speeding_fraction"]
            field.widget.attrs["readonly"] = True
            field.help_text = _(E_SPEEDING_FIXED)
        titles = self.initial.get("titles", {})
        for code, _name in self.fields["languages"].choices:
            self.fields[text_field_name("title", code)] = forms.CharField(
                label=_("Title — %(language)s") % {"language": language_name(code)},
                required=False,
                max_length=200,
                initial=titles.get(code, ""),
                widget=forms.TextInput(attrs={"lang": code}),
            )

    def chosen_languages(self) -> list[str]:
        """The languages ticked (in the order of the list), for showing their title fields."""
        if self.is_bound:
            ticked = self.data.getlist("languages") if hasattr(self.data, "getlist") else []
        else:
            ticked = self.initial.get("languages", [])
        return [code for code, _name in self.fields["languages"].choices if code in ticked]

    def title_fields(self) -> list[tuple[forms.BoundField, bool]]:
        chosen = set(self.chosen_languages())
        return [
            (self[text_field_name("title", code)], code in chosen)
            for code, _name in self.fields["languages"].choices
        ]

    def clean_speeding_fraction(self) -> float | None:
        text = self.cleaned_data.get("speeding_fraction", "")
        if not text:
            return None
        try:
            return fraction_parsed(text)
        except ValueError as error:
            raise forms.ValidationError(E_SPEEDING, code="speeding_fraction") from error

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        languages = [
            code for code, _n in self.fields["languages"].choices if code in cleaned.get("languages", [])
        ]
        cleaned["languages"] = languages
        for language in languages:
            if not cleaned.get(text_field_name("title", language)):
                self.add_error(
                    text_field_name("title", language),
                    forms.ValidationError(
                        E_TITLE_MISSING, code="title_missing", params={"language": language_name(language)}
                    ),
                )
        opens, closes, freeze = (
            cleaned.get("opens_on"),
            cleaned.get("closes_on"),
            cleaned.get("data_freeze_on"),
        )
        if opens and closes and closes < opens:
            self.add_error("closes_on", forms.ValidationError(E_DATES, code="closes_before_opening"))
        if closes and freeze and freeze < closes:
            self.add_error("data_freeze_on", forms.ValidationError(E_FREEZE, code="freeze_before_closing"))
        return cleaned

    def study_data(self) -> StudyData:
        cleaned = self.cleaned_data
        return StudyData(
            slug=cleaned["slug"],
            titles=texts_of(cleaned, "title", cleaned["languages"]),
            languages=cleaned["languages"],
            opens_on=cleaned.get("opens_on"),
            closes_on=cleaned.get("closes_on"),
            data_freeze_on=cleaned.get("data_freeze_on"),
            target_size=cleaned.get("target_size"),
            completed_marker=bool(cleaned.get("completed_marker")),
            speeding_fraction=cleaned.get("speeding_fraction"),
        )


def speeding_shown(value: float) -> str:
    """A study's speeding fraction as the settings form shows it: as a reader knows it (``1/3``,
    ``analysis.quality.fraction_text``) when that reads back as the same number, else in full, so
    that saving the form unchanged never changes it."""
    text = fraction_text(value)
    return text if fraction_parsed(text) == value else repr(value)


class SampleForm(forms.Form):
    """One sample: the group a link is given to, its language, target and panel redirects."""

    name = forms.CharField(label=_("Sample name"), max_length=200)
    slug = forms.SlugField(label=_("Link name"), max_length=64)
    default_language = forms.ChoiceField(label=_("Default language"))
    target_size = forms.IntegerField(label=_("Target"), required=False, min_value=1)
    is_default = forms.BooleanField(label=_("Behind the study's plain link"), required=False)

    def __init__(self, *args: Any, languages: list[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_language"].choices = language_choices(list(languages))
        for outcome, label in (
            ("completion", _("Completion")),
            ("screenout", _("Screen-out")),
            ("overquota", _("Over quota")),
        ):
            self.fields[f"{outcome}_redirect_url"] = forms.CharField(
                label=_("%(outcome)s redirect URL") % {"outcome": label},
                required=False,
                max_length=200,
                validators=[PANEL_URL],
                widget=forms.URLInput,
                help_text=_("{code} in the URL is replaced by the code."),
            )
            self.fields[f"{outcome}_code"] = forms.CharField(
                label=_("%(outcome)s code") % {"outcome": label}, required=False, max_length=64
            )

    def redirect_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"{o}_redirect_url"], self[f"{o}_code"]) for o in SAMPLE_OUTCOMES]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for outcome in SAMPLE_OUTCOMES:
            url, code = cleaned.get(f"{outcome}_redirect_url"), cleaned.get(f"{outcome}_code")
            if url and "{code}" in url and not code:
                self.add_error(
                    f"{outcome}_code", forms.ValidationError(E_REDIRECT_CODE, code="redirect_code")
                )
        return cleaned

    def sample_data(self) -> SampleData:
        cleaned = self.cleaned_data
        return SampleData(
            slug=cleaned["slug"],
            name=cleaned["name"],
            default_language=cleaned["default_language"],
            target_size=cleaned.get("target_size"),
            is_default=bool(cleaned.get("is_default")),
            redirects={
                outcome: (cleaned.get(f"{outcome}_redirect_url", ""), cleaned.get(f"{outcome}_code", ""))
                for outcome in SAMPLE_OUTCOMES
            },
        )


class BaseSampleFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, languages: list[str] = (), **kwargs: Any) -> None:
        self.languages = list(languages)
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"languages": self.languages}

    def clean(self) -> None:
        if any(self.errors):
            return
        filled = [form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        if not filled:
            raise forms.ValidationError(E_NO_SAMPLE, code="no_sample")
        seen: set[str] = set()
        for form in filled:
            slug = form.cleaned_data["slug"]
            if slug in seen:
                form.add_error("slug", forms.ValidationError(E_SAMPLE_SLUG_TWICE, params={"slug": slug}))
            seen.add(slug)

    def check_languages(self, languages: list[str]) -> bool:
        """Every sample's default language must be one of the study's (known only after its form)."""
        ok = True
        for form in self.forms:
            if form.cleaned_data and form.cleaned_data.get("default_language") not in languages:
                form.add_error("default_language", forms.ValidationError(E_SAMPLE_LANGUAGE, code="language"))
                ok = False
        return ok

    def samples(self) -> list[SampleData]:
        return [form.sample_data() for form in self.forms if form.cleaned_data]


SampleFormSet = forms.formset_factory(SampleForm, formset=BaseSampleFormSet, extra=0, min_num=1)


class MemberForm(forms.Form):
    """A member added by exact username (nobody is listed), with a role."""

    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(StudyRole.RESEARCHER, _("Researcher")), (StudyRole.ANALYST, _("Analyst"))],
        initial=StudyRole.RESEARCHER,  # so that an untouched empty row is left out, not required
    )
    may_export_raw = forms.BooleanField(
        label=_("May export raw responses"),
        required=False,
        help_text=_("Researchers always may; analysts only with this."),
    )

    def __init__(self, *args: Any, owner: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_username(self) -> Any:
        username = self.cleaned_data["username"].strip()
        user = staff_accounts().filter(username=username).first()
        if user is None:
            raise forms.ValidationError(E_NO_USER, code="no_user", params={"username": username})
        if self.owner is not None and user.pk == self.owner.pk:
            raise forms.ValidationError(E_MEMBER_OWNER, code="member_owner")
        return user


class BaseMemberFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, owner: Any = None, **kwargs: Any) -> None:
        self.owner = owner
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"owner": self.owner}

    def clean(self) -> None:
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            user = form.cleaned_data.get("username") if form.cleaned_data else None
            if user is None:
                continue
            if user.pk in seen:
                form.add_error(
                    "username",
                    forms.ValidationError(E_MEMBER_TWICE, params={"username": user.get_username()}),
                )
            seen.add(user.pk)

    def members(self) -> list[tuple[Any, str, bool]]:
        return [
            (
                form.cleaned_data["username"],
                form.cleaned_data["role"],
                bool(form.cleaned_data.get("may_export_raw")),
            )
            for form in self.forms
            if form.cleaned_data and form.cleaned_data.get("username")
        ]


MemberFormSet = forms.formset_factory(MemberForm, formset=BaseMemberFormSet, extra=1)


E_FILE_TYPE = _("Choose an XLSForm spreadsheet (.xlsx) or a Candid questionnaire (.json).")


class ImportForm(forms.Form):
    """An XLSForm (or Candid JSON) upload, read into memory after the size check every import shares."""

    file = forms.FileField(
        label=_("XLSForm spreadsheet"),
        help_text=_("An .xlsx file with survey, choices and settings sheets (or a Candid .json file)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.json"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is None:
            return cleaned
        too_large = size_problem(upload.size)
        if too_large:
            self.add_error("file", forms.ValidationError(too_large.message, code="too_large"))
        elif not upload.name.lower().endswith((".xlsx", ".json")):
            self.add_error("file", forms.ValidationError(E_FILE_TYPE, code="file_type"))
        else:
            cleaned["content"] = upload.read()
        return cleaned


E_SLIDER_NUMBERS = _("Give a slider a start, an end and a step.")

TRANSLATED = (
    ("label", _("Text")),
    ("hint", _("Hint")),
    ("constraint_message", _("Message when not accepted")),
)


E_FILTER_COLUMN = _(
    "The choice filter reads %(column)s, which no choice has, so it would hide every choice (a bare word "
    "is a column of the choices: write a text in quotes, '%(column)s'). The columns it can read: %(columns)s."
)


class QuestionForm(forms.Form):
    """A question (or an item of a matrix or list experiment) as the researcher edits it.

    ``question()`` turns the cleaned data into the spec's question shape; parameters the form does not
    show (from an imported spreadsheet) are kept.
    """

    code = forms.CharField(
        label=_("Variable name"),
        max_length=32,
        help_text=_(
            "Stays the same across versions so that data line up: a letter or _, then letters, digits or _."
        ),
    )
    type = forms.ChoiceField(label=_("Type"))
    page = forms.ChoiceField(label=_("Page"), required=False)
    required = forms.BooleanField(label=_("An answer is required"), required=False)
    relevance = forms.CharField(
        label=_("Shown when (relevance)"),
        required=False,
        max_length=2000,
        help_text=_(
            "An XLSForm expression, e.g. ${age} >= 18 and selected(${scores}, 'sesame'). Empty: always."
        ),
    )
    constraint = forms.CharField(
        label=_("Accepted when (constraint)"),
        required=False,
        max_length=2000,
        help_text=_("'.' is this answer, e.g. . >= 0 and . <= 120. Empty: any answer."),
    )
    choice_list = forms.ChoiceField(label=_("Choice list"), required=False)
    randomize = forms.BooleanField(
        label=_("Random order"),
        required=False,
        help_text=_(
            "Options (or a matrix's rows) in a random order for each participant, stored with the response."
        ),
    )
    reverse_scale = forms.BooleanField(label=_("Reverse the scale for half the participants"), required=False)
    slider_start = forms.DecimalField(label=_("Slider starts at"), required=False)
    slider_end = forms.DecimalField(label=_("Slider ends at"), required=False)
    slider_step = forms.DecimalField(label=_("Slider step"), required=False, min_value=0)
    role = forms.ChoiceField(
        label=_("Role in the list experiment"),
        required=False,
        choices=[
            ("control", _("Control item (shown to everyone)")),
            ("sensitive", _("Sensitive item (treatment group only)")),
        ],
    )
    appearance = forms.CharField(label=_("Appearance (XLSForm)"), required=False, max_length=100)
    source = forms.CharField(
        label=_("Source"),
        required=False,
        help_text=_("The instrument this item follows, e.g. WVS Q57."),
    )
    # XLSForm's calculation, choice_filter, default and read_only columns, checked as an import checks them.
    calculation = forms.CharField(
        label=_("Calculation"),
        required=False,
        max_length=2000,
        help_text=_(
            "An XLSForm expression computed when the page is saved and stored as the answer, e.g. "
            "${adults} + ${children}. Needed by a calculate; a text, number or date question then shows it."
        ),
    )
    choice_filter = forms.CharField(
        label=_("Choice filter"),
        required=False,
        max_length=2000,
        help_text=_(
            "Offer only the choices for which this is true: name is the choice's code, a bare word a "
            "column of the choices sheet, e.g. state = ${state}. Empty: every choice."
        ),
    )
    default = forms.CharField(
        label=_("Default answer"),
        required=False,
        max_length=500,
        help_text=_(
            "Filled in until the page is first saved: a choice code (codes separated by spaces for a "
            "multiple choice), a number, a date written YYYY-MM-DD or a text."
        ),
    )
    read_only = forms.BooleanField(
        label=_("Read only"),
        required=False,
        help_text=_("Shown with its calculated or default value; the participant cannot change it."),
    )

    def __init__(
        self,
        *args: Any,
        languages: list[str],
        pages: list[tuple[str, str]],
        lists: list[str],
        types: list[tuple[str, str]],
        parent: dict[str, Any] | None,
        existing: dict[str, Any] | None,
        choice_columns: list[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.languages, self.parent, self.existing = languages, parent, existing or {}
        self.choice_columns = list(choice_columns)  # what a choice filter may read besides name
        self.fields["type"].choices = types
        self.fields["page"].choices = pages
        self.fields["choice_list"].choices = [("", _("(none)")), *[(name, name) for name in lists]]
        if parent is not None:
            del self.fields["page"]
            if parent["type"] == "matrix":
                del self.fields["choice_list"]
        if parent is None or parent["type"] != "list_experiment":
            del self.fields["role"]
        question = self.existing
        for name, label in TRANSLATED:
            add_text_fields(
                self,
                name,
                languages,
                label=label,
                initial=question.get(name),
                long=name == "label",
                max_length=5000,
            )
        if question:
            parameters = question.get("parameters") or {}
            self.initial.update(
                {
                    key: question.get(key)
                    for key in (
                        "code",
                        "type",
                        "required",
                        "relevance",
                        "constraint",
                        "choice_list",
                        "randomize",
                        "reverse_scale",
                        "appearance",
                        "source",
                        "calculation",
                        "choice_filter",
                        "default",
                        "read_only",
                    )
                }
            )
            self.initial.update(
                {
                    "slider_start": parameters.get("start"),
                    "slider_end": parameters.get("end"),
                    "slider_step": parameters.get("step"),
                    "role": parameters.get("role", "control"),
                }
            )

    def text_rows(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (label, [self[text_field_name(name, lang)] for lang in self.languages])
            for name, label in TRANSLATED
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("type") == "slider" and None in (
            cleaned.get("slider_start"),
            cleaned.get("slider_end"),
        ):
            self.add_error("slider_start", forms.ValidationError(E_SLIDER_NUMBERS, code="slider_numbers"))
        source = cleaned.get("choice_filter", "").strip()
        known = ["name", *self.choice_columns]
        for column in unknown_filter_columns(source, known) if source else []:
            self.add_error(
                "choice_filter",
                forms.ValidationError(
                    E_FILTER_COLUMN,
                    code="choice_filter_column",
                    params={"column": column, "columns": ", ".join(known)},
                ),
            )
        return cleaned

    def question(self) -> dict[str, Any]:
        """The spec's shape of what was typed (see ``survey.instrument.QUESTION_DEFAULTS``)."""
        cleaned = self.cleaned_data
        qtype = cleaned["type"]
        parameters = {
            key: value
            for key, value in (self.existing.get("parameters") or {}).items()
            if key not in {"start", "end", "step", "role"}
        }
        if qtype == "slider":
            for key in ("start", "end", "step"):
                value = cleaned.get(f"slider_{key}")
                if value is not None:
                    parameters[key] = format(value.normalize(), "f")
        if "role" in self.fields:
            parameters["role"] = cleaned.get("role") or "control"
        choice_list = cleaned.get("choice_list") or None
        if self.parent is not None and self.parent["type"] == "matrix":
            choice_list = self.parent["choice_list"]
        if qtype not in CHOICE_TYPES:
            choice_list = None  # only choice questions hold a list (the database insists too)
        return {
            "code": cleaned["code"].strip(),
            "type": qtype,
            **{name: self.texts(name) for name, _label in TRANSLATED},
            "required": bool(cleaned.get("required")),
            "relevance": cleaned.get("relevance", "").strip(),
            "constraint": cleaned.get("constraint", "").strip(),
            "appearance": cleaned.get("appearance", "").strip(),
            "parameters": parameters,
            "choice_list": choice_list,
            "randomize": bool(cleaned.get("randomize")),
            "reverse_scale": bool(cleaned.get("reverse_scale")),
            "source": cleaned.get("source", "").strip(),
            "calculation": cleaned.get("calculation", "").strip(),
            "choice_filter": cleaned.get("choice_filter", "").strip(),
            "default": cleaned.get("default", "").strip(),
            "read_only": bool(cleaned.get("read_only")),
        }

    def texts(self, name: str) -> dict[str, str]:
        """``{language: text}`` as typed, with the texts in languages the form has no field for (a hint
        imported in a language without labels) kept as they were."""
        kept = {
            language: text
            for language, text in (self.existing.get(name) or {}).items()
            if language not in self.languages
        }
        return {**kept, **texts_of(self.cleaned_data, name, self.languages)}

    # Where a validator problem's field ("label::zh", "name", ...) is shown on this form.
    PROBLEM_FIELDS = {
        "name": "code",
        "relevance": "relevance",
        "constraint": "constraint",
        "parameters": "slider_start",
        "calculation": "calculation",
        "choice_filter": "choice_filter",
        "default": "default",
        "read_only": "read_only",
    }

    def add_problem(self, field: str, code: str, message: str) -> None:
        base, _sep, language = field.partition("::")
        if language and text_field_name(base, language) in self.fields:
            name: str | None = text_field_name(base, language)
        elif code in {"missing_list", "unknown_list", "matrix_items"} and "choice_list" in self.fields:
            name = "choice_list"
        else:
            name = self.PROBLEM_FIELDS.get(field, "type" if field == "type" else None)
        self.add_error(name if name in self.fields else None, forms.ValidationError(message, code=code))


class PageForm(forms.Form):
    """A page (an XLSForm top-level group): its name, title per language, relevance and order settings."""

    code = forms.CharField(
        label=_("Page name"), max_length=32, help_text=_("Letters, digits or _, starting with a letter.")
    )
    relevance = forms.CharField(
        label=_("Page shown when (relevance)"), required=False, max_length=2000, help_text=_("Empty: always.")
    )
    randomize = forms.BooleanField(label=_("Questions of this page in a random order"), required=False)
    shuffle = forms.BooleanField(
        label=_("This page may change places with the other shuffled pages"), required=False
    )

    def __init__(
        self, *args: Any, languages: list[str], existing: dict[str, Any] | None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.languages = languages
        existing = existing or {}
        add_text_fields(
            self, "label", languages, label=_("Title"), initial=existing.get("label"), max_length=500
        )
        if existing:
            self.initial.update(
                {key: existing.get(key) for key in ("code", "relevance", "randomize", "shuffle")}
            )

    def section(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        return {
            "code": cleaned["code"].strip(),
            "label": texts_of(cleaned, "label", self.languages),
            "relevance": cleaned.get("relevance", "").strip(),
            "randomize": bool(cleaned.get("randomize")),
            "shuffle": bool(cleaned.get("shuffle")),
        }

    def add_problem(self, field: str, code: str, message: str) -> None:
        base, _sep, language = field.partition("::")
        name = (
            text_field_name(base, language)
            if language
            else {"name": "code", "relevance": "relevance"}.get(field)
        )
        self.add_error(name if name in self.fields else None, forms.ValidationError(message, code=code))


class ListNameForm(forms.Form):
    name = forms.CharField(
        label=_("List name"), max_length=64, help_text=_("As in the choices sheet's list_name column.")
    )


class ChoiceForm(forms.Form):
    """One choice of a list: its code (the value stored) and its label in every language."""

    code = forms.CharField(label=_("Code"), max_length=64, required=False)
    anchor = forms.BooleanField(label=_("Stays in place when shuffled"), required=False)
    exclusive = forms.BooleanField(label=_("Only on its own (multiple choice)"), required=False)

    def __init__(self, *args: Any, languages: list[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.languages = list(languages)
        add_text_fields(
            self,
            "label",
            self.languages,
            label=_("Label"),
            initial=self.initial.get("label"),
            max_length=1000,
        )

    def label_fields(self) -> list[forms.BoundField]:
        return [self[text_field_name("label", lang)] for lang in self.languages]


class BaseChoiceFormSet(forms.BaseFormSet):
    """A list's choices in place: rows with an empty code are left out; order by the ORDER column."""

    def __init__(self, *args: Any, languages: list[str] = (), **kwargs: Any) -> None:
        self.languages = list(languages)
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"languages": self.languages}

    def choices(self) -> list[dict[str, Any]]:
        kept = [
            form
            for form in self.ordered_forms
            if form.cleaned_data.get("code", "").strip() and not form.cleaned_data.get("DELETE")
        ]
        return [
            {
                "code": form.cleaned_data["code"].strip(),
                "label": texts_of(form.cleaned_data, "label", self.languages),
                "anchor": form.cleaned_data.get("anchor", False),
                "exclusive": form.cleaned_data.get("exclusive", False),
            }
            for form in kept
        ]


ChoiceFormSet = forms.formset_factory(
    ChoiceForm, formset=BaseChoiceFormSet, extra=3, can_order=True, can_delete=True
)


class FormSettingsForm(forms.Form):
    """The questionnaire's title per language and its languages (the first one is the default)."""

    languages = forms.MultipleChoiceField(
        label=_("Languages of the questionnaire"), widget=forms.CheckboxSelectMultiple
    )
    default_language = forms.ChoiceField(label=_("Default language"))

    def __init__(
        self, *args: Any, languages: list[str], title: dict[str, str], default: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["languages"].choices = language_choices(languages)
        self.fields["default_language"].choices = language_choices(languages)
        self.initial.update({"languages": languages, "default_language": default})
        add_text_fields(self, "title", languages, label=_("Title"), initial=title, max_length=500)
        self.title_languages = languages

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        chosen = [
            code for code, _n in self.fields["languages"].choices if code in cleaned.get("languages", [])
        ]
        default = cleaned.get("default_language")
        if default and default not in chosen:
            self.add_error("default_language", forms.ValidationError(E_SAMPLE_LANGUAGE, code="language"))
        cleaned["ordered"] = ([default] if default in chosen else []) + [c for c in chosen if c != default]
        return cleaned


class ConsentForm(forms.Form):
    """A consent version: the text participants agree to and who is asking, in every language."""

    ethics_reference = forms.CharField(
        label=_("Ethics approval number"),
        max_length=200,
        required=False,
        help_text=_("The reference the committee gave (or its exemption number). Required to publish."),
    )

    FIELDS = (
        ("texts", _("Consent text"), True),
        ("research_team", _("Research team or institution"), False),
        ("contact", _("Contact"), False),
        ("ethics_committee", _("Ethics committee"), False),
    )

    def __init__(self, *args: Any, languages: list[str], existing: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.languages = languages
        for name, label, long in self.FIELDS:
            add_text_fields(
                self,
                name,
                languages,
                label=label,
                initial=getattr(existing, name, None) if existing else None,
                long=long,
                max_length=20000 if long else 500,
            )
        if existing is not None:
            self.initial["ethics_reference"] = existing.ethics_reference

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (label, [self[text_field_name(name, lang)] for lang in self.languages])
            for name, label, _l in self.FIELDS
        ]

    def values(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        return {
            **{name: texts_of(cleaned, name, self.languages) for name, _label, _long in self.FIELDS},
            "ethics_reference": cleaned.get("ethics_reference", ""),
        }


E_CELL_EMPTY = _("Tick at least one answer that puts a participant in this cell.")
E_GRID_SAME = _("Choose different questions.")


def _label(texts: dict[str, str], language: str) -> str:
    return text_for(texts, language) or next((t for t in texts.values() if t), "")


class QuotaForm(forms.Form):
    """One cell: a name, the sample (or all), the answers that put a participant in it, and the limit."""

    name = forms.CharField(label=_("Name"), max_length=200)
    sample = forms.ChoiceField(label=_("Sample"), required=False)
    limit = forms.IntegerField(
        label=_("Limit (completed responses)"),
        min_value=0,
        help_text=_("0 screens these participants out: they do not qualify."),
    )

    def __init__(
        self,
        *args: Any,
        samples: list[Any],
        questions: list[dict[str, Any]],
        language: str,
        existing: Any = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.samples = {s.slug: s for s in samples}
        self.fields["sample"].choices = [("", _("Every sample")), *[(s.slug, s.name) for s in samples]]
        self.questions = questions
        conditions = existing.conditions if existing else {}
        for question in questions:
            self.fields[f"cell__{question['code']}"] = forms.MultipleChoiceField(
                label=f"{question['code']}: {_label(question['label'], language)}",
                required=False,
                widget=forms.CheckboxSelectMultiple,
                choices=[(c["code"], _label(c["label"], language) or c["code"]) for c in question["choices"]],
                initial=conditions.get(question["code"], []),
            )
        if existing is not None:
            self.initial.update(
                {
                    "name": existing.name,
                    "limit": existing.limit,
                    "sample": existing.sample.slug if existing.sample else "",
                }
            )

    def condition_fields(self) -> list[forms.BoundField]:
        return [self[f"cell__{q['code']}"] for q in self.questions]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        cleaned["conditions"] = {
            q["code"]: cleaned[f"cell__{q['code']}"]
            for q in self.questions
            if cleaned.get(f"cell__{q['code']}")
        }
        if not cleaned["conditions"]:
            raise forms.ValidationError(E_CELL_EMPTY, code="no_conditions")
        return cleaned

    def sample_obj(self) -> Any:
        return self.samples.get(self.cleaned_data.get("sample") or "")


class QuotaGridForm(forms.Form):
    """Cells for every combination of two or three questions' answers (e.g. age band × gender)."""

    first = forms.ChoiceField(label=_("First question"))
    second = forms.ChoiceField(label=_("Second question"), required=False)
    third = forms.ChoiceField(label=_("Third question"), required=False)
    sample = forms.ChoiceField(label=_("Sample"), required=False)
    limit = forms.IntegerField(label=_("Limit per cell"), min_value=0)

    def __init__(
        self, *args: Any, samples: list[Any], questions: list[dict[str, Any]], language: str, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.samples = {s.slug: s for s in samples}
        self.questions = {q["code"]: q for q in questions}
        self.language = language
        options = [(q["code"], f"{q['code']}: {_label(q['label'], language)}"[:120]) for q in questions]
        self.fields["first"].choices = options
        self.fields["second"].choices = [("", _("(none)")), *options]
        self.fields["third"].choices = [("", _("(none)")), *options]
        self.fields["sample"].choices = [("", _("Every sample")), *[(s.slug, s.name) for s in samples]]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        chosen = [cleaned.get(name) for name in ("first", "second", "third") if cleaned.get(name)]
        if len(set(chosen)) != len(chosen):
            raise forms.ValidationError(E_GRID_SAME, code="same_question")
        cleaned["dimensions"] = [
            (
                code,
                [
                    (c["code"], _label(c["label"], self.language) or c["code"])
                    for c in self.questions[code]["choices"]
                ],
            )
            for code in chosen
        ]
        return cleaned

    def sample_obj(self) -> Any:
        return self.samples.get(self.cleaned_data.get("sample") or "")
