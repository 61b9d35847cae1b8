"""Channel views and feeds, the product workflow, and the taxonomy."""

from __future__ import annotations

import json

from tests.api.conftest import Catalog


def _product_with_images(catalog: Catalog) -> tuple[str, list[str]]:
    for hit in catalog.client.get("/api/search", params={"size": 100, "mode": "keyword"}).json()["hits"]:
        body = catalog.client.get(f"/api/products/{hit['id']}").json()
        if len(body["assets"]) >= 2:
            return str(hit["id"]), [a["id"] for a in body["assets"]]
    raise AssertionError("no product with two images in the sample catalog")


def test_channel_view_keeps_only_fitting_images_with_valid_rights(catalog: Catalog) -> None:
    ctx = catalog.client.app.state.ctx  # type: ignore[attr-defined]
    sku, asset_ids = _product_with_images(catalog)
    big_white, expired = ctx.records.get_asset(asset_ids[0]), ctx.records.get_asset(asset_ids[1])
    big_white.width, big_white.height, big_white.background = 1200, 1200, "white"
    big_white.rights = {}
    expired.width, expired.height, expired.background = 1200, 1200, "white"
    expired.rights = {"license": "agency", "expires_at": "2021-06-30"}
    ctx.records.upsert_assets([big_white, expired])

    web = catalog.client.get(f"/api/channels/web/products/{sku}").json()
    web_ids = [i["id"] for i in web["images"]]
    assert big_white.id in web_ids and expired.id not in web_ids
    market = catalog.client.get(f"/api/channels/marketplace/products/{sku}").json()
    market_ids = [i["id"] for i in market["images"]]
    assert market_ids == [big_white.id], "512 px images are too small for the marketplace; expired is out"
    assert all(i["url"].endswith("/renditions/marketplace") for i in market["images"])


def test_unknown_channel_is_404(catalog: Catalog) -> None:
    assert catalog.client.get("/api/channels/nowhere/feed").status_code == 404


def test_feed_streams_ready_products_and_the_report_says_why_others_are_not(catalog: Catalog) -> None:
    feed = catalog.client.get("/api/channels/web/feed")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/x-ndjson")
    ready = [json.loads(line) for line in feed.text.splitlines()]
    report = [json.loads(line) for line in catalog.client.get("/api/channels/web/feed?report=true").text.splitlines()]
    assert ready or report
    assert all(r["missing"] for r in report)
    assert not {r["sku"] for r in ready} & {r["sku"] for r in report}
    csv_text = catalog.client.get("/api/channels/web/feed", params={"format": "csv"}).text
    assert csv_text.splitlines()[0] == "sku,name,brand,price,currency,images"


def test_workflow_moves_are_audited_and_illegal_ones_refused(catalog: Catalog) -> None:
    editor = {"X-API-Key": catalog.keys["editor"]}
    sku = str(catalog.client.get("/api/search", params={"size": 1}).json()["hits"][0]["id"])
    client = catalog.client
    client.post(f"/api/products/{sku}/status", json={"status": "draft"}, headers=editor)
    assert client.post(f"/api/products/{sku}/status", json={"status": "approved"}, headers=editor).status_code == 409
    assert client.post(f"/api/products/{sku}/status", json={"status": "in_review"}, headers=editor).json()["changed"]
    assert client.post(f"/api/products/{sku}/status", json={"status": "approved"}, headers=editor).status_code == 200
    assert client.get(f"/api/products/{sku}").json()["status"] == "approved"
    viewer = {"X-API-Key": catalog.keys["viewer"]}
    assert client.post(f"/api/products/{sku}/status", json={"status": "draft"}, headers=viewer).status_code == 403
    log = client.get(
        "/api/review/log", params={"target": f"product:{sku}"}, headers={"X-API-Key": catalog.keys["reviewer"]}
    )
    assert [e["detail"]["to"] for e in log.json()["entries"]][:2] == ["approved", "in_review"]


def test_taxonomy_lists_tags_and_categories(catalog: Catalog) -> None:
    body = catalog.client.get("/api/taxonomy").json()
    assert any(t["name"].startswith("colour:") for t in body["tags"])
    assert body["categories"]
