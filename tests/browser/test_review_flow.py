"""The review queue as a reviewer's daily tool: a picker whose choice is in the URL, paging
through every open suggestion without repeats, a counter that stays in view, bulk decisions
and their undo as one request each, decisions shown by the key's name, who is signed in,
and true "done" messages."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request
from typing import Any

import pytest
from browser_support import PHONE, DemoServer
from playwright.sync_api import Page, Request, expect

from discovery.api.auth import create_key
from discovery.domain import Tag
from discovery.store.records import Records

pytestmark = pytest.mark.browser

SHOTS = "/tmp/shots"


def _key(demo_server: DemoServer, role: str, name: str) -> str:
    records = Records.open(demo_server.settings.records_url)
    try:
        return create_key(records, role=role, name=name)  # type: ignore[arg-type]
    finally:
        records.close()


def _open(page: Page, key: str, url: str = "/?view=review") -> None:
    page.add_init_script(f"localStorage.setItem('discovery.apiKey', {key!r})")
    page.goto(url)
    expect(page.locator(".review-item").first).to_be_visible()


def _keys(page: Page) -> list[str]:
    return list(
        page.locator(".review-item").evaluate_all(
            "els => els.map(e => `${e.dataset.targetType}:${e.dataset.targetId}|${e.dataset.tag}`)"
        )
    )


def _posts(page: Page) -> list[str]:
    posts: list[str] = []

    def seen(request: Request) -> None:
        if request.method == "POST" and "/api/review/" in request.url:
            posts.append(request.url.rsplit("/api/review/", 1)[1])

    page.on("request", seen)
    return posts


def _small_tag(demo_server: DemoServer, key: str, most: int) -> tuple[str, int]:
    """A tag with at least 3 and at most `most` open suggestions."""
    url = f"{demo_server.url}/api/review/queue?group=tag&limit=1"
    request = urllib.request.Request(url, headers={"X-API-Key": key})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        groups: list[dict[str, Any]] = json.loads(response.read())["groups"]
    return next((str(g["tag"]), int(g["count"])) for g in groups if 3 <= int(g["count"]) <= most)


def test_the_picker_filters_the_queue_and_keeps_its_choice_in_the_url(page: Page, demo_server: DemoServer) -> None:
    _open(page, demo_server.key)
    tag, count = _small_tag(demo_server, demo_server.key, 40)
    page.get_by_label("Tag").select_option(tag)
    expect(page).to_have_url(re.compile(f"tag={re.escape(tag).replace(':', '(:|%3A)')}"))
    expect(page.locator(".review-item")).to_have_count(count)
    assert {k.rsplit("|", 1)[1] for k in _keys(page)} == {tag}
    page.get_by_label("On", exact=True).select_option("asset")
    expect(page).to_have_url(re.compile("target_type=asset"))
    expect(page.locator(".review-item").first).to_be_visible()
    assert all(k.startswith("asset:") for k in _keys(page))
    page.get_by_label("From").fill("60")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile("min_confidence=0.6"))
    page.reload()
    expect(page.get_by_label("Tag")).to_have_value(tag)
    expect(page.get_by_label("On", exact=True)).to_have_value("asset")
    expect(page.get_by_label("From")).to_have_value("60")
    shown = page.locator(".review-item .muted").all_inner_texts()
    assert all(int(re.search(r"(\d+)%", text).group(1)) >= 60 for text in shown if "%" in text)  # type: ignore[union-attr]


def test_paging_reaches_items_beyond_the_first_page_with_none_repeated(page: Page, demo_server: DemoServer) -> None:
    _open(page, demo_server.key)
    first = _keys(page)
    assert len(first) == 60
    page.keyboard.press("r")  # a decision before paging must not shift the next page
    expect(page.locator('.review-item[data-status="reject"]:not(.is-saving)')).to_have_count(1)
    for pages in (2, 3):
        page.get_by_role("button", name="Load the next suggestions").click()
        expect(page.locator(".review-item")).to_have_count(60 * pages)
    everything = _keys(page)
    assert everything[:60] == first and len(set(everything)) == len(everything) == 180
    page.keyboard.press("Home")
    page.locator(".review-item").first.click()
    page.keyboard.press("u")
    expect(page.locator("#toast")).to_contain_text("Undone")


def test_the_counter_stays_in_view_while_scrolling(page: Page, demo_server: DemoServer) -> None:
    os.makedirs(SHOTS, exist_ok=True)
    _open(page, demo_server.key)
    counter = page.locator(".progress-text")
    expect(counter).to_contain_text(re.compile(r"0 of [\d,]+ decided · [\d,]+ open"))
    page.screenshot(path=f"{SHOTS}/review-desktop.png")
    page.mouse.wheel(0, 4000)
    page.wait_for_timeout(300)
    assert page.evaluate("window.scrollY") > 1000
    expect(counter).to_be_in_viewport()
    expect(page.get_by_role("button", name="Accept all shown")).to_be_in_viewport()
    page.screenshot(path=f"{SHOTS}/review-desktop-scrolled.png")
    page.set_viewport_size(PHONE)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    page.screenshot(path=f"{SHOTS}/review-phone.png")
    page.mouse.wheel(0, 3000)
    page.wait_for_timeout(300)
    expect(counter).to_be_in_viewport()
    box = counter.bounding_box()
    topbar = page.locator(".topbar").bounding_box()
    assert box and topbar and box["y"] >= topbar["y"] + topbar["height"] - 1, "the counter is not hidden by the top bar"
    page.screenshot(path=f"{SHOTS}/review-phone-scrolled.png")


def test_bulk_accept_is_one_request_its_undo_one_request_and_decisions_show_the_key_name(
    page: Page, demo_server: DemoServer
) -> None:
    rita = _key(demo_server, "reviewer", "rita")
    tag, count = _small_tag(demo_server, rita, 40)
    _open(page, rita, f"/?view=review&tag={tag}")
    expect(page.locator(".review-item")).to_have_count(count)
    posts = _posts(page)
    page.get_by_label("Select all shown").check()
    expect(page.get_by_role("button", name=f"Accept {count} selected")).to_be_enabled()
    started = time.perf_counter()
    page.get_by_role("button", name=f"Accept {count} selected").click()
    expect(page.locator('.review-item[data-status="accept"]:not(.is-saving)')).to_have_count(count)
    accepted_s = time.perf_counter() - started
    assert posts == ["bulk"], "one request for the whole selection"
    expect(page.locator(".review-item .decision").first).to_have_text("accepted by rita")
    expect(page.locator(".progress-text")).to_contain_text(f"{count} of {count} decided")
    # Every item of the tag is decided: the page says so, and how many are open elsewhere.
    done = page.locator(".review-done")
    expect(done).to_contain_text("No open suggestions for tag")
    expect(done).to_contain_text(re.compile(r"[\d,]+ open suggestions? remain elsewhere"))
    page.screenshot(path=f"{SHOTS}/review-done.png")

    started = time.perf_counter()
    page.get_by_role("button", name="Undo").click()
    expect(page.locator('.review-item[data-status="pending"]')).to_have_count(count)
    expect(page.locator("#toast")).to_contain_text(f"Undone: {count} decisions")
    undone_s = time.perf_counter() - started
    assert posts == ["bulk", "undo"], "one request to undo the whole batch"
    print(f"bulk accept of {count}: {accepted_s:.2f} s, undo: {undone_s:.2f} s (load {os.getloadavg()[0]:.1f})")
    page.reload()
    expect(page.locator(".review-item")).to_have_count(count)


def test_a_filter_with_nothing_open_says_so_and_how_many_remain_elsewhere(page: Page, demo_server: DemoServer) -> None:
    page.add_init_script(f"localStorage.setItem('discovery.apiKey', {demo_server.key!r})")
    page.goto("/?view=review&tag=no-such-tag")
    box = page.locator(".review-done")
    expect(box).to_contain_text("No open suggestions for tag “no-such-tag”")
    expect(box).to_contain_text("remain elsewhere")
    assert "Every suggested tag has been decided" not in (box.text_content() or "")
    box.get_by_role("button", name="Review all open suggestions").click()
    expect(page.locator(".review-item").first).to_be_visible()
    assert "tag=" not in page.url


def test_the_signed_in_key_name_and_role_are_shown_and_a_forgotten_key_is_announced(
    page: Page, demo_server: DemoServer
) -> None:
    vera = _key(demo_server, "viewer", "vera")
    page.goto("/")
    who = page.locator("#who")
    expect(who).to_contain_text("Not signed in")
    who.get_by_role("button", name="Sign in").click()
    page.locator("#key-input").fill(vera)
    page.keyboard.press("Enter")
    expect(who).to_contain_text("Signed in as vera · viewer")
    # A page that needs more than a viewer explains the roles and keeps the key.
    page.get_by_role("link", name="Review").click()
    expect(page.locator("#key-reason")).to_contain_text("a reviewer also accepts and rejects")
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("This page needs a reviewer key")).to_be_visible()
    expect(page.locator("main")).to_contain_text("an editor also imports")
    assert page.evaluate("localStorage.getItem('discovery.apiKey')") == vera
    expect(who).to_contain_text("vera")
    who.get_by_role("button", name="Change key").click()
    page.get_by_role("button", name="Forget the stored key").click()
    expect(page.locator("#toast")).to_contain_text("forgotten")
    expect(who).to_contain_text("Not signed in")


def test_a_product_suggestion_says_what_it_rests_on(page: Page, demo_server: DemoServer) -> None:
    # The sample catalog fills every attribute, so one product is given a suggestion the way the
    # suggester leaves it (the suggester's own evidence is pinned in tests/unit and tests/api).
    records = Records.open(demo_server.settings.records_url)
    try:
        product = next(p for batch in records.iter_products() for p in batch if not p.parent_sku)
        tag = Tag("attribute:pattern=striped", "text", "suggested", 0.95, "text-match@1",
                  evidence="the name says “stripes”")  # fmt: skip
        records.tags.replace_tags(product, [*product.tags, tag])
    finally:
        records.close()
    _open(page, demo_server.key, "/?view=review&target_type=product&tag=attribute:pattern=striped")
    card = page.locator(f'.review-item[data-target-id="{product.sku}"]')
    expect(card.locator(".review-evidence")).to_have_text("Because the name says “stripes”")
