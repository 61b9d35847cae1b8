"""Managing links from the product and asset pages: link, unlink, set the primary image, and
a clear message for a key without the editor role."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import DESKTOP, DemoServer
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")


def _key(demo_server: DemoServer, role: str) -> str:
    from discovery.api.auth import create_key
    from discovery.store.records import Records

    records = Records.open(demo_server.settings.records_url)
    try:
        return create_key(records, role=role, name=f"ui-links-{role}")
    finally:
        records.close()


def _product_with_two_images(demo_server: DemoServer) -> dict[str, Any]:
    hits = demo_server.get("/api/search?type=product&size=100&mode=keyword")["hits"]
    for hit in hits:
        product = demo_server.get(f"/api/products/{hit['id']}")
        own = [a for a in product["assets"] if any(x.get("sku") == product["sku"] for x in a["product_skus"])]
        if len(own) >= 2:
            return {**product, "own": own}
    raise AssertionError("no product with two linked images in the demo")


def _thumbnail_in_search(demo_server: DemoServer, product: dict[str, Any]) -> str:
    hits = demo_server.get(f"/api/search?type=product&size=100&mode=keyword&filter.brand={product['brand']}")["hits"]
    return str(next(h for h in hits if h["id"] == product["sku"])["thumbnail"])


def _open_as(page: Page, demo_server: DemoServer, key: str, target: str) -> None:
    page.goto("/")
    page.evaluate("key => localStorage.setItem('discovery.apiKey', key)", key)
    page.goto(target)


def test_an_editor_sets_the_primary_image_unlinks_and_links_again_from_the_product_page(
    page: Page, demo_server: DemoServer
) -> None:
    product = _product_with_two_images(demo_server)
    sku, second = product["sku"], product["own"][1]
    _open_as(page, demo_server, demo_server.key, f"/?product={sku}")
    panel = page.locator(f'.links-panel[data-sku="{sku}"]')
    expect(panel.get_by_role("heading", name="Manage links")).to_be_visible()
    row = panel.locator(f'tr[data-asset="{second["id"]}"]')
    row.get_by_role("button", name="Set primary").click()
    expect(panel.locator(f'tr[data-asset="{second["id"]}"] .badge-product')).to_have_text("primary: every channel")
    assert demo_server.get(f"/api/products/{sku}")["assets"][0]["id"] == second["id"]
    assert _thumbnail_in_search(demo_server, product) == f"/api/assets/{second['id']}/renditions/thumbnail"

    panel.locator(f'tr[data-asset="{second["id"]}"]').get_by_role("button", name="Unlink").click()
    expect(panel.locator(f'tr[data-asset="{second["id"]}"]')).to_have_count(0)
    links = demo_server.get(f"/api/assets/{second['id']}")["product_skus"]
    assert sku not in [x["sku"] for x in links], "a variant may keep it; this product does not"

    panel.get_by_label("Find assets to link").fill(Path(second["filename"]).stem)
    panel.get_by_role("button", name="Find").click()
    hit = panel.locator(".link-results li").filter(has_text=second["filename"])
    hit.get_by_role("button", name="Link").click()
    expect(panel.locator(f'tr[data-asset="{second["id"]}"] .badge')).to_have_text("manual")
    panel.locator(f'tr[data-asset="{second["id"]}"]').get_by_role("button", name="Set primary").click()
    expect(panel.locator(f'tr[data-asset="{second["id"]}"] .badge-product')).to_have_text("primary: every channel")
    expect(panel.locator(".link-status")).to_contain_text("primary image: done")
    page.set_viewport_size(DESKTOP)
    SHOTS.mkdir(parents=True, exist_ok=True)
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "links-product.png"))


def test_a_reviewer_is_told_an_editor_key_is_needed_and_nothing_changes(page: Page, demo_server: DemoServer) -> None:
    product = _product_with_two_images(demo_server)
    asset = product["own"][0]
    _open_as(page, demo_server, _key(demo_server, "reviewer"), f"/?asset={asset['id']}")
    panel = page.locator(f'.links-panel[data-asset="{asset["id"]}"]')
    panel.locator(f'li[data-sku="{product["sku"]}"]').get_by_role("button", name="Unlink").click()
    expect(page.locator("#key-dialog")).to_be_visible()  # the role refusal, with the roles explained
    page.locator("#key-cancel").click()
    expect(panel.locator(".link-status")).to_contain_text("needs an editor key")
    assert any(x["sku"] == product["sku"] for x in demo_server.get(f"/api/assets/{asset['id']}")["product_skus"])
    page.set_viewport_size(DESKTOP)
    SHOTS.mkdir(parents=True, exist_ok=True)
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "links-asset-reviewer.png"))


def _suggested_link(demo_server: DemoServer, sku: str) -> str:
    """A new product `sku` whose export names its main image, and a second file named after
    it: the second is a suggested link (as tests/api/test_links_api.py makes one). Its id."""
    import io
    import json
    import time

    import httpx
    from PIL import Image

    def png(rgb: tuple[int, int, int]) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (96, 96), rgb).save(out, "PNG")
        return out.getvalue()

    with httpx.Client(base_url=demo_server.url, headers={"X-API-Key": demo_server.key}, timeout=60) as http:

        def wait(answer: httpx.Response) -> dict[str, Any]:
            assert answer.status_code == 202, answer.text
            for _ in range(600):
                job: dict[str, Any] = http.get(f"/api/jobs/{answer.json()['id']}").json()
                if job["state"] in ("succeeded", "failed", "cancelled"):
                    assert job["state"] == "succeeded", job
                    return job
                time.sleep(0.1)
            raise AssertionError("the job did not finish")

        row = {"sku": sku, "name": "Vellichor lamp", "brand": "Vellichor", "image": [f"{sku.lower()}-blue_main.png"]}
        export = ("p.jsonl", (json.dumps(row) + "\n").encode(), "application/json")
        wait(http.post("/api/ingest/products", files={"file": export}))
        files = [
            ("files", (f"{sku.lower()}-blue_main.png", png((20, 40, 200)), "image/png")),
            ("files", (f"{sku}-side.png", png((200, 140, 20)), "image/png")),
        ]
        (suggested,) = wait(http.post("/api/ingest/assets", files=files))["links"]["suggested"]
    return str(suggested["asset_id"])


def test_a_suggested_link_accepted_in_bulk_is_taken_back_by_the_review_pages_undo(
    page: Page, demo_server: DemoServer
) -> None:
    sku = "VLC-000001"
    asset_id = _suggested_link(demo_server, sku)
    _open_as(page, demo_server, demo_server.key, f"/?view=review&tag=link:{sku}")
    expect(page.locator(".review-item")).to_have_count(1)
    page.get_by_label("Select all shown").check()
    page.get_by_role("button", name="Accept 1 selected").click()
    expect(page.locator('.review-item[data-status="accept"]:not(.is-saving)')).to_have_count(1)
    assert asset_id in [a["id"] for a in demo_server.get(f"/api/products/{sku}")["assets"]]
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#toast")).to_contain_text("Undone: 1 decision")
    expect(page.locator('.review-item[data-status="pending"]')).to_have_count(1)
    assert asset_id not in [a["id"] for a in demo_server.get(f"/api/products/{sku}")["assets"]]
    page.reload()
    expect(page.locator(".review-item")).to_have_count(1)  # the suggestion is open again
