"""Small questionnaire specs and a hypothesis strategy for generated ones."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from survey.instrument import normalize


def tiny_spec(**overrides: Any) -> dict[str, Any]:
    spec = {
        "form_id": "tiny",
        "title": {"en": "Tiny", "zh": "小"},
        "languages": ["en", "zh"],
        "language_names": {"en": "English", "zh": "Chinese"},
        "default_language": "en",
        "sections": [
            {
                "code": "p1",
                "label": {"en": "Page", "zh": "页"},
                "questions": [
                    {
                        "code": "q1",
                        "type": "single_choice",
                        "label": {"en": "Q1", "zh": "问1"},
                        "choice_list": "yn",
                        "required": True,
                    },
                    {
                        "code": "q2",
                        "type": "integer",
                        "label": {"en": "Q2", "zh": "问2"},
                        "relevance": "${q1} = 'yes'",
                        "constraint": ". >= 0",
                        "constraint_message": {"en": "Not negative", "zh": "不能为负"},
                    },
                ],
            },
        ],
        "choice_lists": [
            {
                "name": "yn",
                "choices": [
                    {"code": "yes", "label": {"en": "Yes", "zh": "是"}},
                    {"code": "no", "label": {"en": "No", "zh": "否"}},
                ],
            }
        ],
    }
    spec.update(overrides)
    return normalize(spec)


_codes = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp", "Zs")),
    min_size=1,
    max_size=20,
    # "${" opens a reference to an answer in XLSForm (there is no escape for it); a label with an
    # unknown one is refused at import, so generated free text never holds one.
).filter(lambda text: "${" not in text)
_word = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
SIMPLE_TYPES = (
    "integer",
    "decimal",
    "text",
    "long_text",
    "date",
    "note",
    "single_choice",
    "likert",
    "multiple_choice",
    "ranking",
    "slider",
    "calculate",
)


@st.composite
def specs(draw) -> dict[str, Any]:
    """Valid questionnaires with every question type, random texts in two languages (hints, constraint
    messages and the title sometimes in a third, or missing in one) and random flags."""
    languages = ["en", "zh"]
    names = iter(draw(st.lists(_codes, min_size=60, max_size=60, unique=True)))
    texts = st.fixed_dictionaries({lang: _text for lang in languages})
    maybe_texts = st.one_of(st.just({}), texts)
    # Hints, constraint messages and the title may be missing in a language of the form, or written in
    # one that has no labels (fr): pyxform accepts both, and the export must keep every one of them.
    partial_texts = st.fixed_dictionaries({}, optional={lang: _text for lang in [*languages, "fr"]})
    optional_texts = st.one_of(st.just({}), texts, partial_texts)
    lists = [
        {
            "name": next(names),
            "choices": [
                # Sometimes a choices-sheet column that a choice_filter reads.
                {"code": code, "label": draw(texts), **draw(st.sampled_from([{}, {"columns": {"grp": "a"}}]))}
                for code in draw(st.lists(_word, min_size=1, max_size=4, unique=True))
            ],
        }
        for _ in range(draw(st.integers(1, 2)))
    ]
    answered: list[dict[str, Any]] = []

    def question(qtype: str) -> dict[str, Any]:
        q = {
            "code": next(names),
            "type": qtype,
            "label": draw(texts),
            "hint": draw(optional_texts),
            "required": draw(st.booleans()),
            "appearance": draw(st.sampled_from(["", "compact"])),
            "randomize": draw(st.booleans()),
            "reverse_scale": draw(st.booleans()),
            "source": draw(st.sampled_from(["", "WVS Q57"])),
        }
        if qtype in {"single_choice", "likert", "multiple_choice", "ranking"}:
            q["choice_list"] = draw(st.sampled_from(lists))["name"]
        if qtype == "slider":
            q["parameters"] = {"start": "0", "end": str(draw(st.integers(1, 100))), "step": "1"}
        if answered and draw(st.booleans()):
            earlier = draw(st.sampled_from(answered))["code"]
            q["relevance"] = f"${{{earlier}}} != ''"
        if qtype == "integer" and draw(st.booleans()):
            q["constraint"] = ". >= 0"
            q["constraint_message"] = draw(optional_texts)
        # XLSForm's computed and fixed values: calculation, default, read_only, choice_filter.
        if qtype == "calculate":
            q.update(label={}, hint={}, required=False, randomize=False, reverse_scale=False)
            q["calculation"] = (
                f"concat(${{{draw(st.sampled_from(answered))['code']}}}, '!')" if answered else "1 + 1"
            )
        if qtype in {"integer", "text"} and draw(st.booleans()):
            q["default"] = "7" if qtype == "integer" else draw(_word)
            q["read_only"] = draw(st.booleans())
        if qtype in {"single_choice", "multiple_choice"} and draw(st.booleans()):
            # A filter reads only name and the columns the choices sheet has (others are refused).
            has_grp = any("columns" in choice for cl in lists for choice in cl["choices"])
            q["choice_filter"] = "grp = 'a' or name != ''" if has_grp else "name != ''"
        if qtype != "note":
            answered.append(q)
        return q

    sections = []
    for _ in range(draw(st.integers(1, 3))):
        questions = [
            question(t) for t in draw(st.lists(st.sampled_from(SIMPLE_TYPES), min_size=1, max_size=4))
        ]
        if draw(st.booleans()):
            shared = draw(st.sampled_from(lists))["name"]
            matrix = {
                "code": next(names),
                "type": "matrix",
                "label": draw(texts),
                "choice_list": shared,
                "randomize": draw(st.booleans()),
                "items": [
                    {
                        "code": next(names),
                        "type": "single_choice",
                        "label": draw(texts),
                        "choice_list": shared,
                    }
                    for _ in range(2)
                ],
            }
            questions.append(matrix)
        if draw(st.booleans()):
            roles = ["control", "control", "sensitive"]
            questions.append(
                {
                    "code": next(names),
                    "type": "list_experiment",
                    "label": draw(texts),
                    "required": True,
                    "items": [
                        {
                            "code": next(names),
                            "type": "note",
                            "label": draw(texts),
                            "parameters": {"role": r},
                        }
                        for r in roles
                    ],
                }
            )
        sections.append(
            {
                "code": next(names),
                "label": draw(maybe_texts),
                "randomize": draw(st.booleans()),
                "shuffle": draw(st.booleans()),
                "questions": questions,
            }
        )
    return normalize(
        {
            "form_id": draw(_codes),
            "title": {**draw(texts), **draw(partial_texts)},
            "languages": languages,
            "language_names": {"en": "English", "zh": "Chinese"},
            "default_language": "en",
            "sections": sections,
            "choice_lists": lists,
        }
    )


def consent_details(languages: tuple[str, ...] = ("en", "zh")) -> dict[str, Any]:
    """Who is asking, complete in ``languages``: what publishing requires besides the consent text."""
    return {
        "research_team": {lang: f"Team [{lang}]" for lang in languages},
        "contact": {lang: f"team@example.org [{lang}]" for lang in languages},
        "ethics_committee": {lang: f"Ethics committee [{lang}]" for lang in languages},
        "ethics_reference": "EC-2025-001",
    }
