"""Which blobs the records still name: the SQL behind retention (a job's uploads released when
it ends) and `discovery gc` (blobs nothing names).

A blob is named by an asset (its file, an older version's file, a rendition) or by a job
not finished yet (its upload, file list, manifest, stored import batches). Rather than know
every field that may hold a key, a record names a blob when its JSON holds the key's 64 hex
digits anywhere: erring towards keeping a file, never towards losing one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from sqlalchemy import String, cast, select
from sqlalchemy.engine import Engine

from discovery.domain import JSONValue
from discovery.store import tables as t
from discovery.store.job_records import ACTIVE_JOB_STATES

BLOB_KEY = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
PAGE = 1000
FEW = 20  # keys looked for one query each; more take one pass over the assets


def keys_in(value: JSONValue | object) -> set[str]:
    """Every string in a JSON value that looks like a blob key (sha256 hex). Pure."""
    found: set[str] = set()
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.update(BLOB_KEY.findall(item))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


class BlobRefs:
    """Questions about blob keys, asked of the records database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def job_keys(self, job_id: str) -> set[str]:
        """The keys a job's params and chunk payloads name."""
        with self.engine.connect() as conn:
            params = conn.execute(select(t.jobs.c.params).where(t.jobs.c.id == job_id)).scalar()
            payloads = conn.execute(select(t.job_chunks.c.payload).where(t.job_chunks.c.job_id == job_id)).scalars()
            return keys_in([params, *payloads])

    def job_started(self, job_id: str) -> datetime | None:
        """When the job was created (its uploads were stored just before)."""
        with self.engine.connect() as conn:
            created = conn.execute(select(t.jobs.c.created_at).where(t.jobs.c.id == job_id)).scalar()
        if created is None:
            return None
        return created if created.tzinfo else created.replace(tzinfo=UTC)

    def running_chunks(self, job_id: str) -> int:
        """Chunks of the job someone still holds (a cancelled job's chunk finishing its item)."""
        with self.engine.connect() as conn:
            c = t.job_chunks.c
            rows = conn.execute(select(c.chunk_no).where(c.job_id == job_id, c.state == "running")).all()
        return len(rows)

    def unfinished_job_keys(self, *, besides: str | None = None) -> set[str]:
        """The keys named by every job still queued or running (other than `besides`)."""
        with self.engine.connect() as conn:
            query = select(t.jobs.c.id, t.jobs.c.params).where(t.jobs.c.state.in_(ACTIVE_JOB_STATES))
            jobs = [(r.id, r.params) for r in conn.execute(query) if r.id != besides]
            found = keys_in([p for _, p in jobs])
            for job_id, _ in jobs:
                payloads = conn.execute(select(t.job_chunks.c.payload).where(t.job_chunks.c.job_id == job_id))
                found |= keys_in(list(payloads.scalars()))
        return found

    def asset_keys(self) -> Iterator[set[str]]:
        """The keys every asset names (files, versions, renditions), a page at a time."""
        last = ""
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(t.assets.c.id, t.assets.c.sha256, t.assets.c.data)
                    .where(t.assets.c.id > last).order_by(t.assets.c.id).limit(PAGE)
                ).all()
            if not rows:
                return
            yield keys_in([[r.sha256, r.data] for r in rows])
            last = rows[-1].id

    def named_by_assets(self, keys: Iterable[str]) -> set[str]:
        """Of `keys`, those some asset names (as its file, or anywhere in its record). The
        file column is indexed; the few keys left are looked for in the records' JSON, one
        scan per key, or in one pass over every asset when there are many."""
        wanted = {k for k in keys if BLOB_KEY.fullmatch(k)}
        out: set[str] = set()
        with self.engine.connect() as conn:
            ordered = sorted(wanted)
            for start in range(0, len(ordered), 500):
                part = ordered[start : start + 500]
                out.update(conn.execute(select(t.assets.c.sha256).where(t.assets.c.sha256.in_(part))).scalars())
            rest = wanted - out
            if len(rest) <= FEW:
                for key in rest:
                    query = select(t.assets.c.id).where(cast(t.assets.c.data, String).like(f"%{key}%")).limit(1)
                    if conn.execute(query).first() is not None:
                        out.add(key)
                return out
        for page in self.asset_keys():
            out |= page & rest
        return out
