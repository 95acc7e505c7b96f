"""Several releases from one state of the data, attacked together (issues 10 and 16).

An analyst may ask for the results page by sample, then by urban, then by urban and gender, with
k = 10 and then k = 5, with and without flagged responses — and hold every download side by side.
Each release alone is safe; the attack here (``tests.analysis.attack``: linear algebra and a
linear programme over every equation a reader knows, figures identified by their sets of
responses worked out from the raw answers) runs over all of them combined. The disclosure ledger
(``survey.services.disclosure``) decides each release beside those made before.
"""

from __future__ import annotations

import html

import pandas as pd
import pytest
from django.utils import translation

from survey.bridge import responses_frame
from survey.models import DisclosureLedger, DisclosureRecord
from survey.selectors import study_revision
from survey.services.disclosure import tables_read, tables_written
from survey.services.results import ResultsOptions, compute_results
from tests.survey.fixed_names import fix_names
from tests.survey.test_release_disclosure import assert_nothing_recovered, whole_release

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fixed_names(monkeypatch):
    """Figures fingerprinted by the responses' answers, not their random ids: a release passes or
    fails the attack in every run alike (``tests.survey.fixed_names``)."""
    fix_names(monkeypatch)


def combined(study, requests: list[ResultsOptions]) -> tuple[list[dict], dict, dict]:
    """Every request's payloads and the attack's tables of all of them together (each request's
    tables under its own tag; figures over the same responses unify by their response sets)."""
    payloads, released, truth = [], {}, {}
    for number, options in enumerate(requests):
        found, shown, exact = whole_release(study, options)
        payloads.append(found)
        released |= {f"{number}/{name}": table for name, table in shown.items()}
        truth |= {f"{number}/{name}": table for name, table in exact.items()}
    return payloads, released, truth


@pytest.mark.one_database
def test_breakdowns_and_thresholds_combined(answered_study):
    """By nothing, by sample, by urban, by urban and gender, and again with another k: before the
    ledger, each was decided alone, and the downloads together gave hidden cells by difference."""
    requests = [
        ResultsOptions(by=(), k=5),
        ResultsOptions(by=("sample",), k=5),
        ResultsOptions(by=("urban",), k=5),
        ResultsOptions(by=("urban", "gender"), k=5),
        ResultsOptions(by=("gender",), k=7),
        ResultsOptions(by=("sample", "urban"), k=10),
    ]
    payloads, released, truth = combined(answered_study, requests)
    assert sum(p["all"]["release"]["primary"] for p in payloads) > 0
    assert_nothing_recovered(released, truth, k=5)
    ledger = DisclosureLedger.objects.get(study=answered_study)
    assert ledger.revision == study_revision(answered_study)
    assert ledger.records.count() == len(requests)


@pytest.mark.one_database
@pytest.mark.parametrize("draw", [3])
def test_exclusions_beside_other_breakdowns(answered_study, monkeypatch, draw):
    """Leaving the straight-liners out by sample, beside the pages that keep them by urban, by
    gender and by sample: the left-out responses' own figures stay hidden, also from a linear
    programme that knows every count is at least 0 (draw 3 of the responses' names pinned 17
    hidden counts of 1 to 12 so before the bounded audit, ``suppression._bounded``)."""
    fix_names(monkeypatch, draw)
    requests = [
        ResultsOptions(by=("urban",), k=5),
        ResultsOptions(by=("sample",), k=5, exclude=("straightlining",)),
        ResultsOptions(by=("gender",), k=5),
    ]
    payloads, released, truth = combined(answered_study, requests)
    assert payloads[1]["kept"]["exclude"] == ["straightlining"]
    assert_nothing_recovered(released, truth, k=5)


@pytest.mark.one_database(share=0)  # long, nothing database-specific: the SQLite pass only
def test_a_second_release_leaving_responses_out_is_refused(answered_study):
    """Another release leaving responses out — other flags, or the same by another breakdown —
    would give the left-out responses' figures by difference: refused with a message. The same
    release asked for again (the command line after the page) and releases keeping every
    response are still made."""
    frame, codebook = responses_frame(answered_study)
    first = ResultsOptions(k=5, exclude=("straightlining",))
    compute_results(answered_study, frame, codebook, first)
    for other, words in (
        (
            ResultsOptions(k=5, exclude=("straightlining", "speeding")),
            "(straight-lining) were already released from these data. Leaving responses out in "
            "another release (speeding (under 1/3 of the median duration), straight-lining)",
        ),
        (
            ResultsOptions(by=("urban",), k=5, exclude=("straightlining",)),
            "the same flagged responses (straight-lining) were already released from these data with "
            "other choices",
        ),
    ):
        with pytest.raises(ValueError, match="were already released from these data") as refused:
            compute_results(answered_study, frame, codebook, other)
        # In words: the flags' names, the threshold as a fraction, and what differs.
        assert words in str(refused.value) and "0.333" not in str(refused.value)
    compute_results(answered_study, frame, codebook, first)
    compute_results(answered_study, frame, codebook, ResultsOptions(k=5))
    assert DisclosureRecord.objects.exclude(exclusion="").count() == 2


def test_a_kept_refusal_is_read_in_each_readers_language(answered_study):
    """A claims report refused because the results page left other responses out is kept (a
    snapshot) in no language: an English and a Chinese reader each read it in theirs, flags
    named in their words (before, it stayed in the language of whoever asked first)."""
    from survey.services.disclosure import in_words
    from survey.services.reports import report_build

    frame, codebook = responses_frame(answered_study)
    compute_results(answered_study, frame, codebook, ResultsOptions(k=5, exclude=("straightlining",)))
    with translation.override("zh-hans"):
        snapshot = report_build(study_id=answered_study.pk, weighted=False, exclude=("speeding",))
    assert not snapshot.data.get("claims")
    with translation.override("en"):
        english = in_words(snapshot.problem)
    with translation.override("zh-hans"):
        chinese = in_words(snapshot.problem)
    assert "(straight-lining) were already released from these data" in english
    assert "speeding (under 1/3 of the median duration)" in english
    assert "were already released" not in chinese and "直线作答" in chinese, chinese
    assert in_words("not a kept message") == "not a kept message"


def test_a_new_state_of_the_data_starts_a_new_ledger(answered_study):
    frame, codebook = responses_frame(answered_study)
    compute_results(answered_study, frame, codebook, ResultsOptions(k=5), revision="before")
    compute_results(answered_study, frame, codebook, ResultsOptions(k=5), revision="after")
    assert list(DisclosureLedger.objects.values_list("revision", flat=True)) == ["after"]
    assert DisclosureRecord.objects.count() == 1


def test_recorded_tables_read_back_as_they_were(answered_study):
    frame, codebook = responses_frame(answered_study)
    compute_results(answered_study, frame, codebook, ResultsOptions(k=5, exclude=("straightlining",)))
    record = DisclosureRecord.objects.get()
    tables = tables_read(record.tables)
    assert tables_written(tables) == record.tables
    cells = [cell for table in tables.values() for cell in table["cell"]]
    assert all(isinstance(cell, tuple) for cell in cells)
    assert any(table["implied"].fillna(False).any() for table in tables.values() if "implied" in table)


def test_the_claims_report_and_the_results_page_share_one_ledger_and_identities(answered_study):
    """The claims report is decided beside the results page released before from the same data,
    its figures named by the same respondent sets (before, by the claim's own wording, so the
    same respondents were two unknowns to the two releases)."""
    from survey.services.reports import report_build

    frame, codebook = responses_frame(answered_study)
    compute_results(answered_study, frame, codebook, ResultsOptions(by=("sample",), k=10))
    snapshot = report_build(study_id=answered_study.pk, weighted=False)
    assert snapshot.problem == "" and snapshot.data["claims"]
    results, report = DisclosureRecord.objects.order_by("pk")
    assert (results.origin, report.origin) == ("results", "report")
    cells = {
        origin: {cell for table in tables_read(record.tables).values() for cell in table["cell"]}
        for origin, record in (("results", results), ("report", report))
    }
    shared = cells["results"] & cells["report"]
    assert shared and all(cell[0] == "set" for cell in shared)


def test_a_release_recorded_meanwhile_makes_the_decision_again_beside_it(answered_study):
    """Two builds at once cannot both decide alone: one recorded while the other was deciding
    makes the other decide again, with it among the fixed tables."""
    from survey.services.disclosure import disclosure_release

    seen: list[set[str]] = []

    def other(before):
        return None, {
            "other": pd.DataFrame(
                [
                    {
                        "variable": "x",
                        "group_variable": "",
                        "group": "",
                        "level": "a",
                        "count": 3,
                        "n": 3,
                        "cell": ("x",),
                        "base": ("x", "n"),
                        "suppressed": True,
                    }
                ]
            )
        }

    def decide(before):
        seen.append(set(before))
        if len(seen) == 1:  # a second build records its release while this one decides
            disclosure_release(
                study=answered_study, revision="r", origin="results", exclusion="", decide=other
            )
        return "mine", {}

    assert (
        disclosure_release(study=answered_study, revision="r", origin="results", exclusion="", decide=decide)
        == "mine"
    )
    assert len(seen) == 2 and seen[0] == set() and any(name.endswith(":other") for name in seen[1])
    assert DisclosureRecord.objects.filter(ledger__revision="r").count() == 2


def test_the_results_page_and_the_claims_report_attacked_together(answered_study):
    """Results by sample and gender (k = 5), then the claims report of the same data: the attack
    runs over both releases as recorded (exact counts, respondent-set identities, what each
    showed). Before, the report's overall yes/no split was one of the results' own levels, its
    breakdown rows were decided alone, and 7 hidden report figures (a cell of 2 respondents,
    "dangan: no" in the China sample, among them) were worked out from both together."""
    from survey.services.reports import report_build
    from tests.analysis.attack import attack

    frame, codebook = responses_frame(answered_study)
    compute_results(answered_study, frame, codebook, ResultsOptions(by=("sample", "gender"), k=5))
    snapshot = report_build(study_id=answered_study.pk, weighted=False)
    assert snapshot.problem == "" and snapshot.data["claims"]
    released, truth = {}, {}
    for record in DisclosureRecord.objects.order_by("pk"):
        for name, table in tables_read(record.tables).items():
            shown = table.assign(n=table["n"].where(~table["suppressed"].astype(bool)))
            released[f"{record.pk}:{name}"] = shown
            truth[f"{record.pk}:{name}"] = table
    assert {r.origin for r in DisclosureRecord.objects.all()} == {"results", "report"}
    assert any(t["suppressed"].astype(bool).any() for name, t in truth.items())
    found = attack(released, truth, k=5)
    assert found == [], f"{len(found)} hidden figures can be worked out, e.g. {found[:3]}"


def test_releases_are_held_after_a_withdrawal_until_k_new_responses(answered_study, participant, settings):
    """Results released, then one released response withdrawn: a release now would differ from the
    one before by that one person, so the results page and the claims report say they are held,
    with no figures; once a release batch brings k new responses, they resume. Before, the results
    came back at once, 30 responses beside the 31 released before."""
    from io import StringIO

    from django.core.management import call_command

    from survey.models import ResultsSnapshot
    from survey.services.disclosure import E_HELD, release_held
    from survey.services.reports import report_build
    from survey.services.responses import response_withdraw
    from survey.services.results import results_build
    from tests.helpers import close_fieldwork

    settings.CANDID_RELEASE_K = 10
    options = {"by": ["sample"], "k": 5}
    _, outcome = participant(seed=99)
    close_fieldwork(answered_study)
    released = results_build(study_id=answered_study.pk, options=options)
    assert released.problem == "" and released.payload["n"] == 30  # 31, rounded to 5

    assert response_withdraw(code=outcome.receipt_code).outcome == "deleted"
    assert release_held(answered_study)
    held = results_build(study_id=answered_study.pk, options=options)
    assert held.problem == E_HELD and held.payload == {}  # kept untranslated, read in the reader's language
    assert ResultsSnapshot.objects.filter(study=answered_study).exclude(payload={}).count() == 0
    report = report_build(study_id=answered_study.pk, weighted=False)
    assert report.problem == E_HELD and not report.data.get("claims")
    assert not DisclosureRecord.objects.exists()  # nothing recorded while held

    call_command(
        "simulate_respondents",
        answered_study.slug,
        "-n",
        "6",
        "--seed",
        "8",
        "--workers",
        "1",
        stdout=StringIO(),
    )
    close_fieldwork(answered_study)  # 12 new responses released
    assert not release_held(answered_study)
    resumed = results_build(study_id=answered_study.pk, options=options)
    assert resumed.problem == "" and resumed.payload["n"] == 40  # 42, rounded to 5
    assert report_build(study_id=answered_study.pk, weighted=False).problem == ""


def test_a_withdrawal_from_data_nothing_was_released_from_holds_nothing(answered_study, participant):
    from survey.services.disclosure import release_held
    from survey.services.responses import response_withdraw
    from tests.helpers import close_fieldwork

    _, outcome = participant(seed=99)
    close_fieldwork(answered_study)
    assert response_withdraw(code=outcome.receipt_code).outcome == "deleted"
    assert not release_held(answered_study)


def test_the_held_message_is_in_the_readers_language(answered_study, participant, make_user, settings):
    """Held results and a held claims report built for an English reader (the held snapshots are
    kept) are read by a Chinese one: the message is in Chinese. Before, the snapshot kept the
    message in the language of the request that built it, and the Chinese reader got English."""
    from django.test import Client
    from django.urls import reverse
    from django.utils import translation

    from survey.models import StudyMembership
    from survey.roles import ANALYST
    from survey.services.disclosure import E_HELD
    from survey.services.responses import response_withdraw
    from survey.services.results import results_build
    from tests.helpers import close_fieldwork

    settings.CANDID_RELEASE_K = 10
    _, outcome = participant(seed=99)
    close_fieldwork(answered_study)
    assert results_build(study_id=answered_study.pk, options={"by": ["sample"]}).problem == ""
    assert response_withdraw(code=outcome.receipt_code).outcome == "deleted"
    user = make_user("held_reader", ANALYST)
    StudyMembership.objects.create(study=answered_study, user=user, role="analyst")
    pages = [
        reverse("survey:study_results", args=[answered_study.slug]) + "?by=sample&lang=en",  # one snapshot
        reverse("survey:report", args=[answered_study.slug]),
    ]
    with translation.override("zh-hans"):
        chinese = translation.gettext(E_HELD)
    assert chinese != E_HELD
    for language, expected, other in (("en", E_HELD, chinese), ("zh-hans", chinese, E_HELD)):
        reader = Client(HTTP_ACCEPT_LANGUAGE=language)
        reader.force_login(user)
        for url in pages:
            body = html.unescape(reader.get(url).content.decode())
            assert expected in body and other not in body, (language, url)
