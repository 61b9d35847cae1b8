"""Product and asset pages, and data that looks like markup staying text."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_support import HOSTILE_TITLE, DemoServer, screenshot
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_a_title_that_looks_like_html_is_shown_as_text_and_runs_nothing(page: Page, demo_server: DemoServer) -> None:
    page.goto("/?type=asset&mode=keyword&q=onerror")
    card = page.locator(f'.card[data-id="{demo_server.hostile_asset_id}"]')
    expect(card.locator(".card-title")).to_have_text(HOSTILE_TITLE)
    expect(card.locator(".card-title mark")).to_have_text("onerror")  # highlights are built from offsets
    card.locator(".card-title a").click()
    expect(page.locator("h1")).to_have_text(HOSTILE_TITLE)
    expect(page.locator('img[src="x"]')).to_have_count(0)
    page.wait_for_timeout(300)  # an injected handler would have fired by now
    assert page.evaluate("window.__alerts") == 0


def test_the_asset_page_shows_tags_rights_links_and_duplicates(page: Page, demo_server: DemoServer) -> None:
    hits = demo_server.get("/api/search?type=asset&size=50&mode=keyword")["hits"]
    asset = next(h for h in hits if h.get("product_skus") and h["id"] != demo_server.hostile_asset_id)
    page.goto(f"/?asset={asset['id']}")
    expect(page.locator("h1")).to_have_text(str(asset["title"]))
    expect(page.locator(".hero-img")).to_be_visible()
    for heading in ("Tags", "Rights", "Linked products", "Renditions", "Near-duplicates", "Versions", "Metadata"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.locator(".duplicates-body .state-loading")).to_have_count(0)
    sku = str(asset["product_skus"][0])
    expect(page.get_by_role("link", name=re.compile(re.escape(sku))).first).to_be_visible()
    screenshot(page, "asset", full_page=True)

    page.get_by_role("link", name=re.compile(re.escape(sku))).first.click()
    expect(page).to_have_url(re.compile(rf"product={re.escape(sku)}"))
    expect(page.get_by_role("heading", name="Completeness per channel")).to_be_visible()


def _pictures_of(variant: dict[str, Any], assets: list[dict[str, Any]]) -> tuple[str, ...]:
    """The asset ids a variant names, or else those linked to its SKU."""
    if variant.get("asset_ids"):
        return tuple(variant["asset_ids"])
    linked = [a["id"] for a in assets if any(link.get("sku") == variant["sku"] for link in a.get("product_skus") or [])]
    return tuple(linked)


def test_choosing_a_variant_swaps_the_product_image(page: Page, demo_server: DemoServer) -> None:
    hits = demo_server.get("/api/search?type=product&size=100&mode=keyword")["hits"]
    family = None
    for hit in hits:
        if len(hit.get("variants") or []) < 2:
            continue
        product = demo_server.get(f"/api/products/{hit['id']}")
        images = {_pictures_of(variant, product["assets"]) for variant in product["variants"]}
        if len(images) > 1 and all(images):
            family = product
            break
    assert family is not None, "the sample catalog has a family whose variants have their own pictures"
    page.goto(f"/?product={family['sku']}")
    hero = page.locator(".hero-img")
    expect(hero).to_be_visible()
    seen = set()
    for variant in family["variants"]:
        page.locator(".variant", has_text=variant["sku"]).click()
        expect(page.locator(".variant-facts")).to_contain_text(variant["sku"])
        seen.add(hero.get_attribute("src"))
    assert len(seen) > 1, "different variants show different pictures"
