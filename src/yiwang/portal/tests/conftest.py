"""Browser fixtures for the end-to-end tests (setup in browser.py); Playwright is imported only when used."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from yiwang.portal.tests.browser import CHROMIUM, LAUNCH_ARGS, TIMEOUT_MS, VIEWPORT


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _page(browser: Any) -> Iterator[Any]:
    # Each page gets its own context: its own cookies, so its own session.
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    yield from _page(browser)


@pytest.fixture
def second_page(browser: Any) -> Iterator[Any]:
    """Another person's browser."""
    yield from _page(browser)
