"""The embedded search engine: tantivy for text, filters and facets; numpy/FAISS for vectors.

Everything lives under one folder: `vN/tantivy` and `vN/vectors` per index version,
and `CURRENT` naming the live one (`versions`). Searches read an immutable snapshot (a
tantivy searcher and the vector views) replaced when a commit is seen, so they run from
any thread without locks and never see a half-applied batch or a half-built version.

Any number of processes open the same folder (see `writer_lease` for who writes):
- `upsert`/`delete` stage documents in this process; a flush takes the writer lease,
  catches up with what other processes committed, opens a tantivy writer, writes the
  staged batch, commits, saves the vectors, closes the writer and gives the lease back.
  `refresh()` (and `refresh=True`) flushes now; concurrent callers share one commit. Staged
  writes nobody refreshes are flushed by the sync thread within `COMMIT_AFTER_S`
  (near-real-time: small writes from many requests become one commit).
- The sync thread of every process looks at the files every `FOLLOW_EVERY_S`: a new
  `CURRENT`, a new tantivy `meta.json` or vector manifest means another process committed,
  and this process reloads its reader, replays the new vector segments, and publishes a
  new snapshot (with fresh filter caches), so its searches see the commit within a second.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tantivy

from discovery.config import SearchSettings
from discovery.domain import DocType
from discovery.errors import BackendUnavailable, GenerationMoved, InvalidQuery
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
from discovery.store.index.writer_lease import WriterLease

WRITER_HEAP = 64_000_000
FACET_THREADS = 4
FOLLOW_EVERY_S = 0.2  # how often each process looks for another's commit
COMMIT_AFTER_S = 0.2  # staged writes nobody refreshed are committed after this long

log = logging.getLogger(__name__)
_DiskKey = tuple[int | None, tuple[int, int, int] | None, tuple[int, int, int] | None]


@dataclass(frozen=True, slots=True)
class _Staged:
    """A document to write (`converted` for tantivy, `doc` for its vectors) or, with
    neither, an id to delete."""

    id: str
    converted: tantivy.Document | None
    doc: IndexDoc | None


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
        self._lease = WriterLease(Path(path))
        self._lock = threading.RLock()  # guards (re)opening, the snapshot and the staged list
        self._flush_lock = threading.Lock()  # one flush or follow at a time in this process
        self._snapshot: _Snapshot | None = None
        self._index: tantivy.Index | None = None
        self._vectors = VectorStore()
        self._staged: list[_Staged] = []
        self._staged_at = 0.0
        self._seen: _DiskKey | None = None  # the files the snapshot was read from
        self._stop = threading.Event()
        self._sync: threading.Thread | None = None
        # Facet counts run here, beside the hits search (tantivy releases the GIL).
        self._pool: ThreadPoolExecutor | None = None

    # -- lifecycle -------------------------------------------------------------------

    def ensure_ready(self) -> None:
        with self._lock:
            if self._versions.current() is None:
                with self._lease.exclusive():
                    if self._versions.current() is None:  # another process may have made it
                        self._versions.root.mkdir(parents=True, exist_ok=True)
                        version = self._versions.next_version()
                        folder = self._versions.fresh_folder(version)
                        _new_index(folder)
                        VectorStore().save(folder / "vectors")
                        self._versions.publish(version)
            if self._snapshot is None:
                self._open()
            if self._sync is None and not self._stop.is_set():
                self._sync = threading.Thread(target=self._sync_loop, name="index-sync", daemon=True)
                self._sync.start()

    def ping(self) -> str | None:
        try:
            self._current()
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            return f"{type(exc).__name__}: {exc}"
        return None

    def close(self) -> None:
        self._stop.set()
        sync, self._sync = self._sync, None
        if sync is not None:
            sync.join(timeout=10)
        if self._staged and self._index is not None:
            self._flush()
        with self._lock:
            self._index = None
            self._snapshot = None
            pool, self._pool = self._pool, None
        self._lease.close()
        if pool is not None:
            pool.shutdown(wait=True)

    def _open(self) -> None:
        with self._lock:
            seen = _disk_key(self._versions)
            version = self._versions.current()
            if version is None:
                raise BackendUnavailable("the index has no current version")
            folder = self._versions.folder(version)
            self._index = ts.open_index(str(folder / "tantivy"))
            self._vectors = VectorStore.load(folder / "vectors")
            self._publish(version)
            self._seen = seen

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
        with self._lock:
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

    def upsert(self, docs: Iterable[IndexDoc], *, refresh: bool = False) -> BulkReport:
        self._current()
        report = BulkReport()
        staged: list[_Staged] = []
        analyzer = ts.analyzer()
        for doc in docs:
            step_aside()  # an import in this process waits while searches run
            try:
                converted = ts.to_tantivy(doc, analyzer)
                with self._lock:
                    self._vectors.check(doc)
            except (ValueError, TypeError, OverflowError) as exc:
                report.outcomes.append(ItemOutcome(doc.id, False, str(exc)))
                continue
            staged.append(_Staged(doc.id, converted, doc))
            report.outcomes.append(ItemOutcome(doc.id, True))
        self._stage(staged)
        if refresh:
            self.refresh()
        return report

    def delete(self, ids: Sequence[str], *, refresh: bool = False) -> BulkReport:
        self._current()
        self._stage([_Staged(doc_id, None, None) for doc_id in ids])
        report = BulkReport(outcomes=[ItemOutcome(doc_id, True) for doc_id in ids])
        if refresh:
            self.refresh()
        return report

    def _stage(self, items: list[_Staged]) -> None:
        if not items:
            return
        with self._lock:
            if not self._staged:
                self._staged_at = time.monotonic()
            self._staged.extend(items)

    def refresh(self) -> None:
        """Commit what this process staged and catch up with other processes' commits."""
        self._current()
        if not self._flush():
            self._follow()

    def make_visible(self) -> None:
        """Nothing to wait for: the near-real-time commit, shared by every caller, makes the
        staged writes visible within `COMMIT_AFTER_S` + `FOLLOW_EVERY_S` (about 0.4 s). A
        decision answers in the time of its records writes instead of waiting for it."""

    def _flush(self) -> bool:
        """Write and commit the staged documents under the writer lease; False when
        nothing was staged. Callers that arrive during a flush wait for it, then find
        their documents committed by it (or flush the rest)."""
        with self._flush_lock:
            with self._lock:
                staged, self._staged = self._staged, []
            if not staged:
                return False
            with self._lease.exclusive():
                self._catch_up()
                assert self._index is not None and self._snapshot is not None
                writer = _open_writer(self._index)
                try:
                    _write_staged(writer, self._vectors, staged)
                    writer.commit()
                except BaseException:
                    writer.rollback()
                    self._vectors.drop_staged()  # the batch's vectors go with it
                    raise
                finally:
                    writer.wait_merging_threads()  # also closes the writer and tantivy's lock
                version = self._snapshot.version
                if self._vectors.apply():
                    self._vectors.save(self._versions.folder(version) / "vectors")
                self._seen = _disk_key(self._versions)
            self._publish(version)
            return True

    def _follow(self) -> bool:
        """Catch up with another process's commit, if there is one and no writer is in
        the middle of one (the next look will see it). True when something changed."""
        with self._flush_lock:
            if _disk_key(self._versions) == self._seen:
                return False
            with self._lease.shared_now() as held:
                return held and self._catch_up()

    def _catch_up(self) -> bool:
        """Under the lease: read what other processes committed since the snapshot."""
        seen = _disk_key(self._versions)
        if seen == self._seen:
            return False
        snapshot = self._snapshot
        version = self._versions.current()
        if snapshot is None or version != snapshot.version:
            self._open()  # another process published a rebuild
            return True
        self._vectors.follow(self._versions.folder(version) / "vectors")
        self._publish(version)
        self._seen = seen
        return True

    def _sync_loop(self) -> None:
        while not self._stop.wait(FOLLOW_EVERY_S):
            try:
                if self._staged and time.monotonic() - self._staged_at >= COMMIT_AFTER_S:
                    self._flush()
                else:
                    self._follow()
            except Exception:  # a full disk, a vanished folder: logged, and tried again
                log.exception("embedded index: background commit or follow failed")

    def rebuild(self, docs: Iterable[IndexDoc], *, fresh_vectors: Sequence[VectorField] = ()) -> BulkReport:
        with self._flush_lock, self._lease.exclusive():
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
            self._versions.publish(version)
            with self._lock:
                self._index, self._vectors = index, vectors
                self._publish(version)
                self._seen = _disk_key(self._versions)
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
        strict_model: bool = False,
    ) -> list[ScoredId]:
        snapshot = self._current()
        if field not in FIELDS:
            raise InvalidQuery(f"unknown vector field {field!r}", field=field)
        filters, ranges = filters or {}, ranges or {}
        check_fields(filters, ranges, ())
        view = snapshot.vectors.view(field, model)
        if view is None:
            held = snapshot.vectors.models_of(field, types) if strict_model else ()
            if held:
                raise GenerationMoved(f"the index holds {field} of {', '.join(held)}, not {model}", models=held)
            return []
        if k <= 0:
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
        # Only a process that does not take the writer lease (another program, an older
        # Discovery) can hold tantivy's lock while we hold the lease.
        raise BackendUnavailable(f"the index is locked by a writer outside Discovery's lease: {exc}") from exc


def _disk_key(versions: Versions) -> _DiskKey:
    """What identifies the committed state on disk: the current version and the identity
    of its tantivy `meta.json` and vector manifest (both replaced by rename at a commit)."""
    version = versions.current()
    if version is None:
        return (None, None, None)
    folder = versions.folder(version)
    return (version, _stat_key(folder / "tantivy" / "meta.json"), _stat_key(folder / "vectors" / "manifest.json"))


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _write_staged(writer: tantivy.IndexWriter, vectors: VectorStore, staged: list[_Staged]) -> None:
    for item in staged:
        writer.delete_documents_by_term(ts.ID, item.id)
        if item.doc is None or item.converted is None:
            vectors.stage_delete(item.id)
            continue
        try:
            vectors.stage_put(item.doc, ts.id_hash(item.id))
        except ValueError as exc:  # another process gave the model other dimensions meanwhile
            log.warning("embedded index: %s left without its vectors: %s", item.id, exc)
        writer.add_document(item.converted)


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
