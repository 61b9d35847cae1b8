"""Collections (nestable folders of assets): the registry of names, ids and paths.

An asset's membership lives in its own record (`Asset.collections`, a list of paths such as
``Campaigns/Summer 2026``), because intake may put assets into folders nobody registered
here. This table gives every path a stable id (so a rename can address it), a name and a
parent. `assets_in` finds the records that name a path, for a rename to rewrite.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Engine, String, Table, Text, cast, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from discovery.domain import Asset
from discovery.store import tables as t

SEPARATOR = "/"

collections = Table(
    "collections",
    t.metadata,
    Column("id", String(32), primary_key=True),
    Column("path", String(1000), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("parent_id", String(32), index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200)),
)


@dataclass(frozen=True, slots=True)
class CollectionRow:
    id: str
    path: str
    name: str
    parent_id: str | None
    created_at: datetime


def parent_path(path: str) -> str | None:
    head, sep, _ = path.rpartition(SEPARATOR)
    return head if sep else None


def ancestors(path: str) -> list[str]:
    """`a`, `a/b`, `a/b/c` for `a/b/c`: every path that must exist for this one to."""
    parts = path.split(SEPARATOR)
    return [SEPARATOR.join(parts[: i + 1]) for i in range(len(parts))]


def _json_fragments(path: str) -> set[str]:
    """How a path appears inside an asset's stored JSON: as a whole string or as the start
    of a descendant's, in the escaped and the raw spelling of non-ASCII characters."""
    out: set[str] = set()
    for ascii_only in (True, False):
        quoted = json.dumps(path, ensure_ascii=ascii_only)[:-1]  # '"path' without its closing quote
        out.update({quoted + '"', quoted + SEPARATOR})
    return out


class CollectionRecords:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def all(self) -> list[CollectionRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(collections).order_by(collections.c.path)).all()
        return [_row(r) for r in rows]

    def get(self, collection_id: str) -> CollectionRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(collections).where(collections.c.id == collection_id)).first()
        return _row(row) if row else None

    def by_path(self, path: str) -> CollectionRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(collections).where(collections.c.path == path)).first()
        return _row(row) if row else None

    def create(self, *, name: str, parent: CollectionRow | None, actor: str | None) -> CollectionRow | None:
        """A new collection under `parent`; None when its path is taken."""
        path = f"{parent.path}{SEPARATOR}{name}" if parent else name
        row = {
            "id": uuid.uuid4().hex,
            "path": path,
            "name": name,
            "parent_id": parent.id if parent else None,
            "created_at": datetime.now(UTC),
            "created_by": actor,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(collections).values(**row))
        except IntegrityError:
            return None
        return CollectionRow(row["id"], path, name, row["parent_id"], row["created_at"])  # type: ignore[arg-type]

    def ensure_paths(self, paths: Iterable[str], *, actor: str | None) -> None:
        """Register paths found on assets (and their ancestors) that have no row yet."""
        for path in sorted({a for p in paths for a in ancestors(p) if a}):
            if self.by_path(path) is not None:
                continue
            parent_at = parent_path(path)
            parent = self.by_path(parent_at) if parent_at else None
            # A concurrent writer may register it first; that is as good.
            self.create(name=path.rsplit(SEPARATOR, 1)[-1], parent=parent, actor=actor)

    def rename(self, row: CollectionRow, new_name: str) -> str | None:
        """Rename a collection, moving the paths of its descendants with it, in one
        transaction. Returns the new path, or None when it is taken."""
        parent_at = parent_path(row.path)
        new_path = f"{parent_at}{SEPARATOR}{new_name}" if parent_at else new_name
        old_prefix = row.path + SEPARATOR
        try:
            with self.engine.begin() as conn:
                descendants = conn.execute(
                    select(collections.c.id, collections.c.path).where(
                        collections.c.path.startswith(old_prefix, autoescape=True)
                    )
                ).all()
                conn.execute(update(collections).where(collections.c.id == row.id).values(name=new_name, path=new_path))
                for child_id, child_path in descendants:
                    moved = new_path + SEPARATOR + child_path.removeprefix(old_prefix)
                    conn.execute(update(collections).where(collections.c.id == child_id).values(path=moved))
        except IntegrityError:
            return None
        return new_path

    def delete(self, row: CollectionRow) -> list[str]:
        """Remove a collection and every collection below it, in one transaction; returns
        the removed paths (the collection's first)."""
        prefix = row.path + SEPARATOR
        below = collections.c.path.startswith(prefix, autoescape=True)
        with self.engine.begin() as conn:
            paths = [p for (p,) in conn.execute(select(collections.c.path).where(below).order_by(collections.c.path))]
            conn.execute(delete(collections).where(or_(collections.c.id == row.id, below)))
        return [row.path, *paths]

    def assets_in(self, path: str, *, batch: int = 500) -> Iterator[list[Asset]]:
        """Assets whose record names `path` or a path below it, a batch at a time.

        The JSON text is searched for the quoted path first (cheap, may over-match a title
        that happens to equal it); the caller checks `Asset.collections` exactly."""
        text = cast(t.assets.c.data, Text)
        mentions = or_(*(text.contains(f, autoescape=True) for f in sorted(_json_fragments(path))))
        last = ""
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(t.assets.c.id, t.assets.c.data)
                    .where(t.assets.c.id > last, mentions)
                    .order_by(t.assets.c.id)
                    .limit(batch)
                ).all()
            if not rows:
                return
            last = rows[-1][0]
            yield [Asset.from_json(data) for _, data in rows]


def _row(r: object) -> CollectionRow:
    created = r.created_at  # type: ignore[attr-defined]
    if created.tzinfo is None:  # SQLite hands back naive datetimes; everything here is UTC
        created = created.replace(tzinfo=UTC)
    return CollectionRow(r.id, r.path, r.name, r.parent_id, created)  # type: ignore[attr-defined]
