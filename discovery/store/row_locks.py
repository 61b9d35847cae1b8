"""Records read to be rewritten in the same transaction, locked from the read on.

A record rewritten from what was read must not change in between, or what another writer
committed meanwhile is overwritten (a review decision lost under a usage flush). PostgreSQL
locks the rows the read returns (`FOR UPDATE`). SQLite has no row locks and pysqlite begins
its transaction only at the first write, so a read before any write runs outside it: a
no-op write to the same rows first takes SQLite's one write lock (waiting out its busy
timeout), and what is read next is the newest and stays so until the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Table, select, update

from discovery.domain import JSONObject
from discovery.store import tables as t
from discovery.store.content_hash import content_hash


def locked_records(conn: Connection, table: Table, key: str, wanted: Sequence[str]) -> dict[str, JSONObject]:
    """key -> stored `data` of the rows of `table` whose `key` column is in `wanted`, locked
    for the rest of the caller's transaction."""
    if not wanted:
        return {}
    column = table.c[key]
    if conn.dialect.name == "sqlite":
        conn.execute(update(table).where(column.in_(wanted)).values({key: column}))
    rows = conn.execute(select(column, table.c.data).where(column.in_(wanted)).with_for_update())
    return {str(k): dict(data) for k, data in rows}


def write_product(
    conn: Connection, sku: str, data: JSONObject, *, keeps_import_hash: bool = True, stamp: datetime | None = None
) -> None:
    """Rewrite a product's record (read locked) with its content hash. A write of tags keeps
    what makes the next re-import skip the product's row (`keeps_import_hash`): tags are not
    an import's to set, so the row an import made this record of still makes it, and its
    import hash carries over to the new content hash. Any other edit clears it, as
    `upsert_products` does: the next re-import processes the row in full."""
    c = t.products.c
    digest = content_hash(data)
    import_hash = None
    if keeps_import_hash:
        old = conn.execute(select(c.import_hash, c.content_hash).where(c.sku == sku)).first()
        if old is not None and old[0]:
            row_hash, _, made = str(old[0]).rpartition(":")
            import_hash = f"{row_hash}:{digest}" if made == old[1] else None
    values: dict[str, object] = {
        "data": data,
        "content_hash": digest,
        "import_hash": import_hash,
        "withdrawn": data.get("status") == "withdrawn",
    }
    if stamp is not None:
        values["updated_at"] = stamp
    conn.execute(update(t.products).where(c.sku == sku).values(values))
