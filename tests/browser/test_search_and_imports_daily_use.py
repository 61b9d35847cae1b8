"""The search and imports pages as daily tools: filters as a drawer on a phone, a skip link past
the filters, pages past the end and missing pages that lead somewhere, files dropped on the
Imports page going into its forms, labelled progress, the job history, and keys never dropped
without a word."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import PHONE, DemoServer, signed_in
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PRODUCTS_CSV = "sku,name,brand,price,currency\nDROP-0001,Dropped Test Kettle,Zephyrcraft,29.00,EUR\n"


def test_filters_open_as_a_drawer_over_the_results_on_a_phone(phone: Page) -> None:
    phone.goto("/?q=shirt&mode=keyword")
    expect(phone.locator(".result-status")).to_have_attribute("data-state", "done")
    total = phone.locator(".result-status").get_attribute("data-total")
    phone.get_by_role("button", name="Filters").click()
    drawer = phone.locator("#filters")
    expect(drawer).to_be_visible()
    box = drawer.bounding_box()
    assert box is not None and box["width"] >= PHONE["width"] - 1 and box["height"] >= PHONE["height"] - 1
    show = drawer.locator(".drawer-foot button")
    phone.screenshot(path="/tmp/ui-phone-drawer.png")
    expect(show).to_be_in_viewport()
    expect(show).to_contain_text(f"Show {total}")
    show.click()
    expect(drawer).to_be_hidden()
    expect(phone.locator(".card").first).to_be_in_viewport()
    phone.screenshot(path="/tmp/ui-phone-after-drawer.png")


def test_a_skip_link_takes_keyboard_users_past_the_filters(page: Page) -> None:
    page.goto("/?q=shirt&mode=keyword")
    expect(page.locator(".result-status")).to_have_attribute("data-state", "done")
    link = page.get_by_role("link", name="Skip the filters to the results")
    link.focus()
    expect(link).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement && document.activeElement.id") == "results"


def test_a_page_past_the_end_says_so_and_leads_back(page: Page) -> None:
    page.goto("/?q=shirt&mode=keyword&page=40")
    results = page.locator(".results-body")
    expect(results).to_contain_text("past the end")
    results.get_by_role("button", name="Go to page").click()
    expect(page.locator(".card").first).to_be_visible()
    assert "page=40" not in page.url


def test_a_missing_product_links_back_to_search(page: Page) -> None:
    page.goto("/?product=NO-SUCH-SKU")
    expect(page.get_by_text("Not found")).to_be_visible()
    page.get_by_role("link", name="Back to search").click()
    expect(page.locator("#q")).to_be_visible()


def _drop(page: Page, selector: str, name: str, text: str) -> None:
    page.evaluate(
        """([selector, name, text]) => {
          const data = new DataTransfer();
          data.items.add(new File([text], name, { type: "text/csv" }));
          const target = document.querySelector(selector);
          for (const type of ["dragenter", "dragover", "drop"]) {
            target.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
          }
        }""",
        [selector, name, text],
    )


def test_a_file_dropped_on_the_imports_page_goes_into_its_form_with_labelled_progress(
    page: Page, demo_server: DemoServer
) -> None:
    page.goto("/?view=imports")
    form = page.locator("#products-form")
    _drop(page, "#products-form", "dropped.csv", PRODUCTS_CSV)
    assert page.evaluate("document.querySelector('#product-file').files[0].name") == "dropped.csv"
    assert "view=imports" in page.url  # no image search took the drop
    _drop(page, "h1", "beside.csv", PRODUCTS_CSV)  # beside the forms: a hint, nothing else
    expect(page.get_by_text("Drop files onto the product or asset form")).to_be_visible()
    assert "view=imports" in page.url

    form.get_by_role("button", name="Upload").click()
    page.locator("#key-input").fill(demo_server.key)
    page.keyboard.press("Enter")
    expect(form.locator(".job .badge")).to_have_text("succeeded", timeout=60_000)
    expect(form.get_by_text("Uploaded")).to_be_visible()
    expect(form.locator(".job .progress-label")).to_contain_text("1 of 1 handled")
    expect(form.get_by_text("Nothing was rejected.")).to_be_visible()
    history = page.locator("table.jobs")
    expect(history).to_be_visible()
    expect(history.locator("tbody tr").first).to_contain_text("succeeded")
    page.screenshot(path="/tmp/ui-imports.png", full_page=True)


def test_a_key_with_too_small_a_role_is_kept_and_the_roles_explained(page: Page, demo_server: DemoServer) -> None:
    from discovery.api.auth import create_key
    from discovery.store.records import Records

    records = Records.open(demo_server.settings.records_url)
    try:
        reviewer = create_key(records, role="reviewer", name="ui-reviewer")
    finally:
        records.close()
    signed_in(page, reviewer).goto("/?view=imports")
    form = page.locator("#products-form")
    form.get_by_label("Product export").set_input_files(
        files=[{"name": "r.csv", "mimeType": "text/csv", "buffer": PRODUCTS_CSV.encode()}]
    )
    form.get_by_role("button", name="Upload").click()
    reason = page.locator("#key-reason")
    expect(reason).to_contain_text("an editor also imports")
    expect(reason).to_contain_text("Your stored key is kept")
    page.get_by_role("button", name="Cancel").click()
    stored: Any = page.evaluate("localStorage.getItem('discovery.apiKey')")
    assert stored == reviewer


def test_typing_offers_completions_from_the_suggest_endpoint(page: Page) -> None:
    page.goto("/")
    page.locator("#q").press_sequentially("shi", delay=30)
    options = page.locator("#q-suggestions option")
    expect(options.first).to_be_attached()
    values = options.evaluate_all("els => els.map(e => e.value.toLowerCase())")
    assert values and all("shi" in v for v in values), values
