"""The researcher's whole journey in a real Chromium, from an empty database, as the demo researcher:
sign in, create a study, import the XLSForm (English and Chinese), fix a label with the live check,
write the consent, preview in Chinese with each list-experiment arm, publish, open the link and the
QR code's URL, a participant completes, the monitor shows it. Also a refused spreadsheet (nothing
created) and quotas under concurrency. axe on every studio page type; screenshots, desktop and phone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from survey.models import PendingResponse, QuestionnaireVersion, Quota, Study
from survey.roles import RESEARCHER
from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish
from survey.simulation import Respondent
from tests.browser.pages import submit
from tests.browser.test_participant_browser import complete
from tests.conftest import SHIPPED_STUDY
from tests.helpers import close_fieldwork
from tests.specs import consent_details, tiny_spec

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def axe_check(axe_check):
    """axe on a studio page: no violation at all, whatever its impact (the report is kept beside the
    screenshots)."""
    from tests.browser.conftest import OUTPUT

    def check(page, name: str) -> None:
        axe_check(page, name)
        report = (OUTPUT / f"{name}.axe.txt").read_text()
        assert report == "no violations\n", report

    return check


@pytest.fixture
def researcher(django_user_model):
    user = django_user_model.objects.create_user(
        username="demo-researcher", password="pw-demo-researcher", is_staff=True
    )
    user.groups.add(Group.objects.get(name=RESEARCHER))
    return user


@pytest.fixture
def studio(browser, live_server, researcher, screenshots):
    context = browser.new_context(
        locale="en-GB", viewport=DESKTOP, extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"}
    )
    page = context.new_page()

    def shoot(name: str) -> None:
        screenshots(page, f"studio-{name}-desktop")
        page.set_viewport_size(PHONE)
        screenshots(page, f"studio-{name}-phone")
        page.set_viewport_size(DESKTOP)

    page.goto(f"{live_server.url}/studio/")
    assert "/admin/login/" in page.url
    page.locator('input[name="username"]').fill("demo-researcher")
    page.locator('input[name="password"]').fill("pw-demo-researcher")
    with page.expect_navigation():
        page.locator('input[type="submit"]').click()
    assert page.url.endswith("/studio/")
    yield page, shoot
    context.close()


def click(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def follow(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("link", name=name, exact=True).first.click()


def test_the_researchers_journey(studio, live_server, browser, axe_check, screenshots):
    page, shoot = studio
    axe_check(page, "studio-home-empty")
    shoot("home-empty")
    follow(page, "Create study")
    page.locator("#id_title__en").fill("Trust and ratings, spring wave")
    page.locator("#id_title__zh-Hans").fill("信任与评分，春季")
    page.locator("#id_slug").fill("spring")
    page.locator("#id_samples-0-name").fill("Mainland online panel")
    page.locator("#id_samples-0-slug").fill("china")
    page.locator("#id_samples-0-default_language").select_option("zh-Hans")
    axe_check(page, "studio-create")
    shoot("create")
    click(page, "Create study")
    assert page.url.endswith("/studio/spring/import/")

    page.locator('input[type="file"]').set_input_files(str(SHIPPED_STUDY / "questionnaire.xlsx"))
    axe_check(page, "studio-import")
    click(page, "Import")
    assert re.search(r"/studio/spring/v1/$", page.url)
    assert "is imported as draft version 1" in page.inner_text(".messages")
    assert "en, zh" in page.inner_text(".messages")
    axe_check(page, "studio-editor")
    shoot("editor")

    # Fix a label (and see the live check of an expression on the way).
    code = (
        QuestionnaireVersion.objects.get(study__slug="spring")
        .questions.filter(parent__isnull=True)
        .exclude(type="note")
        .first()
        .code
    )
    with page.expect_navigation():
        page.locator(f"#q-{code} a", has_text="Edit").first.click()
    relevance = page.locator("#id_relevance")
    original = relevance.input_value()
    relevance.fill("${nothing_here} = ")
    check = page.locator("#id_relevance_check")
    check.locator(".bad").wait_for()
    assert "ends too early" in check.inner_text() or "not a question" in check.inner_text()
    relevance.fill(original)
    axe_check(page, "studio-question")
    shoot("question")
    page.locator("#id_label__zh").fill("（已修改）我们想先问几个关于信任的问题。")
    click(page, "Save question")
    assert "（已修改）我们想先问几个关于信任的问题。" in page.inner_text(f"#q-{code}")

    # Consent, with who is asking.
    follow(page, "Consent")
    follow(page, "New consent version")
    for field, (english, chinese) in {
        "texts": ("Please take part.", "请参加。"),
        "research_team": ("The spring team", "春季团队"),
        "contact": ("team@example.org", "team@example.org"),
        "ethics_committee": ("University ethics board", "大学伦理委员会"),
    }.items():
        page.locator(f"#id_{field}__en").fill(english)
        page.locator(f"#id_{field}__zh-Hans").fill(chinese)
    page.locator("#id_ethics_reference").fill("UEB-2025-17")
    axe_check(page, "studio-consent")
    click(page, "Save consent")

    # Preview in Chinese with each list-experiment arm.
    page.goto(f"{live_server.url}/studio/spring/v1/preview/zh/?arm=control")
    control = page.inner_text("main")
    axe_check(page, "studio-preview")
    page.goto(f"{live_server.url}/studio/spring/v1/preview/zh/?arm=treatment")
    treatment = page.inner_text("main")
    assert "以下说法中，您同意几条" in treatment and len(treatment) > len(control)
    shoot("preview-zh")
    # A test run in Chinese, in the list experiment's treatment arm, with a chosen seed.
    page.goto(f"{live_server.url}/studio/spring/v1/test/")
    page.locator("#id_language").select_option("zh")
    page.locator("#id_seed").fill("17")
    page.locator("#id_arm__le_scs").select_option("treatment")
    axe_check(page, "studio-test-start")
    click(page, "Start the test run")
    assert "seed 17" in page.inner_text(".test-banner") and "le_scs" in page.inner_text(".test-banner")
    axe_check(page, "studio-test-run")
    shoot("test-run")

    # Publish: the checklist is clear, confirm.
    page.goto(f"{live_server.url}/studio/spring/v1/publish/")
    assert page.locator("#checklist li.todo").count() == 0
    axe_check(page, "studio-publish")
    shoot("publish")
    page.get_by_label("I understand").check()
    click(page, "Publish version 1")
    assert page.url.endswith("/studio/spring/distribute/")
    axe_check(page, "studio-distribute")
    shoot("distribute")

    # The link, and the URL the QR code holds (the SVG's title names it).
    link = page.locator("#link-china").input_value()
    assert link == f"{live_server.url}/s/spring/"
    qr = page.request.get(live_server.url + page.locator("figure.qr img").get_attribute("src"))
    assert qr.headers["content-type"] == "image/svg+xml" and link in qr.text()

    participant = browser.new_context(
        locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    )
    answering = participant.new_page()
    answering.goto(link)
    assert "谁在开展这项研究" in answering.content() and "UEB-2025-17" in answering.content()
    receipt = complete(answering, link, Respondent(11, "china"))
    assert receipt
    participant.close()
    assert PendingResponse.objects.filter(study__slug="spring", status="complete").count() == 1
    close_fieldwork(Study.objects.get(slug="spring"))  # one response: released when the fieldwork closes

    follow(page, "Fieldwork")
    by_sample = page.inner_text("#by-sample")
    assert re.search(r"Mainland online panel\s+1\s+1\s", by_sample)
    assert page.locator("#dropoff tbody tr").count() >= 2
    axe_check(page, "studio-monitor")
    shoot("monitor")
    page.goto(f"{live_server.url}/studio/")
    assert "spring" in page.inner_text("#studies")
    shoot("home")


def test_a_refused_spreadsheet_creates_nothing(studio, researcher, axe_check, tmp_path: Path):
    page, shoot = studio
    study = Study.objects.create(owner=researcher, slug="broken", title="Broken", languages=["en", "zh"])
    spec = tiny_spec()
    spec["sections"][0]["questions"][1]["relevance"] = "${q1} = = 'yes'"
    from survey.instrument_files import questionnaire_bytes

    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(questionnaire_bytes(spec, "xlsx"))
    page.goto(page.url + f"{study.slug}/import/")
    page.locator('input[type="file"]').set_input_files(str(bad))
    click(page, "Import")
    problems = page.locator("#import-problems")
    assert "was not imported" in problems.inner_text()
    row = problems.locator("tbody tr").first.inner_text()
    assert "survey" in row and "relevant" in row
    axe_check(page, "studio-import-refused")
    shoot("import-refused")
    assert not QuestionnaireVersion.objects.filter(study=study).exists()


def test_two_participants_for_the_last_place_of_a_quota(live_server, browser, admin_user_, screenshots):
    version = questionnaire_import(spec=tiny_spec(), owner=admin_user_, study_slug="last-place")
    study = version.study
    questionnaire_publish(
        version=version,
        consent=consent_create(study=study, texts={"en": "C", "zh": "C"}, **consent_details()),
    )
    cell = Quota.objects.create(study=study, name="yes", conditions={"q1": ["yes"]}, limit=1)
    pages = []
    for _ in range(2):
        context = browser.new_context(extra_http_headers={"Accept-Language": "en"})
        page = context.new_page()
        page.goto(f"{live_server.url}/s/last-place/")
        page.get_by_role("checkbox").check()
        submit(page, "agree")
        page.locator('input[name="q1"][value="yes"]').check()
        page.locator('input[name="q2"]').fill("4")  # the follow-up appears as soon as it applies
        pages.append((context, page))
    # Both press "Finish" at the same moment: the form posts leave before either answer arrives.
    for _context, page in pages:
        page.evaluate("document.querySelector('button[value=next]').click()")
    for _context, page in pages:
        page.wait_for_load_state()
        page.locator("#receipt-code, #screened-out").first.wait_for()
    outcomes = sorted("thanks" if page.locator("#receipt-code").count() else "screened" for _c, page in pages)
    assert outcomes == ["screened", "thanks"]
    screenshots(
        next(page for _c, page in pages if page.locator("#screened-out").count()), "quota-screened-out"
    )
    cell.refresh_from_db()
    assert cell.filled == 1 and PendingResponse.objects.filter(status="complete").count() == 1
    for context, _page in pages:
        context.close()
