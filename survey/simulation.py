"""Synthetic respondents who answer through the real participant pages.

A :class:`Respondent` is drawn from a seeded model whose parameters are stated below; the
:func:`walk` driver then does what a browser does — reads each page's HTML form, fills it in from
the respondent's attitudes, submits it (through Django's test client, so every view, validation
and service runs) and follows the redirects until the thank-you page. Nothing is written to the
database except by the participant flow itself. Every response made this way is marked synthetic.

The model (per sample; ``china`` and ``west``):

- demographics: age band, gender, education, urban/rural and region drawn from the shares in
  ``DEMOGRAPHICS`` (an online sample: younger, more urban and better educated than the census);
- a latent *trust* (standard normal, + 0.3 for urban, + 0.2 per age band above the youngest) and a
  latent *approval* of rating systems (mean ``APPROVAL_MEAN[sample]``, + 0.25 urban, + 0.2 college,
  + 0.1 per age band), mapped to ordered answers by fixed cut points;
- the sensitive item of the list experiment is held with probability ``TRUE_PREVALENCE[sample]``;
  asked directly, a further ``SOCIAL_DESIRABILITY[sample]`` of those who do not hold it say they do;
- a respondent fails each attention check with probability ``ATTENTION_FAILURE`` (0.05), drawn from
  its own seeded stream: it then picks one of the *wrong* options at random; otherwise a correct
  one. Which questions are checks, and their correct codes, is what the questionnaire declares
  (``parameters`` ``correct=a,b``; :func:`attention_checks`), handed to the respondent as
  ``checks`` — never a question's name;
- the items on scores in services, data for the state, surveillance, local credit apps and the
  personal file (the pages after the social credit page) follow the same latent *approval*, shifted
  per item by ``APPROVAL_SHIFT``; a third latent, *privacy concern* (mean
  ``PRIVACY_MEAN[sample]``, - 0.4 x approval), drives the two worry items and the convenience-or-privacy
  choice (``dont_know`` with probability 0.05); respondents live in mainland China exactly when
  their region is not ``outside_china``; awareness of a local credit app, its use by those aware
  and awareness of the personal file are drawn with the probabilities in ``AWARE``.

- the time a respondent takes from consent to the end (``seconds``) is log-normal with median
  ``MEDIAN_SECONDS`` (480) and log-scale spread ``PACE_SPREAD`` (0.45); a share ``SPEEDER_SHARE``
  (0.06) rush through at ``SPEEDER_PACE`` (0.2) of that, so the speeding flag (under a third of the
  median) has something to find. Drawn from its own seeded stream; ``simulate_respondents`` dates
  the respondent's start back by it (the server rounds the duration as for anyone).

- numbers a respondent types (integer, decimal, range) lie within what the question states, found
  with the server's own expression engine: each candidate is checked against the question's XLSForm
  constraint (the answers so far as its context). The bounds a constraint states are found by
  probing it (0, ±1, ±2, ±5, ±10, … up to the input's limits) and narrowing each edge by
  bisection; the value is then drawn uniformly (its own seeded stream per question) from that
  interval, or, on a side the constraint leaves open, from ``DEFAULT_RANGE`` (0 to 100) cut by the
  stated bound (next to it when the bound lies beyond). A range uses its ``start``, ``end`` and
  ``step``; ``scs_comfort`` follows approval as before. Required text is a short reply, or, under a
  constraint (``regex()``, ``string-length()``), the first of a set of candidate shapes (digits,
  capitals, words, an e-mail address, a date …, by length) it accepts; optional text stays empty.
  An optional question that nothing fits is left unanswered.
- a page refused ``MAX_REFUSALS`` times in a row ends the walk, whose :class:`Outcome` then says why:
  the question and the server's message.

The direct/indirect gap of the list experiment is unchanged by these items: only ``approve_scs``
carries the social-desirability overclaim.
"""

from __future__ import annotations

import math
import random
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from django.utils.translation import gettext

from .exact_numbers import MAX_INTEGER
from .flow import is_true
from .instrument import iter_questions
from .logic import ExpressionBudgetExceeded, ExpressionError

DEMOGRAPHICS: dict[str, dict[str, dict[str, float]]] = {
    "china": {
        "age_band": {"18_29": 0.34, "30_39": 0.28, "40_49": 0.19, "50_59": 0.12, "60_plus": 0.07},
        "gender": {"female": 0.47, "male": 0.52, "other": 0.01},
        "education": {"primary": 0.10, "secondary": 0.45, "college": 0.45},
        "urban": {"urban": 0.78, "rural": 0.22},
        "region": {"east": 0.45, "central": 0.25, "west": 0.22, "northeast": 0.08, "outside_china": 0.0},
    },
    "west": {
        "age_band": {"18_29": 0.22, "30_39": 0.20, "40_49": 0.19, "50_59": 0.19, "60_plus": 0.20},
        "gender": {"female": 0.50, "male": 0.48, "other": 0.02},
        "education": {"primary": 0.05, "secondary": 0.50, "college": 0.45},
        "urban": {"urban": 0.77, "rural": 0.23},
        "region": {"east": 0.0, "central": 0.0, "west": 0.0, "northeast": 0.0, "outside_china": 1.0},
    },
}
APPROVAL_MEAN = {"china": 0.9, "west": -0.9}
TRUST_MEAN = {"china": 0.3, "west": -0.2}
TRUE_PREVALENCE = {"china": 0.55, "west": 0.15}
SOCIAL_DESIRABILITY = {"china": 0.45, "west": 0.05}
ATTENTION_FAILURE = 0.05
MEDIAN_SECONDS = 480
PACE_SPREAD = 0.45
SPEEDER_SHARE = 0.06
SPEEDER_PACE = 0.2
# Shift of each approval item's latent from the respondent's approval (commercial and state scores).
APPROVAL_SHIFT = {
    "rate_companies": 0.5,
    "approve_commercial": 0.2,
    "travel_ban": 0.3,
    "price_by_score": -0.3,
    "show_dating": -0.9,
    "judge_tenant": -0.2,
    "judge_partner": -0.6,
    "share_data_state": -0.4,
    "approve_privileges": 0.2,
}
APPROVAL_ITEMS = frozenset(APPROVAL_SHIFT) | {"approve_scs"}
PRIVACY_MEAN = {"china": 0.2, "west": 0.6}
# Shift of each worry item's latent from the respondent's privacy concern.
WORRY_SHIFT = {"worry_watch": 0.0, "worry_travel": -0.3}
# Chance of "yes" (the rest "no" or "don't know"), per sample.
AWARE = {
    "use_commercial": {"china": 0.8, "west": 0.15},
    "aware_blacklist": {"china": 0.8, "west": 0.15},
    "aware_local_app": {"china": 0.25, "west": 0.05},
    "use_local_app": {"china": 0.5, "west": 0.3},
    "aware_dangan": {"china": 0.7, "west": 0.1},
}
AGE_ORDER = ["18_29", "30_39", "40_49", "50_59", "60_plus"]
# Where a number is drawn when the question states no bound (on one side or both).
DEFAULT_RANGE = (0, 100)
# Draws tried in a range before the next one (rejection sampling against the constraint).
CANDIDATES = 60
# Times the same page may come back refused in a row before the respondent gives up.
MAX_REFUSALS = 3
# A decimal input has no limit of its own; the exact-number limit is far above this one.
DECIMAL_LIMIT = 10**12
TEXT_REPLIES = ("Nothing to add.", "No comment.", "It was fine.", "Interesting questions.", "None.")
TYPED_TYPES = frozenset({"integer", "decimal", "slider", "text", "long_text", "date"})


@dataclass(frozen=True)
class Rule:
    """What a questionnaire states about an answer the respondent types: its type, XLSForm
    constraint and whether it is required."""

    type: str
    constraint: str = ""
    required: bool = False


def answer_rules(spec: dict[str, Any]) -> dict[str, Rule]:
    """The :class:`Rule` of each typed question of a normalised spec, by code."""
    return {
        question["code"]: Rule(question["type"], question.get("constraint") or "", bool(question["required"]))
        for _section, question, _parent in iter_questions(spec)
        if question["type"] in TYPED_TYPES
    }


def attention_checks(parameters: dict[str, dict[str, str]]) -> dict[str, tuple[str, ...]]:
    """The attention checks a questionnaire declares (``parameters`` ``correct=a,b``, as
    ``analysis.quality.attention_failed`` reads them): question code -> its correct codes."""
    return {
        code: tuple(c.strip() for c in params["correct"].split(",") if c.strip())
        for code, params in parameters.items()
        if params.get("correct")
    }


def _draw(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _ordered(value: float, options: list[str], cuts: list[float]) -> str:
    """Map a latent value to an ordered option (``options[0]`` is the most positive)."""
    for option, cut in zip(options, cuts, strict=False):
        if value > cut:
            return option
    return options[-1]


@dataclass
class Respondent:
    """One synthetic participant: demographics, latent attitudes and a private random stream."""

    seed: int
    sample: str
    rng: random.Random = field(init=False)
    traits: dict[str, str] = field(init=False)
    trust: float = field(init=False)
    approval: float = field(init=False)
    privacy: float = field(init=False)
    holds_sensitive: bool = field(init=False)
    # Attention checks: question code -> its correct codes (``attention_checks``).
    checks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # What the questionnaire states about typed answers (``answer_rules``); without it, a number is
    # drawn from DEFAULT_RANGE and no constraint is checked.
    rules: dict[str, Rule] = field(default_factory=dict)
    # What this respondent has answered, by field name: a page shown again (a question made relevant
    # by an answer on the same page, an error) gets the same answers, as from a person.
    given: dict[str, Any] = field(init=False, default_factory=dict)
    seconds: int = field(init=False)  # from consent to the end
    # One seeded stream per typed question, so that its draws (and retries) move no other answer.
    streams: dict[str, random.Random] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        shares = DEMOGRAPHICS.get(self.sample, DEMOGRAPHICS["west"])
        self.traits = {name: _draw(self.rng, dist) for name, dist in shares.items()}
        age_step = AGE_ORDER.index(self.traits["age_band"])
        urban = self.traits["urban"] == "urban"
        self.trust = self.rng.gauss(TRUST_MEAN.get(self.sample, 0.0), 1) + 0.3 * urban + 0.2 * age_step
        self.approval = (
            self.rng.gauss(APPROVAL_MEAN.get(self.sample, 0.0), 1)
            + 0.25 * urban
            + 0.2 * (self.traits["education"] == "college")
            + 0.1 * age_step
        )
        self.holds_sensitive = self.rng.random() < TRUE_PREVALENCE.get(self.sample, 0.3)
        # Its own stream, so the answers drawn before the new pages stay what they were.
        privacy_rng = random.Random(f"{self.seed}:privacy")
        self.privacy = privacy_rng.gauss(PRIVACY_MEAN.get(self.sample, 0.0), 1) - 0.4 * self.approval
        pace = random.Random(f"{self.seed}:pace")
        seconds = pace.lognormvariate(math.log(MEDIAN_SECONDS), PACE_SPREAD)
        if pace.random() < SPEEDER_SHARE:
            seconds *= SPEEDER_PACE
        self.seconds = max(1, round(seconds))

    # --- answers by variable ------------------------------------------------------------------

    def single(self, code: str, options: list[str]) -> str | None:
        """The option this respondent picks for ``code`` (None: leave unanswered)."""
        if code in self.traits and self.traits[code] in options:
            return self.traits[code]
        if code in self.checks:
            return self._checked(code, options)
        noise = self.rng.gauss(0, 0.7)
        if code == "gen_trust":
            return (
                "most_trusted"
                if self.trust + noise > 0.2
                else "dont_know"
                if self.rng.random() < 0.04
                else "be_careful"
            )
        if code == "trust_data_use":
            return _ordered(
                0.5 * self.trust + 0.5 * self.approval - 0.3 + noise,
                self._natural(options, "completely"),
                [1.2, 0.0, -1.2],
            )
        if code.startswith("trust_"):
            shift = {
                "trust_family": 2.0,
                "trust_neighbours": 0.7,
                "trust_strangers": -0.9,
                "trust_online_sellers": -0.5,
            }.get(code, 0)
            return _ordered(self.trust + shift + noise, options, [1.2, 0.0, -1.2])
        if code.startswith("conf_"):
            shift = {
                "conf_government": 1.2,
                "conf_courts": 0.7,
                "conf_police": 0.6,
                "conf_local_gov": 0.3,
                "conf_press": 0.2,
            }.get(code, 0)
            return _ordered(
                0.5 * self.trust + 0.5 * self.approval + shift + noise,
                self._natural(options, "great_deal"),
                [1.0, 0.0, -1.0],
            )
        if code in APPROVAL_ITEMS or code == "rate_local_gov":
            shift = APPROVAL_SHIFT.get(code, 0)
            return _ordered(
                self.approval + shift + noise,
                self._natural(options, "strongly_approve"),
                [1.2, 0.3, -0.3, -1.2],
            )
        if code == "scs_honest":
            return _ordered(
                self.approval + noise, self._natural(options, "strongly_agree"), [1.2, 0.3, -0.3, -1.2]
            )
        if code == "scam_12m":
            return self.rng.choices(["victim", "attempt", "no"], weights=[0.12, 0.38, 0.5])[0]
        if code == "scam_worry":
            return _ordered(-self.trust + noise, self._natural(options, "very"), [1.0, 0.3, -0.3, -1.0])
        if code in AWARE:
            chance = AWARE[code].get(self.sample, AWARE[code]["west"])
            return "yes" if self.rng.random() < chance else self.rng.choice(["no", "dont_know"])
        if code == "live_mainland":
            return "no" if self.traits["region"] == "outside_china" else "yes"
        if code in WORRY_SHIFT:
            return _ordered(
                self.privacy + WORRY_SHIFT[code] + noise,
                self._natural(options, "very"),
                [1.0, 0.3, -0.3, -1.0],
            )
        if code == "convenience_or_privacy":
            if self.rng.random() < 0.05:
                return "dont_know"
            return "convenience" if self.approval - self.privacy + noise > 0 else "surveillance"
        if code == "dangan_see":
            return _ordered(
                self.privacy + 1.2 + noise, self._natural(options, "strongly_agree"), [1.2, 0.3, -0.3, -1.2]
            )
        return self.rng.choice(options)

    def _checked(self, code: str, options: list[str]) -> str:
        """An attention check's answer: a wrong option with probability :data:`ATTENTION_FAILURE`
        (its own stream per respondent and check, so the other answers do not move), else a correct one."""
        stream = random.Random(f"{self.seed}:attention:{code}")
        correct = [o for o in options if o in self.checks[code]]
        wrong = [o for o in options if o not in self.checks[code]]
        fails = stream.random() < ATTENTION_FAILURE
        return stream.choice(wrong if (fails and wrong) or not correct else correct)

    @staticmethod
    def _natural(shown: list[str], first: str) -> list[str]:
        """Options from most to least positive, whatever order (or reversal) the page shows."""
        return (
            shown
            if not shown or shown[0] == first
            else list(reversed(shown))
            if shown[-1] == first
            else shown
        )

    def multiple(
        self, code: str, options: list[str], exclusive: list[str] | tuple[str, ...] = ()
    ) -> list[str]:
        """The options chosen, as the page allows them: an ``exclusive`` option ("None of these")
        alone, chosen when nothing else is (else the first option)."""
        if code == "aware_scores":
            if self.sample == "west" and self.rng.random() < 0.6:
                return ["none"]
            picked = [o for o in options if o != "none" and self.rng.random() < 0.6]
            return picked or ["none"]
        if code == "turn_to":
            picked = [o for o in options if o != "nobody" and self.rng.random() < 0.35]
            return picked or ["nobody"]
        others = [o for o in options if o not in exclusive]
        picked = [o for o in others if self.rng.random() < 0.4]
        if picked:
            return picked
        alone = [o for o in options if o in exclusive]
        return alone[:1] or options[:1]

    def count(self, code: str, items: int, treatment: bool) -> int:
        """Items agreed with in a list experiment: control items at 0.5, 0.3, 0.6, plus the sensitive one."""
        base = [0.5, 0.3, 0.6] + [0.4] * max(0, items - 3)
        agreed = sum(self.rng.random() < p for p in base[: items - (1 if treatment else 0)])
        return agreed + int(treatment and self.holds_sensitive)

    def direct_overclaim(self) -> bool:
        """Asked directly, someone who does not hold the view says they approve anyway."""
        return self.rng.random() < SOCIAL_DESIRABILITY.get(self.sample, 0.0)

    def number(self, code: str, low: float, high: float) -> float:
        """A draw for ``code`` between ``low`` and ``high`` (the caller rounds it to the input)."""
        if code == "scs_comfort":
            return max(low, min(high, round(5 + 2 * self.approval + self.rng.gauss(0, 1.5))))
        return self.stream(code).uniform(low, high)

    def stream(self, code: str) -> random.Random:
        """The seeded stream of a typed question (its own, as for attention checks)."""
        if code not in self.streams:
            self.streams[code] = random.Random(f"{self.seed}:typed:{code}")
        return self.streams[code]

    def accepts(self, code: str, value: Any) -> bool:
        """Whether the questionnaire's constraint on ``code`` accepts ``value`` after the answers
        given so far, by the server's evaluator (no constraint, or no rule: accepted)."""
        rule = self.rules.get(code)
        if rule is None or not rule.constraint:
            return True
        try:
            return is_true(rule.constraint, self.given, value)
        except (ExpressionError, ExpressionBudgetExceeded):
            return False

    def ranking(self, options: list[str]) -> list[str]:
        order = list(options)
        self.rng.shuffle(order)
        if "ratings" in order and self.approval > 0.8:
            order.remove("ratings")
            order.insert(0, "ratings")
        return order


# --- reading a page like a browser ------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # radio, checkbox, text, number, date, select, textarea, hidden
    options: list[str] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    # Options of a multiple choice the page marks ``data-exclusive``: chosen only alone (``forms``).
    exclusive: list[str] = field(default_factory=list)


class FormReader(HTMLParser):
    """Collects the fields of the page's form in document order, and the list-experiment items."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, Field] = {}
        self._select: Field | None = None
        self.list_items: dict[str, int] = {}
        self._fieldset: list[str] = []
        self._in_le_items = False
        self._divs: list[bool] = []  # open <div>s, True for a question hidden because it does not apply
        self._hidden_option = False  # inside an option's <label hidden> (a choice filter's verdict)
        # What the server refused on this page: field name -> its message, and the error summary's lines.
        self.errors: dict[str, str] = {}
        self.problems: list[str] = []
        self._summaries: list[bool] = []  # open <div>s, True for the error summary
        self._error_for: str | None = None  # inside a field's error message
        self._problem: list[str] | None = None  # inside a line of the error summary

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if tag == "div":
            self._divs.append("hidden" in attrs)
            self._summaries.append("error-summary" in attrs.get("class", "").split())
            return
        if tag == "li" and any(self._summaries):
            self._problem = []
        element_id = attrs.get("id", "")
        if tag == "p" and "error" in attrs.get("class", "").split() and element_id.endswith("-error"):
            self._error_for = element_id.removeprefix("id_").removesuffix("-error")
            self.errors[self._error_for] = ""
        if any(self._divs):  # a person cannot see or fill what the page hides
            return
        if tag == "label":
            self._hidden_option = "hidden" in attrs
        elif self._hidden_option:
            return
        if tag == "fieldset":
            self._fieldset.append(
                attrs.get("id", "")[2:] if "list-experiment" in attrs.get("class", "") else ""
            )
        elif tag == "ul" and "le-items" in attrs.get("class", ""):
            self._in_le_items = True
        elif tag == "li" and self._in_le_items and self._fieldset:
            self.list_items[self._fieldset[-1]] = self.list_items.get(self._fieldset[-1], 0) + 1
        elif tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            entry = self.fields.setdefault(attrs["name"], Field(attrs["name"], kind, attrs=attrs))
            if kind in {"radio", "checkbox"}:
                entry.options.append(attrs.get("value", ""))
            if kind == "checkbox" and "data-exclusive" in attrs:
                entry.exclusive.append(attrs.get("value", ""))
        elif tag == "select" and attrs.get("name"):
            self._select = self.fields.setdefault(attrs["name"], Field(attrs["name"], "select", attrs=attrs))
        elif tag == "option" and self._select is not None:
            self._select.options.append(attrs.get("value", ""))
        elif tag == "textarea" and attrs.get("name"):
            self.fields.setdefault(attrs["name"], Field(attrs["name"], "textarea", attrs=attrs))

    def handle_data(self, data: str) -> None:
        if self._error_for is not None:
            self.errors[self._error_for] += data
        if self._problem is not None:
            self._problem.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._error_for = None
        elif tag == "li" and self._problem is not None:
            self.problems.append(" ".join("".join(self._problem).split()))
            self._problem = None
        if tag == "label":
            self._hidden_option = False
        elif tag == "div" and self._divs:
            self._divs.pop()
            self._summaries.pop()
        elif tag == "select":
            self._select = None
        elif tag == "ul":
            self._in_le_items = False
        elif tag == "fieldset" and self._fieldset:
            self._fieldset.pop()


def read_form(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    return reader


def refusal(reader: FormReader) -> str:
    """Why the server refused the page (empty when it did not): each refused question's name and
    the server's message, else the lines of the page's error summary."""
    fields = [f"{name}: {' '.join(message.split())}" for name, message in reader.errors.items()]
    return "; ".join(fields or reader.problems)


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page's form and their values (what a browser sends back unchanged)."""
    return {
        name: f.attrs.get("value", "") for name, f in read_form(html).fields.items() if f.kind == "hidden"
    }


def fill(reader: FormReader, respondent: Respondent, arms_hint: dict[str, bool]) -> dict[str, Any]:
    """POST data for the page, as this respondent would fill it in."""
    data: dict[str, Any] = {}
    rankings: dict[str, list[str]] = {}
    for name, entry in reader.fields.items():
        if entry.kind == "hidden" or name == "csrfmiddlewaretoken":
            data[name] = entry.attrs.get("value", "")
        elif "__" in name and entry.kind == "select":
            code, choice = name.split("__", 1)
            rankings.setdefault(code, []).append(choice)
        elif name in respondent.given and entry.attrs.get("aria-invalid") != "true":
            data[name] = respondent.given[name]  # a page shown again keeps what was answered
        else:  # a first answer, or another one where the server refused this one
            value = _answer(reader, name, entry, respondent)
            if value is not None:
                data[name] = respondent.given[name] = value
    for code, choices in rankings.items():
        if code not in respondent.given:
            respondent.given[code] = respondent.ranking(choices)
        order = respondent.given[code]
        for rank, choice in enumerate(order, start=1):
            data[f"{code}__{choice}"] = str(rank)
    return data


def _answer(reader: FormReader, name: str, entry: Field, respondent: Respondent) -> Any:
    """A first answer to one field of the page (None: left unanswered)."""
    if entry.kind == "radio":
        value = respondent.single(name, entry.options)
        if name == "approve_scs" and respondent.holds_sensitive:
            return respondent._natural(entry.options, "strongly_approve")[respondent.rng.choice([0, 0, 1])]
        if name == "approve_scs" and respondent.direct_overclaim():
            return respondent._natural(entry.options, "strongly_approve")[1]
        return value
    if entry.kind == "checkbox":
        return respondent.multiple(name, entry.options, entry.exclusive)
    if entry.kind == "number" and name in reader.list_items:
        shown = reader.list_items[name]
        return respondent.count(name, shown, treatment=shown > 3)
    if entry.kind == "number":
        return _number(name, entry, respondent)
    if entry.kind == "date":
        return _first_accepted(name, _date_candidates(respondent.stream(name)), entry, respondent)
    if entry.kind in {"text", "textarea"}:
        rule = respondent.rules.get(name)
        if "required" not in entry.attrs and not (rule and rule.required):
            return None  # a free-text question a respondent may skip is skipped, as most people do
        return _first_accepted(name, _text_candidates(respondent.stream(name)), entry, respondent)
    return None


def _first_accepted(name: str, candidates: Iterator[str], entry: Field, respondent: Respondent) -> str | None:
    """The first candidate the question's constraint accepts; when none does, nothing for an
    optional question and the first candidate for a required one (the server then says why)."""
    first = None
    for candidate in candidates:
        first = candidate if first is None else first
        if respondent.accepts(name, candidate):
            return candidate
    return first if "required" in entry.attrs else None


def _date_candidates(stream: random.Random) -> Iterator[str]:
    yield "2020-01-01"
    for _ in range(CANDIDATES):
        yield f"{stream.randint(1930, 2025)}-{stream.randint(1, 12):02d}-{stream.randint(1, 28):02d}"


def _text_candidates(stream: random.Random) -> Iterator[str]:
    """A short reply first, then shapes a text constraint commonly asks for, shortest first."""

    def drawn(alphabet: str, length: int) -> str:
        return "".join(stream.choice(alphabet) for _ in range(length))

    yield stream.choice(TEXT_REPLIES)
    for length in range(1, 19):
        yield drawn(string.digits, length)
        yield drawn(string.ascii_uppercase, length)
        yield drawn(string.ascii_lowercase, length)
        yield drawn(string.ascii_uppercase, 1) + drawn(string.ascii_lowercase, length - 1)
        yield drawn(string.ascii_uppercase + string.digits, length)
        yield drawn(string.ascii_letters + string.digits, length)
    yield f"{drawn(string.ascii_lowercase, 6)}@example.org"
    yield f"{stream.randint(1930, 2025)}-{stream.randint(1, 12):02d}-{stream.randint(1, 28):02d}"
    yield f"+86 1{drawn(string.digits, 2)} {drawn(string.digits, 4)} {drawn(string.digits, 4)}"
    yield f"https://example.org/{drawn(string.ascii_lowercase, 6)}"


def _number(name: str, entry: Field, respondent: Respondent) -> int | float | None:
    """A number within what the question states (module docstring): its input's limits, its
    range's start, end and step, and the bounds its constraint accepts."""
    rule = respondent.rules.get(name)
    slider = "data-slider" in entry.attrs or (rule is not None and rule.type == "slider")
    whole = not slider and (rule.type == "integer" if rule else entry.attrs.get("step") != "any")
    limit = MAX_INTEGER if whole else DECIMAL_LIMIT
    low, high = _limit(entry.attrs.get("min"), -limit), _limit(entry.attrs.get("max"), limit)
    step = _limit(entry.attrs.get("step"), 1) if slider else 1 if whole else 0

    def snap(value: float, places: int = 2) -> int | float:
        """On the input's grid: a whole number, a range's step, or a decimal of ``places`` places."""
        if not step:
            return round(value, places)
        value = min(high, max(low, low + round((value - low) / step) * step if slider else round(value)))
        return int(value) if float(value).is_integer() else round(value, 10)

    def accepted(value: float) -> bool:
        return low <= value <= high and respondent.accepts(name, value)

    lower, upper, found = _stated_bounds(
        (lambda v: accepted(snap(v))) if step else accepted, low, high, whole, slider
    )
    for start, end in _draw_ranges(lower, upper, low, high):
        # Two decimal places, more when the interval is narrower than 1.
        places = 2 if end - start >= 1 else min(10, 2 - math.floor(math.log10(end - start or 1e-10)))
        for _ in range(CANDIDATES):
            value = snap(respondent.number(name, start, end), places)
            if accepted(value):
                return value
    # Narrowing found values the constraint accepts where no draw was accepted.
    for value in (snap(v, places) for v in found for places in range(2, 11)):
        if accepted(value):
            return value
    required = "required" in entry.attrs or (rule is not None and rule.required)
    return snap(min(high, max(low, DEFAULT_RANGE[0]))) if required else None


def _limit(text: str | None, default: float) -> float:
    try:
        value = float(text) if text not in (None, "", "any") else default
    except ValueError:
        return default
    return value if math.isfinite(value) else default


PROBES = sorted(
    {0.0} | {sign * digit * 10.0**power for sign in (1, -1) for digit in (1, 2, 5) for power in range(-2, 13)}
)


def _stated_bounds(
    accepts: Callable[[float], bool], low: float, high: float, whole: bool, slider: bool
) -> tuple[float | None, float | None, list[float]]:
    """(lower, upper, values seen accepted): the interval the constraint accepts around the accepted
    probe nearest ``DEFAULT_RANGE``, each edge narrowed by bisection; an edge is None when values
    are accepted out to the input's limit (the question states no bound there), except for a range,
    whose start and end are stated. Both None when no probe is accepted."""
    probes = sorted({p for p in PROBES if low <= p <= high and (not whole or p.is_integer())} | {low, high})
    verdicts = [accepts(p) for p in probes]
    if not any(verdicts):
        return (low, high, []) if slider else (None, None, [])
    nearest = min(
        (i for i, ok in enumerate(verdicts) if ok),
        key=lambda i: (max(DEFAULT_RANGE[0] - probes[i], probes[i] - DEFAULT_RANGE[1], 0), abs(probes[i])),
    )
    first = last = nearest
    while first > 0 and verdicts[first - 1]:
        first -= 1
    while last < len(probes) - 1 and verdicts[last + 1]:
        last += 1
    lower = _edge(accepts, probes[first - 1], probes[first], whole) if first > 0 else low if slider else None
    upper = (
        _edge(accepts, probes[last + 1], probes[last], whole)
        if last < len(probes) - 1
        else high
        if slider
        else None
    )
    return lower, upper, [v for v in (probes[nearest], lower, upper) if v is not None]


def _edge(accepts: Callable[[float], bool], refused: float, accepted: float, whole: bool) -> float:
    """The accepted value nearest ``refused``, between the two, by bisection."""
    for _ in range(200):
        if abs(accepted - refused) <= (1 if whole else 1e-9 * max(1.0, abs(accepted))):
            break
        middle = (accepted + refused) // 2 if whole else (accepted + refused) / 2
        if accepts(middle):
            accepted = middle
        else:
            refused = middle
    return accepted


def _draw_ranges(
    lower: float | None, upper: float | None, low: float, high: float
) -> list[tuple[float, float]]:
    """Where to draw, in order: the stated interval (``DEFAULT_RANGE`` cut by a one-sided bound,
    or next to the bound when it lies beyond), then ``DEFAULT_RANGE`` itself; within the input's limits."""
    start, end = DEFAULT_RANGE
    if lower is not None and upper is not None:
        stated = (lower, upper)
    elif lower is not None:
        stated = (lower, end) if lower <= end else (lower, lower + end - start)
    elif upper is not None:
        stated = (start, upper) if upper >= start else (upper - (end - start), upper)
    else:
        stated = (start, end)
    ranges = []
    for a, b in (stated, DEFAULT_RANGE):
        a, b = max(a, low), min(b, high)
        if a <= b and (a, b) not in ranges:
            ranges.append((a, b))
    return ranges


RECEIPT = re.compile(r'id="receipt-code">([^<]+)<')
HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)
CONSENT_KEY = re.compile(r'name="consent_key" value="([^"]+)"')


@dataclass
class Outcome:
    completed: bool
    receipt_code: str | None
    pages: int
    reason: str = ""  # why a respondent did not finish (the question and the server's message)


def walk(
    client: Any,
    entry_url: str,
    respondent: Respondent,
    *,
    max_pages: int = 60,
    max_refusals: int = MAX_REFUSALS,
    after_consent: Callable[[Any], None] | None = None,
) -> Outcome:
    """Take ``respondent`` through consent and every page to the thank-you page.

    ``after_consent`` is called with the client once consent is given (``simulate_respondents``
    labels the response synthetic there, before any answer is saved). A page the server refuses is
    answered again (a refused answer is drawn afresh); refused more than ``max_refusals`` times in a
    row, the walk ends and the outcome's ``reason`` names the questions and the server's messages.
    """
    page = client.get(entry_url)
    key = CONSENT_KEY.search(page.content.decode())
    if key is None:
        return Outcome(
            False,
            None,
            0,
            gettext("no consent form at %(url)s (HTTP %(status)s)")
            % {
                "url": entry_url,
                "status": page.status_code,
            },
        )
    # Like a browser, send every hidden field of the consent form (the CSRF token among them).
    hidden = hidden_fields(page.content.decode())
    page = client.post(entry_url, {**hidden, "agree": "yes", "action": "agree"}, follow=True)
    if after_consent is not None:
        after_consent(client)

    refusals, sent = 0, None
    for count in range(1, max_pages + 1):
        html = page.content.decode()
        receipt = RECEIPT.search(html)
        if receipt:
            return Outcome(True, receipt.group(1).strip(), count)
        reader = read_form(html)
        if not reader.fields:
            heading = HEADING.search(html)
            where = " ".join(heading.group(1).split()) if heading else _path_of(page)
            return Outcome(
                False, None, count, gettext("stopped at a page without a form: %(page)s") % {"page": where}
            )
        data = fill(reader, respondent, {})
        data["action"] = "next"
        answers = {k: v for k, v in data.items() if k != "csrfmiddlewaretoken"}
        refused = refusal(reader)
        # A refused answer, or the same answers sent again to a page shown with a notice; a page
        # shown again with questions it has just brought in (relevance) is progress, not a refusal.
        stuck = bool(reader.errors) or (bool(refused) and answers == sent)
        refusals = refusals + 1 if stuck else 0
        if refusals > max_refusals:
            return Outcome(False, None, count, refused)
        sent = answers
        page = client.post(_path_of(page), data, follow=True)
    return Outcome(
        False, None, max_pages, gettext("still not at the end after %(pages)s pages") % {"pages": max_pages}
    )


def _path_of(page: Any) -> str:
    """The path of the page a client ended on (Django's test client, or :class:`HttpClient`)."""
    return page.path if hasattr(page, "path") else page.wsgi_request.path


@dataclass
class HttpPage:
    status_code: int
    content: bytes
    path: str


class HttpClient:
    """The two calls :func:`walk` makes, over real HTTP (cookies kept, redirects followed), so the
    same synthetic respondents can load a running server (``make serve``) or a test's live server."""

    def __init__(self, base_url: str, *, language: str = "en", timeout: float = 30) -> None:
        import http.cookiejar
        import urllib.request

        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.opener.addheaders = [("Accept-Language", language)]

    def _open(self, path: str, data: dict[str, Any] | None) -> HttpPage:
        import urllib.error
        import urllib.parse

        body = None
        if data is not None:
            pairs = [(k, str(item)) for k, v in data.items() for item in (v if isinstance(v, list) else [v])]
            body = urllib.parse.urlencode(pairs).encode()
        url = path if path.startswith("http") else self.base_url + path
        try:
            with self.opener.open(url, data=body, timeout=self.timeout) as reply:
                return HttpPage(reply.status, reply.read(), urllib.parse.urlsplit(reply.geturl()).path)
        except urllib.error.HTTPError as error:
            return HttpPage(error.code, error.read(), urllib.parse.urlsplit(url).path)

    def get(self, path: str, **_: Any) -> HttpPage:
        return self._open(path, None)

    def post(self, path: str, data: dict[str, Any], **_: Any) -> HttpPage:
        return self._open(path, data)


def seeds(base_seed: int, n: int) -> list[int]:
    """Independent per-respondent seeds from one study-level seed."""
    stream = random.Random(base_seed)
    return [stream.randrange(2**31) for _ in range(n)]
