"""Usage analytics through HTTP on both engines: searches, zero results, views, downloads,
clicks per channel, buffered and flushed, feeding the `popular` sort."""

from __future__ import annotations

from discovery.services import analytics
from discovery.services.context import Context
from tests.api.conftest import Catalog


def _ctx(catalog: Catalog) -> Context:
    ctx: Context = catalog.client.app.state.ctx  # type: ignore[attr-defined]
    return ctx


def _viewer(catalog: Catalog) -> dict[str, str]:
    return {"X-API-Key": catalog.keys["viewer"]}


def _asset_ids(catalog: Catalog, n: int) -> list[str]:
    hits = catalog.client.get("/api/search", params={"type": "asset", "size": n, "mode": "keyword"}).json()["hits"]
    return [str(h["id"]) for h in hits]


def test_searches_are_counted_by_query_and_zero_result_ones_listed(catalog: Catalog) -> None:
    client = catalog.client
    for q in ("Hoodie", "  hoodie ", "qqzzxxnothing"):
        client.get("/api/search", params={"q": q, "mode": "keyword", "channel": "web"})
    client.post("/api/search", json={"q": "hoodie", "mode": "keyword", "page": 2})  # paging on is not a new search
    analytics.flush(_ctx(catalog))
    queries = {q["q"]: q for q in client.get("/api/analytics/queries", headers=_viewer(catalog)).json()["queries"]}
    assert queries["hoodie"]["count"] == 2 and queries["hoodie"]["zero_results"] == 0
    assert queries["qqzzxxnothing"]["zero_results"] == 1
    zero = client.get("/api/analytics/zero-results", params={"channel": "web"}, headers=_viewer(catalog)).json()
    assert [q["q"] for q in zero["queries"]] == ["qqzzxxnothing"]


def test_views_and_downloads_are_counted_per_asset_and_channel(catalog: Catalog) -> None:
    client = catalog.client
    popular, other = _asset_ids(catalog, 2)
    for _ in range(3):
        client.get(f"/api/assets/{popular}", params={"channel": "web"})
    client.get(f"/api/assets/{popular}")
    client.get(f"/api/assets/{popular}/file", params={"channel": "web"})
    client.get(f"/api/assets/{popular}/renditions/thumbnail")  # result lists load these: not a download
    client.get(f"/api/assets/{other}")
    analytics.flush(_ctx(catalog))
    rows = client.get("/api/analytics/assets", headers=_viewer(catalog)).json()["assets"]
    by_key = {(r["asset"], r["channel"]): r for r in rows}
    assert (by_key[(popular, "web")]["views"], by_key[(popular, "web")]["downloads"]) == (3, 1)
    assert by_key[(popular, None)]["views"] == 1
    assert by_key[(other, None)]["views"] == 1
    assert rows[0]["asset"] == popular, "the most used asset comes first"
    web_only = client.get("/api/analytics/assets", params={"channel": "web"}, headers=_viewer(catalog)).json()
    assert {r["channel"] for r in web_only["assets"]} == {"web"}


def test_usage_feeds_the_asset_record_and_the_popular_sort(catalog: Catalog) -> None:
    client = catalog.client
    ids = _asset_ids(catalog, 20)
    target = ids[-1]
    for _ in range(12):
        client.get(f"/api/assets/{target}/file")
    analytics.flush(_ctx(catalog))
    usage = _ctx(catalog).records.get_asset(target).usage  # type: ignore[union-attr]
    assert usage["downloads"] >= 12
    hits = client.get("/api/search", params={"type": "asset", "sort": "popular", "size": 3}).json()["hits"]
    assert hits[0]["id"] == target


def test_clicks_are_accepted_from_shoppers_and_reports_need_a_viewer(catalog: Catalog) -> None:
    client = catalog.client
    (asset_id,) = _asset_ids(catalog, 1)
    public = {"X-API-Key": catalog.keys["public"]}
    event = {"type": "click", "target": f"asset:{asset_id}", "query": "hoodie", "channel": "shop"}
    assert client.post("/api/analytics/events", json=event, headers=public).status_code == 202
    assert client.post("/api/analytics/events", json={**event, "type": "view"}, headers=public).status_code == 422
    assert client.post("/api/analytics/events", json={**event, "target": asset_id}, headers=public).status_code == 422
    analytics.flush(_ctx(catalog))
    for path in ("/api/analytics/queries", "/api/analytics/zero-results", "/api/analytics/assets"):
        assert client.get(path, headers=public).status_code == 403
    rows = client.get("/api/analytics/assets", params={"channel": "shop"}, headers=_viewer(catalog)).json()["assets"]
    assert [(r["asset"], r["clicks"]) for r in rows] == [(asset_id, 1)]
