"""Usage analytics: searches (and which found nothing), asset views, downloads and clicks,
per channel, recorded without slowing the request that caused them.

`record_*` only append to the context's `UsageBuffer`; a background thread writes the rows
every `analytics_flush_seconds` and at shutdown (`flush` does it now, for tests and the
CLI). Each flush also copies the all-time counters of the assets it saw into their records
(`Asset.usage`) and reindexes them, which is what `sort=popular` orders by.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from discovery.domain import JSONObject, JSONValue, utcnow
from discovery.services import owed_docs
from discovery.services.context import Context
from discovery.services.search import SearchRequest
from discovery.services.usage_buffer import Row, UsageBuffer
from discovery.store.usage_records import USAGE_KEYS, UsageRecords

# Renditions that result lists load for every hit: fetching them is not a use of the asset.
LIST_RENDITIONS = frozenset({"thumbnail"})
MAX_TEXT = 500

log = logging.getLogger("discovery.analytics")


@dataclass(frozen=True, slots=True)
class FlushReport:
    searches: int = 0
    events: int = 0
    assets: int = 0  # asset records whose usage counters changed


def normalise_query(q: str) -> str:
    """How queries are grouped: trimmed, lower case, single spaces. Pure."""
    return " ".join(q.lower().split())[:MAX_TEXT]


def start_recording(ctx: Context) -> None:
    """Start the usage buffer's writer now (server start) rather than on the first search."""
    _buffer(ctx)


def _buffer(ctx: Context) -> UsageBuffer:
    ctx.usage.start(partial(_write, ctx), interval=ctx.settings.analytics_flush_seconds)
    return ctx.usage


def _event(
    ctx: Context, kind: str, target: str, *, channel: str | None, actor: str, query: str = "", detail: str = ""
) -> None:
    row = {
        "at": utcnow(),
        "kind": kind,
        "target": target[:300],
        "channel": (channel or "")[:64],
        "query": normalise_query(query),
        "detail": detail[:100],
        "actor": actor[:200],
    }
    _buffer(ctx).add_event(row)


def record_search(ctx: Context, req: SearchRequest, body: Mapping[str, object]) -> None:
    """Count a search by its text (first pages only: paging on is not a new search)."""
    q = normalise_query(req.q)
    if not q or req.page != 1 or req.cursor:
        return
    total, took = body.get("total"), body.get("took_ms")
    row = {
        "at": utcnow(),
        "q": q,
        "type": req.type,
        "channel": (req.channel or "")[:64],
        "total": total if isinstance(total, int) else 0,
        "took_ms": float(took) if isinstance(took, int | float) else 0.0,
    }
    _buffer(ctx).add_search(row)


def record_view(ctx: Context, asset_id: str, *, channel: str | None, actor: str) -> None:
    """A view of an asset by `actor` (see `deps.usage_actor`)."""
    _event(ctx, "view", f"asset:{asset_id}", channel=channel, actor=actor)


def record_download(
    ctx: Context, asset_id: str, *, channel: str | None, actor: str, rendition: str | None = None
) -> None:
    """A download of the original (`rendition` None) or of a rendition; thumbnails, which
    every result list loads, are not counted."""
    if rendition in LIST_RENDITIONS:
        return
    _event(ctx, "download", f"asset:{asset_id}", channel=channel, actor=actor, detail=rendition or "original")


def record_click(ctx: Context, *, target: str, query: str | None, channel: str | None, actor: str) -> None:
    """A click on a search hit (`asset:ID` or `product:SKU`), reported by the client."""
    _event(ctx, "click", target, channel=channel, actor=actor, query=query or "")


def flush(ctx: Context) -> FlushReport:
    """Write what is buffered now (the background thread does this every few seconds)."""
    report = _buffer(ctx).run_flush()
    return report if isinstance(report, FlushReport) else FlushReport()


def _write(ctx: Context) -> FlushReport:
    searches, events = ctx.usage.take()
    if not searches and not events:
        return FlushReport()
    records = UsageRecords(ctx.records.engine)
    try:
        records.add(searches, events)
    except (OperationalError, InterfaceError):  # the database, not the rows: all of them later
        ctx.usage.put_back(searches, events)
        raise
    except DBAPIError:
        searches, events = _row_by_row(ctx, records, searches, events)
    touched = {str(e["target"]) for e in events if str(e["target"]).startswith("asset:")}
    totals = records.usage_totals(touched, count_anonymous=ctx.settings.analytics_count_anonymous)
    usage = {
        target.removeprefix("asset:"): {key: totals.get(target, {}).get(key, 0) for key in USAGE_KEYS.values()}
        for target in touched
    }
    changed = records.set_asset_usage(usage)  # and owes their documents, paid here
    if changed and owed_docs.defers(ctx):
        owed_docs.drain(ctx)  # now, in turn with the review decisions' writer
    elif changed:
        owed_docs.settle(ctx, [f"asset:{a.id}" for a in changed])
        ctx.backend.make_visible()
    return FlushReport(searches=len(searches), events=len(events), assets=len(changed))


def _row_by_row(
    ctx: Context, records: UsageRecords, searches: list[Row], events: list[Row]
) -> tuple[list[Row], list[Row]]:
    """Write a refused batch a row at a time, leaving out (logged, counted as dropped) the
    rows the database refuses, such as a query holding a NUL byte on PostgreSQL: one bad
    row must not hold every later one back, batch after batch. Returns what was written;
    should the database go away meanwhile, the rows not yet written go back."""
    written: tuple[list[Row], list[Row]] = ([], [])
    queue = [(0, row) for row in searches] + [(1, row) for row in events]
    for n, (kind, row) in enumerate(queue):
        try:
            if kind == 0:
                records.add([row], [])
            else:
                records.add([], [row])
        except (OperationalError, InterfaceError):
            rest = queue[n:]
            ctx.usage.put_back([r for k, r in rest if k == 0], [r for k, r in rest if k == 1])
            raise
        except DBAPIError as exc:
            ctx.usage.count_dropped(1)
            log.warning("usage row refused by the database and left out: %s (%s)", _brief(row), exc.orig)
            continue
        written[kind].append(row)
    return written


def _brief(row: Row) -> str:
    return ", ".join(f"{k}={str(v)[:80]!r}" for k, v in row.items() if k != "at")


def _since(days: int) -> JSONObject:
    return {"since": (utcnow() - timedelta(days=days)).isoformat()}


def top_queries(ctx: Context, *, days: int, channel: str | None, limit: int) -> JSONObject:
    """The most searched queries, with how many of those searches found nothing."""
    since = utcnow() - timedelta(days=days)
    stats = UsageRecords(ctx.records.engine).top_queries(since=since, channel=channel, limit=limit)
    queries: list[JSONValue] = [
        {
            "q": s.q,
            "count": s.count,
            "zero_results": s.zero_results,
            "avg_total": round(s.avg_total, 2),
            "last_at": s.last_at.isoformat(),
        }
        for s in stats
    ]
    return {**_since(days), "queries": queries}


def zero_results(ctx: Context, *, days: int, channel: str | None, limit: int) -> JSONObject:
    """Queries that found nothing, the most frequent first: gaps in the catalog or synonyms."""
    since = utcnow() - timedelta(days=days)
    stats = UsageRecords(ctx.records.engine).top_queries(since=since, channel=channel, limit=limit, zero_only=True)
    queries: list[JSONValue] = [{"q": s.q, "count": s.count, "last_at": s.last_at.isoformat()} for s in stats]
    return {**_since(days), "queries": queries}


def asset_usage(ctx: Context, *, days: int, channel: str | None, limit: int) -> JSONObject:
    """Views, downloads and clicks per asset and channel, the most used first."""
    since = utcnow() - timedelta(days=days)
    rows = UsageRecords(ctx.records.engine).target_usage(since=since, channel=channel, limit=limit)
    assets: list[JSONValue] = [
        {
            "asset": r.target.removeprefix("asset:"),
            "channel": r.channel or None,
            "views": r.views,
            "downloads": r.downloads,
            "clicks": r.clicks,
        }
        for r in rows
    ]
    return {**_since(days), "assets": assets}
