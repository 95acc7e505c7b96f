"""Issue 14 in a real Chromium, in English on a desktop and in Chinese on a phone (and the reverse
for the walk): Enter goes forward on every page type, Back still works from the keyboard, follow-up
questions appear as soon as they apply (announced, focus kept), the receipt can be copied and saved,
and withdrawal checks the code, asks, and says what it did; axe finds nothing on any new state."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from survey.models import PendingResponse
from survey.simulation import Respondent
from tests.browser.pages import submit
from tests.browser.test_participant_browser import answer_page

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
SETUPS = {
    "en-desktop": ("en-GB", "en-GB,en;q=0.9", DESKTOP),
    "zh-phone": ("zh-CN", "zh-CN,zh;q=0.9", PHONE),
    "en-phone": ("en-GB", "en-GB,en;q=0.9", PHONE),
    "zh-desktop": ("zh-CN", "zh-CN,zh;q=0.9", DESKTOP),
}


# The text of an element's first text node, one string per line it is drawn on.
LINES_OF_TEXT = """element => {
    const text = element.firstChild, range = document.createRange(), lines = [];
    let line = "", top = null;
    for (let i = 0; i < text.length; i++) {
        range.setStart(text, i);
        range.setEnd(text, i + 1);
        const y = Math.round(range.getBoundingClientRect().top);
        if (top !== null && y !== top) { lines.push(line); line = ""; }
        line += text.data[i];
        top = y;
    }
    lines.push(line);
    return lines;
}"""


def new_context(browser, setup: str, **extra):
    locale, accept, viewport = SETUPS[setup]
    return browser.new_context(
        locale=locale, viewport=viewport, extra_http_headers={"Accept-Language": accept}, **extra
    )


def agree_to_logic_study(page, live_server) -> None:
    """Open the logic study's link and agree on its consent page."""
    page.goto(f"{live_server.url}/s/logic/")
    page.get_by_role("checkbox").check()
    submit(page, "agree")


def page_number(url: str) -> int:
    return int(re.search(r"/p/(\d+)/", url).group(1))


def press_enter_in_the_page(page) -> None:
    """Enter where a person would press it: in a text or number box, else on a chosen option."""
    for selector in (
        "[data-question]:not([hidden]) input[type=number]",
        "[data-question]:not([hidden]) input[type=text]",
        "[data-question]:not([hidden]) input[type=date]",
        "[data-question]:not([hidden]) input[type=radio]:checked",
        "[data-question]:not([hidden]) input[type=checkbox]",
    ):
        field = page.locator(selector)
        if field.count():
            field.first.focus()
            break
    else:  # a page of selects only (a ranking): Enter on the focused forward button
        page.locator('button[value="next"]').focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.mark.parametrize("setup", ["en-desktop", "zh-phone"])
def test_enter_goes_forward_on_every_page_type_and_back_works_by_keyboard(
    live_server, shipped_study, browser, setup, axe_check
):
    context = new_context(browser, setup, has_touch=setup.endswith("phone"))
    page = context.new_page()
    sample = "china" if setup.startswith("zh") else "west"
    page.goto(f"{live_server.url}/s/{shipped_study.slug}/{sample}/")
    page.get_by_role("checkbox").check()
    page.locator('button[value="agree"]').focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    respondent = Respondent(8, sample)
    pages_seen = 0
    went_back = False
    slider_seen = False
    while not page.locator("#receipt-code").count():
        assert pages_seen < 30, "the survey did not finish"
        before = page_number(page.url)
        slider = page.locator("input[data-slider]")
        if slider.count() and not slider_seen:
            # No thumb and no value until touched: an untouched slider is not an answer.
            track = page.locator("input[type=range]")
            assert slider.input_value() == "" and "untouched" in track.get_attribute("class")
            # Drawn unset: no native fill (a plain track) and no thumb; the two ends are written.
            assert track.get_attribute("data-state") == "unset"
            assert track.evaluate("r => getComputedStyle(r).appearance") == "none"
            ends = page.locator(".slider-ends span").all_inner_texts()
            assert ends == [slider.get_attribute("min"), slider.get_attribute("max")]
            axe_check(page, f"{setup}-slider-untouched")
            # The middle of the track, where the hidden thumb rests: a phone's tap fires no click there.
            track.tap() if setup.endswith("phone") else track.click()
            assert slider.input_value() != "" and "untouched" not in track.get_attribute("class")
            assert track.get_attribute("data-state") == "set"
            assert track.evaluate("r => getComputedStyle(r).appearance") != "none"
            slider_seen = True
        answer_page(page, respondent)
        press_enter_in_the_page(page)
        if page.locator("#error-summary").count():  # a follow-up appeared: answer it too
            answer_page(page, respondent)
            press_enter_in_the_page(page)
        if page.locator("#receipt-code").count():
            break
        assert page_number(page.url) > before, f"Enter did not go forward from page {before}"
        pages_seen += 1
        if not went_back and page.locator('button[value="back"]').count():
            # Back by keyboard: Tab reaches it after Next; Enter (and Space) press it.
            page.locator('button[value="next"]').focus()
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.value") == "back"
            now = page_number(page.url)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page_number(page.url) < now
            went_back = True
            axe_check(page, f"{setup}-after-back")
    assert pages_seen >= 5 and went_back and slider_seen
    assert PendingResponse.objects.get().status == "complete"
    # The withdrawal page: Enter in the code box checks it.
    page.goto(f"{live_server.url}/withdraw/")
    page.locator("#code").fill("12-ABCDE")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#error-summary").count() == 1
    context.close()


@pytest.mark.parametrize("setup", ["en-desktop", "zh-phone", "en-phone", "zh-desktop"])
def test_a_follow_up_question_appears_as_soon_as_it_applies(
    live_server, logic_study, browser, setup, axe_check
):
    context = new_context(browser, setup)
    page = context.new_page()
    agree_to_logic_study(page, live_server)
    follow_up = page.locator('[data-question="q2"]')
    assert follow_up.is_hidden()
    yes = page.locator('input[name="q1"][value="yes"]')
    yes.check()
    follow_up.wait_for(state="visible")
    status = page.locator("#relevance-status")
    expected = "A question has been added below" if setup.startswith("en") else "下方新增了一个问题"
    expect(status).to_contain_text(expected)
    assert page.evaluate("document.activeElement.name") == "q1"  # focus stays on the answer given
    assert page.locator('input[name="shown"]').input_value().split() == ["q1", "q2"]
    assert status.get_attribute("role") == "status"
    axe_check(page, f"{setup}-follow-up-shown")
    page.locator('input[name="q1"][value="no"]').check()
    follow_up.wait_for(state="hidden")
    assert page.locator('input[name="shown"]').input_value().split() == ["q1"]
    # Forward with the follow-up answered: it is saved, and nothing was saved while answering.
    yes.check()
    follow_up.wait_for(state="visible")
    assert PendingResponse.objects.get().answers == {}
    page.locator('input[name="q2"]').fill("4")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert PendingResponse.objects.get().answers == {"q1": "yes", "q2": 4}
    context.close()


def test_without_javascript_a_follow_up_comes_on_the_next_round_trip(live_server, logic_study, browser):
    context = new_context(browser, "en-phone", java_script_enabled=False)
    page = context.new_page()
    agree_to_logic_study(page, live_server)
    page.locator('input[name="q1"][value="yes"]').check()
    assert page.locator('[data-question="q2"]').is_hidden()
    submit(page, "next")
    assert page.locator('[data-question="q2"]').is_visible()
    assert "make more questions apply" in page.content()
    context.close()


@pytest.mark.parametrize("setup", ["en-desktop", "zh-phone"])
def test_receipt_copy_save_and_a_withdrawal_that_answers(
    live_server, shipped_study, browser, setup, axe_check
):
    from urllib.parse import unquote

    from tests.browser.test_participant_browser import complete

    context = new_context(browser, setup)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    english = setup.startswith("en")
    code = complete(page, f"{live_server.url}/s/{shipped_study.slug}/", Respondent(9, "west"))
    copy = page.locator("#copy-receipt")
    assert copy.is_visible()
    copy.click()
    expect(page.locator("#copy-status")).not_to_be_empty()
    assert page.evaluate("navigator.clipboard.readText()") == code
    saved = page.locator("#save-receipt")
    assert saved.get_attribute("download").endswith(".txt")
    assert code in unquote(saved.get_attribute("href"))
    axe_check(page, f"{setup}-thanks-copied")
    # On a phone the code takes two lines: it wraps after a hyphen, never inside a group.
    lines = page.locator("#receipt-code").evaluate(LINES_OF_TEXT)
    assert "".join(lines) == code and all(line.endswith("-") for line in lines[:-1])
    assert len(lines) == (2 if setup.endswith("phone") else 1)
    page.goto(f"{live_server.url}/withdraw/")
    groups = code.split("-")
    typo = "-".join(
        [groups[0], groups[1], groups[2], ("B" if groups[3][0] == "A" else "A") + groups[3][1:], *groups[4:]]
    )
    page.locator("#code").fill(typo)
    with page.expect_navigation():
        page.locator('button[value="check"]').click()
    message = page.locator("#code-error").inner_text()
    assert ("group 3" in message) if english else ("第 3 组" in message)
    axe_check(page, f"{setup}-withdraw-typo")
    page.locator("#code").fill(code)
    with page.expect_navigation():
        page.locator('button[value="check"]').click()
    assert PendingResponse.objects.count() == 1  # asked, not yet deleted
    axe_check(page, f"{setup}-withdraw-confirm")
    with page.expect_navigation():
        page.locator('button[value="confirm"]').click()
    outcome = page.locator("#withdraw-outcome").inner_text()
    assert ("have been deleted" in outcome) if english else ("已被永久删除" in outcome)
    assert PendingResponse.objects.count() == 0
    axe_check(page, f"{setup}-withdraw-done")
    context.close()


@pytest.mark.parametrize(("setup", "javascript"), [("zh-phone", True), ("en-phone", False)])
def test_a_consent_page_error_is_seen_without_scrolling(
    live_server, shipped_study, browser, setup, javascript, axe_check
):
    # The consent text is long: an error drawn beside the tick box was below the fold of a phone,
    # so "I agree" seemed to do nothing. It comes first now, and the script moves focus to it.
    context = new_context(browser, setup, java_script_enabled=javascript)
    page = context.new_page()
    sample = "china" if setup.startswith("zh") else "west"
    page.goto(f"{live_server.url}/s/{shipped_study.slug}/{sample}/")
    submit(page, "agree")
    summary = page.locator("#error-summary")
    assert summary.bounding_box()["y"] + summary.bounding_box()["height"] < PHONE["height"]
    if javascript:
        assert page.evaluate("document.activeElement.id") == "error-summary"
        axe_check(page, f"{setup}-consent-unticked")
    summary.locator("a").click()
    assert page.evaluate("document.activeElement.id") == "agree"
    page.locator("#continue summary").click()
    page.locator("#continue-code").fill("1-AAAAA")
    with page.expect_navigation():
        page.locator("#continue-code").press("Enter")
    assert (
        summary.bounding_box()["y"] < PHONE["height"] and summary.locator('a[href="#continue-code"]').count()
    )
    if javascript:
        axe_check(page, f"{setup}-consent-continue-error")
    context.close()


@pytest.mark.parametrize(
    ("setup", "javascript"),
    [("en-desktop", True), ("zh-phone", True), ("en-phone", False), ("zh-desktop", False)],
)
def test_switching_language_keeps_the_ticks_and_text_of_the_page(
    live_server, logic_study, browser, setup, javascript, axe_check, screenshots
):
    context = new_context(browser, setup, java_script_enabled=javascript)
    page = context.new_page()
    agree_to_logic_study(page, live_server)
    page.locator('input[name="q1"][value="yes"]').check()
    if not javascript:  # the round trip of the page without a script brings the follow-up in
        submit(page, "next")
    page.locator('[data-question="q2"]').wait_for(state="visible")
    page.locator('input[name="q2"]').fill("7")
    other = "zh" if setup.startswith("en") else "en"
    switch = page.locator(f'button[value="language:{other}"]')
    top = page.locator(".progress").bounding_box()["y"]
    assert switch.bounding_box()["y"] < top  # drawn at the top, though it follows the form
    with page.expect_navigation():
        switch.click()
    assert page.locator("html").get_attribute("lang") == other
    assert page.locator('input[name="q1"][value="yes"]').is_checked()
    assert page.locator('input[name="q2"]').input_value() == "7"
    screenshots(page, f"{setup}-language-switched")
    if javascript:
        axe_check(page, f"{setup}-language-switched")
    # Enter in the box still moves forward (the language buttons come after "Next" in the form).
    page.locator('input[name="q2"]').focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page_number(page.url) == 1
    assert PendingResponse.objects.get().answers == {"q1": "yes", "q2": 7}
    context.close()


@pytest.mark.parametrize("setup", ["en-desktop", "zh-phone"])
def test_none_of_these_clears_the_others_and_the_others_clear_it(
    live_server, admin_user_, browser, setup, axe_check
):
    from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish
    from tests.specs import consent_details
    from tests.survey.test_answer_quality import quality_spec

    version = questionnaire_import(spec=quality_spec(), owner=admin_user_, study_slug="quality")
    questionnaire_publish(
        version=version,
        consent=consent_create(study=version.study, texts={"en": "C", "zh": "C"}, **consent_details()),
    )
    context = new_context(browser, setup)
    page = context.new_page()
    page.goto(f"{live_server.url}/s/quality/")
    page.get_by_role("checkbox").check()
    submit(page, "agree")
    boxes = page.locator('input[name="turn_to"]')
    assert boxes.evaluate_all("bs => bs.slice(-2).map(b => b.value)") == ["none", "dk"]  # anchored
    page.locator('input[value="a"]').check()
    page.locator('input[value="b"]').check()
    page.locator('input[value="none"]').check()
    assert (
        not page.locator('input[value="a"]').is_checked()
        and not page.locator('input[value="b"]').is_checked()
    )
    page.locator('input[value="c"]').check()
    assert not page.locator('input[value="none"]').is_checked()
    axe_check(page, f"{setup}-exclusive")
    context.close()


@pytest.mark.parametrize(("start", "finish"), [("en-phone", "en-desktop"), ("zh-phone", "zh-desktop")])
def test_start_on_a_phone_and_continue_on_a_laptop(
    live_server, logic_study, browser, start, finish, axe_check
):
    phone = new_context(browser, start)
    page = phone.new_page()
    agree_to_logic_study(page, live_server)
    page.locator('input[name="q1"][value="yes"]').check()
    page.locator('input[name="q2"]').fill("2")
    submit(page, "next")
    with page.expect_navigation():
        page.locator(".continue-elsewhere button").click()
    code = page.locator("#continue-code").inner_text().strip()
    axe_check(page, f"{start}-continue-code")
    laptop = new_context(browser, finish)
    other = laptop.new_page()
    other.goto(f"{live_server.url}/s/logic/")
    other.locator("#continue summary").click()
    other.locator("#continue-code").fill(code[:-1] + ("A" if code[-1] != "A" else "B"))
    with other.expect_navigation():
        other.locator('button[value="continue"]').click()
    assert other.locator("#continue-error").is_visible()
    axe_check(other, f"{finish}-continue-typo")
    other.locator("#continue-code").fill(code)
    with other.expect_navigation():
        other.locator("#continue-code").press("Enter")
    assert "/p/1/" in other.url and other.locator('input[name="q3"]').is_visible()
    other.locator('input[name="q3"]').fill("3")
    with other.expect_navigation():
        other.keyboard.press("Enter")
    assert PendingResponse.objects.get().answers == {"q1": "yes", "q2": 2, "q3": 3}
    phone.close()
    laptop.close()


@pytest.mark.parametrize("setup", ["en-desktop", "zh-phone"])
def test_a_browser_that_completed_is_told_so_when_the_study_asks(
    live_server, logic_study, browser, setup, axe_check
):
    logic_study.completed_marker = True
    logic_study.save()
    context = new_context(browser, setup)
    page = context.new_page()
    agree_to_logic_study(page, live_server)
    page.locator('input[name="q1"][value="no"]').check()
    submit(page, "next")
    page.locator('input[name="q4"]').fill("1")
    submit(page, "next")
    assert page.locator("#receipt-code").count() == 1
    page.goto(f"{live_server.url}/s/logic/")
    expected = (
        "You have already completed this survey" if setup.startswith("en") else "您已在此设备上完成本调查"
    )
    assert expected in page.inner_text("main") and page.get_by_role("checkbox").count() == 0
    axe_check(page, f"{setup}-already-completed")
    assert PendingResponse.objects.count() == 1
    context.close()
