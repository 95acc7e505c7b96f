"""The claims report in Chromium under Candid's own Content-Security-Policy: styled, no violation."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_report_page_is_styled_under_the_csp(
    browser, live_server, answered_study, make_user, screenshots
):
    make_user("report-reader", superuser=True)
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(f"{live_server.url}/admin/login/")
    page.locator('input[name="username"]').fill("report-reader")
    page.locator('input[name="password"]').fill("pw-report-reader")
    with page.expect_navigation():
        page.locator('input[type="submit"]').click()
    page.goto(f"{live_server.url}/studies/{answered_study.slug}/report/")
    verdict = page.locator(".verdict").first
    background = verdict.evaluate("element => getComputedStyle(element).backgroundColor")
    # The report's own sheet (the verdict's colour) and the site's (the header's background) both apply.
    header = page.locator("#header").evaluate("element => getComputedStyle(element).backgroundColor")
    screenshots(page, "report-desktop")
    context.close()
    assert not refused, refused
    unstyled = ("rgba(0, 0, 0, 0)", "transparent")
    assert background not in unstyled and header not in unstyled
