"""A study with both indirect designs beside one direct question (issue 16 review, items 2 and 4):
a list experiment and a forced-response item, each declaring ``direct=paid_extra`` in its XLSForm
``parameters``. A claims registry must judge them as the questionnaire declares them, and the results
page sets each beside its direct question."""

from __future__ import annotations

import csv
import html
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from analysis.claims import RegistryError
from survey.models import ClaimsRegistry
from survey.roles import RESEARCHER
from tests.survey.xlsform_helpers import CHOICES
from tests.survey.xlsform_studies import publish_xlsform

pytestmark = pytest.mark.django_db

FORCED = (
    "randomized_response=forced p_truth=0.75 p_forced_yes=0.125 yes=yes direct=paid_extra direct_levels=yes"
)
SURVEY = [
    ["type", "name", "label", "required", "appearance", "parameters", "bind::candid:role"],
    ["begin_group", "counting", "Counting", "", "", "", ""],
    ["begin_group", "le_bribe", "How many of these have you done? Only say how many.", "yes",
     "list_experiment", "direct=paid_extra direct_levels=yes", ""],
    ["note", "le_c1", "Visited a library", "", "", "", "control"],
    ["note", "le_c2", "Attended a meeting", "", "", "", "control"],
    ["note", "le_c3", "Reported a street light", "", "", "", "control"],
    ["note", "le_s", "Paid an official extra", "", "", "", "sensitive"],
    ["end_group", "", "", "", "", "", ""],
    ["end_group", "", "", "", "", "", ""],
    ["select_one yn", "paid_extra", "Have you paid an official extra?", "yes", "", "", ""],
    ["select_one yn", "rr_extra", "Toss a coin and follow the instructions: have you paid extra?", "yes", "",
     FORCED, ""],
]  # fmt: skip
RESPONDENTS = 40
REGISTRY = """
source = "A local paper (2024)"
[[claims]]
id = "rr-bribery"
paraphrase = "Bribery is rare, as randomised response shows."
citation = { article = "Local paper 2024" }
comparability = "Online sample."
[claims.statistic]
kind = "share"
label = "paid extra, asked directly"
variable = "paid_extra"
levels = ["yes"]
direction = "<"
threshold = 0.33
rule = "Supported if the whole CI is below one third."
[claims.indirect]
kind = "randomized_response"
label = "paid extra, randomised response"
variable = "rr_extra"
combine = "indirect"
rule = "The randomised response decides."
"""


@pytest.fixture
def bribery_study(make_user):
    """The study, published, answered by 40 synthetic participants and released to analysts."""
    from survey.simulation import Respondent, walk
    from tests.helpers import close_fieldwork

    owner = make_user("bribery_researcher", RESEARCHER)
    study = publish_xlsform(owner, "bribery", SURVEY, choices=CHOICES)
    sample = study.samples.get().slug
    for seed in range(RESPONDENTS):
        assert walk(Client(HTTP_ACCEPT_LANGUAGE="en"), "/s/bribery/", Respondent(seed, sample)).completed
    close_fieldwork(study)
    return study, owner


def test_a_registry_judging_an_item_with_another_design_than_the_questionnaires_is_refused(bribery_study):
    """The reviewer's registry said p_truth = 0.5 for ``rr_extra`` (0.75 in the XLSForm): it was
    attached, and its report gave 79.3% and 'contradicted' where the results page gave 52.9%. Now
    each field it states must be the questionnaire's, in the check, in the report of a registry
    attached before, and in the command; a field it leaves out is the questionnaire's."""
    from survey.services.claims import claims_registry_attach, claims_registry_check
    from survey.services.disclosure import in_words
    from survey.services.reports import report_build

    study, owner = bribery_study
    other = REGISTRY + 'yes = "yes"\np_truth = 0.5\np_forced_yes = 0.125\n'
    with pytest.raises(RegistryError) as refused:
        claims_registry_check(study=study, content=other)
    said = [str(problem) for problem in refused.value.problems]
    assert said == [
        "claim 'rr-bribery', field 'indirect.p_truth': is 0.5 here but 0.75 in the questionnaire (the "
        "parameters of 'rr_extra'); give the questionnaire's or leave it out to use it"
    ]
    with translation.override("zh-hans"):
        chinese = refused.value.problems[0].render(gettext)
    assert (
        chinese
        == "此处为 0.5，但问卷中为 0.75（'rr_extra' 的 parameters）；请填写问卷中的值，或省略此项以采用问卷中的值"
    )
    direct = REGISTRY.replace('variable = "paid_extra"', 'variable = "rr_extra"')
    with pytest.raises(RegistryError) as refused:
        claims_registry_check(study=study, content=direct)
    assert [(p.claim, p.field) for p in refused.value.problems] == [("rr-bribery", "statistic.variable")]

    # Left out, the design is the questionnaire's: the report's estimate is the results page's.
    registry = claims_registry_check(study=study, content=REGISTRY)
    assert (registry.claims[0].indirect.p_truth, registry.claims[0].indirect.p_forced_yes) == (0.75, 0.125)
    claims_registry_attach(study=study, content=REGISTRY, user=owner)
    snapshot = report_build(study_id=study.pk, weighted=False)
    assert snapshot.problem == ""
    (shown,) = [
        row for row in results_rows(study) if row["statistic"] == "randomized_response" and not row["group"]
    ]
    reported = snapshot.data["claims"][0]["indirect"]
    assert reported["estimate"] == pytest.approx(shown["estimate"], abs=5e-4)

    # A registry attached before designs were checked is not judged with its own.
    ClaimsRegistry.objects.filter(study=study).update(text=other)
    snapshot = report_build(study_id=study.pk, weighted=False)
    problem = in_words(snapshot.problem)
    assert snapshot.data == {} and "Version 1 of the study's claims registry cannot be used" in problem
    assert "field 'indirect.p_truth': is 0.5 here but 0.75 in the questionnaire" in problem


def results_rows(study, **options) -> list[dict]:
    """The rows of ``study``'s results page (as its downloads read them), overall only by default."""
    from survey.services.results import results_build

    snapshot = results_build(study_id=study.pk, options={"by": [], **options})
    assert snapshot.problem == "", snapshot.problem
    return snapshot.payload["table"]


def test_the_randomised_response_item_sits_beside_its_direct_question(client, bribery_study, settings):
    """Issue 16 review: ``rr_extra`` declares ``direct=paid_extra direct_levels=yes`` but its section
    had no direct share and no difference, and the CSV listed the direct share twice under
    ``paid_extra`` with nothing saying which indirect item each belonged to. Each indirect item's
    section and rows now hold its own direct share and difference, named as what they are."""
    study, owner = bribery_study
    settings.CANDID_RESULTS_K = 5  # 40 respondents
    client.force_login(owner)
    response = client.get(reverse("survey:study_results", args=[study.slug]) + "?k=5")
    body = html.unescape(response.content.decode())
    section = body.split('id="q-rr_extra"')[1].split('class="results-question"')[0]
    question = "Toss a coin and follow the instructions: have you paid extra?"
    assert f"{question} — indirect estimate (randomised response)" in section
    assert "“Have you paid an official extra?”: Yes — direct question" in section
    assert "Difference, indirect − direct" in section

    url = reverse("survey:study_results_download", args=[study.slug, "csv"])
    rows = list(csv.DictReader(io.StringIO(client.get(url + "?k=5").content.decode("utf-8-sig"))))
    found = {(r["question"], r["statistic"], r["level"], r["variable"]): r for r in rows if not r["group"]}
    for item in ("rr_extra", "le_bribe"):
        assert found[(item, "direct", "in", "paid_extra")]["level_label"] == "Yes — direct question"
        gap = found[(item, "difference", "", item)]
        assert gap["level_label"].startswith("difference, indirect − direct")
        assert gap["suppressed"] == "False" and float(gap["ci_low"]) < float(gap["estimate"]) < float(
            gap["ci_high"]
        )
    assert not [r for r in rows if r["question"] == "paid_extra" and r["statistic"] == "direct"]
    assert found[("rr_extra", "randomized_response", "", "rr_extra")]["level_label"] == (
        "indirect estimate (randomised response)"
    )
