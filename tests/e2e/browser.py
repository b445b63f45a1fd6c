"""What the browser tests share: Debian's Chromium through Playwright, a page that records
its script errors, and screenshots (test-artifacts/screenshots/, git-ignored)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

try:
    from playwright import async_api as playwright_api
except ImportError:  # pragma: no cover - the tests skip
    playwright_api = None  # type: ignore[assignment]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def skip_without_chromium() -> None:
    if playwright_api is None:
        pytest.skip("playwright is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is absent: apt-get install chromium (.ci/run does)")


def expect(locator: Any) -> Any:
    return playwright_api.expect(locator)


async def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def open_page(chromium: Any, **context: Any) -> tuple[Any, list[str]]:
    """A page in a fresh context (its own cookies), and the list its script errors go to."""
    ctx = await chromium.new_context(**{"viewport": {"width": 1200, "height": 800}, **context})
    page = await ctx.new_page()
    page.set_default_timeout(10_000)  # a step that takes longer is a failure, found sooner
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(f"{m.text} {m.location.get('url')}") if m.type == "error" else None)
    return page, errors
