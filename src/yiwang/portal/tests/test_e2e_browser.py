"""A citizen's path through the portal in a real browser: search, open the guide, switch to English.

Setup and fixtures: browser.py and conftest.py in this folder.
"""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.portal.tests.browser import ARTIFACTS, require_chromium

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402 - after the skip

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_citizen_finds_a_guide_reads_it_and_switches_to_english(
    page: Page, live_server: Any, transactional_db: Any, published: Any
) -> None:
    version = published()
    published(name="营业执照补领", basic_code="000131128900", handling_item_code="00013112890001")
    code = version.implementation_code
    ARTIFACTS.mkdir(exist_ok=True)

    # Home page: Chinese, with the search box.
    page.goto(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.get_by_role("searchbox").first.fill("个体")
    page.get_by_role("searchbox").first.press("Enter")

    # Results: the item, its match highlighted, the right count.
    page.wait_for_url("**/search/?q=*")
    result = page.locator(f'a[href="/items/{code}/"]')
    expect(result).to_be_visible()
    expect(result.locator("mark")).to_have_text("个体")
    result.click()

    # The guide: conditions, materials, flow diagram, time limits.
    page.wait_for_url(f"**/items/{code}/")
    expect(page.locator("h1")).to_contain_text("个体工商户登记")
    expect(page.locator("#conditions")).to_contain_text("有经营能力的自然人，有固定的经营场所。")
    materials = page.locator("table.materials tbody tr")
    expect(materials).to_have_count(2)
    expect(materials.nth(1)).to_contain_text("人口库:居民身份信息")
    diagram = page.locator("svg.flow-wide")
    expect(diagram).to_be_visible()
    expect(diagram.locator("g.flow-step")).to_have_count(6)
    box = diagram.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 50
    expect(page.locator(".time-limits")).to_contain_text("15")
    expect(page.locator(".time-limits")).to_contain_text("3")
    expect(page.locator("button[data-print]").first).to_be_visible()  # the script revealed the print button
    page.screenshot(path=str(ARTIFACTS / "guide-zh.png"), full_page=True)

    # Switch to English: the same guide, English labels.
    page.locator('.language-switcher a[data-language="en"]').click()
    page.wait_for_url(f"**/en/items/{code}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".time-limits")).to_contain_text("Statutory time limit")
    expect(page.locator(".time-limits")).to_contain_text("15 working days")
    expect(page.locator(".time-limits")).to_contain_text("3 working days")
    expect(page.locator("#summary")).to_contain_text("Administrative licensing")
    expect(page.locator("#materials")).to_contain_text("Can be supplied by an e-licence or shared data")
    expect(page.locator("#process h2")).to_have_text("Process")
    expect(page.locator("svg.flow-wide")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "guide-en.png"), full_page=True)

    # Print view hides navigation and search but keeps the whole guide.
    page.emulate_media(media="print")
    expect(page.locator(".main-nav")).to_be_hidden()
    expect(page.locator(".header-search")).to_be_hidden()
    expect(page.locator("#faqs")).to_be_visible()
    page.emulate_media(media="screen")

    # On a phone the diagram is redrawn two boxes a row instead of shrinking.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("svg.flow-narrow")).to_be_visible()
    expect(page.locator("svg.flow-wide")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "guide-en-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # And back to the search page in English, with the results list.
    page.goto(f"{live_server.url}/en/search/?q=个体")
    expect(page.locator(".result-count")).to_contain_text("2 services found")
    page.screenshot(path=str(ARTIFACTS / "search-en.png"), full_page=True)
