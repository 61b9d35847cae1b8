"""Tags on products and assets, and the review queue over them.

The record's JSON (`Product.tags` / `Asset.tags`) is the truth about a target's tags; the
`tag_index` table mirrors it, row per (target, tag), so the review queue can be filtered,
ordered by usefulness and grouped by tag in SQL. Both are written in one transaction by
`replace_tags`, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Table,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from discovery.domain import Asset, JSONObject, Product, Tag, utcnow
from discovery.errors import Conflict
from discovery.store import tables as t
from discovery.store.index_pending import mark
from discovery.store.row_locks import locked_records, write_product

tag_index = Table(
    "tag_index",
    t.metadata,
    Column("target", String(300), primary_key=True),  # product:SKU | asset:ID
    Column("tag", String(200), primary_key=True),
    Column("source", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("model", String(200)),
    # How much a decision here matters: products linked, views; higher first among equals.
    Column("impact", Integer, nullable=False, default=0),
    Column("collections", String(2000), nullable=False, default=""),  # "|a|b|" for LIKE filters
    Column("decided_at", DateTime(timezone=True)),
    Index("ix_tag_index_status_tag", "status", "tag"),
)


class ChangedMeanwhile(Conflict):
    """A target's tags changed between the read a decision was made on and its write (another
    reviewer, a moment before): nothing was written; read again and decide again."""


@dataclass(frozen=True, slots=True)
class QueueKey:
    """Where an item sits in the queue's order; a cursor resumes strictly after it, so items
    decided meanwhile neither shift the next page nor come back."""

    uncertainty: float
    impact: int
    tag: str
    target: str


@dataclass(frozen=True, slots=True)
class QueueItem:
    target: str
    tag: str
    source: str
    confidence: float
    model: str | None
    key: QueueKey | None = None


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which open suggestions: every field narrows (AND); None leaves it open."""

    tag: str | None = None
    source: str | None = None
    target_type: Literal["asset", "product"] | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None
    collection: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = [tag_index.c.status == "suggested"]
        if self.tag:
            conds.append(tag_index.c.tag == self.tag)
        if self.source:
            conds.append(tag_index.c.source == self.source)
        if self.target_type:
            conds.append(tag_index.c.target.startswith(f"{self.target_type}:", autoescape=True))
        if self.min_confidence is not None:
            conds.append(tag_index.c.confidence >= self.min_confidence)
        if self.max_confidence is not None:
            conds.append(tag_index.c.confidence <= self.max_confidence)
        if self.collection:
            conds.append(tag_index.c.collections.contains(f"|{self.collection}|", autoescape=True))
        return conds


# The queue's order: most uncertain first (confidence nearest 0.5), then highest impact; tag
# and target make it total, so paging by cursor is stable.
_UNCERTAINTY = func.abs(tag_index.c.confidence - 0.5)


def _after(key: QueueKey) -> ColumnElement[bool]:
    """Rows strictly after `key` in the queue's order (uncertainty up, impact down, tag, target up)."""
    c, u = tag_index.c, _UNCERTAINTY
    return or_(
        u > key.uncertainty,
        and_(u == key.uncertainty, c.impact < key.impact),
        and_(u == key.uncertainty, c.impact == key.impact, c.tag > key.tag),
        and_(u == key.uncertainty, c.impact == key.impact, c.tag == key.tag, c.target > key.target),
    )


def _target_key(target: Product | Asset) -> str:
    return f"product:{target.sku}" if isinstance(target, Product) else f"asset:{target.id}"


def _impact(target: Product | Asset) -> int:
    if isinstance(target, Asset):
        return len(target.product_skus) * 10 + sum(target.usage.values())
    return len(target.asset_ids)


def mirror(conn: Connection, targets: Sequence[Product | Asset]) -> None:
    """Rewrite the index rows of these targets from their tags (inside the caller's transaction)."""
    if not targets:
        return
    keys = [_target_key(x) for x in targets]
    conn.execute(delete(tag_index).where(tag_index.c.target.in_(keys)))
    rows: list[dict[str, object]] = []
    for target, key in zip(targets, keys, strict=True):
        collections = "|" + "|".join(target.collections) + "|" if isinstance(target, Asset) else ""
        for tag in {tag.name: tag for tag in target.tags}.values():
            rows.append(
                {
                    "target": key,
                    "tag": tag.name,
                    "source": tag.source,
                    "status": tag.status,
                    "confidence": float(tag.confidence),
                    "model": tag.model,
                    "impact": _impact(target),
                    "collections": collections,
                    "decided_at": None,
                }
            )
    if rows:
        conn.execute(insert(tag_index), rows)


def _locked(conn: Connection, targets: Sequence[Product | Asset]) -> dict[str, JSONObject]:
    """Lock these targets' rows for the transaction; their stored records by target key."""
    skus = [x.sku for x in targets if isinstance(x, Product)]
    ids = [x.id for x in targets if isinstance(x, Asset)]
    records: dict[str, JSONObject] = {}
    for table, key, wanted, prefix in ((t.products, "sku", skus, "product"), (t.assets, "id", ids, "asset")):
        records.update({f"{prefix}:{k}": data for k, data in locked_records(conn, table, key, wanted).items()})
    return records


def _check_unchanged(conn: Connection, targets: Sequence[Product | Asset]) -> dict[str, JSONObject]:
    """Lock these targets' rows for the transaction and check that their stored tags are the
    ones the caller read; raise `ChangedMeanwhile` when not. Returns the stored records by
    target key, as they are now."""
    records = _locked(conn, targets)
    for target in targets:
        key = _target_key(target)
        held = records.get(key, {}).get("tags")
        stored = [Tag.from_json(x).to_json() for x in held if isinstance(x, dict)] if isinstance(held, list) else []
        if stored != [tag.to_json() for tag in target.tags]:
            raise ChangedMeanwhile(f"{key} changed while this decision was made; decide again")
    return records


def _write_tags(conn: Connection, target: Product | Asset, data: JSONObject, at: datetime) -> None:
    """Write a target's record whose tags changed (stamped, so a rebuild's catch-up sees it)."""
    if isinstance(target, Product):
        # The hash follows the tags: an import keeps a product's stored tags, and must then
        # find the record unchanged, not rewrite and re-index it.
        write_product(conn, target.sku, data, stamp=at)
    else:
        conn.execute(update(t.assets).where(t.assets.c.id == target.id).values(data=data, updated_at=at))


class TagRecords:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def replace_tags(self, target: Product | Asset, tags: list[Tag]) -> None:
        """Set a target's tags, in its record and in the queue index, in one transaction. Only
        the tags change: the rest of the record is written as stored now, not as the caller
        read it."""
        target.tags = tags
        fresh = target.to_json()
        at = utcnow()
        with self.engine.begin() as conn:
            stored = _locked(conn, [target]).get(_target_key(target), fresh)
            _write_tags(conn, target, {**stored, "tags": fresh["tags"]}, at)
            mirror(conn, [target])

    def queue(
        self,
        where: QueueFilter | None = None,
        *,
        limit: int = 50,
        offset: int = 0,
        after: QueueKey | None = None,
    ) -> tuple[list[QueueItem], int]:
        """Suggested tags, most useful first: the most uncertain (confidence nearest 0.5), then
        the highest impact. Returns the page and the total. With `after` (a cursor) the page
        starts strictly after that item and `offset` is not used."""
        conds = (where or QueueFilter()).conditions()
        page_where = [*conds, _after(after)] if after is not None else conds
        stmt = (
            select(tag_index, _UNCERTAINTY.label("uncertainty"))
            .where(*page_where)
            .order_by(_UNCERTAINTY, tag_index.c.impact.desc(), tag_index.c.tag, tag_index.c.target)
            .limit(limit)
            .offset(0 if after is not None else offset)
        )
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(tag_index).where(*conds)).scalar_one()
            rows = conn.execute(stmt).all()
        keys = [QueueKey(r.uncertainty, r.impact, r.tag, r.target) for r in rows]
        pairs = zip(rows, keys, strict=True)
        items = [QueueItem(r.target, r.tag, r.source, r.confidence, r.model, k) for r, k in pairs]
        return items, int(total)

    def open_count(self) -> int:
        """Every open suggestion, whatever the filter (for "N remain elsewhere")."""
        with self.engine.connect() as conn:
            stmt = select(func.count()).select_from(tag_index).where(tag_index.c.status == "suggested")
            return int(conn.execute(stmt).scalar_one())

    def apply(
        self, changes: Sequence[tuple[Product | Asset, list[Tag]]], audits: Sequence[tuple[str, str, str, JSONObject]]
    ) -> list[int]:
        """Set the tags of many targets and append their audit rows (actor, action, target,
        detail) in ONE transaction, so a bulk decision is all written or not at all; the same
        transaction owes each target its index document (`index_pending`), so a crash before
        the document is written leaves it owed, not lost. Returns the audit entries' ids, in
        the order given.

        Each target must still hold the tags it was read with (`target.tags`), else nothing
        is written and `ChangedMeanwhile` says so: two reviewers deciding on one product at
        once both land, the second after reading the first's decision."""
        at = utcnow()
        ids: list[int] = []
        with self.engine.begin() as conn:
            now = _check_unchanged(conn, [target for target, _ in changes])
            for target, tags in changes:
                target.tags = tags
                # Only the tags change: the rest of the record as stored now, not as the caller
                # read it (a usage flush may have written the asset's counters since).
                fresh = target.to_json()
                _write_tags(conn, target, {**now.get(_target_key(target), fresh), "tags": fresh["tags"]}, at)
            mirror(conn, [target for target, _ in changes])
            mark(conn, [_target_key(target) for target, _ in changes])
            for actor, action, target_key, detail in audits:
                row = {"at": at, "actor": actor, "action": action, "target": target_key, "detail": detail}
                inserted = conn.execute(insert(t.audit_log).values(**row)).inserted_primary_key
                ids.append(int(inserted[0]) if inserted else 0)
        return ids

    def audit_by_ids(self, ids: Iterable[int]) -> dict[int, JSONObject]:
        """Audit entries by id (those that exist)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.audit_log).where(t.audit_log.c.id.in_(wanted))).mappings().all()
        return {int(r["id"]): {**dict(r), "at": r["at"].isoformat()} for r in rows}

    def queue_groups(self, *, limit: int = 50, by: Literal["tag", "source"] = "tag") -> list[tuple[str, int]]:
        """Tags (or sources) with suggestions awaiting review, and how many each."""
        column = tag_index.c.tag if by == "tag" else tag_index.c.source
        stmt = (
            select(column, func.count())
            .where(tag_index.c.status == "suggested")
            .group_by(column)
            .order_by(func.count().desc(), column)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(tag, int(n)) for tag, n in conn.execute(stmt)]

    def decisions(self, *, tag: str | None = None) -> list[tuple[str, str, str]]:
        """(target, tag, status) of every decided tag: the tagger's training data."""
        stmt = select(tag_index.c.target, tag_index.c.tag, tag_index.c.status).where(
            tag_index.c.status.in_(("accepted", "rejected")), tag_index.c.source != "human"
        )
        if tag:
            stmt = stmt.where(tag_index.c.tag == tag)
        with self.engine.connect() as conn:
            return [(a, b, c) for a, b, c in conn.execute(stmt)]
