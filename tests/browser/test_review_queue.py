"""The review queue from the keyboard: decisions show at once, undo works, and accepted
tags become facet values of the search."""

from __future__ import annotations

import re

import pytest
from browser_support import DemoServer, screenshot
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def _enter_key(page: Page, key: str) -> None:
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    page.locator("#key-input").fill(key)
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()


def _current(page: Page) -> dict[str, str]:
    item = page.locator(".review-item.is-current")
    return {
        "id": item.get_attribute("data-target-id") or "",
        "type": item.get_attribute("data-target-type") or "",
        "tag": item.get_attribute("data-tag") or "",
    }


def test_two_tags_accepted_from_the_keyboard_become_facet_values(page: Page, demo_server: DemoServer) -> None:
    page.goto("/?view=review")
    _enter_key(page, demo_server.key)  # the queue is for reviewers: the page asks once
    expect(page.locator(".review-item").first).to_be_visible()
    expect(page.locator(".review-item.is-current")).to_be_focused()
    expect(page.locator(".progress-text")).to_contain_text("0 of")
    screenshot(page, "review")

    page.keyboard.press("j")
    page.keyboard.press("k")
    first = _current(page)
    page.keyboard.press("a")
    second = _current(page)
    assert second != first, "accepting moves on to the next open suggestion"
    page.keyboard.press("a")
    expect(page.locator(".progress-text")).to_contain_text("2 of")

    # u undoes the last decision (on the server too) and puts the focus back on it.
    page.keyboard.press("u")
    expect(page.locator(".progress-text")).to_contain_text("1 of")
    assert _current(page) == second
    page.keyboard.press("a")
    expect(page.locator(".progress-text")).to_contain_text("2 of")
    expect(page.locator(".review-item.is-saving")).to_have_count(0)
    expect(page.locator('.review-item[data-status="accept"]')).to_have_count(2)

    assert page.evaluate("localStorage.getItem('discovery.apiKey')") == demo_server.key
    for accepted in (first, second):
        kind = accepted["type"]
        facet = page.locator('.facet[data-field="tags"]')
        # Decisions reach search through the index's near-real-time commit (within a second).
        for _ in range(20):
            page.goto(f"/?type={kind}")
            expect(page.locator(".result-status")).to_have_attribute("data-state", "done")
            if facet.count():
                break
            page.wait_for_timeout(250)
        expect(facet).to_be_visible()
        if facet.locator("button", has_text=re.compile("^Show .* more$")).count():
            facet.locator("button", has_text=re.compile("^Show .* more$")).click()
        value = facet.locator(f'input[data-value="{accepted["tag"]}"]')
        expect(value).to_have_count(1)
        value.check()
        expect(page).to_have_url(re.compile(r"filter\.tags="))
        expect(page.locator(f'.card[data-id="{accepted["id"]}"]')).to_be_visible()


def test_a_refused_decision_is_rolled_back_with_the_reason(page: Page, demo_server: DemoServer) -> None:
    page.goto("/?view=review")
    _enter_key(page, demo_server.key)
    expect(page.locator(".review-item").first).to_be_visible()
    # The key is revoked behind the page's back: the decision shows, then is rolled back.
    page.evaluate("localStorage.setItem('discovery.apiKey', 'not-a-key')")
    page.keyboard.press("r")
    _cancel = page.locator("#key-dialog")
    expect(_cancel).to_be_visible()  # the server refused the key: the page asks again
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#toast")).to_contain_text("not saved")
    expect(page.locator('.review-item[data-status="reject"]')).to_have_count(0)
    expect(page.locator(".progress-text")).to_contain_text("0 of")
