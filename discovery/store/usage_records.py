"""Usage analytics: every search (with its total, so zero-result queries show), and every
view, download and click of an asset or product, per channel.

Rows arrive in batches from the API's in-memory buffer; reports group them on read. The
per-asset totals are copied into `Asset.usage` (popularity) by `set_asset_usage`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    ColumnElement,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Table,
    case,
    func,
    insert,
    select,
    update,
)

from discovery.domain import Asset
from discovery.store import tables as t
from discovery.store.index_pending import mark
from discovery.store.row_locks import locked_records
from discovery.store.tag_records import mirror

KINDS = ("view", "download", "click")
ANONYMOUS = "anon:"  # the actor prefix of callers without a key
USAGE_KEYS = {"view": "views", "download": "downloads", "click": "clicks"}

search_log = Table(
    "search_log",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("q", String(500), nullable=False),  # normalised: trimmed, lower case, single spaces
    Column("type", String(16), nullable=False),
    Column("channel", String(64), nullable=False, default=""),
    Column("total", Integer, nullable=False),
    Column("took_ms", Float, nullable=False),
    Index("ix_search_log_q", "q"),
    Index("ix_search_log_at", "at"),
)

usage_events = Table(
    "usage_events",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(16), nullable=False),  # view | download | click
    Column("target", String(300), nullable=False),  # asset:ID | product:SKU
    Column("channel", String(64), nullable=False, default=""),
    Column("query", String(500), nullable=False, default=""),  # the search a click came from
    Column("detail", String(100), nullable=False, default=""),  # e.g. the rendition downloaded
    # who: `key:<id>` (with `/<session>` when the key holder names one) or `anon:<address>`
    Column("actor", String(200), nullable=False, default=""),
    Index("ix_usage_events_target", "target"),
    Index("ix_usage_events_at", "at"),
)


@dataclass(frozen=True, slots=True)
class QueryStat:
    q: str
    count: int
    zero_results: int
    avg_total: float
    last_at: datetime


@dataclass(frozen=True, slots=True)
class TargetUsage:
    target: str
    channel: str
    views: int
    downloads: int
    clicks: int


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything written here is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class UsageRecords:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, searches: Sequence[Mapping[str, object]], events: Sequence[Mapping[str, object]]) -> None:
        """Append a batch of search rows and usage events in one transaction."""
        with self.engine.begin() as conn:
            if searches:
                conn.execute(insert(search_log), list(searches))
            if events:
                conn.execute(insert(usage_events), list(events))

    def top_queries(
        self, *, since: datetime, channel: str | None, limit: int, zero_only: bool = False
    ) -> list[QueryStat]:
        """Queries by how often they were searched, most first; `zero_only` keeps only the
        searches that found nothing."""
        zero = func.sum(case((search_log.c.total == 0, 1), else_=0))
        stmt = select(
            search_log.c.q, func.count(), zero, func.avg(search_log.c.total), func.max(search_log.c.at)
        ).where(search_log.c.at >= since)
        if channel is not None:
            stmt = stmt.where(search_log.c.channel == channel)
        if zero_only:
            stmt = stmt.where(search_log.c.total == 0)
        stmt = stmt.group_by(search_log.c.q).order_by(func.count().desc(), search_log.c.q).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [QueryStat(q, int(n), int(z or 0), float(avg or 0), _aware(last)) for q, n, z, avg, last in rows]

    def target_usage(
        self, *, since: datetime, channel: str | None, limit: int, prefix: str = "asset:"
    ) -> list[TargetUsage]:
        """Views, downloads and clicks per target and channel, the most used first."""
        sums = [func.sum(case((usage_events.c.kind == kind, 1), else_=0)) for kind in KINDS]
        stmt = select(usage_events.c.target, usage_events.c.channel, *sums).where(
            usage_events.c.at >= since, usage_events.c.target.startswith(prefix, autoescape=True)
        )
        if channel is not None:
            stmt = stmt.where(usage_events.c.channel == channel)
        stmt = (
            stmt.group_by(usage_events.c.target, usage_events.c.channel)
            .order_by(func.count().desc(), usage_events.c.target, usage_events.c.channel)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [TargetUsage(target, ch, int(v or 0), int(d or 0), int(c or 0)) for target, ch, v, d, c in rows]

    def usage_totals(self, targets: Iterable[str], *, count_anonymous: bool = False) -> dict[str, dict[str, int]]:
        """All-time counters per target: {"views": n, "downloads": n, "clicks": n}, each the
        number of (caller, day) pairs that did it, so one caller repeating a request adds at
        most one a day; anonymous callers (`anon:...`) count only with `count_anonymous`."""
        wanted = list(dict.fromkeys(targets))
        out: dict[str, dict[str, int]] = {}
        ev = usage_events.c
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                where: list[ColumnElement[bool]] = [ev.target.in_(wanted[i : i + 500])]
                if not count_anonymous:
                    where.append(~ev.actor.startswith(ANONYMOUS, autoescape=True))
                day = func.date(ev.at)
                pairs = select(ev.target, ev.kind).where(*where).group_by(ev.target, ev.kind, ev.actor, day).subquery()
                rows = conn.execute(
                    select(pairs.c.target, pairs.c.kind, func.count()).group_by(pairs.c.target, pairs.c.kind)
                )
                for target, kind, n in rows:
                    if kind in USAGE_KEYS:
                        out.setdefault(target, {})[USAGE_KEYS[kind]] = int(n)
        return out

    def set_asset_usage(self, usage: Mapping[str, dict[str, int]]) -> list[Asset]:
        """Write usage counters into asset records (by asset id), leaving `updated_at` alone:
        being viewed is not a change to the asset. Returns the assets as now stored."""
        changed: list[Asset] = []
        ids = list(usage)
        with self.engine.begin() as conn:
            for i in range(0, len(ids), 500):
                # Rewritten whole from this read: locked, or a decision committed meanwhile is lost.
                for asset_id, data in locked_records(conn, t.assets, "id", ids[i : i + 500]).items():
                    asset = Asset.from_json(data)
                    if asset.usage == usage[asset_id]:
                        continue
                    asset.usage = dict(usage[asset_id])
                    conn.execute(update(t.assets).where(t.assets.c.id == asset_id).values(data=asset.to_json()))
                    changed.append(asset)
            # The review queue ranks by impact, which counts usage.
            mirror(conn, [a for a in changed if a.tags])
            # Their documents are owed, and written from the records by whoever pays owed
            # documents (`services.owed_docs`), in turn with review decisions': a document
            # written from this read could land after a newer decision's and hide it.
            mark(conn, [f"asset:{a.id}" for a in changed])
        return changed
