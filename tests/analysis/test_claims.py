"""Claims registries: the schema (every problem at once, named by claim and field) and the check
against a study's questionnaire (variables, choice codes, samples, populations)."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import schema
from analysis.claims import (
    REGISTRY,
    Problem,
    RegistryError,
    check_registry,
    load_registry,
    parse_registry,
    read_registry,
    with_questionnaire_designs,
)
from analysis.codebook import Codebook, Variable
from analysis.translation import text_in

GOOD = REGISTRY.read_text(encoding="utf-8")
SAMPLES = {"china", "west"}


def test_shipped_registry_covers_every_claim_of_the_brief_in_both_languages():
    registry = load_registry()
    assert [claim.id for claim in registry] == [
        "trust-deficit",
        "fraud-common",
        "welcome-scs",
        "accountability",
        "no-alternative",
        "commercial-scores",
        "cross-domain",
        "west-vs-china",
        "local-credit-apps",
        "priced-scores",
        "scores-shown",
        "data-to-state",
        "surveillance-worry",
        "dangan",
    ]
    assert registry.languages == ["en", "zh"]
    for claim in registry:
        assert claim.citation["article"].startswith("Hawkins 2017")
        assert set(claim.paraphrase) == set(claim.comparability) == {"en", "zh"}
        assert all(ref.tag in {"C", "S", "U", "3P"} for ref in claim.references)
        assert all(ref.short for ref in claim.references)
    welcome = next(c for c in registry if c.id == "welcome-scs")
    assert welcome.indirect.kind == "list_experiment" and welcome.indirect.combine == "all"
    assert welcome.indirect.arm == "le_scs__arm" and welcome.indirect.population == {"sample": "china"}


@pytest.mark.parametrize(
    ("old", "new", "claim", "field"),
    [
        (
            'tag = "3P"\nnote = { en = "valid-answer base"',
            'tag = "maybe"\nnote = { en = "valid-answer base"',
            "trust-deficit",
            "references[1].tag",
        ),
        (
            'direction = ">"\nthreshold = 0.5\nrule = { en = "Supported if more than half were targeted',
            'direction = "~"\nthreshold = 0.5\nrule = { en = "Supported if more than half were targeted',
            "fraud-common",
            "statistic.direction",
        ),
        ('kind = "difference"\nlabel', 'kind = "median"\nlabel', "west-vs-china", "statistic.kind"),
        ('id = "accountability"', 'id = "trust-deficit"', "trust-deficit", "id"),
        ("value = 0.80\nn = 2209", "value = 80\nn = 2209", "welcome-scs", "references[1].value"),
        ('combine = "all"\nrule', 'combine = "sometimes"\nrule', "welcome-scs", "indirect.combine"),
        ('variable = "le_scs"', 'variable = "le_scs"\ncolour = "red"', "welcome-scs", "indirect.colour"),
        ('levels = ["victim", "attempt"]', "levels = []", "fraud-common", "statistic.levels"),
        ('levels = ["victim", "attempt"]', 'levels = "victim"', "fraud-common", "statistic.levels"),
        ("year = 2012\n", 'year = "2012"\n', "trust-deficit", "references[1].year"),
        ('id = "cross-domain"', 'id = "Cross Domain!"', "Cross Domain!", "id"),
    ],
)
def test_malformed_registry_is_refused_with_claim_and_field(old, new, claim, field):
    assert old in GOOD
    with pytest.raises(RegistryError) as caught:
        parse_registry(GOOD.replace(old, new, 1))
    assert (caught.value.claim, caught.value.field) == (claim, field), caught.value.problems


def test_every_problem_is_listed_at_once():
    text = GOOD.replace('paraphrase = { en = "Fraud and scams', 'paraphrasis = { en = "Fraud and scams', 1)
    text = text.replace('tag = "S"', 'tag = "X"', 1).replace(
        'first = "china"', 'first = "china"\nextra = 1', 1
    )
    with pytest.raises(RegistryError) as caught:
        parse_registry(text)
    found = {(p.claim, p.field) for p in caught.value.problems}
    assert {
        ("fraud-common", "paraphrasis"),
        ("fraud-common", "paraphrase"),
        ("fraud-common", "references[1].tag"),
        ("west-vs-china", "statistic.extra"),
    } <= found
    assert "claim 'fraud-common', field 'paraphrase': is missing" in str(caught.value)


def test_files_that_are_not_registries_are_named_as_such(tmp_path):
    for content, message in [
        ("[[claims]\n", "is not valid TOML"),
        (b"\xff\xfe\x00bad", "is not UTF-8 text"),
        ('source = "x"\n', "the registry has no claims"),
        (b"x" * 1_000_001, "is larger than"),
        ('source = "x"\nclaims = "none"\n', "must be a list"),
        ("x = " + "[" * 100_000 + "]" * 100_000, "nests arrays or tables too deeply"),
    ]:
        with pytest.raises(RegistryError, match=message):
            parse_registry(content)
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())  # saved by a Windows editor
    assert len(load_registry(path)) == len(load_registry())


def minimal(**statistic: str) -> str:
    fields = "\n".join(f"{key} = {value}" for key, value in statistic.items())
    return f"""
source = "A survey report"
[[claims]]
id = "c1"
paraphrase = "Most say yes."
citation = {{ article = "Report 2020" }}
comparability = "Same item."
[claims.statistic]
kind = "share"
label = "say yes"
variable = "q1"
levels = ["yes"]
direction = ">"
threshold = 0.5
rule = "Supported if most say yes."
{fields}
"""


def test_a_claim_without_statistic_is_listed_unmeasured_and_texts_may_be_plain_strings():
    text = minimal().replace("[claims.statistic]", "[claims.unused]").split("[claims.unused]")[0]
    registry = parse_registry(text)
    assert registry.claims[0].statistic is None and registry.claims[0].paraphrase == {"en": "Most say yes."}
    assert registry.languages == ["en"] and registry.title == {}


@pytest.mark.parametrize(
    ("indirect", "field"),
    [
        (
            'kind = "randomized_response"\nvariable = "rr"\nyes = "yes"\np_truth = 0.8\np_forced_yes = 0.3\ncombine = "all"',
            "indirect.p_forced_yes",
        ),
        ('kind = "list_experiment"\nvariable = "le"', "indirect.combine"),
        ('kind = "mind_reading"\nvariable = "le"\ncombine = "all"', "indirect.kind"),
    ],
)
def test_indirect_measures_are_checked(indirect, field):
    text = minimal() + f'[claims.indirect]\nlabel = "indirect"\nrule = "both"\n{indirect}\n'
    with pytest.raises(RegistryError) as caught:
        parse_registry(text)
    assert field in {p.field for p in caught.value.problems}, caught.value.problems


def test_an_indirect_measure_needs_a_direct_share():
    text = minimal().replace('kind = "share"', 'kind = "difference"\nfirst = "china"\nsecond = "west"')
    text += '[claims.indirect]\nkind = "list_experiment"\nvariable = "le"\nlabel = "l"\nrule = "r"\ncombine = "all"\n'
    with pytest.raises(RegistryError) as caught:
        parse_registry(text)
    assert ("c1", "indirect.kind") in {(p.claim, p.field) for p in caught.value.problems}


def codebook() -> Codebook:
    yes_no = {"yes": {"en": "Yes"}, "no": {"en": "No"}}
    variables = [
        Variable(schema.SAMPLE, "meta", schema.SAMPLE),
        Variable(schema.DURATION, "meta", schema.DURATION),
        Variable("q1", "categorical", "q1", value_labels=yes_no),
        Variable("age", "categorical", "age", value_labels={"young": {"en": "Young"}, "old": {"en": "Old"}}),
        Variable("score", "numeric", "score"),
        Variable("le", "count", "le"),
        Variable("le__arm", "arm", "le", value_labels={"control": {}, "treatment": {}}),
        Variable("rr", "categorical", "rr", value_labels=yes_no),
    ]
    return Codebook(study="s", title="S", languages=["en"], variables=variables)


def problems_of(text: str) -> set[tuple[str, str]]:
    return {(p.claim, p.field) for p in check_registry(parse_registry(text), codebook(), SAMPLES)}


def test_a_registry_that_fits_the_questionnaire_has_no_problems():
    indirect = '[claims.indirect]\nkind = "list_experiment"\nvariable = "le"\nlabel = "l"\nrule = "r"\ncombine = "indirect"\n'
    text = 'breakdowns = ["age"]\n' + minimal(population='{ sample = "china", age = "old" }') + indirect
    assert problems_of(text) == set()


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (minimal().replace('variable = "q1"', 'variable = "q9"'), "statistic.variable"),
        (minimal().replace('levels = ["yes"]', 'levels = ["yes", "maybe"]'), "statistic.levels[2]"),
        (minimal().replace('variable = "q1"', 'variable = "score"'), "statistic.variable"),
        (minimal().replace('variable = "q1"', f'variable = "{schema.DURATION}"'), "statistic.variable"),
        (minimal(population='{ sample = "mars" }'), "statistic.population.sample"),
        (minimal(population='{ age = "ancient" }'), "statistic.population.age"),
        (minimal(population='{ height = "tall" }'), "statistic.population.height"),
        ('breakdowns = ["score"]\n' + minimal(), "breakdowns[1]"),
        (
            minimal()
            + '[claims.indirect]\nkind = "list_experiment"\nvariable = "q1"\nlabel = "l"\nrule = "r"\ncombine = "all"\n',
            "indirect.variable",
        ),
        (
            minimal()
            + '[claims.indirect]\nkind = "list_experiment"\nvariable = "le"\narm = "q1"\nlabel = "l"\nrule = "r"\ncombine = "all"\n',
            "indirect.arm",
        ),
        (
            minimal()
            + '[claims.indirect]\nkind = "randomized_response"\nvariable = "rr"\nyes = "si"\np_truth = 0.75\n'
            + 'p_forced_yes = 0.1\nlabel = "l"\nrule = "r"\ncombine = "all"\n',
            "indirect.yes",
        ),
    ],
)
def test_names_the_questionnaire_lacks_are_refused_with_claim_and_field(text, field):
    found = problems_of(text)
    assert ("c1", field) in found or ("(file)", field) in found, found


FORCED = '[claims.indirect]\nkind = "randomized_response"\nvariable = "rr"\nlabel = "l"\nrule = "r"\ncombine = "all"\n'
DECLARED = {"rr": {"randomized_response": "forced", "p_truth": "0.75", "p_forced_yes": "0.125", "yes": "yes"}}


def designed(text: str, parameters: dict) -> tuple[list[Problem], object]:
    registry = parse_registry(text)
    problems = check_registry(registry, codebook(), SAMPLES, parameters)
    return problems, with_questionnaire_designs(registry, codebook(), parameters)[0].claims[0].indirect


def test_a_randomised_response_design_the_registry_leaves_out_is_the_questionnaires():
    problems, indirect = designed(minimal() + FORCED, DECLARED)
    assert problems == []
    assert (indirect.yes, indirect.p_truth, indirect.p_forced_yes) == ("yes", 0.75, 0.125)
    stated = minimal() + FORCED + 'p_truth = 0.750\np_forced_yes = 0.125\nyes = "yes"\n'
    assert designed(stated, DECLARED)[0] == []  # stated as the questionnaire states it


@pytest.mark.parametrize(
    ("field", "stated", "words"),
    [
        ("p_truth", "p_truth = 0.5", "is 0.5 here but 0.75 in the questionnaire (the parameters of 'rr')"),
        ("p_forced_yes", "p_forced_yes = 0.1", "is 0.1 here but 0.125 in the questionnaire"),
        ("yes", 'yes = "no"', "is 'no' here but 'yes' in the questionnaire"),
    ],
)
def test_a_randomised_response_design_other_than_the_questionnaires_is_refused(field, stated, words):
    """Issue 16 review: a registry's p_truth = 0.5 for an item the XLSForm declares with 0.75 was
    attached, and its report gave 79.3% (contradicted) where the results page gave 52.9%."""
    problems, _indirect = designed(minimal() + FORCED + stated + "\n", DECLARED)
    assert [(p.claim, p.field) for p in problems] == [("c1", f"indirect.{field}")]
    assert words in str(problems[0]) and str(problems[0]).startswith(f"claim 'c1', field 'indirect.{field}'")


def test_a_design_neither_gives_is_missing():
    problems, _indirect = designed(minimal() + FORCED + "p_truth = 0.7\n", {})
    assert {(p.claim, p.field) for p in problems} == {("c1", "indirect.p_forced_yes"), ("c1", "indirect.yes")}
    assert "the questionnaire declares no randomised-response design for 'rr'" in str(problems[0])
    stated = minimal() + FORCED + 'p_truth = 0.7\np_forced_yes = 0.1\nyes = "yes"\n'
    assert designed(stated, {})[0] == []  # an item the questionnaire does not declare: the registry's


@pytest.mark.parametrize("kind", ["list_experiment", "randomized_response"])
def test_the_direct_statistic_must_be_the_direct_question_the_questionnaire_declares(kind):
    question = "rr" if kind == "randomized_response" else "le"
    indirect = FORCED.replace("randomized_response", kind).replace('"rr"', f'"{question}"')
    own = DECLARED["rr"] if kind == "randomized_response" else {}
    declared = {question: {**own, "direct": "q1", "direct_levels": "yes"}}
    assert designed(minimal() + indirect, declared)[0] == []
    other = minimal().replace('variable = "q1"', 'variable = "age"').replace('["yes"]', '["old"]')
    problems = designed(other + indirect, declared)[0]
    assert [(p.claim, p.field) for p in problems] == [("c1", "statistic.variable")]
    assert f"is 'age' here but the questionnaire sets {question!r} beside 'q1'" in str(problems[0])
    levels = minimal().replace('["yes"]', '["yes", "no"]')
    problems = designed(levels + indirect, declared)[0]
    assert [(p.claim, p.field) for p in problems] == [("c1", "statistic.levels")]
    assert "is yes, no here but the questionnaire sets" in str(problems[0]) and "q1 = yes" in str(problems[0])


def test_difference_samples_must_be_samples_of_the_study():
    text = minimal().replace('kind = "share"', 'kind = "difference"\nfirst = "china"\nsecond = "moon"')
    text = text.replace("threshold = 0.5", "threshold = 0.0")
    assert problems_of(text) == {("c1", "statistic.second")}


def test_problems_render_through_a_translation_function():
    problem = Problem(
        "c1", "statistic.variable", "{value!r} is not a variable of the questionnaire", {"value": "q9"}
    )
    assert problem.render() == "'q9' is not a variable of the questionnaire"
    assert (
        problem.render(lambda m: m.replace("is not a variable", "不是变量"))
        == "'q9' 不是变量 of the questionnaire"
    )
    assert (
        str(problem) == "claim 'c1', field 'statistic.variable': 'q9' is not a variable of the questionnaire"
    )
    typed = Problem("c1", "references[1].year", "must be {expected}", {"expected": "a whole number"})
    assert (
        typed.render({"must be {expected}": "必须是{expected}", "a whole number": "整数"}.get) == "必须是整数"
    )


def test_texts_fall_back_to_the_registry_language_and_match_base_codes():
    assert text_in({"en": "Hello", "zh": "你好"}, "zh-hans") == "你好"
    assert text_in({"en": "Hello"}, "zh-hans") == "Hello"
    assert text_in({"fr": "Bonjour"}, "zh", "en") == "Bonjour"
    assert text_in("plain", "zh") == "plain" and text_in(None, "en") == ""


def test_margins_shipped_with_the_demo_are_documented_and_valid():
    from analysis.weighting import read_margins

    path = Path(REGISTRY).parent / "margins_china_2020.csv"
    text = path.read_text(encoding="utf-8")
    assert "Seventh National Population Census" in text and "Derivation" in text
    margins = read_margins(path)
    for _, rows in margins.groupby("variable"):
        assert rows["share"].sum() == pytest.approx(1.0, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(
    start=st.integers(0, len(GOOD)),
    length=st.integers(0, 40),
    insert=st.lists(
        st.sampled_from([*'[]{}="\\,.#\n ab1-_κ中', "true", "0.5", "[[claims]]", "kind", "levels"]),
        max_size=12,
    ).map("".join),
)
def test_a_damaged_registry_is_refused_with_problems_never_an_exception(start, length, insert):
    text = GOOD[:start] + insert + GOOD[start + length :]
    try:
        registry = parse_registry(text)
    except RegistryError as error:
        assert error.problems and all(p.render() for p in error.problems)
        return
    check_registry(registry, codebook(), SAMPLES)  # a well-formed one is checked without crashing


def every_problem(text: str) -> set[tuple[str, str]]:
    """What an upload is told in one round: the form's problems and the questionnaire's."""
    registry, problems = read_registry(text)
    assert registry is not None
    return {(p.claim, p.field) for p in problems + check_registry(registry, codebook(), SAMPLES)}


REFERENCE = '[[claims.references]]\nsource = "A poll"\ntag = "{tag}"\nvalue = 0.4\n'


def test_a_claim_with_a_problem_of_form_is_still_checked_against_the_questionnaire():
    """Issue 16 review: a wrong ``tag`` hid a bad ``levels`` code of the same claim, and with
    ``comparability`` missing nothing else was reported."""
    text = minimal().replace('levels = ["yes"]', 'levels = ["yes", "maybe"]') + REFERENCE.format(tag="X")
    assert every_problem(text) == {("c1", "references[1].tag"), ("c1", "statistic.levels[2]")}
    text = minimal(population='{ sample = "mars" }').replace('comparability = "Same item."\n', "")
    text = text.replace('variable = "q1"', 'variable = "q9"')
    assert every_problem(text) == {
        ("c1", "comparability"),
        ("c1", "statistic.variable"),
        ("c1", "statistic.population.sample"),
    }


def test_a_field_with_a_problem_of_form_is_not_reported_twice():
    text = minimal().replace('variable = "q1"', "variable = 3")
    text += '[claims.indirect]\nkind = "list_experiment"\nlabel = "l"\nrule = "r"\ncombine = "all"\n'
    assert every_problem(text) == {("c1", "statistic.variable"), ("c1", "indirect.variable")}
    text = minimal() + (
        '[claims.indirect]\nkind = "mind_reading"\nvariable = "nope"\nlabel = "l"\nrule = "r"\ncombine = "all"\n'
    )
    assert every_problem(text) == {("c1", "indirect.kind"), ("c1", "indirect.variable")}


@settings(max_examples=100, deadline=None)
@given(
    start=st.integers(0, len(GOOD)),
    length=st.integers(0, 40),
    insert=st.lists(
        st.sampled_from([*'[]{}="\\,.#\n ab1-_κ中', "true", "0.5", "[[claims]]", "kind", "levels"]),
        max_size=12,
    ).map("".join),
)
def test_a_damaged_registry_is_checked_against_a_questionnaire_without_an_exception(start, length, insert):
    registry, problems = read_registry(GOOD[:start] + insert + GOOD[start + length :])
    if registry is not None:
        found = check_registry(registry, codebook(), SAMPLES)
        assert all(p.render() for p in problems + found)
