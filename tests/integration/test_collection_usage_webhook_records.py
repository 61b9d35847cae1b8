"""The collection registry, usage analytics and webhook records on SQLite and PostgreSQL:
the JSON text search behind a rename, grouped usage reports, the delivery log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from discovery.config import Settings, TextSettings
from discovery.domain import Asset
from discovery.services import analytics
from discovery.services.context import Context
from discovery.store.collection_records import CollectionRecords
from discovery.store.records import Records
from discovery.store.usage_records import UsageRecords
from discovery.store.webhook_records import WebhookRecords


def _asset(asset_id: str, *collections: str, title: str = "") -> Asset:
    return Asset(
        id=asset_id, sha256="0" * 64, filename=f"{asset_id}.jpg", media_type="image/jpeg", title=title,
        collections=list(collections),
    )  # fmt: skip


def test_rename_moves_the_paths_of_every_descendant(records: Records) -> None:
    reg = CollectionRecords(records.engine)
    top = reg.create(name="Été 2026", parent=None, actor="t")
    assert top is not None
    child = reg.create(name="Shoes", parent=top, actor="t")
    assert child is not None and child.path == "Été 2026/Shoes"
    assert reg.create(name="Shoes", parent=top, actor="t") is None, "a taken path is refused"
    other = reg.create(name="Winter", parent=None, actor="t")
    assert other is not None
    assert reg.rename(top, "Winter") is None, "renaming onto a taken path is refused"
    assert reg.rename(top, "Summer") == "Summer"
    assert [r.path for r in reg.all()] == ["Summer", "Summer/Shoes", "Winter"]


def test_assets_naming_a_path_or_a_path_below_it_are_found(records: Records) -> None:
    records.upsert_assets(
        [
            _asset("a", "Été 2026"),
            _asset("b", "Été 2026/Shoes", "Other"),
            _asset("c", "Été 2026 extra"),
            _asset("d", title="Été 2026 100% off_"),
            _asset("e", "Other"),
        ]
    )
    found = [a.id for batch in CollectionRecords(records.engine).assets_in("Été 2026", batch=1) for a in batch]
    assert found == ["a", "b"]


def test_unregistered_paths_get_rows_with_their_ancestors(records: Records) -> None:
    reg = CollectionRecords(records.engine)
    reg.ensure_paths(["Uploads/2026/March", "Uploads/2026"], actor="t")
    rows = {r.path: r for r in reg.all()}
    assert list(rows) == ["Uploads", "Uploads/2026", "Uploads/2026/March"]
    assert rows["Uploads/2026/March"].parent_id == rows["Uploads/2026"].id


def test_usage_reports_group_searches_and_events(records: Records) -> None:
    usage = UsageRecords(records.engine)
    now = datetime.now(UTC)
    searches = [
        {"at": now, "q": "boots", "type": "product", "channel": "web", "total": 5, "took_ms": 1.0},
        {"at": now, "q": "boots", "type": "product", "channel": "", "total": 0, "took_ms": 1.0},
        {"at": now, "q": "zzz", "type": "product", "channel": "web", "total": 0, "took_ms": 1.0},
        {"at": now - timedelta(days=40), "q": "old", "type": "product", "channel": "", "total": 0, "took_ms": 1.0},
    ]
    event = {"at": now, "channel": "web", "query": "", "detail": "", "actor": "key:k0"}
    events = [
        {**event, "kind": "view", "target": "asset:a", "actor": "key:k1"},
        {**event, "kind": "view", "target": "asset:a", "actor": "key:k2"},
        {**event, "kind": "view", "target": "asset:a", "actor": "key:k2"},  # the same caller, the same day
        {**event, "kind": "view", "target": "asset:a", "actor": "anon:10.0.0.1"},
        {**event, "kind": "download", "target": "asset:a", "actor": "key:k1"},
        {**event, "kind": "click", "target": "asset:b", "channel": ""},
        {**event, "kind": "click", "target": "product:P1"},
    ]
    usage.add(searches, events)
    since = now - timedelta(days=30)
    top = usage.top_queries(since=since, channel=None, limit=10)
    assert [(s.q, s.count, s.zero_results) for s in top] == [("boots", 2, 1), ("zzz", 1, 1)]
    zero = usage.top_queries(since=since, channel="web", limit=10, zero_only=True)
    assert [s.q for s in zero] == ["zzz"]
    rows = usage.target_usage(since=since, channel=None, limit=10)
    assert [(r.target, r.channel, r.views, r.downloads, r.clicks) for r in rows] == [
        ("asset:a", "web", 4, 1, 0),
        ("asset:b", "", 0, 0, 1),
    ]
    assert usage.usage_totals(["asset:a", "asset:x"]) == {"asset:a": {"views": 2, "downloads": 1}}
    assert usage.usage_totals(["asset:a"], count_anonymous=True) == {"asset:a": {"views": 3, "downloads": 1}}


def test_usage_counters_land_in_the_asset_without_touching_updated_at(records: Records) -> None:
    records.upsert_assets([_asset("a")])
    before = records.get_asset("a")
    assert before is not None
    changed = UsageRecords(records.engine).set_asset_usage({"a": {"views": 3, "downloads": 1, "clicks": 0}, "x": {}})
    assert [a.id for a in changed] == ["a"]
    after = records.get_asset("a")
    assert after is not None and after.usage == {"views": 3, "downloads": 1, "clicks": 0}
    assert after.updated_at == before.updated_at
    assert UsageRecords(records.engine).set_asset_usage({"a": {"views": 3, "downloads": 1, "clicks": 0}}) == []


def test_webhook_deliveries_are_logged_and_go_with_their_subscription(records: Records) -> None:
    hooks = WebhookRecords(records.engine)
    sub = hooks.add(url="https://example.com/in", secret="x" * 16, events=["asset.changed"], actor="t")
    assert [s.id for s in hooks.for_event("asset.changed")] == [sub.id]
    assert hooks.for_event("job.finished") == []
    delivery = hooks.start_delivery(webhook_id=sub.id, event="asset.changed", event_id="e1")
    hooks.record_attempt(delivery, state="delivered", attempts=2, status_code=204, error=None)
    (logged,) = hooks.deliveries(sub.id)
    assert (logged["state"], logged["attempts"], logged["status_code"]) == ("delivered", 2, 204)
    assert hooks.remove(sub.id) and not hooks.remove(sub.id)
    assert hooks.deliveries(sub.id) == []


def test_a_usage_row_the_database_refuses_is_left_out_and_the_rest_written(
    postgres_url: str, tmp_path: Path
) -> None:
    # PostgreSQL refuses a NUL byte in text; a search for "%00" used to hold every later
    # usage row back, batch after batch.
    name = f"usage_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    settings = Settings(
        data_dir=tmp_path / "var", database_url=postgres_url.rsplit("/", 1)[0] + "/" + name,
        text=TextSettings(enabled=False),
    )  # fmt: skip
    ctx = Context.open(settings)
    try:
        now = datetime.now(UTC)
        for q in ("boots", "bad\x00query", "socks"):
            ctx.usage.add_search({"at": now, "q": q, "type": "product", "channel": "", "total": 1, "took_ms": 1.0})
        report = analytics.flush(ctx)
        assert report.searches == 2 and ctx.usage.dropped == 1 and ctx.usage.pending() == 0
        top = UsageRecords(ctx.records.engine).top_queries(since=now - timedelta(days=1), channel=None, limit=10)
        assert sorted(s.q for s in top) == ["boots", "socks"]
    finally:
        ctx.close()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
