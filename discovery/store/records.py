"""The records database: the source of truth. All SQL of the project lives here.

SQLite is the embedded default; PostgreSQL serves a deployment. Both go through
SQLAlchemy Core with the dialect's own upsert, so re-applying a batch is idempotent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from discovery.domain import Asset, JSONObject, Product
from discovery.store import tables as t
from discovery.store.content_hash import content_hash
from discovery.store.database import make_engine, migrate
from discovery.store.index_pending import IndexPending
from discovery.store.link_records import LinkRecords, mirror_links
from discovery.store.record_edits import RecordEdits
from discovery.store.row_locks import locked_records
from discovery.store.tag_records import TagRecords, mirror
from discovery.store.vector_records import VectorRecords


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.inserted + self.updated


def _content_states(conn: Connection, skus: list[str]) -> dict[str, tuple[str, str | None]]:
    """SKU -> (content hash, import hash) of the stored products among `skus`."""
    c = t.products.c
    rows = conn.execute(select(c.sku, c.content_hash, c.import_hash).where(c.sku.in_(skus)))
    return {str(sku): (str(digest), stamp) for sku, digest, stamp in rows}


class Records:
    """Typed access to the records database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        self.tags = TagRecords(engine)
        self.links = LinkRecords(engine)
        self.pending = IndexPending(engine)
        self.vectors = VectorRecords(engine)
        self.edits = RecordEdits(engine)

    @classmethod
    def open(cls, url: str, *, run_migrations: bool = True) -> Records:
        engine = make_engine(url)
        if run_migrations:
            migrate(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure
            return f"{type(exc).__name__}: {exc}"
        return None

    def _upsert(
        self,
        table: t.Table,
        rows: list[dict[str, object]],
        key: str,
        *,
        tagged: Sequence[Product | Asset] | None = None,
        conn: Connection | None = None,
    ) -> None:
        """Insert-or-replace rows; `tagged` targets get their tag index rows rewritten in the
        same transaction (the caller's `conn`, or one of its own)."""
        if not rows:
            return
        if conn is None:
            with self.engine.begin() as own:
                self._upsert(table, rows, key, tagged=tagged, conn=own)
            return
        stmt = postgresql.insert(table) if self._dialect == "postgresql" else sqlite.insert(table)
        keys = [c.name for c in table.primary_key.columns]
        stmt = stmt.on_conflict_do_update(
            index_elements=keys,
            set_={c: stmt.excluded[c] for c in rows[0] if c not in keys},
        )
        conn.execute(stmt, rows)
        if tagged:
            mirror(conn, tagged)
        if table is t.assets:
            mirror_links(conn, [a for a in tagged or [] if isinstance(a, Asset)])

    # --- products -------------------------------------------------------------------

    def upsert_products(
        self,
        products: Sequence[Product],
        *,
        import_hashes: Mapping[str, str] | None = None,
        settle: Callable[[Product, Product], None] | None = None,
    ) -> tuple[UpsertCounts, list[str]]:
        """Insert or replace products by SKU. Returns the counts and the SKUs whose content
        changed (only those need reindexing). Re-applying the same batch changes nothing.

        `import_hashes` (imports only): each product's mapped-row hash, stored beside the
        content hash it produced (`import_states`); a product written without one has its
        import hash cleared, so a re-import processes its row in full again.

        `settle(product, stored)` (imports): called for each product already stored, with
        the record as stored now, read locked in the transaction that writes it, to take what
        the writer does not own from it (a decision made while an import chunk ran is kept)."""
        counts = UpsertCounts()
        if not products:
            return counts, []
        hashes = import_hashes or {}
        by_sku = {p.sku: p for p in products}
        existing: dict[str, tuple[str, str | None]] = {}
        if settle is None:  # read before the write transaction: SQLite's lock is taken only to write
            with self.engine.connect() as conn:
                existing = _content_states(conn, list(by_sku))
        with self.engine.begin() as conn:
            if settle is not None:
                for sku, data in locked_records(conn, t.products, "sku", list(by_sku)).items():
                    settle(by_sku[sku], Product.from_json(data))
                existing = _content_states(conn, list(by_sku))
            now = _now()
            rows: list[dict[str, object]] = []
            restamped: list[dict[str, object]] = []
            changed: list[str] = []
            for sku, product in by_sku.items():
                data = product.to_json()
                digest = content_hash(data)
                stamp = f"{hashes[sku]}:{digest}" if sku in hashes else None
                old, old_stamp = existing.get(sku, (None, None))
                if old == digest:
                    counts.unchanged += 1
                    if stamp is not None and stamp != old_stamp:
                        restamped.append({"key": sku, "stamp": stamp})
                    continue
                if old is None:
                    counts.inserted += 1
                else:
                    counts.updated += 1
                product.updated_at = product.updated_at or now.isoformat()
                data["updated_at"] = product.updated_at
                rows.append(
                    {
                        "sku": sku,
                        "parent_sku": product.parent_sku,
                        "data": data,
                        "content_hash": digest,
                        "import_hash": stamp,
                        "withdrawn": product.status == "withdrawn",
                        "updated_at": now,
                    }
                )
                changed.append(sku)
            changed_set = set(changed)
            tagged = [p for s, p in by_sku.items() if s in changed_set and p.tags]
            self._upsert(t.products, rows, "sku", tagged=tagged, conn=conn)
            if restamped:  # an unchanged record, first seen by an import that hashes rows
                stmt = update(t.products).where(t.products.c.sku == bindparam("key"))
                conn.execute(stmt.values(import_hash=bindparam("stamp")), restamped)
        return counts, changed

    def import_states(self, skus: Iterable[str]) -> dict[str, str]:
        """For the stored, not withdrawn products among `skus` whose record is still what an
        import made of its row: SKU -> that row's hash. One query per 500 SKUs, nothing
        decoded: a re-import asks this of every row to skip the unchanged ones."""
        wanted = list(dict.fromkeys(skus))
        out: dict[str, str] = {}
        c = t.products.c
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                query = select(c.sku, c.import_hash, c.content_hash).where(
                    c.sku.in_(wanted[i : i + 500]), c.import_hash.is_not(None), c.withdrawn.is_(False)
                )
                for sku, stamp, digest in conn.execute(query):
                    row_hash, _, made = str(stamp).rpartition(":")
                    if made == digest:  # no other write changed the record since
                        out[sku] = row_hash
        return out

    def get_product(self, sku: str) -> Product | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.products.c.data).where(t.products.c.sku == sku)).first()
        return Product.from_json(row[0]) if row else None

    def get_products(self, skus: Iterable[str]) -> dict[str, Product]:
        wanted = list(dict.fromkeys(skus))
        out: dict[str, Product] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                for sku, data in conn.execute(
                    select(t.products.c.sku, t.products.c.data).where(t.products.c.sku.in_(chunk))
                ):
                    out[sku] = Product.from_json(data)
        return out

    def family_roots_of(self, skus: Iterable[str]) -> dict[str, str]:
        """Each stored SKU's family root (its parent's SKU, or itself), read without decoding
        the products (a re-import asks this of every unchanged row)."""
        wanted = list(dict.fromkeys(skus))
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                query = select(t.products.c.sku, t.products.c.parent_sku).where(t.products.c.sku.in_(chunk))
                for sku, parent in conn.execute(query):
                    out[sku] = parent or sku
        return out

    def variant_skus(self, parent_skus: Iterable[str]) -> dict[str, list[str]]:
        """Variant SKUs grouped by their parent SKU, without decoding the variants."""
        parents = list(dict.fromkeys(parent_skus))
        out: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(parents), 500):
                query = (
                    select(t.products.c.parent_sku, t.products.c.sku)
                    .where(t.products.c.parent_sku.in_(parents[i : i + 500]))
                    .order_by(t.products.c.sku)
                )
                for parent, sku in conn.execute(query):
                    out.setdefault(str(parent), []).append(str(sku))
        return out

    def variants_of(self, parent_skus: Iterable[str]) -> dict[str, list[Product]]:
        """Variants grouped by their parent SKU."""
        parents = list(dict.fromkeys(parent_skus))
        out: dict[str, list[Product]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(parents), 500):
                chunk = parents[i : i + 500]
                rows = conn.execute(
                    select(t.products.c.parent_sku, t.products.c.data)
                    .where(t.products.c.parent_sku.in_(chunk))
                    .order_by(t.products.c.sku)
                )
                for parent, data in rows:
                    out.setdefault(parent, []).append(Product.from_json(data))
        return out

    def iter_products(self, *, batch: int = 1000) -> Iterator[list[Product]]:
        """Every product in SKU order, a batch at a time (keyset paging: flat memory)."""
        last = ""
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(t.products.c.sku, t.products.c.data)
                    .where(t.products.c.sku > last)
                    .order_by(t.products.c.sku)
                    .limit(batch)
                ).all()
            if not rows:
                return
            last = rows[-1][0]
            yield [Product.from_json(data) for _, data in rows]

    def product_skus(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(select(t.products.c.sku)).scalars())

    def count_assets(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.assets)).scalar_one())

    def count_products(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.products)).scalar_one())

    # --- assets ---------------------------------------------------------------------

    def upsert_assets(self, items: Sequence[Asset]) -> None:
        now = _now()
        rows: list[dict[str, object]] = []
        for asset in items:
            asset.updated_at = now.isoformat()
            rows.append(
                {
                    "id": asset.id,
                    "sha256": asset.sha256,
                    "filename": asset.filename,
                    "data": asset.to_json(),
                    "updated_at": now,
                }
            )
        self._upsert(t.assets, rows, "id", tagged=list(items))

    def get_asset(self, asset_id: str) -> Asset | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.assets.c.data).where(t.assets.c.id == asset_id)).first()
        return Asset.from_json(row[0]) if row else None

    def get_assets(self, asset_ids: Iterable[str]) -> dict[str, Asset]:
        """The stored assets of these ids (those that exist), read 500 at a time."""
        wanted = list(dict.fromkeys(asset_ids))
        out: dict[str, Asset] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                rows = conn.execute(select(t.assets.c.id, t.assets.c.data).where(t.assets.c.id.in_(chunk)))
                for asset_id, data in rows:
                    out[asset_id] = Asset.from_json(data)
        return out

    def assets_by_sha256(self, sha256: str) -> list[Asset]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.assets.c.data).where(t.assets.c.sha256 == sha256)).all()
        return [Asset.from_json(r[0]) for r in rows]

    def iter_assets(self, *, batch: int = 500) -> Iterator[list[Asset]]:
        last = ""
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(t.assets.c.id, t.assets.c.data)
                    .where(t.assets.c.id > last)
                    .order_by(t.assets.c.id)
                    .limit(batch)
                ).all()
            if not rows:
                return
            last = rows[-1][0]
            yield [Asset.from_json(data) for _, data in rows]

    # --- vectors --------------------------------------------------------------------

    def put_vectors(self, field: str, model: str, items: Sequence[tuple[str, np.ndarray, str]]) -> None:
        """Store vectors (see `VectorRecords.put`)."""
        self.vectors.put(field, model, items)

    def get_vectors(
        self, field: str, targets: Iterable[str], *, model: str | None = None
    ) -> dict[str, tuple[str, np.ndarray, str]]:
        """(model, vector, content hash) by target, of `model` or the active generation."""
        return self.vectors.get(field, targets, model=model)

    def sample_vectors(self, field: str, model: str, *, limit: int) -> np.ndarray:
        return self.vectors.sample(field, model, limit=limit)

    def vector_models(self, field: str, targets: Iterable[str]) -> dict[str, set[str]]:
        """The models each target has a vector of, without reading the vectors."""
        return self.vectors.models_of(field, targets)

    def vector_counts(self) -> list[tuple[str, str, int]]:
        """(field, model, how many vectors) for every model the records hold vectors of."""
        return self.vectors.counts()

    # --- jobs -----------------------------------------------------------------------

    def create_job(self, kind: str, *, params: JSONObject | None = None, created_by: str | None = None) -> str:
        job_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.jobs).values(
                    id=job_id,
                    kind=kind,
                    state="queued",
                    progress=0.0,
                    counts={"received": 0, "indexed": 0, "rejected": 0, "duplicates": 0},
                    rejects=[],
                    dead_letters=[],
                    params=params or {},
                    created_by=created_by,
                    created_at=_now(),
                )
            )
        return job_id

    def update_job(self, job_id: str, **values: object) -> None:
        if values.get("state") == "running":
            values.setdefault("started_at", _now())
        if values.get("state") in ("succeeded", "failed", "cancelled"):
            values.setdefault("finished_at", _now())
        with self.engine.begin() as conn:
            conn.execute(update(t.jobs).where(t.jobs.c.id == job_id).values(**values))

    def get_job(self, job_id: str) -> JSONObject | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.jobs).where(t.jobs.c.id == job_id)).mappings().first()
        return _job_json(dict(row)) if row else None

    def list_jobs(self, *, limit: int = 50) -> list[JSONObject]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.jobs).order_by(t.jobs.c.created_at.desc()).limit(limit)).mappings()
            return [_job_json(dict(r)) for r in rows]

    def job_counts(self) -> dict[str, int]:
        """Jobs by state."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.jobs.c.state, func.count()).group_by(t.jobs.c.state))
            return {state: int(n) for state, n in rows}

    # --- audit ----------------------------------------------------------------------

    def audit(self, *, actor: str | None, action: str, target: str, detail: JSONObject) -> int:
        """Append an audit entry; its id (what an undo names)."""
        with self.engine.begin() as conn:
            inserted = conn.execute(
                insert(t.audit_log).values(at=_now(), actor=actor, action=action, target=target, detail=detail)
            ).inserted_primary_key
        return int(inserted[0]) if inserted else 0

    def audit_entries(self, *, target: str | None = None, limit: int = 100) -> list[JSONObject]:
        stmt = select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit)
        if target:
            stmt = stmt.where(t.audit_log.c.target == target)
        with self.engine.connect() as conn:
            return [{**dict(r), "at": r["at"].isoformat()} for r in conn.execute(stmt).mappings()]

    # --- API keys -------------------------------------------------------------------

    def add_key(self, *, key_id: str, key_hash: str, role: str, name: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.api_keys).values(
                    id=key_id, hash=key_hash, role=role, name=name, created_at=_now(), revoked=False
                )
            )

    def role_for_key_hash(self, key_hash: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.api_keys.c.role).where(t.api_keys.c.hash == key_hash, t.api_keys.c.revoked.is_(False))
            ).first()
        return row[0] if row else None

    def list_keys(self, *, include_revoked: bool = True) -> list[JSONObject]:
        """Every key (id, name, role, created_at, revoked), oldest first; never a hash."""
        c = t.api_keys.c
        stmt = select(c.id, c.name, c.role, c.created_at, c.revoked).order_by(c.created_at, c.id)
        if not include_revoked:
            stmt = stmt.where(c.revoked.is_(False))
        with self.engine.connect() as conn:
            return [_job_json(dict(r)) for r in conn.execute(stmt).mappings()]

    def revoke_key(self, key_id: str) -> bool:
        """Revoke a key by id at once (every request looks its key up); False when there is
        no such key. Revoking twice is not an error."""
        with self.engine.begin() as conn:
            done = conn.execute(update(t.api_keys).where(t.api_keys.c.id == key_id).values(revoked=True))
        return bool(done.rowcount)

    def key_names(self, key_ids: Iterable[str]) -> dict[str, str]:
        """The names of these keys (by id), for those that have one."""
        wanted = list(dict.fromkeys(key_ids))
        if not wanted:
            return {}
        c = t.api_keys.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(c.id, c.name).where(c.id.in_(wanted), c.name.is_not(None))).all()
        return {str(i): str(n) for i, n in rows if n}

    def reset(self) -> None:
        """Delete every record (tests and demo re-runs)."""
        with self.engine.begin() as conn:
            for table in reversed(t.metadata.sorted_tables):
                conn.execute(delete(table))


def _job_json(row: dict[str, object]) -> JSONObject:
    out: JSONObject = {}
    for key, value in row.items():
        out[key] = value.isoformat() if isinstance(value, datetime) else value  # type: ignore[assignment]
    return out
