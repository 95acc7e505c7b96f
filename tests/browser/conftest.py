"""Real-browser tests: Playwright drives Debian's Chromium (Playwright cannot download its own here)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "browser"
# Chromium's own network chatter is refused on these machines; these flags keep it quiet.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls in these tests are ours.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is not installed at {CHROMIUM}; `make test` installs Debian's chromium.")
        pytest.skip(f"!!! Chromium not found at {CHROMIUM}: run `make browser` to install it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"})
    yield ctx
    ctx.close()


@pytest.fixture
def screenshots():
    OUTPUT.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str) -> None:
        page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)

    return shoot


@pytest.fixture
def axe_check():
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    seen: dict[str, list[str]] = {}
    OUTPUT.mkdir(parents=True, exist_ok=True)

    def check(page, name: str) -> None:
        results = axe.run(page)
        serious = [v for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}]
        seen[name] = [v["id"] for v in results.response["violations"]]
        (OUTPUT / f"{name}.axe.txt").write_text(
            results.generate_report() if results.violations_count else "no violations\n"
        )
        assert not serious, f"{name}: " + "; ".join(f"{v['id']}: {v['help']}" for v in serious)

    return check
