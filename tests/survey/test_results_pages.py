"""The results page, its downloads and weighting uploads, as a study's analyst uses them."""

from __future__ import annotations

import csv
import html
import io

import openpyxl
import pytest
from django.urls import reverse

from survey.models import AuditEvent, ResultsSnapshot, StudyMembership, WeightingTargets
from survey.roles import ANALYST

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(make_user, answered_study):
    user = make_user("results_analyst", ANALYST)
    StudyMembership.objects.create(study=answered_study, user=user, role="analyst")
    return user


@pytest.fixture
def signed_in(client, analyst):
    client.force_login(analyst)
    return client


def page(client, study, query: str = "") -> str:
    response = client.get(reverse("survey:study_results", args=[study.slug]) + query)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return response.content.decode()


def test_every_question_with_labels_charts_and_the_synthetic_warning(signed_in, answered_study, settings):
    settings.CANDID_RESULTS_K = 5  # 30 respondents: most cells are under 10
    body = page(signed_in, answered_study, "?lang=en&k=5")
    assert "Synthetic data." in body
    assert "Generally speaking, would you say that most people can be trusted" in body  # gen_trust
    assert "Most people can be trusted" in body  # a choice label, not its code
    assert 'role="img"' in body and "<desc id=" in body  # charts with a text alternative
    assert "Cronbach" in body and "Mean rank" in body and "Indirect estimate" in body
    assert "Rao–Scott test" in body
    assert "<script" not in body.split("<main")[-1] if "<main" in body else True
    assert AuditEvent.objects.filter(action="results_viewed").count() == 1
    chinese = page(signed_in, answered_study, "?lang=zh")
    assert "大多数人是可以信任的" in chinese or "可以信任" in chinese


def test_a_breakdown_with_small_groups_suppresses_them(signed_in, answered_study):
    body = page(signed_in, answered_study, "?by=sample&by=age_band&lang=en")
    assert "suppressed" in body  # 30 respondents over five age bands
    snapshot = ResultsSnapshot.objects.get()
    table = snapshot.payload["table"]
    hidden = [row for row in table if row["suppressed"]]
    assert hidden and all(row["estimate"] is None and row["n"] is None for row in hidden)
    assert snapshot.payload["release"]["primary"] > 0


def test_a_test_over_hidden_cells_is_not_shown_and_the_page_says_why(signed_in, answered_study):
    """30 respondents over five age bands: cells by age band are hidden, so no Rao–Scott test by
    age band is published (its statistic is computed from every cell); the page says why."""
    body = html.unescape(page(signed_in, answered_study, "?by=sample&by=age_band&lang=en"))
    tests = [
        test for item in ResultsSnapshot.objects.get().payload["items"] for test in item.get("tests", [])
    ]
    by_band = [test for test in tests if test["by"] == "age_band"]
    assert by_band and all(test["withheld"] and "p_value" not in test for test in by_band)
    assert "Rao–Scott test of independence by age_band: not shown, because cells" in body
    assert "Rao–Scott test of independence by age_band: F =" not in body


def test_unknown_options_are_refused_with_a_message(signed_in, answered_study):
    body = page(signed_in, answered_study, "?by=response_id&k=x&weighting=upload:nothing&speeding=7")
    assert "left out" in body and "whole number" in body and "unweighted" in body.lower()


def test_more_breakdowns_than_the_page_takes_are_said_to_be_cut(signed_in, answered_study):
    body = page(signed_in, answered_study, "?by=sample&by=urban&by=gender&by=age_band")
    assert "At most 3 breakdowns at a time" in body
    assert ResultsSnapshot.objects.get().options["by"] == ["sample", "urban", "gender"]


def test_a_request_cannot_move_a_few_respondents_between_releases(signed_in, answered_study, settings):
    """Two releases that differ in k or in the speeding fraction differ by exactly the respondents
    in between (a tester rebuilt one person's answers from speeding=0.62 and 0.64): k may be raised
    above the operator's floor, not lowered, and the speeding fraction is not the requester's."""
    settings.CANDID_RESULTS_K = 10
    body = page(signed_in, answered_study, "?k=5&speeding=0.62&exclude=speeding")
    assert "cannot be lowered below 10" in body
    page(signed_in, answered_study, "?k=12&speeding=0.64&exclude=speeding")
    kept = {(s.options["k"], s.options["speeding"]) for s in ResultsSnapshot.objects.all()}
    assert kept == {(10, 1 / 3), (12, 1 / 3)}
    assert 'name="speeding"' not in body


def test_downloads_hold_the_page_tables(signed_in, answered_study):
    url = reverse("survey:study_results_download", args=[answered_study.slug, "csv"])
    response = signed_in.get(url + "?by=sample")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    assert text.startswith("question,variable,label,")  # the header first: read_csv reads it plainly
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {
        "variable",
        "label",
        "level",
        "level_label",
        "group_variable",
        "group",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "n",
        "suppressed",
        "weighting",
        "data",
    } <= set(rows[0])
    assert {row["data"] for row in rows} == {"synthetic"} and {row["weighting"] for row in rows} == {
        "unweighted"
    }
    book = openpyxl.load_workbook(
        io.BytesIO(signed_in.get(url.replace(".csv", ".xlsx") + "?by=sample").content), read_only=True
    )
    assert book.sheetnames[0] == "notes" and len(book.sheetnames) > 10
    assert signed_in.get(url.replace(".csv", ".pdf")).status_code == 404
    assert AuditEvent.objects.filter(action="aggregates_downloaded").count() == 2


@pytest.mark.one_database(share=0)  # long, nothing database-specific: the SQLite pass only
def test_population_figures_uploaded_weight_the_results(signed_in, answered_study):
    upload = reverse("survey:weighting_upload", args=[answered_study.slug])
    bad = signed_in.post(upload, {"targets": io.BytesIO(b"not,a,margins\n1,2,3\n")}, follow=True)
    assert "must be a CSV" in bad.content.decode() and not WeightingTargets.objects.exists()
    table = b"sample,count\nchina,1300\nwest,700\n"
    done = signed_in.post(upload, {"targets": io.BytesIO(table)})
    targets = WeightingTargets.objects.get()
    assert targets.kind == "poststratify" and f"upload%3A{targets.digest}" in done["Location"]
    body = page(signed_in, answered_study, f"?weighting=upload:{targets.digest}")
    assert "Post-stratified to" in body
    # The choice says what kind of figures it is in the reader's language (English before).
    chinese = signed_in.get(
        reverse("survey:study_results", args=[answered_study.slug]), HTTP_ACCEPT_LANGUAGE="zh-CN"
    ).content.decode()
    assert "事后分层表" in chinese and "Post-stratification table" not in chinese


def test_large_studies_are_built_in_the_background(signed_in, answered_study, settings):
    from django_tasks_db.models import DBTaskResult

    settings.CANDID_RESULTS_INLINE_MAX = 0
    for _ in range(2):
        body = page(signed_in, answered_study)
        assert 'http-equiv="refresh"' in body
    queued = DBTaskResult.objects.get()
    queued.task.call(*queued.task_result.args, **queued.task_result.kwargs)
    assert "About these figures" in page(signed_in, answered_study)


def test_a_build_past_its_inline_deadline_goes_to_the_background(
    signed_in, answered_study, settings, monkeypatch
):
    """A small study's results built inline under heavy load are handed to the worker when they
    would not finish in the page's time: past ``CANDID_INLINE_BUILD_SECONDS``, or near the end of the
    request budget. The page says they are being computed and refreshes, then shows them. Before,
    the budget stopped the request with the participants' "please try again" page (503)."""
    import time

    from django.db import connection, transaction
    from django_tasks_db.models import DBTaskResult

    from survey.services import results

    real, calls = results.compute_results, []

    def compute(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:  # stopped inside a query on PostgreSQL: the hand-off still writes
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(10)") if connection.vendor == "postgresql" else time.sleep(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(results, "compute_results", compute)
    for budget, deadline, query in ((2, 0, "?by=sample"), (0, 0.5, "?by=urban")):
        settings.CANDID_REQUEST_BUDGET_SECONDS, settings.CANDID_INLINE_BUILD_SECONDS = budget, deadline
        calls.clear()
        started = time.monotonic()
        body = page(signed_in, answered_study, query)  # 200, not the 503 page
        assert time.monotonic() - started < 5
        assert "being computed" in body and 'http-equiv="refresh"' in body
        queued = DBTaskResult.objects.get()
        queued.task.call(*queued.task_result.args, **queued.task_result.kwargs)
        queued.delete()
        assert "About these figures" in page(signed_in, answered_study, query)


def test_a_staff_page_stopped_at_the_budget_gets_staff_words_not_the_participants(
    signed_in, answered_study, settings, monkeypatch
):
    """Whatever else runs past the request budget on a results page (here: reading the options),
    the analyst gets a page for staff in their language that reloads itself, not the participants'
    "the survey is briefly unavailable ... nothing you answered is lost" (which it was before)."""
    import time

    from survey.views import results

    def runaway(*args, **kwargs):
        end = time.monotonic() + 30
        while time.monotonic() < end:
            pass

    monkeypatch.setattr(results, "breakdown_choices", runaway)
    settings.CANDID_REQUEST_BUDGET_SECONDS = 1
    signed_in.raise_request_exception = False
    url = reverse("survey:study_results", args=[answered_study.slug])
    for language, words in (("en", "The server is busy"), ("zh-hans", "服务器繁忙")):
        response = signed_in.get(url, HTTP_ACCEPT_LANGUAGE=language)
        body = response.content.decode()
        assert response.status_code == 503 and response["Retry-After"] == "5"
        assert words in body and 'http-equiv="refresh"' in body
        assert "briefly unavailable" not in body and "您已回答的内容" not in body


def test_aggregate_tables_command(answered_study, tmp_path, call_command_capture):
    from django.core.management import CommandError, call_command

    out = call_command_capture(
        "aggregate_tables",
        answered_study.slug,
        "-o",
        str(tmp_path),
        "--by",
        "sample",
        "--by",
        "urban",
        "--language",
        "zh",
    )
    assert "SYNTHETIC" in out and "suppressed" in out
    text = (tmp_path / f"{answered_study.slug}-results.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    hidden = sum(row["suppressed"] == "True" for row in rows)
    assert f"{len(rows)} rows, {hidden} of them suppressed" in out  # what the file holds
    assert "城市" in text or "农村" in text  # labels in the language asked for
    assert (
        openpyxl.load_workbook(tmp_path / f"{answered_study.slug}-results.xlsx", read_only=True).sheetnames[0]
        == "notes"
    )
    margins = tmp_path / "margins.csv"
    margins.write_text("variable,category,share\nurban,urban,0.6\nurban,rural,0.4\n", encoding="utf-8")
    # k 5: at k 10 a group of one weight (sample by urban, of 30 respondents) holds fewer than 10.
    weighted = call_command_capture(
        "aggregate_tables", answered_study.slug, "-o", str(tmp_path), "--weights", str(margins), "-k", "5"
    )
    assert "Wrote" in weighted
    assert "raked to margins.csv" in (tmp_path / f"{answered_study.slug}-results.csv").read_text(
        encoding="utf-8-sig"
    )
    for bad, message in (
        (["--by", "shoe_size"], "breakdowns of this study are"),
        (["--by", "comments"], "breakdowns of this study are"),  # free text: a traceback before
        (["-k", "3"], "at least 5"),
        (["--language", "fr"], "languages are"),
        (["--weights", str(tmp_path / "missing.csv")], "No such file"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("aggregate_tables", answered_study.slug, "-o", str(tmp_path), *bad)


def test_the_list_experiment_sits_beside_its_direct_question(signed_in, answered_study, settings):
    """The shipped questionnaire pairs ``le_scs`` with ``approve_scs`` (approving strongly or
    somewhat, as the Hawkins registry reads it): its section shows the indirect estimate, the direct
    question's share and their difference, each row named as what it is in the reader's language;
    where an indirect figure falls outside 0-100% (a difference of two means, 30 respondents) a note
    says it is not cut off. The download's rows say the same."""
    settings.CANDID_RESULTS_K = 5  # 15 respondents per sample
    body = html.unescape(page(signed_in, answered_study, "?lang=en&k=5"))
    table = ResultsSnapshot.objects.get().payload["table"]
    rows = [row for row in table if row["question"] == "le_scs"]
    direct = [r for r in rows if r["statistic"] == "direct" and r["level"] == "in" and not r["group"]]
    assert direct and direct[0]["variable"] == "approve_scs" and not direct[0]["suppressed"]
    assert direct[0]["level_label"] == "Strongly approve, Somewhat approve"
    assert [r["statistic"] for r in rows if r["statistic"] == "difference"] == ["difference"]
    section = body.split('id="q-le_scs"')[1].split('class="results-question"')[0]
    statement = "“I approve of the government giving every citizen a social credit score.”"
    assert f"{statement} — indirect estimate (list experiment)" in section
    assert (
        "“How much do you approve or disapprove of the government's social credit system?”: "
        "Strongly approve, Somewhat approve — direct question"
    ) in section
    assert "Difference, indirect − direct" in section
    indirect = [r for r in rows if r["statistic"] == "list_experiment" and not r["suppressed"]]
    beyond = any(
        min(r["ci_low"], r["estimate"]) < 0 or max(r["ci_high"], r["estimate"]) > 1 for r in indirect
    )
    assert beyond  # 30 respondents: the interval is wide
    assert "can fall below 0% or above 100%, as here; they are shown as computed, not cut off" in section
    assert "can fall below 0%" not in body.replace(section, "")  # said where it happens only

    signed_in.cookies["django_language"] = "zh-hans"
    chinese = html.unescape(page(signed_in, answered_study, "?lang=zh&k=5"))
    section = chinese.split('id="q-le_scs"')[1].split('class="results-question"')[0]
    assert "“我赞成政府给每个公民打社会信用分。”——间接估计（列表实验）" in section
    assert "“您在多大程度上赞成或反对政府的社会信用体系？”：非常赞成, 比较赞成——直接提问" in section
    assert "差值，间接 − 直接" in section and "不作截断" in section

    url = reverse("survey:study_results_download", args=[answered_study.slug, "csv"])
    text = signed_in.get(url + "?lang=en&k=5").content.decode("utf-8-sig")
    found = {
        (row["statistic"], row["level"], row["variable"]): row
        for row in csv.DictReader(io.StringIO(text))
        if row["question"] == "le_scs" and not row["group"]
    }
    assert found[("list_experiment", "", "le_scs")]["level_label"] == (
        f"{statement} — indirect estimate (list experiment)"
    )
    assert found[("direct", "in", "approve_scs")]["level_label"] == (
        "Strongly approve, Somewhat approve — direct question"
    )
    assert found[("difference", "", "le_scs")]["level_label"].startswith("difference, indirect − direct")


def test_item_nonresponse_reads_in_words_not_codes(signed_in, answered_study):
    """Item non-response names each question by its label and says when it is shown in words (it
    showed the variable code and the raw XPath condition, a new-user tester found)."""
    import re

    body = page(signed_in, answered_study, "?lang=en&k=5")
    snapshot = ResultsSnapshot.objects.get()
    rows = snapshot.payload["nonresponse"]
    conditional = [row for row in rows if row["relevance"]]
    assert rows and conditional
    assert all(row["label"] and row["label"] != row["variable"] for row in rows)
    for row in conditional:
        assert "${" not in row["relevance_text"] and "“" in row["relevance_text"]
    table = body[body.index("Item non-response") :]
    table = table[: table.index("</table>")]
    assert rows[0]["label"] in table and conditional[0]["relevance_text"].split("“")[1][:20] in table
    assert not re.search(r"\$\{\w+\}", table) and "<code>" not in table


def test_shipped_margins_are_offered_only_where_they_fit(signed_in, answered_study, tmp_path, monkeypatch):
    from survey.services import results

    assert "shipped:census-china-2020" in page(signed_in, answered_study)  # the shipped study's own
    unfit = tmp_path / "unfit.csv"
    unfit.write_text("sample,variable,category,share\nchina,gender,male,0.5\nchina,gender,nonesuch,0.5\n")
    monkeypatch.setitem(results.SHIPPED_TARGETS, "unfit", unfit)
    assert "shipped:unfit" not in page(signed_in, answered_study)  # a category the study lacks
    download = reverse("survey:study_results_download", args=[answered_study.slug, "csv"])
    refused = signed_in.get(download + "?weighting=shipped:unfit")
    assert refused.status_code == 400 and refused["Content-Type"].startswith("text/plain")
    assert "Unknown weighting" in refused.content.decode()


def test_a_download_whose_results_failed_is_refused_in_plain_text(signed_in, answered_study, monkeypatch):
    from survey.services import results
    from survey.services.refusals import Refused

    def fails(*args, **kwargs):
        raise Refused("the margins are for sample 'china', which has no respondents")

    monkeypatch.setattr(results, "compute_results", fails)
    download = reverse("survey:study_results_download", args=[answered_study.slug, "csv"])
    refused = signed_in.get(download)
    assert refused.status_code == 409 and refused["Content-Type"].startswith("text/plain")
    assert "no respondents" in refused.content.decode()


def test_analysts_pages_carry_no_empty_admin_sidebar(signed_in, answered_study):
    """The admin's sidebar, empty for an analyst, said "You don't have permission to view or edit
    anything." on the results and report pages they may read."""
    for url in (
        reverse("survey:study_results", args=[answered_study.slug]),
        reverse("survey:report", args=[answered_study.slug]),
        reverse("survey:results", args=[answered_study.slug]),
    ):
        body = signed_in.get(url).content.decode()
        assert "permission to view or edit anything" not in body and 'id="nav-sidebar"' not in body, url


def test_a_margins_file_is_refused_with_every_problem_and_not_kept(signed_in, answered_study):
    upload = reverse("survey:weighting_upload", args=[answered_study.slug])
    bad = b"variable,category,share\nurban,urban,0.5\nurban,atlantis,0.9\nurban,rural,-0.2\nshoe,big,1\n"
    body = html.unescape(signed_in.post(upload, {"targets": io.BytesIO(bad)}, follow=True).content.decode())
    assert "“atlantis” is not a choice of urban" in body
    assert "The share given for urban = rural is -0.2; a share must be above 0 and at most 1." in body
    assert "The shares of urban sum to 1.2, not 1." in body
    assert "“shoe” is not a single-choice question of this study." in body
    assert "counts up to 1" not in body
    assert not WeightingTargets.objects.exists() and "upload:" not in body.split('name="weighting"')[-1]
    cells = b"sample,count\nchina,1300\nwest,0\nmars,5\n"
    body = html.unescape(signed_in.post(upload, {"targets": io.BytesIO(cells)}, follow=True).content.decode())
    assert "“mars” is not a choice of sample" in body and "is 0; a count must be above 0." in body
    assert not WeightingTargets.objects.exists()


def test_aggregate_tables_refuses_weights_with_every_problem_and_writes_nothing(
    answered_study, tmp_path, call_command_capture
):
    """``--weights`` runs the checks the page's upload runs: every problem is printed, the command
    ends non-zero, and no file or release is made. Before, the file went straight to raking, which
    failed on its first problem (or weighted with it)."""
    from django.core.management import CommandError, call_command

    from survey.models import DisclosureRecord

    margins = tmp_path / "margins.csv"
    margins.write_text(
        "variable,category,share\nurban,urban,0.5\nurban,atlantis,0.9\nurban,rural,-0.2\nshoe,big,1\n",
        encoding="utf-8",
    )
    out = call_command_capture(
        "aggregate_tables", answered_study.slug, "-o", str(tmp_path / "out"), "--weights", str(margins)
    )
    for message in (
        "“atlantis” is not a choice of urban",
        "The share given for urban = rural is -0.2; a share must be above 0 and at most 1.",
        "The shares of urban sum to 1.2, not 1.",
        "“shoe” is not a single-choice question of this study.",
    ):
        assert message in out
    cells = tmp_path / "cells.csv"
    cells.write_text("sample,count\nchina,1300\nwest,0\nmars,5\n", encoding="utf-8")
    out = call_command_capture(
        "aggregate_tables", answered_study.slug, "-o", str(tmp_path / "out"), "--weights", str(cells)
    )
    assert "“mars” is not a choice of sample" in out and "is 0; a count must be above 0." in out
    with pytest.raises(CommandError, match="2 problems"):
        call_command(
            "aggregate_tables", answered_study.slug, "-o", str(tmp_path / "out"), "--weights", str(cells)
        )
    assert not (tmp_path / "out").exists() and not DisclosureRecord.objects.exists()


def test_figures_a_lower_k_showed_are_said_to_be_shown_at_a_higher_k(signed_in, answered_study, settings):
    """A page at k 10 after one at k 5: cells of 5 to 9 respondents the first showed stay shown
    (hiding them would not protect them), and the page, the CSV's note column and the XLSX notes
    say so instead of claiming that every figure under 10 is suppressed."""
    settings.CANDID_RESULTS_K = 5
    first = page(signed_in, answered_study, "?by=sample&lang=en&k=5")
    assert "releases made before" not in first
    again = html.unescape(page(signed_in, answered_study, "?by=sample&lang=en&k=10"))
    snapshot = next(s for s in ResultsSnapshot.objects.all() if s.payload["k"] == 10)
    count = snapshot.payload["shown_before"]
    assert count > 0
    assert f"{count} figures of fewer than 10 respondents are shown because releases made before" in again
    url = reverse("survey:study_results_download", args=[answered_study.slug, "csv"])
    rows = list(
        csv.DictReader(
            io.StringIO(signed_in.get(url + "?by=sample&lang=en&k=10").content.decode("utf-8-sig"))
        )
    )
    noted = [row for row in rows if row["note"].startswith("fewer than k respondents, shown because")]
    assert len(noted) == count and all(row["estimate"] for row in noted)
    book = openpyxl.load_workbook(
        io.BytesIO(signed_in.get(url.replace(".csv", ".xlsx") + "?by=sample&lang=en&k=10").content),
        read_only=True,
    )
    notes = " ".join(str(cell) for row in book["notes"].iter_rows(values_only=True) for cell in row if cell)
    assert f"Except {count} figures that releases made before already gave" in notes
