"""The claims report and the registry upload in Chromium: styled under the strict CSP (no violation
reported), readable (axe), in Chinese on request, and an uploaded registry's problems shown."""

from __future__ import annotations

import pytest

from analysis.claims import load_registry
from survey.roles import RESEARCHER

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    with page.expect_navigation():
        page.click("input[type=submit]")


def test_report_and_registry_pages_in_a_browser(
    live_server, answered_study, make_user, context, screenshots, axe_check, tmp_path
):
    researcher = make_user("reporter", RESEARCHER)
    answered_study.memberships.create(user=researcher, role="researcher")
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None,
    )
    sign_in(page, live_server.url, "reporter")

    page.goto(f"{live_server.url}/studies/{answered_study.slug}/report/?language=en")
    verdict = page.locator(".claims-report .verdict").first
    assert verdict.evaluate("e => getComputedStyle(e).backgroundColor") not in {
        "rgba(0, 0, 0, 0)",
        "transparent",
    }
    banner = page.locator(".report-synthetic")
    assert banner.evaluate("e => getComputedStyle(e).position") == "sticky"
    assert page.locator(".report-summary table.summary tbody tr").count() == len(load_registry())
    assert page.locator("svg.chart[role=img]").count() >= 5
    screenshots(page, "claims-report-en")
    axe_check(page, "claims-report-en")

    page.goto(f"{live_server.url}/studies/{answered_study.slug}/report/?language=zh-hans")
    assert page.locator("h2#report-summary").inner_text() == "摘要"
    screenshots(page, "claims-report-zh")

    page.goto(f"{live_server.url}/studies/{answered_study.slug}/claims/")
    broken = tmp_path / "broken.toml"
    broken.write_text('source = "x"\n[[claims]]\nid = "c1"\n', encoding="utf-8")
    page.set_input_files("input[type=file]", str(broken))
    with page.expect_navigation():
        page.click("button[value=attach]")
    problems = page.locator("#registry-problems").inner_text()
    assert "c1" in problems and "paraphrase" in problems and "is missing" in problems
    screenshots(page, "claims-registry-problems")
    axe_check(page, "claims-registry-problems")
    assert answered_study.claims_registries.count() == 1
    assert not blocked, blocked
