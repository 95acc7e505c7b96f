"""Claims registries per study (upload, check, versions, the shipped study's) and the claims report
in the app (its language, its stylesheet under the CSP, its downloads), tried as a new user would."""

import html
import json
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from analysis.claims import REGISTRY, load_registry
from survey.models import AuditEvent, ClaimsRegistry
from survey.roles import ANALYST, RESEARCHER

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "xlsform-corpus"
GOOD_DAY = """
source = "Our pilot's hypotheses (2026)"
title = {{ en = "Good days", zh = "好日子" }}
[[claims]]
id = "good-days"
paraphrase = {{ en = "Most people are having a good day.", zh = "大多数人今天过得不错。" }}
citation = {{ article = "Pilot protocol, 2026" }}
comparability = "Asked of the pilot's participants only."
[claims.statistic]
kind = "share"
label = {{ en = "say they are having a good day", zh = "说今天过得不错" }}
variable = "{variable}"
levels = ["yes"]
direction = ">"
threshold = 0.25
rule = "Supported if more than a quarter say yes (the whole 95% CI above 0.25)."
[[claims.references]]
source = "A national mood survey, 2025"
label = "Mood 2025"
year = 2025
value = 0.62
tag = "S"
"""


def upload(client: Client, study, text: str, action: str = "attach", name: str = "claims.toml"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("survey:claims_registry", args=[study.slug]),
        {"registry": SimpleUploadedFile(name, text.encode(), "application/toml"), "action": action},
    )


@pytest.fixture
def good_day_study(make_user):
    """A second study, imported from an XLSForm of pyxform's test suite, with 24 participants."""
    from survey.instrument_files import read_questionnaire_file
    from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish
    from survey.simulation import Respondent, walk
    from tests.helpers import close_fieldwork
    from tests.specs import consent_details

    form = CORPUS / "yes_or_no_question.xlsx"
    if not form.exists():
        pytest.skip(f"the shared XLSForm corpus is not at {CORPUS}")
    owner = make_user("pilot_owner", RESEARCHER)
    spec = read_questionnaire_file(form)
    spec["title"] = spec["title"] or {"en": "Good day"}  # the form has no settings sheet
    version = questionnaire_import(spec=spec, owner=owner, study_slug="good-day")
    consent = consent_create(study=version.study, texts={"en": "Consent."}, **consent_details(("en",)))
    questionnaire_publish(version=version, consent=consent)
    for seed in range(24):
        assert walk(Client(HTTP_ACCEPT_LANGUAGE="en"), "/s/good-day/", Respondent(seed, "main")).completed
    close_fieldwork(version.study)  # the pilot ends: every completed response is released to analysts
    return version.study, owner


def test_a_second_study_gets_its_own_registry_and_report(client, good_day_study, make_user):
    study, owner = good_day_study
    analyst = make_user("pilot_analyst", ANALYST)
    study.memberships.create(user=analyst, role="analyst")
    client.force_login(owner)

    # Without a registry: no claims section, and the report page says why.
    results = client.get(reverse("survey:results", args=[study.slug])).content.decode()
    assert "Claims report" not in results and "census" not in results and "none attached" in results
    page = client.get(reverse("survey:report", args=[study.slug])).content.decode()
    assert "no claims registry" in page and "Hawkins" not in page

    # A registry naming what the questionnaire lacks is refused, problem by problem.
    refused = upload(
        client, study, GOOD_DAY.format(variable="gen_trust").replace('"yes"]', '"yes", "maybe"]')
    )
    text = refused.content.decode()
    assert refused.status_code == 400 and not ClaimsRegistry.objects.filter(study=study).exists()
    assert (
        "Claim “good-days”, field “statistic.variable”" in text
        and "is not a variable of the questionnaire" in text
    )

    in_chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    in_chinese.force_login(owner)
    refused = html.unescape(upload(in_chinese, study, GOOD_DAY.format(variable="gen_trust")).content.decode())
    assert "说法“good-days”，字段“statistic.variable”：'gen_trust' 不是问卷中的变量" in refused

    # Checked only, then attached; the same file again changes nothing; an edit is version 2.
    good = GOOD_DAY.format(variable="good_day")
    checked = upload(client, study, good, action="check")
    assert checked.status_code == 200 and "fits this study" in checked.content.decode()
    assert not ClaimsRegistry.objects.filter(study=study).exists()
    assert upload(client, study, good).status_code == 302
    assert upload(client, study, good).status_code == 302
    assert upload(client, study, good.replace("0.25", "0.3")).status_code == 302
    assert list(study.claims_registries.values_list("version", flat=True)) == [2, 1]
    assert AuditEvent.objects.filter(action="claims_registry_attached", study=study).count() == 2
    registry_page = client.get(reverse("survey:claims_registry", args=[study.slug])).content.decode()
    assert "Version 2: Good days" in registry_page and "<code>good_day</code>" in registry_page

    # Analysts read the registry and its report, but cannot replace it.
    client.force_login(analyst)
    assert upload(client, study, good.replace("0.3", "0.4")).status_code == 404
    assert study.claims_registries.count() == 2
    download = client.get(reverse("survey:claims_registry_download", args=[study.slug, 1]))
    assert download.status_code == 200 and b"threshold = 0.25" in download.content
    report = client.get(reverse("survey:report", args=[study.slug]) + "?language=zh-hans").content.decode()
    assert "大多数人今天过得不错" in report and "Mood 2025" in report and "good-days" in report
    assert "Hawkins" not in report and "census" not in report and "welcome-scs" not in report


def test_the_claims_report_command_takes_a_registry(tmp_path, good_day_study, call_command_capture):
    study, _ = good_day_study
    refused = call_command_capture("claims_report", study.slug, "-o", str(tmp_path))
    assert "has no claims registry" in refused and not (tmp_path / "claims.html").exists()
    path = tmp_path / "pilot.toml"
    path.write_text(GOOD_DAY.format(variable="good_day"), encoding="utf-8")
    out = call_command_capture(
        "claims_report",
        study.slug,
        "-o",
        str(tmp_path / "zh"),
        "--registry",
        str(path),
        "--language",
        "zh",
        "--pdf",
    )
    assert "good-days: supported" in out and "SYNTHETIC" not in out  # real participants of the pilot
    html = (tmp_path / "zh" / "claims.html").read_text(encoding="utf-8")
    assert "大多数人今天过得不错" in html and (tmp_path / "zh" / "claims.pdf").read_bytes().startswith(
        b"%PDF"
    )
    assert "Cannot read /no/such.toml" in call_command_capture(
        "claims_report", study.slug, "-o", str(tmp_path), "--registry", "/no/such.toml"
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD_DAY.format(variable="approve_scs"), encoding="utf-8")
    refused = call_command_capture(
        "claims_report", study.slug, "-o", str(tmp_path / "x"), "--registry", str(bad)
    )
    assert "claim 'good-days', field 'statistic.variable'" in refused


def test_the_shipped_study_carries_the_hawkins_registry_and_keeps_uploads(admin_user_, tmp_path):
    import shutil

    from survey.services.studies import study_load_bundle
    from tests.conftest import SHIPPED_STUDY

    bundle = tmp_path / "bundle"
    shutil.copytree(SHIPPED_STUDY, bundle)
    study, created = study_load_bundle(directory=bundle, owner=admin_user_)
    first = study.claims_registries.get()
    assert created and first.version == 1 and first.file_name == "hawkins_2017.toml"
    assert first.claims == len(load_registry())
    assert first.text == REGISTRY.read_text(encoding="utf-8")
    study_load_bundle(directory=bundle, owner=admin_user_)  # loaded again: nothing new
    assert study.claims_registries.count() == 1
    (bundle / "hawkins_2017.toml").write_text(first.text.replace("threshold = 0.5", "threshold = 0.6", 1))
    study_load_bundle(directory=bundle, owner=admin_user_)  # the bundle's own copy is found first
    assert study.claims_registries.first().version == 2
    client = Client()
    client.force_login(admin_user_)
    upload(client, study, first.text.replace("threshold = 0.5", "threshold = 0.7", 1), name="ours.toml")
    (bundle / "hawkins_2017.toml").write_text(first.text)
    study_load_bundle(directory=bundle, owner=admin_user_)  # a registry uploaded in the browser stays
    assert study.claims_registries.first().file_name == "ours.toml"


def test_attach_claims_command(shipped_study, tmp_path, call_command_capture):
    assert "already uses this registry" in call_command_capture(
        "attach_claims", shipped_study.slug, str(REGISTRY)
    )
    changed = tmp_path / "changed.toml"
    changed.write_text(REGISTRY.read_text(encoding="utf-8").replace("value = 0.631", "value = 0.632"))
    assert f"fits trust-and-rating-systems: {len(load_registry())} claims" in call_command_capture(
        "attach_claims", shipped_study.slug, str(changed), "--check"
    )
    assert shipped_study.claims_registries.count() == 1
    assert "as claims registry version 2" in call_command_capture(
        "attach_claims", shipped_study.slug, str(changed)
    )
    broken = tmp_path / "broken.toml"
    broken.write_text(REGISTRY.read_text(encoding="utf-8").replace('first = "china"', 'first = "mars"'))
    out = call_command_capture("attach_claims", shipped_study.slug, str(broken))
    assert "was not attached" in out and "claim 'west-vs-china', field 'statistic.first'" in out
    assert "No study 'nope'" in call_command_capture("attach_claims", "nope", str(broken))


def test_the_report_in_the_app(client, answered_study, make_user):
    """The shipped study's report as an analyst reads it: summary first, styled by a static
    stylesheet (no inline style under the CSP), in Chinese on request, and downloadable."""
    analyst = make_user("reader", ANALYST)
    answered_study.memberships.create(user=analyst, role="analyst")
    client.force_login(analyst)
    url = reverse("survey:report", args=[answered_study.slug])
    page = client.get(url)
    html = page.content.decode()
    article = html[html.index('<article class="claims-report"') : html.index("</article>")]
    assert page.status_code == 200 and "/static/analysis/report.css" in html
    assert "style=" not in article and "<script" not in article
    assert (
        "Content-Security-Policy" in page.headers
        and "style-src 'self'" in page.headers["Content-Security-Policy"]
    )
    assert (
        article.index("SYNTHETIC DATA")
        < article.index("report-summary")
        < article.index('id="claim-trust-deficit"')
    )
    assert "welcome-scs" in article and "list experiment" in article
    from django.contrib.staticfiles import finders

    stylesheet = finders.find("analysis/report.css")  # what collectstatic gathers and the server serves
    assert stylesheet and "@media print" in Path(stylesheet).read_text(encoding="utf-8")

    chinese = client.get(url + "?language=zh-hans").content.decode()
    assert "许多中国人欢迎社会信用体系" in chinese and "中国大陆样本" in chinese  # the registry's own words
    assert (
        ">摘要</h2>" in chinese and "列表实验" in chinese and "60岁及以上" in chinese
    )  # Candid's, the questionnaire's
    assert "Summary" not in chinese and "60 or older" not in chinese
    assert "说法检验报告：信任与评分体系" in chinese  # the study's own title in Chinese

    for fmt, start in (("pdf", b"%PDF"), ("json", b"{"), ("html", b"<!doctype html>")):
        download = client.get(reverse("survey:report_download", args=[answered_study.slug, fmt]))
        assert download.status_code == 200 and download.content.startswith(start), fmt
        assert "synthetic" in download["Content-Disposition"]
    assert client.get(reverse("survey:report_download", args=[answered_study.slug, "exe"])).status_code == 404
    assert AuditEvent.objects.filter(action="report_downloaded").count() == 3

    # Issue 16 review: ?language=zh gave an English PDF while the results and the CLI take zh.
    for code in ("zh", "zh-Hans", "zh_CN", "zh-hans"):
        download = client.get(
            reverse("survey:report_download", args=[answered_study.slug, "json"]) + f"?language={code}"
        )
        assert download.json()["language"] == "zh-hans", code
    pdf = client.get(reverse("survey:report_download", args=[answered_study.slug, "pdf"]) + "?language=zh")
    assert pdf.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="report_downloaded").latest("pk").detail["language"] == "zh-hans"


def test_a_registry_that_no_longer_reads_gives_a_message_not_an_error(answered_study):
    """A kept registry version is never changed; should the rules that read it tighten, the
    report says which version cannot be used and why."""
    from survey.services.reports import report_build

    ClaimsRegistry.objects.filter(study=answered_study).update(text='source = "x"\n')
    from survey.services.disclosure import in_words

    snapshot = report_build(study_id=answered_study.pk, weighted=False)
    problem = in_words(snapshot.problem)
    assert snapshot.data == {} and "Version 1 of the study's claims registry cannot be used" in problem
    assert "the registry has no claims" in problem


@pytest.mark.one_database  # analysis-heavy, nothing database-specific: the PostgreSQL pass only
def test_the_report_can_leave_out_flagged_responses_and_says_how_many(
    client, answered_study, make_user, tmp_path, call_command_capture
):
    """Page, downloads and command: the responses failing the XLSForm's attention check
    (``correct=somewhat_disagree``) are left out on request, and the report says so and how many."""
    from analysis.suppression import round_count
    from survey.bridge import responses_frame

    frame, _codebook = responses_frame(answered_study)
    failed = int((frame["attention"].notna() & (frame["attention"] != "somewhat_disagree")).sum())
    assert 0 < failed < len(frame)  # the simulation's inattentive respondents
    analyst = make_user("careful", ANALYST)
    answered_study.memberships.create(user=analyst, role="analyst")
    client.force_login(analyst)
    url = reverse("survey:report", args=[answered_study.slug])
    plain = client.get(url).content.decode()
    assert "flagged for data quality" not in plain and 'name="exclude" value="attention_failed"' in plain
    page = client.get(url, {"exclude": "attention_failed"}).content.decode()
    said = (
        f"{round_count(failed)} responses flagged for data quality (a failed attention check) are left out."
    )
    assert said in page and "exclude=attention_failed" in page  # the downloads keep the choice
    assert f"Judged on {round_count(len(frame) - failed)} complete responses" in page
    chinese = client.get(url, {"exclude": "attention_failed", "language": "zh-hans"}).content.decode()
    assert f"因数据质量被标记的{round_count(failed)}份回答（未通过注意力检查）未计入。" in chinese
    download = client.get(
        reverse("survey:report_download", args=[answered_study.slug, "json"]), {"exclude": "attention_failed"}
    )
    data = download.json()
    assert data["quality"]["flags"] == ["attention_failed"] and data["quality"]["excluded"] == round_count(
        failed
    )
    assert "excluding-flagged" in download["Content-Disposition"]
    pdf = client.get(
        reverse("survey:report_download", args=[answered_study.slug, "pdf"]), {"exclude": "attention_failed"}
    )
    assert pdf.content.startswith(b"%PDF")
    assert "flagged for data quality" not in client.get(url).content.decode()  # kept apart
    assert AuditEvent.objects.filter(action="report_viewed", detail__exclude=["attention_failed"]).exists()

    out = call_command_capture(
        "claims_report", answered_study.slug, "-o", str(tmp_path), "--exclude", "attention_failed"
    )
    assert f"Left out {failed} responses flagged for attention_failed" in out
    assert said in (tmp_path / "claims.html").read_text(encoding="utf-8")
    refused = call_command_capture(
        "claims_report", answered_study.slug, "-o", str(tmp_path), "--exclude", "bogus"
    )
    assert "invalid choice: 'bogus'" in refused


def test_every_problem_of_an_upload_is_listed_in_one_round(good_day_study):
    """A claim with a malformed field and another naming a variable the questionnaire lacks: both
    in one answer (before, the second showed only after the first was fixed and uploaded again)."""
    from analysis.claims import RegistryError
    from survey.services.claims import claims_registry_check

    study, _owner = good_day_study
    first = GOOD_DAY.format(variable="no_such_question")
    second = first.split("[[claims]]", 1)[1].replace('id = "good-days"', 'id = "bad-days"')
    second = second.replace("threshold = 0.25", 'threshold = "a quarter"')
    with pytest.raises(RegistryError) as refused:
        claims_registry_check(study=study, content=first + "[[claims]]" + second)
    found = {(p.claim, p.field) for p in refused.value.problems}
    assert ("good-days", "statistic.variable") in found
    assert ("bad-days", "statistic.threshold") in found
    # The malformed claim is checked against the questionnaire too (issue 16 review: a schema
    # problem hid the questionnaire's problems of the same claim until it was fixed).
    assert ("bad-days", "statistic.variable") in found


def test_the_report_is_offered_in_the_study_and_registry_languages_only(rf):
    """An English-only study with an English registry is not offered 简体中文 (nor read in it when
    asked); a Chinese questionnaire or registry text makes it available."""
    from survey.models import ReportSnapshot, Study
    from survey.views.claims import _language, _languages

    english = Study(slug="en-only", languages=["en"])
    registry_en = ReportSnapshot(data={"registry": {"languages": ["en"]}})
    assert [code for code, _name in _languages(english, registry_en)] == ["en"]
    assert _language(rf.get("/?language=zh-hans"), english, registry_en) == "en"
    registry_both = ReportSnapshot(data={"registry": {"languages": ["en", "zh"]}})
    assert [code for code, _name in _languages(english, registry_both)] == ["en", "zh-hans"]
    both = Study(slug="both", languages=["en", "zh"])
    assert [code for code, _name in _languages(both, registry_en)] == ["en", "zh-hans"]
    assert _language(rf.get("/?language=zh-hans"), both, registry_en) == "zh-hans"


def test_census_margins_fit_only_a_study_with_their_choices(answered_study, monkeypatch):
    from survey.services import reports

    assert reports.margins_fit(answered_study)  # the shipped study's own margins
    margins = reports._shipped_margins().copy()
    margins.loc[margins["category"] == "college", "category"] = "doctorate"  # a choice the study lacks
    monkeypatch.setattr(reports, "_shipped_margins", lambda: margins)
    assert not reports.margins_fit(answered_study)


def test_every_command_and_page_takes_the_same_language_codes(answered_study, tmp_path, call_command_capture):
    """``zh``, ``zh-hans``, ``zh-Hans`` and ``zh_CN`` name Chinese for the claims report's page and
    command, the results page and ``aggregate_tables`` alike; an unknown code is refused by name."""
    from survey.languages import site_language, study_language
    from survey.views.results import _language as results_language

    for code in ("zh", "zh-hans", "zh-Hans", "zh_CN", "zh-SG", " zh "):
        assert site_language(code) == "zh-hans" and study_language(code, ["en", "zh"]) == "zh", code
        assert results_language(answered_study, code) == "zh", code
    assert study_language("zh-hans", ["en", "zh-CN"]) == "zh-CN" and study_language("fr", ["en"]) is None
    assert site_language("fr") is None and site_language("") is None and site_language("<b>") is None

    out = call_command_capture(
        "claims_report", answered_study.slug, "-o", str(tmp_path / "r"), "--language", "zh_CN"
    )
    assert (
        "Wrote" in out and json.loads((tmp_path / "r" / "claims.json").read_text())["language"] == "zh-hans"
    )
    refused = call_command_capture(
        "claims_report", answered_study.slug, "-o", str(tmp_path / "x"), "--language", "fr"
    )
    assert "No report language 'fr'; the languages are en, zh-hans." in refused
    out = call_command_capture(
        "aggregate_tables", answered_study.slug, "-o", str(tmp_path / "a"), "--language", "zh-Hans", "-k", "5"
    )
    assert "Wrote" in out, out


def test_the_summarys_figure_list_has_no_bullet_under_the_admins_list_style():
    """The admin's stylesheet gives every ``ul > li`` a square bullet (``list-style-type`` on the
    item, which a ``list-style`` on the list does not override): the summary's published figures
    showed one in their table cell."""
    import re

    import django.contrib.admin

    admin = Path(django.contrib.admin.__file__).parent / "static/admin/css/base.css"
    assert re.search(r"ul > li \{\s*list-style-type: square", admin.read_text(encoding="utf-8"))
    from analysis.report_html import STYLESHEET

    css = STYLESHEET.read_text(encoding="utf-8")
    assert re.search(r"\.claims-report \.figures > li \{[^}]*list-style: none", css)
