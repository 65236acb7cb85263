"""Headless Chromium for UI tests: Debian's system browser (never a Playwright download),
driven by Playwright's sync API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> Path:
    """The system Chromium; skip the test without it, or fail under CI (CI installs it)."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = f"UI tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: a missing Chromium is an error, not a skip)")
    pytest.skip(message)


@contextmanager
def headless_chromium() -> Iterator[Browser]:
    """A headless system Chromium, closed (with Playwright's driver) however the test ends."""
    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
