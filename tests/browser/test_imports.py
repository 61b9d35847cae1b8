"""Imports: a product file uploaded from the page, its progress, then the report with rejects."""

from __future__ import annotations

import pytest
from browser_support import DemoServer
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
