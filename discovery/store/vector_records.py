"""Vectors in the records, per (target, field, model), and the generation each field's
searches use.

A field's *active* generation is the model whose vectors searches and index documents use;
a model switch (`discovery models use`) re-embeds into a *pending* generation beside it,
then activates it. Without a `vector_generations` row a field's generation is whatever
model wrote its vectors (the configured one), as before any switch. A write of one model's
vector for a target removes the target's vectors of every model that is neither active nor
pending: an older generation is kept only while a switch may still need it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Connection, Engine, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from discovery.domain import JSONObject
from discovery.store import tables as t

Vector = tuple[str, np.ndarray, str]  # (model, vector, content hash)
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Generation:
    """A field's active model (and what builds it), and the one a switch is filling."""

    field: str
    active: str
    active_spec: JSONObject
    pending: str | None = None
    pending_spec: JSONObject | None = None
    previous: str | None = None  # the generation the last switch replaced
    previous_spec: JSONObject | None = None

    @property
    def models(self) -> tuple[str, ...]:
        return (self.active,) if self.pending is None else (self.active, self.pending)


class VectorRecords:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name

    # --- generations ------------------------------------------------------------------

    def generation(self, field: str) -> Generation | None:
        with self.engine.connect() as conn:
            return _generation(conn, field)

    def begin(
        self, field: str, *, active: str, active_spec: JSONObject, pending: str, pending_spec: JSONObject
    ) -> None:
        """Name `pending` as the generation a switch fills; the active one stays (`active` and
        `active_spec` are recorded only when the field had no generation yet)."""
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        stmt = insert(t.vector_generations).values(
            field=field, active=active, active_spec=active_spec, pending=pending, pending_spec=pending_spec,
            updated_at=datetime.now(UTC),
        )  # fmt: skip
        stmt = stmt.on_conflict_do_update(
            index_elements=["field"],
            set_={"pending": pending, "pending_spec": pending_spec, "updated_at": stmt.excluded.updated_at},
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def activate(self, field: str, model: str) -> bool:
        """Make the pending generation `model` the active one, in one statement every
        process reads next; False when `model` is not the pending one."""
        table = t.vector_generations
        with self.engine.begin() as conn:
            done = conn.execute(
                update(table)
                .where(table.c.field == field, table.c.pending == model)
                .values(active=table.c.pending, active_spec=table.c.pending_spec, pending=None, pending_spec=None,
                        previous=table.c.active, previous_spec=table.c.active_spec, updated_at=datetime.now(UTC))
            ).rowcount  # fmt: skip
        return bool(done)

    def abandon(self, field: str, model: str) -> None:
        """Forget the pending generation `model` (a failed or replaced switch) and its vectors."""
        table = t.vector_generations
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.field == field, table.c.pending == model).values(
                pending=None, pending_spec=None, updated_at=datetime.now(UTC)))  # fmt: skip
            gen = _generation(conn, field)
            if gen is not None and model not in gen.models:
                conn.execute(delete(t.vectors).where(t.vectors.c.field == field, t.vectors.c.model == model))

    def drop_other_models(self, field: str, keep: Sequence[str]) -> int:
        """Delete the field's vectors of every model not in `keep` (an old generation, once
        nothing searches it); how many went."""
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    delete(t.vectors).where(t.vectors.c.field == field, t.vectors.c.model.not_in(list(keep)))
                ).rowcount
            )

    # --- vectors ----------------------------------------------------------------------

    def put(self, field: str, model: str, items: Sequence[tuple[str, np.ndarray, str]]) -> None:
        """Store vectors as float32 blobs: (global doc id, vector, hash of what was embedded).
        The targets' vectors of models no generation needs any more go in the same transaction."""
        rows: list[dict[str, object]] = [
            {
                "target": target,
                "field": field,
                "model": model,
                "dim": int(vec.shape[0]),
                "vector": np.asarray(vec, dtype="<f4").tobytes(),
                "content_hash": digest,
            }
            for target, vec, digest in items
        ]
        if not rows:
            return
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        stmt = insert(t.vectors)
        stmt = stmt.on_conflict_do_update(
            index_elements=["target", "field", "model"],
            set_={c: stmt.excluded[c] for c in ("dim", "vector", "content_hash")},
        )
        targets = [str(r["target"]) for r in rows]
        with self.engine.begin() as conn:
            conn.execute(stmt, rows)
            gen = _generation(conn, field)
            keep = [model, *(gen.models if gen is not None else ())]
            for i in range(0, len(targets), _CHUNK):
                conn.execute(
                    delete(t.vectors).where(
                        t.vectors.c.field == field,
                        t.vectors.c.target.in_(targets[i : i + _CHUNK]),
                        t.vectors.c.model.not_in(keep),
                    )
                )

    def get(self, field: str, targets: Iterable[str], *, model: str | None = None) -> dict[str, Vector]:
        """(model, vector, content hash) by target: of `model`, or else of the field's active
        generation (any model when the field has none recorded: there is one per target)."""
        wanted = list(dict.fromkeys(targets))
        out: dict[str, Vector] = {}
        with self.engine.connect() as conn:
            if model is None:
                gen = _generation(conn, field)
                model = gen.active if gen is not None else None
            for i in range(0, len(wanted), _CHUNK):
                chunk = wanted[i : i + _CHUNK]
                query = select(t.vectors).where(t.vectors.c.field == field, t.vectors.c.target.in_(chunk))
                if model is not None:
                    query = query.where(t.vectors.c.model == model)
                for row in conn.execute(query.order_by(t.vectors.c.model)):
                    out[row.target] = (row.model, np.frombuffer(row.vector, dtype="<f4"), row.content_hash)
        return out

    def models_of(self, field: str, targets: Iterable[str]) -> dict[str, set[str]]:
        """The models each target has a vector of, without reading the vectors."""
        wanted = list(dict.fromkeys(targets))
        out: dict[str, set[str]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), _CHUNK):
                query = select(t.vectors.c.target, t.vectors.c.model).where(
                    t.vectors.c.field == field, t.vectors.c.target.in_(wanted[i : i + _CHUNK])
                )
                for target, model in conn.execute(query):
                    out.setdefault(str(target), set()).add(str(model))
        return out

    def targets(self, field: str, model: str) -> list[str]:
        """Every target with a vector of `model` in `field`, in target order."""
        query = select(t.vectors.c.target).where(t.vectors.c.field == field, t.vectors.c.model == model)
        with self.engine.connect() as conn:
            return [str(r) for r in conn.execute(query.order_by(t.vectors.c.target)).scalars()]

    def sample(self, field: str, model: str, *, limit: int) -> np.ndarray:
        """Up to `limit` stored vectors of one model as rows of a float32 matrix (the first
        the table yields, unordered: a sample, not a selection). Empty (0 rows) when none."""
        query = select(t.vectors.c.vector).where(t.vectors.c.field == field, t.vectors.c.model == model).limit(limit)
        with self.engine.connect() as conn:
            rows = [np.frombuffer(row.vector, dtype="<f4") for row in conn.execute(query)]
        widths = {len(r) for r in rows}
        if not rows or len(widths) != 1:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack(rows).astype(np.float32)

    def counts(self) -> list[tuple[str, str, int]]:
        """(field, model, how many vectors) for every model the records hold vectors of."""
        field, model = t.vectors.c.field, t.vectors.c.model
        query = select(field, model, func.count()).group_by(field, model)
        with self.engine.connect() as conn:
            return [(str(f), str(m), int(n)) for f, m, n in conn.execute(query)]


def _generation(conn: Connection, field: str) -> Generation | None:
    table = t.vector_generations
    row = conn.execute(select(table).where(table.c.field == field)).first()
    if row is None:
        return None
    return Generation(
        field, row.active, dict(row.active_spec or {}), row.pending, row.pending_spec, row.previous, row.previous_spec
    )
