"""Tags on products and assets, and the review queue over them.

The record's JSON (`Product.tags` / `Asset.tags`) is the truth about a target's tags; the
`tag_index` table mirrors it, row per (target, tag), so the review queue can be filtered,
ordered by usefulness and grouped by tag in SQL. Both are written in one transaction by
`replace_tags`, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    delete,
    func,
    insert,
    select,
    update,
)

from discovery.domain import Asset, Product, Tag
from discovery.store import tables as t
from discovery.store.content_hash import content_hash

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


@dataclass(frozen=True, slots=True)
class QueueItem:
    target: str
    tag: str
    source: str
    confidence: float
    model: str | None


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


class TagRecords:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def replace_tags(self, target: Product | Asset, tags: list[Tag]) -> None:
        """Set a target's tags, in its record and in the queue index, in one transaction."""
        target.tags = tags
        data = target.to_json()
        with self.engine.begin() as conn:
            if isinstance(target, Product):
                # The hash follows the tags: an import keeps a product's stored tags, and
                # must then find the record unchanged, not rewrite and re-index it.
                where = t.products.c.sku == target.sku
                conn.execute(update(t.products).where(where).values(data=data, content_hash=content_hash(data)))
            else:
                conn.execute(update(t.assets).where(t.assets.c.id == target.id).values(data=data))
            mirror(conn, [target])

    def sync_target(self, target: Product | Asset) -> None:
        """Mirror a record's tags into the index table (after a record was written elsewhere)."""
        self.replace_tags(target, list(target.tags))

    def queue(
        self,
        *,
        tag: str | None = None,
        source: str | None = None,
        min_confidence: float | None = None,
        max_confidence: float | None = None,
        collection: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[QueueItem], int]:
        """Suggested tags, most useful first: the most uncertain (confidence nearest 0.5), then
        the highest impact. Returns the page and the total."""
        conds = [tag_index.c.status == "suggested"]
        if tag:
            conds.append(tag_index.c.tag == tag)
        if source:
            conds.append(tag_index.c.source == source)
        if min_confidence is not None:
            conds.append(tag_index.c.confidence >= min_confidence)
        if max_confidence is not None:
            conds.append(tag_index.c.confidence <= max_confidence)
        if collection:
            conds.append(tag_index.c.collections.contains(f"|{collection}|", autoescape=True))
        uncertainty = func.abs(tag_index.c.confidence - 0.5)
        stmt = (
            select(tag_index)
            .where(*conds)
            .order_by(uncertainty, tag_index.c.impact.desc(), tag_index.c.tag, tag_index.c.target)
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(tag_index).where(*conds)).scalar_one()
            rows = conn.execute(stmt).all()
        items = [QueueItem(r.target, r.tag, r.source, r.confidence, r.model) for r in rows]
        return items, int(total)

    def queue_groups(self, *, limit: int = 50) -> list[tuple[str, int]]:
        """Tags with suggestions awaiting review, and how many each."""
        stmt = (
            select(tag_index.c.tag, func.count())
            .where(tag_index.c.status == "suggested")
            .group_by(tag_index.c.tag)
            .order_by(func.count().desc(), tag_index.c.tag)
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
