"""Headless Chromium for browser tests: Debian's `/usr/bin/chromium` driven by Playwright, never a
downloaded browser.

Playwright's sync API runs an event loop in the calling thread, where Django refuses database
calls: a test does its database work (users, tokens) before opening the page."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Generous for a loaded 2-core machine; pages here need well under a second.
TIMEOUT_MS = 60_000


@contextlib.contextmanager
def chromium_page() -> Iterator[Page]:
    assert CHROMIUM.exists(), "Debian's chromium is required (apt-get install chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            browser.close()
