"""Usage analytics through HTTP on both engines: searches, zero results, views, downloads,
clicks per channel, buffered and flushed, feeding the `popular` sort."""

from __future__ import annotations

import uuid

from discovery.api.auth import create_key
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


def _queries(catalog: Catalog) -> dict[str, dict[str, object]]:
    body = catalog.client.get("/api/analytics/queries", params={"limit": 1000}, headers=_viewer(catalog)).json()
    return {str(q["q"]): q for q in body["queries"]}


def _channel() -> str:
    # The catalog is shared by the whole session: a channel of its own isolates this test's counts.
    return f"ch-{uuid.uuid4().hex[:8]}"


def test_searches_are_counted_by_query_and_zero_result_ones_listed(catalog: Catalog) -> None:
    client = catalog.client
    analytics.flush(_ctx(catalog))
    before = _queries(catalog).get("hoodie", {}).get("count", 0)
    nothing = f"qqzz{uuid.uuid4().hex[:8]}"
    channel = _channel()
    for q in ("Hoodie", "  hoodie ", nothing):
        client.get("/api/search", params={"q": q, "mode": "keyword", "channel": channel})
    client.post("/api/search", json={"q": "hoodie", "mode": "keyword", "page": 2})  # paging on is not a new search
    analytics.flush(_ctx(catalog))
    queries = _queries(catalog)
    assert queries["hoodie"]["count"] == before + 2  # type: ignore[operator]
    assert queries[nothing]["zero_results"] == 1
    zero = client.get("/api/analytics/zero-results", params={"channel": channel}, headers=_viewer(catalog)).json()
    assert [q["q"] for q in zero["queries"]] == [nothing]


def test_views_and_downloads_are_counted_per_asset_and_channel(catalog: Catalog) -> None:
    client = catalog.client
    popular, other = _asset_ids(catalog, 2)
    channel = _channel()
    for _ in range(3):
        client.get(f"/api/assets/{popular}", params={"channel": channel})
    client.get(f"/api/assets/{popular}/file", params={"channel": channel})
    client.get(f"/api/assets/{popular}/renditions/thumbnail", params={"channel": channel})  # lists load these
    client.get(f"/api/assets/{other}", params={"channel": channel})
    analytics.flush(_ctx(catalog))
    params = {"channel": channel}
    rows = client.get("/api/analytics/assets", params=params, headers=_viewer(catalog)).json()["assets"]
    assert [(r["asset"], r["channel"], r["views"], r["downloads"]) for r in rows] == [
        (popular, channel, 3, 1),
        (other, channel, 1, 0),
    ], "the most used asset comes first; a thumbnail is not a download"
    everywhere = client.get("/api/analytics/assets", params={"limit": 1000}, headers=_viewer(catalog)).json()
    assert {r["channel"] for r in everywhere["assets"]} >= {channel}


def test_usage_feeds_the_asset_record_and_the_popular_sort(catalog: Catalog) -> None:
    client = catalog.client
    ctx = _ctx(catalog)
    analytics.flush(ctx)
    target = _asset_ids(catalog, 20)[-1]
    usage = {a.id: sum(a.usage.values()) for batch in ctx.records.iter_assets() for a in batch}
    lead = max(n for asset_id, n in usage.items() if asset_id != target) - usage[target] + 2
    # Popularity counts callers (a key once a day per asset), so each download is another key's.
    for _ in range(max(lead, 1)):
        client.get(f"/api/assets/{target}/file", headers={"X-API-Key": create_key(ctx.records, role="viewer")})
    analytics.flush(ctx)
    stored = ctx.records.get_asset(target)
    assert stored is not None and sum(stored.usage.values()) == usage[target] + max(lead, 1)
    hits = client.get("/api/search", params={"type": "asset", "sort": "popular", "size": 3}).json()["hits"]
    assert hits[0]["id"] == target


def test_clicks_are_accepted_from_shoppers_and_reports_need_a_viewer(catalog: Catalog) -> None:
    client = catalog.client
    (asset_id,) = _asset_ids(catalog, 1)
    public = {"X-API-Key": catalog.keys["public"]}
    channel = _channel()
    event = {"type": "click", "target": f"asset:{asset_id}", "query": "hoodie", "channel": channel}
    assert client.post("/api/analytics/events", json=event, headers=public).status_code == 202
    assert client.post("/api/analytics/events", json={**event, "type": "view"}, headers=public).status_code == 422
    assert client.post("/api/analytics/events", json={**event, "target": asset_id}, headers=public).status_code == 422
    analytics.flush(_ctx(catalog))
    for path in ("/api/analytics/queries", "/api/analytics/zero-results", "/api/analytics/assets"):
        assert client.get(path, headers=public).status_code == 403
    rows = client.get("/api/analytics/assets", params={"channel": channel}, headers=_viewer(catalog)).json()["assets"]
    assert [(r["asset"], r["clicks"]) for r in rows] == [(asset_id, 1)]
