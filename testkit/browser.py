"""Debian's Chromium, driven by Playwright, for the browser tests.

Playwright never downloads a browser here: `make test` installs Debian's.
Where there is none the browser tests skip, except under CI=true, where they
fail (``require_chromium``).
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def require_chromium() -> None:
    if not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM} (make test installs it with apt-get)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@contextlib.contextmanager
def chromium(*extra_args: str) -> Iterator:
    """Chromium with our arguments and ``extra_args``; closed on the way out."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()
