"""Imports: a product file uploaded from the page, its progress, then the report with rejects."""

from __future__ import annotations

import re

import pytest
from browser_support import DemoServer, screenshot
from playwright.sync_api import FilePayload, Page, expect

pytestmark = pytest.mark.browser

PRODUCTS_CSV = (
    "sku,name,brand,price,currency,categories\n"
    "UPL-0001,Uploaded Test Lantern,Zephyrcraft,19.50,EUR,Home/Outdoor/Lanterns\n"
    ",A row without a SKU,Zephyrcraft,5.00,EUR,Home/Outdoor/Lanterns\n"
)


def test_a_product_file_is_imported_and_its_bad_row_reported(page: Page, demo_server: DemoServer) -> None:
    page.goto("/?view=imports")
    form = page.locator("#products-form")
    form.get_by_label("Product export").set_input_files(
        files=[FilePayload(name="upload.csv", mimeType="text/csv", buffer=PRODUCTS_CSV.encode())]
    )
    form.get_by_role("button", name="Upload").click()
    page.locator("#key-input").fill(demo_server.key)  # uploads need an editor key: asked once
    page.keyboard.press("Enter")

    job = form.locator(".job")
    expect(job.locator(".badge")).to_have_text("succeeded", timeout=60_000)
    expect(form.locator("progress").first).to_have_attribute("value", "1")
    expect(job.locator("table.rejects tbody tr")).to_have_count(1)
    expect(job.locator("table.rejects")).to_contain_text("sku")

    page.goto("/?q=lantern&mode=keyword")
    expect(page.locator('.card[data-id="UPL-0001"]')).to_be_visible()


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (48, 48), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


def test_an_upload_lists_its_links_and_a_suggested_link_leads_to_review(page: Page, demo_server: DemoServer) -> None:
    sku = demo_server.get("/api/search?type=product&mode=keyword&size=1")["hits"][0]["id"]
    page.goto("/?view=imports")
    form = page.locator("#assets-form")
    expect(form.locator("#asset-files-hint")).to_contain_text("suggested for review")
    name = f"{sku.lower()}-side-view.png"
    form.get_by_label("Images, PDFs or a zip").set_input_files(
        files=[FilePayload(name=name, mimeType="image/png", buffer=_png())]
    )
    form.get_by_role("button", name="Upload").click()
    page.locator("#key-input").fill(demo_server.key)
    page.keyboard.press("Enter")

    job = form.locator(".job")
    expect(job.locator(".badge")).to_have_text("succeeded", timeout=60_000)
    row = job.locator("table.links tr.link-suggested")
    expect(row).to_have_count(1)  # the demo's products name their images: the rule only suggests
    expect(row).to_contain_text(name)
    expect(row).to_contain_text(sku)
    screenshot(page, "imports-links", full_page=True)
    row.get_by_role("link", name="Suggested: review it").click()
    expect(page).to_have_url(re.compile(r"view=review"))
    expect(page.locator(f'[data-tag="link:{sku}"], .review-item, .card').first).to_be_visible(timeout=20_000)
    expect(page.locator("main")).to_contain_text(sku)
