"""Find by image: a dropped picture finds its near-duplicate first; "more like this"."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
from browser_support import DemoServer, drop_file
from playwright.sync_api import FilePayload, Page, expect

pytestmark = pytest.mark.browser


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


def test_a_dropped_image_finds_its_near_duplicate_first(page: Page, demo_server: DemoServer) -> None:
    original, duplicate = _near_duplicate_pair(demo_server)
    page.goto("/")
    expect(page.locator(".card").first).to_be_visible()

    drop_file(page, _reencoded(original), "from-my-desktop.jpg", "image/jpeg")

    expect(page).to_have_url(re.compile(r"view=image"))
    expect(page.get_by_role("heading", name="Similar to your image")).to_be_visible()
    expect(page.locator(".card").nth(1)).to_be_visible()
    assert sorted(_filenames_of_cards(page, demo_server, 2)) == sorted([original.name, duplicate])
    expect(page.locator(".related-products a").first).to_be_visible()

    # The answer lives in the history entry: Back returns to the search, Forward redraws it.
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"view=image"))
    page.go_forward()
    assert sorted(_filenames_of_cards(page, demo_server, 2)) == sorted([original.name, duplicate])


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
