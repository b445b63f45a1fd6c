"""The browser for the console tests: one Chromium per test, closed after it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e.browser import ARGS, CHROMIUM, playwright_api, skip_without_chromium


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    skip_without_chromium()
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        await browser.close()
