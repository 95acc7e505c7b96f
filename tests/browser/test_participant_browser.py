"""The participant's path in a real Chromium: complete, decline, resume, withdraw; axe on every page type."""

from __future__ import annotations

import re

import pytest

from survey.models import PendingResponse
from survey.simulation import Respondent, fill, read_form
from tests.browser.pages import submit

pytestmark = pytest.mark.django_db(transaction=True)


def answer_page(page, respondent: Respondent) -> None:
    """Fill in the page the way a person would: click radios and boxes, type numbers, pick ranks."""
    data = fill(read_form(page.content()), respondent, {})
    for name, value in data.items():
        if name in {"csrfmiddlewaretoken", "receipt"}:
            continue
        field = page.locator(f'[name="{name}"]').first
        kind = field.get_attribute("type") or field.evaluate("e => e.tagName.toLowerCase()")
        if kind == "hidden":  # the browser sends hidden fields by itself
            continue
        if not page.locator(f'[name="{name}"]').first.is_visible():
            continue  # an earlier answer on this page made the question not apply: it has gone
        if kind == "radio":
            page.locator(f'input[name="{name}"][value="{value}"]').check()
        elif kind == "checkbox":
            for item in value:
                page.locator(f'input[name="{name}"][value="{item}"]').check()
        elif kind == "select":
            field.select_option(str(value))
        else:
            field.fill(str(value))
            field.dispatch_event("change")
        # The page asks the server which questions apply after each change: wait for its answer.
        page.locator("form[aria-busy]").wait_for(state="detached")


def complete(
    page, url: str, respondent: Respondent, *, shoot=None, axe=None, prefix: str = "", seen=None
) -> str:
    """Consent, every page, the receipt code; ``seen`` (a list) collects each page's heading."""
    page.goto(url)
    if axe:
        axe(page, f"{prefix}consent")
    if shoot:
        shoot(page, f"{prefix}consent")
    page.get_by_role("checkbox").check()
    submit(page, "agree")
    for number in range(1, 20):
        receipt = page.locator("#receipt-code")
        if receipt.count():
            if shoot:
                shoot(page, f"{prefix}thanks")
            if axe:
                axe(page, f"{prefix}thanks")
            return receipt.inner_text().strip()
        if axe:
            axe(page, f"{prefix}page-{number}")
        if shoot:
            shoot(page, f"{prefix}page-{number}")
        if seen is not None and page.locator("main h1").count():
            seen.append(page.locator("main h1").first.inner_text().strip())
        answer_page(page, respondent)
        submit(page, "next")
    raise AssertionError("the survey did not finish")


def test_complete_in_english_with_axe_on_every_page(
    live_server, shipped_study, context, screenshots, axe_check
):
    page = context.new_page()
    seen: list[str] = []
    code = complete(
        page,
        f"{live_server.url}/s/{shipped_study.slug}/west/",
        Respondent(2, "west"),
        shoot=screenshots,
        axe=axe_check,
        prefix="en-",
        seen=seen,
    )
    # The Western sample gets the items that make sense outside China, not the mainland-only page.
    assert {"Scores in services and between people", "Data, the state and surveillance"} <= set(seen)
    assert "Local credit apps and personal files" not in seen
    assert re.fullmatch(r"\d+(-[A-Z2-7]{1,5}){6}", code)
    response = PendingResponse.objects.get()
    assert response.status == "complete" and response.language == "en" and response.sample.slug == "west"


def test_complete_in_chinese(live_server, shipped_study, browser, screenshots, axe_check):
    context = browser.new_context(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{shipped_study.slug}/")
    assert "开始之前" in page.content()
    seen: list[str] = []
    code = complete(
        page,
        f"{live_server.url}/s/{shipped_study.slug}/",
        Respondent(3, "china"),
        shoot=screenshots,
        axe=axe_check,
        prefix="zh-",
        seen=seen,
    )
    assert {"服务中与人际间的评分", "数据、政府与监控", "地方信用应用与个人档案"} <= set(seen)
    assert code and PendingResponse.objects.get().language == "zh"
    context.close()


def test_decline_consent(live_server, shipped_study, context, screenshots, axe_check):
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{shipped_study.slug}/west/")
    submit(page, "decline")
    assert "Nothing you entered has been kept" in page.content()
    axe_check(page, "declined")
    screenshots(page, "declined")
    assert PendingResponse.objects.count() == 0


def test_stop_halfway_and_resume_in_a_new_page(live_server, shipped_study, context):
    page = context.new_page()
    respondent = Respondent(4, "west")
    page.goto(f"{live_server.url}/s/{shipped_study.slug}/west/")
    page.get_by_role("checkbox").check()
    submit(page, "agree")
    for _ in range(3):
        answer_page(page, respondent)
        submit(page, "next")
    stopped_at = page.url
    page.close()
    again = context.new_page()
    again.goto(f"{live_server.url}/s/{shipped_study.slug}/west/")
    assert again.url == stopped_at
    assert PendingResponse.objects.get().position == int(stopped_at.rstrip("/").split("/")[-1])


def test_validation_errors_and_withdrawal(
    live_server, shipped_study, context, browser, screenshots, axe_check
):
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{shipped_study.slug}/west/")
    page.get_by_role("checkbox").check()
    submit(page, "agree")
    submit(page, "next")  # nothing answered
    summary = page.locator("#error-summary")
    assert summary.is_visible() and summary.locator("a").count() >= 1
    axe_check(page, "page-with-errors")
    screenshots(page, "page-with-errors")
    second_person = browser.new_context(extra_http_headers={"Accept-Language": "en"})
    page = second_person.new_page()
    code = complete(page, f"{live_server.url}/s/{shipped_study.slug}/west/", Respondent(5, "west"))
    assert PendingResponse.objects.filter(status="complete").count() == 1
    page.goto(f"{live_server.url}/withdraw/")
    axe_check(page, "withdraw")
    page.get_by_label("Receipt code").fill(code)
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, delete my answers").click()
    assert "Your answers have been deleted" in page.content()
    screenshots(page, "withdrawn")
    assert PendingResponse.objects.filter(status="complete").count() == 0
    second_person.close()


def test_phone_layout_and_keyboard_ranking_without_javascript(
    live_server, shipped_study, browser, screenshots
):
    context = browser.new_context(
        viewport={"width": 375, "height": 812},
        java_script_enabled=False,
        extra_http_headers={"Accept-Language": "en"},
    )
    page = context.new_page()
    respondent = Respondent(6, "west")
    page.goto(f"{live_server.url}/s/{shipped_study.slug}/west/")
    page.get_by_role("checkbox").check()
    submit(page, "agree")
    for _ in range(1, 12):
        if page.locator("select").count():
            # the ranking page
            screenshots(page, "phone-ranking")
            first = page.locator("select").first
            first.focus()
            page.keyboard.press("ArrowDown")  # keyboard alone changes a rank
            assert first.input_value() != ""
            break
        if page.locator(".matrix").count():
            screenshots(page, "phone-matrix")
            widths = page.locator(".matrix-row .option").evaluate_all(
                "els => els.map(e => e.getBoundingClientRect().width)"
            )
            assert max(widths) <= 375  # one item per row, nothing wider than the phone
        answer_page(page, respondent)
        submit(page, "next")
    else:
        raise AssertionError("no ranking page reached")
    context.close()
