"""Links through HTTP, on both engines: SKU-named uploads, suggested links for products whose
export names their images, job reports that list links, and links a person manages (link,
unlink, primary image) with role checks, the audit log and search showing each change at once."""

from __future__ import annotations

from typing import Any

from tests.api.api_support import editor, import_rows, png, upload
from tests.api.conftest import Catalog


def _assets_of(catalog: Catalog, sku: str, **params: str) -> list[str]:
    body = catalog.client.get(f"/api/products/{sku}", params=params, headers=editor(catalog)).json()
    return [a["id"] for a in body["assets"]]


def _search_assets_of(catalog: Catalog, sku: str) -> list[str]:
    params = {"type": "asset", "filter.product_skus": sku, "size": 50}
    return [h["id"] for h in catalog.client.get("/api/search", params=params).json()["hits"]]


def _product_hit(catalog: Catalog, word: str, sku: str) -> dict[str, Any]:
    params = {"q": word, "type": "product", "mode": "keyword", "size": 50}
    hits = catalog.client.get("/api/search", params=params, headers=editor(catalog)).json()["hits"]
    return next(h for h in hits if h["id"] == sku)


def test_the_demos_sku_named_uploads_link_and_the_job_lists_them(catalog: Catalog) -> None:
    rows = [{"sku": s, "name": f"Quillon {s} zibble"} for s in ("QLN-000004", "UIX-0001", "UIX-0002")]
    assert import_rows(catalog, rows)["state"] == "succeeded"
    job = upload(catalog, ["QLN-000004-side.png", "uix-0001-red_main.png", "UIX0002.png"])
    assert job["state"] == "succeeded", job
    links = job["links"]
    assert links["counts"] == {"linked_filename_rule": 3}
    assert sorted((e["file"], e["sku"]) for e in links["linked"]) == [
        ("QLN-000004-side.png", "QLN-000004"), ("UIX0002.png", "UIX-0002"), ("uix-0001-red_main.png", "UIX-0001"),
    ]  # fmt: skip
    for entry in links["linked"]:
        assert _assets_of(catalog, entry["sku"]) == [entry["asset_id"]]
        assert _search_assets_of(catalog, entry["sku"]) == [entry["asset_id"]]


def test_an_import_can_turn_the_filename_rule_off(catalog: Catalog) -> None:
    assert import_rows(catalog, [{"sku": "QLN-000005", "name": "Quillon off"}])["state"] == "succeeded"
    job = upload(catalog, ["qln-000005-front.png"], link_rule="none")
    assert job["links"]["counts"] == {} and _assets_of(catalog, "QLN-000005") == []
    bad = catalog.client.post(
        "/api/ingest/assets", files=[("files", ("x.png", png("x.png"), "image/png"))],
        data={"link_pattern": "(unclosed"}, headers=editor(catalog),
    )  # fmt: skip
    assert bad.status_code == 400 and "link_pattern" in bad.text


def test_a_product_naming_its_images_gets_a_suggested_link_that_a_reviewer_accepts(catalog: Catalog) -> None:
    sku = "QLN-000006"
    row = {"sku": sku, "name": "Quillon named", "image": ["qln-000006-blue_main.png"]}
    assert import_rows(catalog, [row])["state"] == "succeeded"
    job = upload(catalog, ["qln-000006-blue_main.png", "QLN-000006-side.png"])
    named = next(e["asset_id"] for e in job["links"]["linked"] if e["file"] == "qln-000006-blue_main.png")
    assert job["links"]["counts"] == {"linked_image_ref": 1, "suggested": 1}
    (suggested,) = job["links"]["suggested"]
    assert suggested["file"] == "QLN-000006-side.png" and suggested["sku"] == sku
    assert _assets_of(catalog, sku) == [named], "the file-name rule links nothing to a product naming its images"
    reviewer = {"X-API-Key": catalog.keys["reviewer"]}
    queue = catalog.client.get("/api/review/queue", params={"tag": f"link:{sku}"}, headers=reviewer).json()
    (item,) = queue["items"]
    assert item["kind"] == "link" and item["sku"] == sku and item["target"]["id"] == suggested["asset_id"]
    assert item["evidence"] == f"the file name “QLN-000006-side.png” names {sku}, whose export names its own images"
    decision = {"target": item["target"], "tag": item["tag"], "decision": "accept"}
    out = catalog.client.post("/api/review/decisions", json=[decision], headers=reviewer).json()
    assert out["results"][0]["ok"], out
    assert set(_assets_of(catalog, sku)) == {named, suggested["asset_id"]}
    assert suggested["asset_id"] in _search_assets_of(catalog, sku)
    asset = catalog.client.get(f"/api/assets/{suggested['asset_id']}", headers=editor(catalog)).json()
    assert {"sku": sku, "how": "manual"} in asset["product_skus"]
    assert not [t for t in asset["tags"] if t["name"].startswith("link:")], "an accepted link is no search tag"


def test_link_unlink_and_primary_image_need_an_editor_are_audited_and_searchable_at_once(catalog: Catalog) -> None:
    sku = "QLN-000007"
    assert import_rows(catalog, [{"sku": sku, "name": "Zorblax gizmo", "channels": ["web"]}])["state"] == "succeeded"
    assert upload(catalog, ["zorblaxshot-one.png", "zorblaxshot-two.png"])["state"] == "succeeded"
    first, second = _ids_by_filename(catalog, "zorblaxshot", ["zorblaxshot-one.png", "zorblaxshot-two.png"])
    reviewer = {"X-API-Key": catalog.keys["reviewer"]}
    assert catalog.client.post(f"/api/assets/{first}/links", json={"sku": sku}, headers=reviewer).status_code == 403
    put = {"asset_id": first}
    assert catalog.client.put(f"/api/products/{sku}/primary-image", json=put, headers=reviewer).status_code == 403
    assert catalog.client.delete(f"/api/assets/{first}/links/{sku}", headers=reviewer).status_code == 403
    for asset_id in (first, second):
        made = catalog.client.post(f"/api/assets/{asset_id}/links", json={"sku": sku}, headers=editor(catalog))
        assert made.status_code == 200 and made.json()["linked"], made.text
    assert sorted(_search_assets_of(catalog, sku)) == sorted([first, second])
    for chosen in (first, second):
        body = {"asset_id": chosen}
        primary = catalog.client.put(f"/api/products/{sku}/primary-image", json=body, headers=editor(catalog))
        assert primary.status_code == 200, primary.text
        assert _product_hit(catalog, "zorblax", sku)["thumbnail"] == f"/api/assets/{chosen}/renditions/thumbnail"
    web = {"asset_id": first, "channel": "web"}
    assert (
        catalog.client.put(f"/api/products/{sku}/primary-image", json=web, headers=editor(catalog)).status_code == 200
    )
    assert _assets_of(catalog, sku)[0] == second and _assets_of(catalog, sku, channel="web")[0] == first

    gone = catalog.client.delete(f"/api/assets/{second}/links/{sku}", headers=editor(catalog))
    assert gone.status_code == 200, gone.text
    assert _search_assets_of(catalog, sku) == [first]
    assert _product_hit(catalog, "zorblax", sku)["thumbnail"] == f"/api/assets/{first}/renditions/thumbnail"
    unlinked = catalog.client.put(
        f"/api/products/{sku}/primary-image", json={"asset_id": second}, headers=editor(catalog)
    )
    assert unlinked.status_code == 409 and "not linked" in unlinked.text

    log = catalog.client.get("/api/review/log", params={"target": f"asset:{second}"}, headers=reviewer).json()
    assert [e["action"] for e in log["entries"]] == ["link.remove", "link.add"]
    assert log["entries"][0]["detail"]["primary_cleared"] == [""]
    product_log = catalog.client.get("/api/review/log", params={"target": f"product:{sku}"}, headers=reviewer).json()
    assert [e["detail"]["channel"] for e in product_log["entries"] if e["action"] == "product.primary_image"] == [
        "web", None, None,
    ]  # fmt: skip


def _ids_by_filename(catalog: Catalog, word: str, names: list[str]) -> list[str]:
    params = {"q": word, "type": "asset", "mode": "keyword", "size": 50}
    hits = catalog.client.get("/api/search", params=params, headers=editor(catalog)).json()["hits"]
    by_name = {
        catalog.client.get(f"/api/assets/{h['id']}", headers=editor(catalog)).json()["filename"]: h["id"] for h in hits
    }
    return [by_name[n] for n in names]


def test_a_product_import_lists_the_links_it_made_and_suggested(catalog: Catalog) -> None:
    assert upload(catalog, ["rvn-000001-front.png", "rvn-000002-side.png"])["links"]["counts"] == {}
    rows = [
        {"sku": "RVN-000001", "name": "Raven plain"},
        {"sku": "RVN-000002", "name": "Raven named", "image": ["rvn-000002-blue_main.png"]},
    ]
    job = import_rows(catalog, rows)
    assert job["state"] == "succeeded", job
    assert job["links"]["counts"] == {"linked_filename_rule": 1, "suggested": 1}
    assert [(e["file"], e["sku"]) for e in job["links"]["linked"]] == [("rvn-000001-front.png", "RVN-000001")]
    assert [(e["file"], e["sku"]) for e in job["links"]["suggested"]] == [("rvn-000002-side.png", "RVN-000002")]
    assert len(_assets_of(catalog, "RVN-000001")) == 1 and _assets_of(catalog, "RVN-000002") == []
    reviewer = {"X-API-Key": catalog.keys["reviewer"]}
    asset_id = job["links"]["suggested"][0]["asset_id"]
    decision = {"target": {"type": "asset", "id": asset_id}, "tag": "link:RVN-000002", "decision": "reject"}
    assert catalog.client.post("/api/review/decisions", json=[decision], headers=reviewer).json()["results"][0]["ok"]
    asset = catalog.client.get(f"/api/assets/{asset_id}", headers=editor(catalog)).json()
    assert (
        asset["product_skus"] == []
        and {"link:RVN-000002": "rejected"}.items() <= {t["name"]: t["status"] for t in asset["tags"]}.items()
    )


def test_a_suggested_link_accepted_in_bulk_is_a_link(catalog: Catalog) -> None:
    sku = "QLN-000008"
    row = {"sku": sku, "name": "Quillon bulk", "image": ["qln-000008-blue_main.png"]}
    assert import_rows(catalog, [row])["state"] == "succeeded"
    job = upload(catalog, ["qln-000008-blue_main.png", "QLN-000008-side.png"])
    (suggested,) = job["links"]["suggested"]
    reviewer = {"X-API-Key": catalog.keys["reviewer"]}
    (item,) = catalog.client.get("/api/review/queue", params={"tag": f"link:{sku}"}, headers=reviewer).json()["items"]
    body = {"decision": "accept", "items": [{"target": item["target"], "tag": item["tag"]}]}
    out = catalog.client.post("/api/review/bulk", json=body, headers=reviewer).json()
    assert out["results"][0]["outcome"] == "decided", out
    assert suggested["asset_id"] in _assets_of(catalog, sku)
    assert suggested["asset_id"] in _search_assets_of(catalog, sku)


def test_undoing_an_accepted_suggested_link_takes_the_link_back_and_the_suggestion_returns(catalog: Catalog) -> None:
    sku = "QLN-000009"
    row = {"sku": sku, "name": "Quillon undo", "image": ["qln-000009-blue_main.png"]}
    assert import_rows(catalog, [row])["state"] == "succeeded"
    job = upload(catalog, ["qln-000009-blue_main.png", "QLN-000009-side.png"])
    (suggested,) = job["links"]["suggested"]
    reviewer = {"X-API-Key": catalog.keys["reviewer"]}
    (item,) = catalog.client.get("/api/review/queue", params={"tag": f"link:{sku}"}, headers=reviewer).json()["items"]
    decision = {"target": item["target"], "tag": item["tag"], "decision": "accept"}
    assert catalog.client.post("/api/review/decisions", json=[decision], headers=reviewer).json()["results"][0]["ok"]
    assert suggested["asset_id"] in _assets_of(catalog, sku)
    undone = catalog.client.post("/api/review/undo", json={}, headers=reviewer)
    assert undone.status_code == 200 and undone.json()["tag"] == f"link:{sku}", undone.text
    assert suggested["asset_id"] not in _assets_of(catalog, sku)
    again = catalog.client.get("/api/review/queue", params={"tag": f"link:{sku}"}, headers=reviewer).json()["items"]
    assert [i["target"]["id"] for i in again] == [suggested["asset_id"]]


def _suggested_link(catalog: Catalog, sku: str, name: str) -> tuple[str, dict[str, Any]]:
    """An asset with a suggested link to a new product `sku`, and its review queue item."""
    lower = sku.lower()
    assert (
        import_rows(catalog, [{"sku": sku, "name": name, "image": [f"{lower}-blue_main.png"]}])["state"] == "succeeded"
    )
    (suggested,) = upload(catalog, [f"{lower}-blue_main.png", f"{sku}-side.png"])["links"]["suggested"]
    reviewer = {"X-API-Key": catalog.keys["reviewer"]}
    (item,) = catalog.client.get("/api/review/queue", params={"tag": f"link:{sku}"}, headers=reviewer).json()["items"]
    return str(suggested["asset_id"]), dict(item)


def test_a_suggested_link_accepted_in_bulk_is_taken_back_by_the_bulk_undo(catalog: Catalog) -> None:
    sku = "QLN-000010"
    asset_id, item = _suggested_link(catalog, sku, "Quillon bulk undo")
    reviewer = {"X-API-Key": catalog.keys["reviewer"]}
    body = {"decision": "accept", "items": [{"target": item["target"], "tag": item["tag"]}]}
    (result,) = catalog.client.post("/api/review/bulk", json=body, headers=reviewer).json()["results"]
    assert result["outcome"] == "decided" and isinstance(result["entry"], int), result
    assert asset_id in _assets_of(catalog, sku)
    twice = {"entry_ids": [result["entry"], result["entry"]]}
    undo = catalog.client.post("/api/review/undo", json=twice, headers=reviewer)
    assert undo.status_code == 200, undo.text
    assert [r["outcome"] for r in undo.json()["results"]] == ["undone", "already_undone"]
    assert asset_id not in _assets_of(catalog, sku)
    assert asset_id not in _search_assets_of(catalog, sku)
    again = catalog.client.get("/api/review/queue", params={"tag": f"link:{sku}"}, headers=reviewer).json()["items"]
    assert [i["target"]["id"] for i in again] == [asset_id]  # the suggestion is open again
    log = catalog.client.get("/api/review/log", params={"target": f"asset:{asset_id}"}, headers=reviewer).json()
    assert [e["action"] for e in log["entries"]][:2] == ["tag.undo", "link.remove"]


def test_a_link_picked_twice_in_one_bulk_request_is_decided_once(catalog: Catalog) -> None:
    sku = "QLN-000011"
    asset_id, item = _suggested_link(catalog, sku, "Quillon twice")
    reviewer = {"X-API-Key": catalog.keys["reviewer"]}
    pick = {"target": item["target"], "tag": item["tag"]}
    out = catalog.client.post("/api/review/bulk", json={"decision": "accept", "items": [pick, pick]}, headers=reviewer)
    assert out.status_code == 200, out.text
    first, second = out.json()["results"]
    assert (first["outcome"], second["outcome"]) == ("decided", "already_decided"), out.json()
    assert "entry" in first and "entry" not in second
    assert out.json()["counts"] == {"decided": 1, "already_decided": 1, "not_found": 0}
    assert _assets_of(catalog, sku).count(asset_id) == 1
