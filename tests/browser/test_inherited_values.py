"""The asset page shows what the asset inherits from its linked products, product by
product, and a category there leads to the assets that inherit it (a facet of asset search)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_support import DemoServer
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")


def _inheriting_asset(demo_server: DemoServer) -> dict[str, Any]:
    for hit in demo_server.get("/api/search?type=asset&size=50&mode=keyword")["hits"]:
        asset = demo_server.get(f"/api/assets/{hit['id']}")
        if asset["inherited"]:
            return dict(asset)
    raise AssertionError("no demo asset inherits from a product")


def test_the_asset_page_shows_values_inherited_from_each_linked_product(page: Page, demo_server: DemoServer) -> None:
    asset = _inheriting_asset(demo_server)
    item = asset["inherited"][0]
    page.goto(f"/?asset={asset['id']}")
    panel = page.locator(".inherited-panel")
    expect(panel.get_by_role("heading", name="Inherited from products")).to_be_visible()
    row = panel.locator(f'.inherited-row[data-sku="{item["sku"]}"]')
    expect(row).to_contain_text(item["sku"])
    expect(row.get_by_role("link", name=item["name"])).to_have_attribute("href", f"?product={item['sku']}")
    category = str(item["categories"][0])
    expect(row.get_by_role("link", name=category, exact=True)).to_be_visible()
    for colour in item["colors"]:
        expect(row.get_by_role("link", name=colour, exact=True)).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "inherit-asset.png"))  # the 1280x800 viewport

    row.get_by_role("link", name=category, exact=True).click()
    expect(page).to_have_url(re.compile(r"filter\.inherited_category="))
    expect(page.locator(f'.card[data-id="{asset["id"]}"]')).to_be_visible()
    facet = page.locator('fieldset.facet[data-field="inherited_category"]')
    expect(facet.locator("legend")).to_have_text("Product category")
    expect(facet.locator(f'input[data-value="{category}"]')).to_be_checked()
    page.screenshot(path=str(SHOTS / "inherit-facets.png"))
