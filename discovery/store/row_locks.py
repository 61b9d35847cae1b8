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

from sqlalchemy import Connection, Table, select, update

from discovery.domain import JSONObject


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
