"""The asset page and the Collections page as a creative team's daily tool: accept a
suggested tag where it is shown, edit an asset's title and find it by the new one, put an
asset into a collection from its page, gather a search selection into a collection, browse
a collection's contents and download it as a zip. Screenshots go to /tmp/shots/asset-*.png."""

from __future__ import annotations

import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from browser_support import PHONE, DemoServer, signed_in
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")


def _assets(demo: DemoServer) -> list[dict[str, Any]]:
    hits: list[dict[str, Any]] = demo.get("/api/search?type=asset&mode=keyword&size=100&sort=name")["hits"]
    return hits


def _collection_with(demo: DemoServer, ids: list[str], *, name: str | None = None) -> dict[str, Any]:
    made: dict[str, Any] = demo.call("POST", "/api/collections", {"name": name or f"Shoot {uuid.uuid4().hex[:6]}"})
    if ids:
        demo.call("POST", f"/api/collections/{made['id']}/assets", {"add": ids})
    return made


def test_a_suggested_tag_is_accepted_on_the_asset_page(page: Page, demo_server: DemoServer) -> None:
    asset = None
    for hit in reversed(_assets(demo_server)):
        body = demo_server.get(f"/api/assets/{hit['id']}")
        if any(t.get("status") == "suggested" for t in body.get("tags", [])):
            asset = body
            break
    assert asset is not None, "the demo catalog has an asset with a suggested tag"
    tag = next(t["name"] for t in asset["tags"] if t["status"] == "suggested")
    signed_in(page, demo_server.key).goto(f"/?asset={asset['id']}")
    row = page.locator("tr.tag-row").filter(has=page.locator(f"th[title='{tag}']"))
    row.get_by_role("button", name="Accept").click()
    expect(page.locator("#toast")).to_contain_text("Accepted")
    row = page.locator("tr.tag-row").filter(has=page.locator(f"th[title='{tag}']"))
    expect(row).to_have_attribute("data-status", "accepted")
    expect(row.get_by_role("button", name="Accept")).to_have_count(0)
    after = demo_server.get(f"/api/assets/{asset['id']}")
    assert next(t["status"] for t in after["tags"] if t["name"] == tag) == "accepted"


def test_an_edited_title_is_shown_and_found_by_search_at_once(page: Page, demo_server: DemoServer) -> None:
    asset = _assets(demo_server)[-2]
    word = f"Lagoon{uuid.uuid4().hex[:6]}"
    signed_in(page, demo_server.key).goto(f"/?asset={asset['id']}")
    page.get_by_role("button", name="Edit details").click()
    form = page.get_by_role("form", name="Edit details")
    form.get_by_label("Title").fill(f"{word} campaign shot")
    form.get_by_label("Description").fill("Evening light on the lagoon.")
    form.get_by_label("Credit").fill("Studio Nine")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "asset-edit-form-desktop.png"), full_page=True)
    form.get_by_role("button", name="Save changes").click()
    expect(page.locator("h1.asset-title")).to_have_text(f"{word} campaign shot")
    expect(page.locator(".asset-description")).to_have_text("Evening light on the lagoon.")
    expect(page.locator(".facts").nth(1)).to_contain_text("Studio Nine")
    page.goto(f"/?q={word}&type=asset&mode=keyword")
    expect(page.locator(".card-title").first).to_have_text(f"{word} campaign shot")


def test_a_bad_expiry_is_refused_next_to_its_field(page: Page, demo_server: DemoServer) -> None:
    asset = _assets(demo_server)[-3]
    signed_in(page, demo_server.key).goto(f"/?asset={asset['id']}")
    page.get_by_role("button", name="Edit details").click()
    form = page.get_by_role("form", name="Edit details")
    form.get_by_label("Channels").fill("no-such-channel")
    form.get_by_role("button", name="Save changes").click()
    expect(form.locator(".edit-error")).to_contain_text("rights.channels")
    expect(form.get_by_label("Channels")).to_have_attribute("aria-invalid", "true")


def test_an_asset_is_added_to_a_collection_from_its_page_and_removed(page: Page, demo_server: DemoServer) -> None:
    asset = _assets(demo_server)[-4]
    existing = _collection_with(demo_server, [])
    signed_in(page, demo_server.key).goto(f"/?asset={asset['id']}")
    panel = page.locator(".asset-collections")
    expect(panel).to_contain_text("In no collection")
    panel.get_by_label("Add to collection").select_option(label=existing["path"])
    panel.get_by_role("button", name="Add", exact=True).click()
    expect(panel.get_by_role("link", name=existing["path"])).to_be_visible()
    page.screenshot(path=str(SHOTS / "asset-page-desktop.png"), full_page=True)
    new_name = f"Fresh {uuid.uuid4().hex[:6]}"
    panel.get_by_label("New collection name").fill(new_name)
    panel.get_by_role("button", name="Add", exact=True).click()
    expect(panel.get_by_role("link", name=new_name)).to_be_visible()
    assert set(demo_server.get(f"/api/assets/{asset['id']}")["collections"]) == {existing["path"], new_name}
    panel.get_by_role("button", name=f"Remove from {existing['path']}").click()
    expect(panel.get_by_role("link", name=existing["path"])).to_have_count(0)
    assert demo_server.get(f"/api/assets/{asset['id']}")["collections"] == [new_name]


def test_the_asset_page_on_a_phone(phone: Page, demo_server: DemoServer) -> None:
    asset = _assets(demo_server)[-4]
    signed_in(phone, demo_server.key).goto(f"/?asset={asset['id']}")
    expect(phone.locator(".asset-collections form")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=str(SHOTS / "asset-page-phone.png"), full_page=True)


def test_a_search_selection_is_added_to_a_collection_in_one_go(page: Page, demo_server: DemoServer) -> None:
    target = _collection_with(demo_server, [])
    signed_in(page, demo_server.key).goto("/?type=asset&mode=keyword&sort=name")
    expect(page.locator(".result-status")).to_have_attribute("data-state", "done")
    bar = page.get_by_role("form", name="Selected assets")
    expect(bar).to_be_hidden()
    cards = page.locator(".card-asset")
    chosen = [cards.nth(i).get_attribute("data-id") for i in (0, 1, 2)]
    for i in (0, 1, 2):
        cards.nth(i).get_by_label("Select").check()
    expect(bar).to_be_visible()
    expect(bar.locator(".selection-count")).to_have_text("3 selected")
    bar.get_by_label("Collection", exact=True).select_option(label=target["path"])
    page.screenshot(path=str(SHOTS / "asset-search-selection-desktop.png"))
    bar.get_by_role("button", name="Add to collection").click()
    expect(page.locator("#toast")).to_contain_text(f"Added 3 to “{target['path']}”")
    expect(bar).to_be_hidden()
    contents = demo_server.get(f"/api/collections/{target['id']}/assets?size=10")
    assert {i["id"] for i in contents["items"]} == set(chosen)


def test_the_collections_view_lists_the_tree_and_contents(page: Page, phone: Page, demo_server: DemoServer) -> None:
    hits = _assets(demo_server)
    top = _collection_with(demo_server, [hits[5]["id"], hits[6]["id"]], name=f"Autumn {uuid.uuid4().hex[:6]}")
    demo_server.call("POST", "/api/collections", {"name": "Outtakes", "parent": top["id"]})
    signed_in(page, demo_server.key).goto("/?view=collections")
    tree = page.get_by_role("navigation", name="Collection tree")
    tree.get_by_role("link", name=top["name"]).click()
    expect(page.get_by_role("heading", name=top["path"])).to_be_visible()
    expect(tree.get_by_role("link", name="Outtakes")).to_be_visible()
    status = page.locator(".collection-contents .result-status")
    expect(status).to_have_text("2 assets · page 1 of 1")
    expect(page.locator(".collection-contents .card")).to_have_count(2)
    titles = page.locator(".collection-contents .card-title").all_text_contents()
    assert all("." not in t.rsplit(" ", 1)[-1] for t in titles), titles  # no raw file names
    page.screenshot(path=str(SHOTS / "asset-collections-desktop.png"), full_page=True)
    phone.goto(page.url)
    expect(phone.locator(".collection-contents .card")).to_have_count(2)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=str(SHOTS / "asset-collections-phone.png"), full_page=True)
    page.locator(".collection-contents .card").first.get_by_role("button", name="Remove").click()
    expect(status).to_have_text("1 asset · page 1 of 1")


def test_the_download_link_gives_a_zip_of_the_collection(page: Page, demo_server: DemoServer, tmp_path: Path) -> None:
    hits = _assets(demo_server)
    col = _collection_with(demo_server, [hits[7]["id"], hits[8]["id"]])
    page.goto(f"/?view=collections&collection={col['id']}")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download as zip").click()
    download = info.value
    assert download.suggested_filename == f"{col['name']}.zip"
    saved = tmp_path / "collection.zip"
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert sorted(archive.namelist()) == sorted([hits[7]["filename"], hits[8]["filename"]])


def test_a_signed_in_download_carries_the_key_where_reads_need_one(
    page: Page, demo_server: DemoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hits = _assets(demo_server)
    col = _collection_with(demo_server, [hits[10]["id"], hits[11]["id"]])
    monkeypatch.setattr(demo_server.settings, "read_key_required", True)  # a link alone gets 401 now
    signed_in(page, demo_server.key).goto(f"/?view=collections&collection={col['id']}")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download as zip").click()
    download = info.value
    assert download.suggested_filename == f"{col['name']}.zip"
    saved = tmp_path / "collection.zip"
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert sorted(archive.namelist()) == sorted([hits[10]["filename"], hits[11]["filename"]])
    expect(page.get_by_role("link", name="Download as zip")).to_be_visible()  # ready for another


def test_where_reads_need_a_key_a_signed_in_search_shows_its_thumbnails(
    page: Page, demo_server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_server.settings, "read_key_required", True)  # an <img> alone gets 401 now
    signed_in(page, demo_server.key).goto("/?type=asset&mode=keyword&sort=name")
    expect(page.locator(".result-status")).to_have_attribute("data-state", "done")
    expect(page.locator(".card-asset img").first).to_be_visible()
    loaded = """() => {
      const imgs = [...document.querySelectorAll('.card-asset img')].slice(0, 6);
      return imgs.length === 6 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    }"""
    page.wait_for_function(loaded, timeout=15_000)  # a 401 would have swapped them for placeholders


def test_a_collection_is_renamed_and_deleted_without_a_browser_dialog(page: Page, demo_server: DemoServer) -> None:
    col = _collection_with(demo_server, [_assets(demo_server)[9]["id"]])
    signed_in(page, demo_server.key).goto(f"/?view=collections&collection={col['id']}")
    renamed = f"Renamed {uuid.uuid4().hex[:6]}"
    page.get_by_label("New name").fill(renamed)
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("heading", name=renamed)).to_be_visible()
    page.get_by_role("button", name="Delete…").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(page.locator(".collection-main")).to_contain_text("Pick a collection")
    tree = page.get_by_role("navigation", name="Collection tree")
    expect(tree.get_by_role("link", name=renamed)).to_have_count(0)
