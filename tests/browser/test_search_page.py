"""The search page in a real browser: results as you type, facets in the URL, Back."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from browser_support import DemoServer, result_total, screenshot
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_typing_a_query_shows_highlighted_hits_and_puts_it_in_the_url(page: Page, demo_server: DemoServer) -> None:
    word = str(demo_server.info["sample_word"])
    page.goto("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type(word, delay=40)  # as a person types: the debounce keeps one request in flight
    expect(page).to_have_url(re.compile(rf"[?&]q={re.escape(word)}(&|$)"))
    assert result_total(page) > 0
    cards = page.locator(".card")
    expect(cards.first).to_be_visible()
    expect(page.locator(".card mark").first).to_have_text(re.compile(re.escape(word), re.IGNORECASE))
    expect(page.locator(".facet").first).to_be_visible()
    screenshot(page, "search")


def test_a_facet_value_narrows_the_hits_and_back_undoes_it(page: Page, demo_server: DemoServer) -> None:
    page.goto("/?type=product")
    before = result_total(page)
    assert before > 1
    brand = page.locator('.facet[data-field="brand"] .facet-values li').first
    value = brand.get_attribute("data-value") or ""
    count = int(brand.get_attribute("data-count") or "0")
    assert 0 < count < before, "the sample catalog has more than one brand"

    brand.locator("label").click()
    expect(page).to_have_url(re.compile(r"filter\.brand="))
    assert _query(page)["filter.brand"] == [value]
    assert result_total(page) == count
    expect(page.locator(".chip")).to_have_count(1)
    expect(page.locator(".chip")).to_contain_text(value)
    checked = page.locator('.facet[data-field="brand"] input:checked')
    expect(checked).to_have_count(1)
    # Disjunctive: the brand facet still offers the other brands with their own counts.
    assert page.locator('.facet[data-field="brand"] .facet-values li').count() > 1

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"filter\.brand="))
    assert result_total(page) == before
    expect(page.locator(".chip")).to_have_count(0)
    expect(page.locator('.facet[data-field="brand"] input:checked')).to_have_count(0)

    page.go_forward()
    expect(page).to_have_url(re.compile(r"filter\.brand="))
    assert result_total(page) == count


def test_type_tabs_mode_and_sort_are_part_of_the_shareable_url(page: Page, demo_server: DemoServer) -> None:
    page.goto("/")
    page.get_by_role("button", name="Assets", exact=True).click()
    expect(page).to_have_url(re.compile(r"type=asset"))
    assert result_total(page) > 0
    expect(page.locator(".card-asset").first).to_be_visible()
    page.locator("label.segment", has_text="Keyword").click()
    page.locator("#sort").select_option("name")
    expect(page).to_have_url(re.compile(r"mode=keyword"))
    expect(page).to_have_url(re.compile(r"sort=name"))
    shared = page.url

    other = page.context.new_page()
    other.goto(shared)
    expect(other.get_by_role("button", name="Assets", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(other.locator("input[name=mode][value=keyword]")).to_be_checked()
    expect(other.locator("#sort")).to_have_value("name")
    assert result_total(other) == result_total(page)
    other.close()


def test_an_unknown_product_shows_the_servers_reason(page: Page) -> None:
    page.goto("/?product=NO-SUCH-SKU")
    expect(page.locator(".state-error")).to_be_visible()
    expect(page.locator(".state-error")).to_contain_text("NO-SUCH-SKU")
