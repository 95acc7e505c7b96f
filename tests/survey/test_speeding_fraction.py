"""A study's speeding fraction: set in the studio's settings, used by every release of the study
(results page and downloads, claims report, ``aggregate_tables``, ``claims_report``, exports), and
fixed from the first release, so that two releases never differ by the respondents between two
fractions."""

from __future__ import annotations

import html
import io

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from survey.models import DisclosureRecord, ResultsSnapshot, Study, StudyMembership
from survey.models.responses import Response
from survey.roles import ANALYST
from survey.services.disclosure import E_SPEEDING_CHANGED
from survey.services.results import ResultsOptions, results_build
from survey.services.studies import E_SPEEDING_FIXED
from survey.views.studio.forms import E_SPEEDING, StudyForm
from tests.survey.test_studio import untouched

pytestmark = pytest.mark.django_db

FAST, USUAL = 240, 600  # seconds: 0.4 of the median, between a third and a half


@pytest.fixture
def paced_study(answered_study):
    """The answered study with five responses per sample (ten of 30) at 0.4 of their sample's median
    duration and the rest at the median: a third flags none of them, a half flags the ten."""
    for sample in answered_study.samples.all():
        ids = list(Response.objects.filter(sample=sample).order_by("pk").values_list("pk", flat=True))
        assert len(ids) == 15
        Response.objects.filter(pk__in=ids[5:]).update(duration_seconds=USUAL)
        Response.objects.filter(pk__in=ids[:5]).update(duration_seconds=FAST)
    return answered_study


@pytest.fixture
def analyst_client(make_user, answered_study):
    user = make_user("pace_analyst", ANALYST)
    StudyMembership.objects.create(study=answered_study, user=user, role="analyst")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def admin_client_(answered_study, admin_user_):
    """Signed in after the answered study's tables are in place (their replay drops sessions)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user_)
    return client


def settings_url(study: Study) -> str:
    return reverse("survey:studio_settings", args=[study.slug])


def set_fraction(study: Study, fraction: float) -> None:
    Study.objects.filter(pk=study.pk).update(speeding_fraction=fraction)
    study.refresh_from_db()


# --- the setting --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value"), [("1/3", 1 / 3), ("0.25", 0.25), (" 1/2 ", 0.5)])
def test_the_form_takes_a_fraction_or_a_decimal(text, value):
    form = StudyForm({"speeding_fraction": text})
    form.is_valid()
    assert "speeding_fraction" not in form.errors and form.cleaned_data["speeding_fraction"] == value


@pytest.mark.parametrize("text", ["0", "1", "1.5", "abc", "1/0"])
def test_the_form_refuses_a_fraction_not_strictly_between_0_and_1(text):
    form = StudyForm({"speeding_fraction": text})
    assert not form.is_valid()
    assert form.errors["speeding_fraction"] == [str(E_SPEEDING)]
    assert "strictly between 0 and 1" in str(E_SPEEDING)


def test_a_researcher_sets_the_fraction_in_the_settings_and_reads_it_as_a_fraction(
    admin_client_, answered_study
):
    url = settings_url(answered_study)
    page = admin_client_.get(url).content.decode()
    assert 'name="speeding_fraction" value="1/3"' in page  # the default, as a fraction
    assert "its sample's median duration" in page and "readonly" not in page
    data = {**untouched(page, "study-form"), "save": ["1"], "speeding_fraction": ["1/2"]}
    assert admin_client_.post(url, data).status_code == 302
    answered_study.refresh_from_db()
    assert answered_study.speeding_fraction == 0.5
    assert 'name="speeding_fraction" value="1/2"' in admin_client_.get(url).content.decode()
    refused = admin_client_.post(url, {**data, "speeding_fraction": ["1.5"]})
    assert refused.status_code == 400 and html.unescape(refused.content.decode()).count(str(E_SPEEDING)) == 1
    answered_study.refresh_from_db()
    assert answered_study.speeding_fraction == 0.5
    chinese = admin_client_.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "作答过快比例" in chinese


def test_the_fraction_is_fixed_by_the_first_release(admin_client_, analyst_client, answered_study):
    """Free until a release is recorded; then shown read-only with why, and a POST changing it
    anyway is refused with that reason and changes nothing."""
    url = settings_url(answered_study)
    set_fraction(answered_study, 0.5)
    assert answered_study.first_released_at is None
    analyst_client.get(reverse("survey:study_results", args=[answered_study.slug]))
    answered_study.refresh_from_db()
    assert answered_study.first_released_at is not None and DisclosureRecord.objects.exists()
    page = admin_client_.get(url).content.decode()
    assert "readonly" in page and 'value="1/2"' in page
    assert html.unescape(E_SPEEDING_FIXED) in html.unescape(page)
    data = {**untouched(page, "study-form"), "save": ["1"]}
    assert data["speeding_fraction"] == ["1/2"]
    changed = admin_client_.post(url, {**data, "speeding_fraction": ["1/3"], "target_size": ["99"]})
    assert changed.status_code == 400
    assert html.unescape(changed.content.decode()).count(E_SPEEDING_FIXED) == 2  # the reason and the error
    answered_study.refresh_from_db()
    assert answered_study.speeding_fraction == 0.5 and answered_study.target_size != 99
    assert admin_client_.post(url, {**data, "target_size": ["99"]}).status_code == 302  # the rest saves
    answered_study.refresh_from_db()
    assert answered_study.target_size == 99 and answered_study.speeding_fraction == 0.5


def test_a_release_computed_at_a_fraction_no_longer_the_studys_is_refused(answered_study):
    """A build started before the fraction changed (the background worker's) records nothing."""
    set_fraction(answered_study, 0.5)
    options = {**ResultsOptions().__dict__, "speeding": 1 / 3}
    options.pop("extra")
    snapshot = results_build(study_id=answered_study.pk, options=options)
    assert snapshot.problem == E_SPEEDING_CHANGED and not snapshot.payload
    answered_study.refresh_from_db()
    assert answered_study.first_released_at is None and not DisclosureRecord.objects.exists()


# --- every release uses it --------------------------------------------------------------------------


@pytest.mark.parametrize(("fraction", "shown", "flagged"), [(1 / 3, "1/3", 0), (0.5, "1/2", 10)])
def test_the_results_page_flags_by_the_studys_fraction(analyst_client, paced_study, fraction, shown, flagged):
    set_fraction(paced_study, fraction)
    url = reverse("survey:study_results", args=[paced_study.slug])
    body = html.unescape(analyst_client.get(url + "?speeding=0.9").content.decode())
    snapshot = ResultsSnapshot.objects.get()
    assert snapshot.options["speeding"] == fraction  # the study's, not the request's
    speeding = next(row for row in snapshot.payload["quality"] if row["flag"] == "speeding")
    assert speeding["count"] == flagged and not speeding["suppressed"]
    assert f"Speeding (under {shown} of the sample's median duration)</th>\n<td>{flagged}</td>" in body
    assert f"Speeding: a completed response faster than {shown} of its sample's median duration" in body
    chinese = analyst_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"作答过快（用时少于样本用时中位数的 {shown}）" in chinese
    download = analyst_client.get(reverse("survey:study_results_download", args=[paced_study.slug, "xlsx"]))
    book = openpyxl.load_workbook(io.BytesIO(download.content))
    notes = {row[0]: row[1] for row in book["notes"].iter_rows(values_only=True)}
    assert notes["Speeding flag"] == f"duration under {shown} of the sample's median"


@pytest.mark.parametrize(("fraction", "shown", "flagged"), [(1 / 3, "1/3", 0), (0.5, "1/2", 10)])
def test_the_report_leaves_out_speeders_by_the_studys_fraction(
    analyst_client, paced_study, fraction, shown, flagged
):
    set_fraction(paced_study, fraction)
    url = reverse("survey:report", args=[paced_study.slug])
    page = html.unescape(analyst_client.get(url, {"exclude": "speeding"}).content.decode())
    said = (
        f"{flagged} responses flagged for data quality (speeding (under {shown} of the sample's median "
        "duration)) are left out."
    )
    assert said in page


def test_the_claims_report_command_takes_the_studys_fraction(paced_study, tmp_path, call_command_capture):
    set_fraction(paced_study, 0.5)
    refused = call_command_capture(
        "claims_report", paced_study.slug, "-o", str(tmp_path / "a"), "--speeding", "1/3"
    )
    assert "not the study's speeding fraction (1/2)" in refused and not (tmp_path / "a").exists()
    out = call_command_capture(
        "claims_report", paced_study.slug, "-o", str(tmp_path), "--exclude", "speeding"
    )
    assert "Left out 10 responses flagged for speeding (speeding: under 1/2 of the median)" in out
    report = (tmp_path / "claims.html").read_text(encoding="utf-8")
    assert "speeding (under 1/2 of the sample&#x27;s median duration)" in report
    paced_study.refresh_from_db()
    assert paced_study.speeding_fixed
    again = call_command_capture(
        "claims_report", paced_study.slug, "-o", str(tmp_path / "b"), "--speeding", "0.5"
    )
    assert "Wrote claims.html" in again  # the study's own fraction, said again
    locked = call_command_capture(
        "claims_report", paced_study.slug, "-o", str(tmp_path / "c"), "--speeding", "1/3"
    )
    assert E_SPEEDING_FIXED in locked and not (tmp_path / "c").exists()
    bad = call_command_capture(
        "claims_report", paced_study.slug, "-o", str(tmp_path / "d"), "--speeding", "2"
    )
    assert "not strictly between 0 and 1" in bad


def test_aggregate_tables_uses_the_studys_fraction(paced_study, tmp_path, call_command_capture):
    set_fraction(paced_study, 0.5)
    call_command_capture("aggregate_tables", paced_study.slug, "-o", str(tmp_path))
    book = openpyxl.load_workbook(tmp_path / f"{paced_study.slug}-results.xlsx")
    notes = {row[0]: row[1] for row in book["notes"].iter_rows(values_only=True)}
    assert notes["Speeding flag"] == "duration under 1/2 of the sample's median"
    record = DisclosureRecord.objects.get()
    assert record.options["speeding"] == 0.5
    paced_study.refresh_from_db()
    assert paced_study.speeding_fixed


def test_studies_that_released_before_the_setting_keep_a_third_fixed(shipped_study):
    """The migration takes a study's first release from what the ledger and kept results hold."""
    import importlib

    from django.apps import apps

    from survey.models import DisclosureLedger

    migration = importlib.import_module("survey.migrations.0021_speeding_fraction")
    ledger = DisclosureLedger.objects.create(study=shipped_study, revision="r")
    record = DisclosureRecord.objects.create(ledger=ledger, origin="results")
    migration.first_releases(apps, None)
    shipped_study.refresh_from_db()
    assert shipped_study.first_released_at == record.created_at and shipped_study.speeding_fixed
    assert shipped_study.speeding_fraction == 1 / 3


def test_the_flag_export_flags_by_the_studys_fraction_and_its_codebook_says_so(paced_study, tmp_path):
    import pandas as pd

    from survey.bridge import study_codebook
    from survey.services.exports import export_write

    set_fraction(paced_study, 0.5)
    path = tmp_path / "out.csv"
    export_write(paced_study, study_codebook(paced_study), path, "csv", language="en", quality_flags=True)
    assert pd.read_csv(path)["quality_speeding"].sum() == 10
    codebook = html.unescape((tmp_path / "out.csv.codebook.html").read_text(encoding="utf-8"))
    assert "duration under 1/2 of the sample's median" in codebook
