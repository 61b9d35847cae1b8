"""Records against index against files: what the search index lacks is written again, what
it holds without a record is removed, and an asset whose stored file is gone is reported
(the file cannot be made up; its record and document stay until someone decides).

Runs as the job kind `check_index` (so its report is a job like any other, and it runs
where the index writer lives), started when a worker starts and then on a schedule.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from discovery.domain import JSONObject
from discovery.store.blobs import FilesystemBlobStore
from discovery.store.derive import all_docs
from discovery.store.index.base import IndexDoc, SearchBackend, SearchQuery
from discovery.store.index.documents import asset_doc_id
from discovery.store.records import Records
from indexer.jobs.model import ChunkContext, ChunkResult, JobEnv, PlanResult

PAGE = 500
REPORT_CAP = 200  # ids listed per finding in the report; the counts stay exact


@dataclass(slots=True)
class IndexDrift:
    checked: int = 0  # documents the records call for
    missing: list[str] = field(default_factory=list)  # not in the index (written again when repairing)
    orphans: list[str] = field(default_factory=list)  # in the index without a record (removed when repairing)
    files_missing: list[str] = field(default_factory=list)  # assets whose stored file is gone (reported)
    repaired: int = 0


def check_index(
    records: Records, backend: SearchBackend, blobs: FilesystemBlobStore, *, repair: bool = True
) -> IndexDrift:
    """Compare the three stores; with `repair`, make the index match the records."""
    drift = IndexDrift()
    expected: set[str] = set()
    for docs in _batches(all_docs(records), PAGE):
        ids = [d.id for d in docs]
        expected.update(ids)
        drift.checked += len(ids)
        held = backend.get(ids)
        absent = [d for d in docs if d.id not in held]
        drift.missing.extend(d.id for d in absent)
        if repair and absent:
            drift.repaired += backend.upsert(absent).indexed
    for assets in records.iter_assets(batch=PAGE):
        drift.files_missing.extend(asset_doc_id(a.id) for a in assets if not blobs.exists(a.sha256))
    drift.orphans = [i for i in _index_ids(backend) if i not in expected]
    if repair and drift.orphans:
        drift.repaired += backend.delete(drift.orphans).indexed
    if repair and (drift.missing or drift.orphans):
        backend.refresh()
    return drift


def _batches(docs: Iterator[IndexDoc], size: int) -> Iterator[list[IndexDoc]]:
    batch: list[IndexDoc] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _index_ids(backend: SearchBackend) -> Iterator[str]:
    """Every document id in the index, paging by sort values (flat memory)."""
    after = None
    while True:
        page = backend.search(
            SearchQuery(types=("product", "asset"), sort="name", size=PAGE, search_after=after, highlight=False)
        )
        yield from (h.id for h in page.hits)
        if len(page.hits) < PAGE:
            return
        after = page.hits[-1].sort_values


class IndexCheck:
    """Job kind `check_index`: one chunk that runs `check_index` with repairs. Counts:
    `received` documents checked, `indexed` documents written again or removed; dead
    letters list the assets whose file is gone."""

    name = "check_index"
    ordered = False

    def plan(self, env: JobEnv, chunk: ChunkContext) -> PlanResult:
        return PlanResult([{"label": "records against index"}])

    def run(self, env: JobEnv, chunk: ChunkContext) -> ChunkResult:
        drift = check_index(env.records, env.backend, env.blobs, repair=True)
        result = ChunkResult()
        result.add("received", drift.checked)
        result.add("indexed", drift.repaired)
        result.dead_letters = [
            {"item": i, "chunk": chunk.chunk_no, "attempts": 1, "reason": "the stored file is missing"}
            for i in drift.files_missing[:REPORT_CAP]
        ]
        summary: JSONObject = {
            "missing": len(drift.missing), "orphans": len(drift.orphans), "files_missing": len(drift.files_missing),
        }
        result.counts.update({f"index_{k}": int(v) for k, v in summary.items() if isinstance(v, int)})
        return result
