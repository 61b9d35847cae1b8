"""The embedded search engine: tantivy for text, filters and facets; numpy/FAISS for vectors.

Everything lives under one folder: `vN/tantivy` and `vN/vectors` per index version,
and `CURRENT` naming the live one (`versions`). One writer per index (a lock here;
tantivy's own lock file across processes). Searches read an immutable snapshot (a
tantivy searcher and the vector views) replaced at each refresh, so they run from any
thread without locks and never see a half-applied batch or a half-built version.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tantivy

from discovery.config import SearchSettings
from discovery.domain import DocType
from discovery.errors import BackendUnavailable, InvalidQuery
from discovery.foreground import step_aside
from discovery.store.index import tantivy_schema as ts
from discovery.store.index.base import (
    BulkReport,
    IndexDoc,
    ItemOutcome,
    Range,
    ScoredId,
    SearchQuery,
    SearchResult,
    VectorField,
)
from discovery.store.index.documents import check_fields
from discovery.store.index.filter_rows import FilterRows
from discovery.store.index.tantivy_knn import filtered_knn
from discovery.store.index.tantivy_query import QueryBuilder
from discovery.store.index.tantivy_search import execute
from discovery.store.index.vector_store import FIELDS, VectorSnapshot, VectorStore
from discovery.store.index.vectors import BlockView, exact_rows, normalise
from discovery.store.index.versions import Versions

WRITER_HEAP = 64_000_000
FACET_THREADS = 4


@dataclass(frozen=True, slots=True)
class _Snapshot:
    version: int
    searcher: tantivy.Searcher
    builder: QueryBuilder
    vectors: VectorSnapshot
    filter_rows: FilterRows  # rows of `vectors` passing recent kNN filters, dropped with the snapshot


class EmbeddedBackend:
    """`SearchBackend` over files under `path`; see the module docstring."""

    name = "embedded"

    def __init__(self, path: Path, search: SearchSettings) -> None:
        self._versions = Versions(Path(path))
        self._search = search
        self._lock = threading.RLock()  # the one writer; also guards (re)opening
        self._snapshot: _Snapshot | None = None
        self._index: tantivy.Index | None = None
        self._writer: tantivy.IndexWriter | None = None
        self._vectors = VectorStore()
        self._pending = False
        # Facet counts run here, beside the hits search (tantivy releases the GIL).
        self._pool: ThreadPoolExecutor | None = None

    # -- lifecycle -------------------------------------------------------------------

    def ensure_ready(self) -> None:
        with self._lock:
            if self._versions.current() is None:
                self._versions.root.mkdir(parents=True, exist_ok=True)
                version = self._versions.next_version()
                folder = self._versions.fresh_folder(version)
                _new_index(folder)
                VectorStore().save(folder / "vectors")
                self._versions.publish(version)
            if self._snapshot is None:
                self._open()

    def ping(self) -> str | None:
        try:
            self._current()
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            return f"{type(exc).__name__}: {exc}"
        return None

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                if self._pending:
                    self._commit()
                self._writer.wait_merging_threads()
            self._writer = None
            self._index = None
            self._snapshot = None
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def _open(self) -> None:
        version = self._versions.current()
        if version is None:
            raise BackendUnavailable("the index has no current version")
        folder = self._versions.folder(version)
        self._drop_writer()
        self._index = ts.open_index(str(folder / "tantivy"))
        self._vectors = VectorStore.load(folder / "vectors")
        self._publish(version)

    def warm_up(self) -> None:
        """Start building, on a background thread, the HNSW graph of every vector set past
        its exact limit, which the first kNN query would otherwise start (searches stay
        exact until it is there)."""
        for view in self._graph_views():
            view.block.hnsw_ready()

    def warming(self) -> list[str]:
        """The vector sets (`field/model`) whose HNSW graph is still being built."""
        return [f"{view.block.field}/{view.block.model}" for view in self._graph_views() if not view.block.has_graph()]

    def build_graphs(self, fields: Sequence[str] | None = None) -> None:
        """Build now, and wait for, the HNSW graph of every vector set (of `fields`) past
        its exact limit (a warm-up for benchmarks)."""
        for view in self._graph_views():
            if (fields is None or view.block.field in fields) and not view.block.hnsw_ready():
                view.block.wait_for_graph()

    def _graph_views(self) -> list[BlockView]:
        views = self._current().vectors.views.values()
        limit = self._search.exact_knn_limit
        return [v for v in views if int(np.count_nonzero(v.alive)) > exact_rows(limit, v.block.dim)]

    def _publish(self, version: int) -> None:
        assert self._index is not None
        self._index.reload()
        searcher = self._index.searcher()
        builder = QueryBuilder(self._index.schema, self._index, searcher)
        self._snapshot = _Snapshot(version, searcher, builder, self._vectors.snapshot(), FilterRows())

    def _current(self) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is None:
            self.ensure_ready()
            snapshot = self._snapshot
            assert snapshot is not None
        return snapshot

    # -- writes ----------------------------------------------------------------------

    def _writer_for_write(self) -> tantivy.IndexWriter:
        self._current()
        if self._writer is None:
            assert self._index is not None
            self._writer = _open_writer(self._index)
        return self._writer

    def upsert(self, docs: Iterable[IndexDoc], *, refresh: bool = False) -> BulkReport:
        with self._lock:
            writer = self._writer_for_write()
            report = _write_all(writer, self._vectors, docs)
            self._pending = True
            if refresh:
                self.refresh()
            return report

    def delete(self, ids: Sequence[str], *, refresh: bool = False) -> BulkReport:
        with self._lock:
            writer = self._writer_for_write()
            report = BulkReport()
            for doc_id in ids:
                writer.delete_documents_by_term(ts.ID, doc_id)
                self._vectors.stage_delete(doc_id)
                report.outcomes.append(ItemOutcome(doc_id, True))
            self._pending = True
            if refresh:
                self.refresh()
            return report

    def refresh(self) -> None:
        with self._lock:
            snapshot = self._current()
            if self._versions.current() != snapshot.version:
                self._open()  # another process published a rebuild
                return
            if self._pending:
                self._commit()
            self._publish(snapshot.version)

    def _commit(self) -> None:
        assert self._writer is not None and self._snapshot is not None
        self._writer.commit()
        if self._vectors.apply():
            self._vectors.save(self._versions.folder(self._snapshot.version) / "vectors")
        self._pending = False

    def _drop_writer(self) -> None:
        if self._writer is not None:
            self._writer.rollback()
            self._writer.wait_merging_threads()
            self._writer = None
            self._pending = False

    def rebuild(self, docs: Iterable[IndexDoc]) -> BulkReport:
        with self._lock:
            old = self._versions.current()
            version = self._versions.next_version()
            self._versions.root.mkdir(parents=True, exist_ok=True)
            folder = self._versions.fresh_folder(version)
            index = _new_index(folder)
            writer = _open_writer(index)
            try:
                vectors = VectorStore()
                report = _write_all(writer, vectors, docs)
                writer.commit()
            except BaseException:
                # Stop the writer's threads before its folder goes, or they recreate files.
                writer.rollback()
                writer.wait_merging_threads()
                shutil.rmtree(folder, ignore_errors=True)
                raise
            writer.wait_merging_threads()
            vectors.apply()
            vectors.save(folder / "vectors")
            self._drop_writer()
            self._versions.publish(version)
            self._index, self._vectors = index, vectors
            self._publish(version)
            self._versions.prune({version} | ({old} if old is not None else set()))
            return report

    # -- reads -----------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        snapshot = self._current()
        return execute(
            snapshot.searcher, snapshot.builder, ts.analyzer(), query, self._facet_pool(), snapshot.vectors.ids_by_hash
        )

    def _facet_pool(self) -> ThreadPoolExecutor:
        pool = self._pool
        if pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=FACET_THREADS, thread_name_prefix="facets")
                pool = self._pool
        return pool

    def knn(
        self,
        vector: Sequence[float],
        *,
        field: VectorField,
        model: str,
        k: int,
        types: tuple[DocType, ...] = ("asset",),
        filters: Mapping[str, tuple[str, ...]] | None = None,
        ranges: Mapping[str, Range] | None = None,
        min_score: float | None = None,
        exclude_ids: Sequence[str] = (),
    ) -> list[ScoredId]:
        snapshot = self._current()
        if field not in FIELDS:
            raise InvalidQuery(f"unknown vector field {field!r}", field=field)
        filters, ranges = filters or {}, ranges or {}
        check_fields(filters, ranges, ())
        view = snapshot.vectors.view(field, model)
        if view is None or k <= 0:
            return []
        try:
            query = normalise(vector)
        except ValueError as exc:
            raise InvalidQuery(str(exc), field="vector") from None
        if len(query) != view.mat.shape[1]:
            raise InvalidQuery(f"vector has {len(query)} dimensions, {model} has {view.mat.shape[1]}", field="vector")
        builder = snapshot.builder
        wanted = {n: tuple(sorted(set(v))) for n, v in filters.items() if v}
        clauses = [builder.keyword(n, list(v)) for n, v in wanted.items()]
        bounded: list[tuple[str, Range]] = []
        for name, rng in sorted(ranges.items()):
            if (clause := builder.range(name, rng)) is not None:
                clauses.append(clause)
                bounded.append((name, rng))
        exclude = np.array([ts.id_hash(i) for i in exclude_ids], dtype=np.uint64)
        limit = self._search.exact_knn_limit
        ranking = view.ranking(query, view.candidates(types, None, exclude), limit)
        key = (field, model, tuple(sorted(wanted.items())), tuple(bounded))  # names the filters for `kept`
        return filtered_knn(
            snapshot.searcher,
            builder.schema,
            ranking,
            k,
            clauses,
            min_score,
            exact_limit=limit,
            kept=snapshot.filter_rows,
            key=key,
        )

    def get(self, ids: Sequence[str]) -> dict[str, IndexDoc]:
        snapshot = self._current()
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        hits = snapshot.searcher.search(snapshot.builder.ids(wanted), limit=len(wanted)).hits
        out = {}
        for _, address in hits:
            doc = ts.stored_doc(snapshot.searcher, address)
            snapshot.vectors.vectors_of(doc)
            out[doc.id] = doc
        return out

    def count(self) -> int:
        return int(self._current().searcher.num_docs)


def _new_index(folder: Path) -> tantivy.Index:
    (folder / "tantivy").mkdir(parents=True, exist_ok=True)
    return ts.open_index(str(folder / "tantivy"))


def _open_writer(index: tantivy.Index) -> tantivy.IndexWriter:
    try:
        return index.writer(heap_size=WRITER_HEAP, num_threads=1)
    except ValueError as exc:
        raise BackendUnavailable(f"the index is locked by another writer: {exc}") from exc


def _write_all(writer: tantivy.IndexWriter, vectors: VectorStore, docs: Iterable[IndexDoc]) -> BulkReport:
    """Delete-then-add each document by id (an upsert); a bad document is reported, the
    rest written."""
    report = BulkReport()
    analyzer = ts.analyzer()
    for doc in docs:
        step_aside()  # an import in this process waits while searches run
        try:
            converted = ts.to_tantivy(doc, analyzer)
            vectors.stage_put(doc, ts.id_hash(doc.id))
        except (ValueError, TypeError, OverflowError) as exc:
            report.outcomes.append(ItemOutcome(doc.id, False, str(exc)))
            continue
        writer.delete_documents_by_term(ts.ID, doc.id)
        writer.add_document(converted)
        report.outcomes.append(ItemOutcome(doc.id, True))
    return report
