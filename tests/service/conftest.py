"""Fixtures of the service tests: a real Chromium, for pages shown in a browser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import CHROMIUM, CHROMIUM_ARGS, need, need_modules


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium through Playwright, one per test module."""
    need("Chromium (/usr/bin/chromium)", CHROMIUM.exists())
    need_modules("playwright")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
