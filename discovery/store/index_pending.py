"""Targets whose index document is owed: written in the same transaction as the record change
that calls for it, removed only after the document was rebuilt from the records and committed.

A review decision changes a tag in its record (the truth) and answers; the target's document
is rebuilt and written afterwards (`services.doc_queue`). A row here is what makes that safe:
a process that dies between the records commit and the index commit leaves the row, and the
next drain, in any process that opens the records, writes the document then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Column, Connection, DateTime, Engine, Index, Integer, String, Table, delete, func, insert, select

from discovery.domain import utcnow
from discovery.store import tables as t

index_pending = Table(
    "index_pending",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(300), nullable=False),  # product:SKU | asset:ID
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_index_pending_target", "target"),
)


@dataclass(frozen=True, slots=True)
class Owed:
    id: int
    target: str


def mark(conn: Connection, targets: Iterable[str]) -> None:
    """Owe these targets a document (inside the caller's transaction)."""
    at = utcnow()
    rows = [{"target": key, "at": at} for key in dict.fromkeys(targets)]
    if rows:
        conn.execute(insert(index_pending), rows)


class IndexPending:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def take(self, *, targets: Sequence[str] | None = None, older_than: float = 0.0, limit: int = 500) -> list[Owed]:
        """Owed rows, oldest first: of `targets` when given, else any `older_than` seconds
        old. Nothing is removed: `done` does that after the documents are committed."""
        stmt = select(index_pending.c.id, index_pending.c.target).order_by(index_pending.c.id).limit(limit)
        if targets is not None:
            if not targets:
                return []
            stmt = stmt.where(index_pending.c.target.in_(list(dict.fromkeys(targets))))
        if older_than > 0:
            stmt = stmt.where(index_pending.c.at <= utcnow() - timedelta(seconds=older_than))
        with self.engine.connect() as conn:
            return [Owed(int(i), str(target)) for i, target in conn.execute(stmt)]

    def done(self, ids: Iterable[int]) -> None:
        """These rows' documents are committed (rows added since for the same target stay)."""
        wanted = list(dict.fromkeys(ids))
        with self.engine.begin() as conn:
            for i in range(0, len(wanted), 500):
                conn.execute(delete(index_pending).where(index_pending.c.id.in_(wanted[i : i + 500])))

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(index_pending)).scalar_one())
