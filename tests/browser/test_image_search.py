"""Find by image: a dropped picture finds its near-duplicate first; "more like this"."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
from browser_support import PHONE, DemoServer, drop_file, result_total
from playwright.sync_api import FilePayload, Page, expect

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")  # looked at by people, outside the checkout


def _near_duplicate_pair(demo: DemoServer) -> tuple[Path, str]:
    """An original picture of the catalog and the file name of its near-duplicate copy."""
    folder = Path(str(demo.info["catalog_dir"]))
    truth = json.loads((folder / "truth.json").read_text())
    for name, facts in sorted(truth.items()):
        if facts.get("near_duplicate_of"):
            return folder / "images" / str(facts["near_duplicate_of"]), name
    raise AssertionError("the sample catalog has no near-duplicate pairs")


def _reencoded(path: Path) -> bytes:
    """The picture as someone would have it on their desktop: smaller and re-compressed,
    so its bytes match no stored file."""
    from PIL import Image

    with Image.open(path) as image:
        smaller = image.convert("RGB").resize((image.width * 3 // 4, image.height * 3 // 4))
    out = io.BytesIO()
    smaller.save(out, format="JPEG", quality=72)
    return out.getvalue()


def _filenames_of_cards(page: Page, demo: DemoServer, count: int) -> list[str]:
    ids = [page.locator(".card").nth(i).get_attribute("data-id") for i in range(count)]
    return [str(demo.get(f"/api/assets/{asset_id}")["filename"]) for asset_id in ids]


def _first_group(page: Page, demo: DemoServer) -> list[str]:
    """File names of the first card and of the near-duplicates grouped into it."""
    first = page.locator(".card").first
    names = _filenames_of_cards(page, demo, 1)
    for link in first.locator(".collapsed-list a").all():
        asset_id = str(link.get_attribute("href")).split("asset=", 1)[1]
        names.append(str(demo.get(f"/api/assets/{asset_id}")["filename"]))
    return names


def test_a_dropped_image_finds_its_near_duplicate_first(page: Page, demo_server: DemoServer) -> None:
    original, duplicate = _near_duplicate_pair(demo_server)
    page.goto("/")
    expect(page.locator(".card").first).to_be_visible()

    drop_file(page, _reencoded(original), "from-my-desktop.jpg", "image/jpeg")

    expect(page).to_have_url(re.compile(r"view=image"))
    expect(page.get_by_role("heading", name="Similar to your image")).to_be_visible()
    # The picture and its copy are one result: the copy is grouped under "+1 similar".
    toggle = page.locator(".card").first.locator(".collapsed-toggle")
    expect(toggle).to_have_text(re.compile(r"^\+\d+ similar$"))
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    assert {original.name, duplicate} <= set(_first_group(page, demo_server))
    expect(page.locator(".related-products a").first).to_be_visible()

    # The answer lives in the history entry: Back returns to the search, Forward redraws it.
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"view=image"))
    page.go_forward()
    expect(page.locator(".card").first.locator(".collapsed-toggle")).to_be_visible()
    page.locator(".card").first.locator(".collapsed-toggle").click()
    assert {original.name, duplicate} <= set(_first_group(page, demo_server))


def test_image_results_offer_facets_that_narrow_them(page: Page, demo_server: DemoServer) -> None:
    original, _ = _near_duplicate_pair(demo_server)
    page.goto("/")
    expect(page.locator(".card").first).to_be_visible()
    drop_file(page, _reencoded(original), "from-my-desktop.jpg", "image/jpeg")
    expect(page.locator(".card").first).to_be_visible()
    before = result_total(page)
    colours = page.locator('.facet[data-field="colors"] li')
    expect(colours.first).to_be_visible()
    # A colour that some but not all of the results have.
    counts = [int(str(colours.nth(i).get_attribute("data-count"))) for i in range(colours.count())]
    pick = next(i for i, c in enumerate(counts) if 0 < c < before)
    value = str(colours.nth(pick).get_attribute("data-value"))
    expect(page.locator(".card").first.locator(".collapsed-toggle")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".card").first.locator(".collapsed-toggle").click()
    page.screenshot(path=str(SHOTS / "image-results-1280x800.png"))
    colours.nth(pick).locator("input").check()
    expect(page).to_have_url(re.compile(r"filter\.colors="))
    expect(page.get_by_role("button", name=re.compile(f"Remove filter Colours: {re.escape(value)}"))).to_be_visible()
    expect(page.locator(".result-status[data-state=done]")).to_be_visible()
    after = result_total(page)
    assert 0 < after < before
    cards = page.locator(".card")
    for asset_id in [cards.nth(i).get_attribute("data-id") for i in range(cards.count())]:
        colours_of = [c.get("name", "").lower() for c in demo_server.get(f"/api/assets/{asset_id}")["colors"]]
        assert value.lower() in colours_of
    page.screenshot(path=str(SHOTS / "image-filtered-1280x800.png"))
    # Back undoes the filter without sending the picture again.
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"filter\.colors="))
    assert result_total(page) == before
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(200)
    page.screenshot(path=str(SHOTS / "image-results-390x844.png"))
    page.get_by_role("button", name="Filters").click()
    expect(page.locator("#filters.open")).to_be_visible()
    page.screenshot(path=str(SHOTS / "image-filters-390x844.png"))
    page.get_by_role("button", name=re.compile(r"^Show \d+ similar")).click()
    expect(page.locator("#filters.open")).to_have_count(0)


def test_more_like_this_lists_neighbours_of_a_stored_asset(page: Page, demo_server: DemoServer) -> None:
    page.goto("/?type=asset")
    first = page.locator(".card").first
    asset_id = first.get_attribute("data-id")
    first.get_by_role("link", name=re.compile("^More like")).click()
    expect(page).to_have_url(re.compile(rf"similar={asset_id}"))
    expect(page.get_by_role("heading", name="More like this")).to_be_visible()
    expect(page.locator(".card").first).to_be_visible()
    expect(page.locator(f'.card[data-id="{asset_id}"]')).to_have_count(0)  # not itself


def test_a_file_that_is_not_an_image_is_refused_and_a_pasted_image_is_searched(
    page: Page, demo_server: DemoServer
) -> None:
    page.goto("/")
    page.set_input_files("#image-input", files=[FilePayload(name="notes.txt", mimeType="text/plain", buffer=b"hello")])
    expect(page.locator("#toast")).to_contain_text("image")
    expect(page).not_to_have_url(re.compile(r"view=image"))

    original, _ = _near_duplicate_pair(demo_server)
    page.evaluate(
        """(b64) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const data = new DataTransfer();
          data.items.add(new File([bytes], "clipboard.jpg", { type: "image/jpeg" }));
          document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
        }""",
        base64.b64encode(_reencoded(original)).decode(),
    )
    expect(page).to_have_url(re.compile(r"view=image"))
    expect(page.locator(".card").first).to_be_visible()
