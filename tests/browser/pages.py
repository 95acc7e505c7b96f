"""Helpers the browser tests share for moving through the participant's pages."""

from __future__ import annotations


def submit(page, button: str) -> None:
    """Press a form button and wait for the next page to load, so nothing reads the page it left."""
    with page.expect_navigation():
        page.locator(f'button[value="{button}"]').click()
