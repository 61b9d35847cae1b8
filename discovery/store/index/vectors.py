"""Vectors of the embedded engine: numpy, exact dot products, FAISS HNSW beyond a size
(exact until the graph, built in the background, is ready).

Vectors are kept per (field, model): two models' vectors are never in one matrix, so
they can never be compared. Rows are L2-normalised float32, so cosine is a dot product.
A block is append-only with tombstones: a snapshot taken at refresh sees rows `[:n]`
and its own copy of the live mask, so searches in flight never see a half-applied
batch while the writer appends behind them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import faiss
import numpy as np
import numpy.typing as npt

from discovery.domain import DocType
from discovery.store.index.base import ScoredId, VectorField

TYPE_CODES: dict[str, int] = {"product": 0, "asset": 1}
HNSW_M = 32
_ONE_BUILD = threading.Lock()
GRAPH_STEP = 64  # rows added to a graph per hold of its lock (a few milliseconds)
SPARSE_SHARE = 4  # rank only the allowed rows when they are under a quarter of all
EXACT_DIM = 64  # `exact_knn_limit` counts vectors of this many dimensions
F32 = npt.NDArray[np.float32]


def normalise(vector: Sequence[float] | F32) -> F32:
    arr = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(arr))
    if not np.isfinite(norm) or norm == 0.0:
        raise ValueError("vector is zero or not finite")
    return arr / norm


def exact_rows(limit: int, dim: int) -> int:
    """How many vectors of `dim` dimensions are ranked exactly under `exact_knn_limit`.
    The exact product's cost follows rows x dimensions: 100,000 text vectors of 384
    took ~8 ms, more than the rest of a hybrid search, so they switch to HNSW at a
    sixth of the rows 64-dimension ones do."""
    return limit * EXACT_DIM // max(EXACT_DIM, dim)


class VectorBlock:
    """Every vector of one field made by one model."""

    def __init__(self, field: VectorField, model: str, dim: int, capacity: int = 256) -> None:
        self.field, self.model, self.dim = field, model, dim
        self.mat = np.zeros((capacity, dim), dtype=np.float32)
        self.hashes = np.zeros(capacity, dtype=np.uint64)
        self.types = np.zeros(capacity, dtype=np.uint8)
        self.alive = np.zeros(capacity, dtype=bool)
        self.ids: list[str] = []
        self.row_of: dict[str, int] = {}
        self.n = 0
        self._sorted: tuple[int, npt.NDArray[np.intp], npt.NDArray[np.uint64]] | None = None
        self._sorted_lock = threading.Lock()
        self._hnsw: faiss.IndexHNSWFlat | None = None
        self._hnsw_rows = 0
        self._hnsw_lock = threading.Lock()
        self._hnsw_build: threading.Thread | None = None
        self._hnsw_extend: threading.Thread | None = None

    @property
    def live(self) -> int:
        return len(self.row_of)

    def put(self, doc_id: str, doc_type: str, vec: F32, hashed: int) -> None:
        self.remove(doc_id)
        if self.n == len(self.mat):
            self._grow()
        row = self.n
        self.mat[row], self.hashes[row], self.types[row] = vec, hashed, TYPE_CODES[doc_type]
        self.alive[row] = True
        self.ids.append(doc_id)
        self.row_of[doc_id] = row
        self.n += 1

    def put_many(self, ids: list[str], codes: npt.NDArray[np.uint8], mat: F32, hashes: npt.NDArray[np.uint64]) -> None:
        """`put` for a whole saved segment (distinct ids) at array speed: another process's
        segments are replayed while this one serves searches."""
        for doc_id in ids:
            self.remove(doc_id)
        k = len(ids)
        while self.n + k > len(self.mat):
            self._grow()
        rows = slice(self.n, self.n + k)
        self.mat[rows], self.hashes[rows], self.types[rows], self.alive[rows] = mat, hashes, codes, True
        self.ids.extend(ids)
        self.row_of.update(zip(ids, range(self.n, self.n + k), strict=True))
        self.n += k

    def remove(self, doc_id: str) -> None:
        row = self.row_of.pop(doc_id, None)
        if row is not None:
            self.alive[row] = False

    def _grow(self) -> None:
        # New arrays: snapshots keep reading the old ones.
        cap = max(256, len(self.mat) * 2)
        self.mat = np.concatenate([self.mat, np.zeros((cap - len(self.mat), self.dim), np.float32)])
        self.hashes = np.concatenate([self.hashes, np.zeros(cap - len(self.hashes), np.uint64)])
        self.types = np.concatenate([self.types, np.zeros(cap - len(self.types), np.uint8)])
        self.alive = np.concatenate([self.alive, np.zeros(cap - len(self.alive), bool)])

    def compacted(self) -> VectorBlock:
        rows = np.flatnonzero(self.alive[: self.n])
        out = VectorBlock(self.field, self.model, self.dim, capacity=max(256, len(rows)))
        k = len(rows)
        out.mat[:k], out.hashes[:k], out.types[:k] = self.mat[rows], self.hashes[rows], self.types[rows]
        out.alive[:k] = True
        out.ids = [self.ids[r] for r in rows]
        out.row_of = {doc_id: i for i, doc_id in enumerate(out.ids)}
        out.n = k
        return out

    def view(self) -> BlockView:
        n = self.n
        return BlockView(self, self.mat[:n], self.hashes[:n], self.types[:n], self.alive[:n].copy(), self.ids, n)

    def hash_order(self, hashes: npt.NDArray[np.uint64]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.uint64]]:
        """The rows of a view holding `hashes` (rows `[:len(hashes)]`) in id-hash order,
        and their hashes in that order. Written rows never change (updates append), so
        the order kept for an earlier, shorter view is extended by merging in the rows
        added since (a refresh's worth) instead of sorting every row again: that sort
        was ~130 ms at a million vectors, paid by the first filtered search after each
        refresh."""
        n = len(hashes)
        with self._sorted_lock:
            known = self._sorted
            if known is not None and known[0] == n:
                return known[1], known[2]
            if known is not None and known[0] < n:
                m, order, ordered = known
                fresh = np.argsort(hashes[m:], kind="stable")
                fresh_hashes = hashes[m:][fresh]
                at = np.searchsorted(ordered, fresh_hashes, side="right")
                order, ordered = np.insert(order, at, fresh + m), np.insert(ordered, at, fresh_hashes)
            else:  # the first view, or an older one asked after a newer
                order = np.argsort(hashes, kind="stable")
                ordered = hashes[order]
            if known is None or n > known[0]:
                self._sorted = (n, order, ordered)
            return order, ordered

    def hnsw_ready(self) -> bool:
        """Whether the HNSW graph exists. The first call starts building it on a background
        thread (minutes at a million vectors) and says no: searches stay exact, and never
        wait, until it is there. Rows appended later (a refresh's worth) are scored exactly
        by `hnsw_search` until a background thread has added them to the graph."""
        with self._hnsw_lock:
            if self._hnsw is not None:
                return True
            if self._hnsw_build is None:
                self._hnsw_build = threading.Thread(
                    target=self._build_graph, args=(self.n,), name="hnsw-build", daemon=True
                )
                self._hnsw_build.start()
            return False

    def has_graph(self) -> bool:
        """Whether the HNSW graph exists (never starts a build)."""
        return self._hnsw is not None

    def wait_for_graph(self, timeout: float | None = None) -> None:
        build = self._hnsw_build
        if build is not None:
            build.join(timeout)
        extend = self._hnsw_extend
        if extend is not None:
            extend.join(timeout)

    def _build_graph(self, n: int) -> None:
        # Rows below `n` never change (updates append, deletes are tombstones), so the graph
        # is built from them without the lock; `_grow` may swap `mat`, not these rows.
        # One build at a time per process: each already uses every core.
        with _ONE_BUILD:
            graph = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = 80
            graph.add(np.ascontiguousarray(self.mat[:n]))
        with self._hnsw_lock:
            self._hnsw, self._hnsw_rows = graph, n

    def _extend_graph(self) -> None:
        """Add the rows appended since the graph was built, a few at a time: a search waits
        for the graph's lock at most one small `add` (faiss cannot search a graph while
        adding to it), never for a refresh's worth, as it did when the search added them."""
        while True:
            with self._hnsw_lock:
                graph, start, end = self._hnsw, self._hnsw_rows, self.n
                if graph is None or start >= end:
                    self._hnsw_extend = None
                    return
                stop = min(end, start + GRAPH_STEP)
                graph.add(np.ascontiguousarray(self.mat[start:stop]))
                self._hnsw_rows = stop
            time.sleep(0)  # let a waiting search take the lock between steps

    def hnsw_search(
        self, query: F32, k: int, allowed: npt.NDArray[np.bool_], n: int
    ) -> tuple[F32, npt.NDArray[np.int64]]:
        """Approximate neighbours among the `allowed` rows of the first `n`: the graph's
        rows through the graph, the rows appended since it last grew exactly (a few
        refreshes' worth at most: a background thread is adding them meanwhile)."""
        with self._hnsw_lock:
            if self._hnsw is None:
                raise RuntimeError("hnsw_search before hnsw_ready()")
            covered = min(self._hnsw_rows, n)
            if covered < n and self._hnsw_extend is None:
                self._hnsw_extend = threading.Thread(target=self._extend_graph, name="hnsw-extend", daemon=True)
                self._hnsw_extend.start()
            if covered:
                graph_allowed = allowed[:covered]
                bitmap = np.packbits(graph_allowed, bitorder="little")
                selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(64, 4 * k))  # type: ignore[attr-defined]
                scores, rows = self._hnsw.search(query.reshape(1, -1), k, params=params)
                scores, rows = scores[0], rows[0]
            else:
                scores, rows = np.zeros(0, np.float32), np.zeros(0, np.int64)
        if covered >= n:
            return scores, rows
        tail = covered + np.flatnonzero(allowed[covered:n])
        if not len(tail):
            return scores, rows
        tail_scores = _row_scores(self.mat, query, tail.astype(np.int64))
        found = rows >= 0
        merged_scores = np.concatenate([scores[found], tail_scores])
        merged_rows = np.concatenate([rows[found], tail])
        best = np.argsort(-merged_scores, kind="stable")[:k]
        return merged_scores[best].astype(np.float32), merged_rows[best].astype(np.int64)


@dataclass(slots=True)
class BlockView:
    block: VectorBlock
    mat: F32
    hashes: npt.NDArray[np.uint64]
    types: npt.NDArray[np.uint8]
    alive: npt.NDArray[np.bool_]
    ids: list[str]
    n: int
    _by_hash: tuple[npt.NDArray[np.intp], npt.NDArray[np.uint64]] | None = None

    def rows_with(self, hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.bool_]:
        """A mask of the rows whose id hash is among `hashes` (every row of an id that was
        written more than once). By binary search in the hashes sorted once per view:
        `np.isin` sorted all of them on every filtered query."""
        order, ordered = self._hash_order()
        # Sorted keys walk the sorted hashes in one direction (numpy reuses the last
        # position): 60,000 keys among a million took 40 ms unsorted, 6 ms with the sort
        # (np.isin: 71 ms).
        wanted = np.sort(np.asarray(hashes, dtype=np.uint64))
        lo = np.searchsorted(ordered, wanted, side="left")
        hi = np.searchsorted(ordered, wanted, side="right")
        runs = hi - lo
        mask = np.zeros(self.n, dtype=bool)
        if runs.sum():
            starts = np.repeat(lo, runs)
            offsets = np.arange(int(runs.sum())) - np.repeat(np.cumsum(runs) - runs, runs)
            mask[order[starts + offsets]] = True
        return mask

    def ids_of(self, hashes: npt.NDArray[np.uint64]) -> list[str | None]:
        """The id each hash names, None where no row of this view has it."""
        order, ordered = self._hash_order()
        if not len(ordered):
            return [None] * len(hashes)
        at = np.minimum(np.searchsorted(ordered, hashes), len(ordered) - 1)
        held = ordered[at] == hashes
        return [self.ids[int(order[i])] if ok else None for i, ok in zip(at, held, strict=True)]

    def _hash_order(self) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.uint64]]:
        found = self._by_hash
        if found is None:  # two threads may both ask; either result is the same
            found = self._by_hash = self.block.hash_order(self.hashes)
        return found

    def candidates(
        self, types: Sequence[DocType], allowed_hashes: npt.NDArray[np.uint64] | None, exclude: npt.NDArray[np.uint64]
    ) -> npt.NDArray[np.bool_]:
        """Live rows of `types`, among `allowed_hashes` when given, minus `exclude`."""
        codes = sorted({TYPE_CODES[t] for t in types})
        mask = self.alive & (self.types == codes[0] if len(codes) == 1 else np.isin(self.types, codes))
        if allowed_hashes is not None:
            mask &= self.rows_with(allowed_hashes)
        if len(exclude):
            mask &= ~self.rows_with(exclude)
        return mask

    def ranking(
        self, query: F32, mask: npt.NDArray[np.bool_], exact_limit: int, rows: npt.NDArray[np.int64] | None = None
    ) -> Ranking:
        """`query`'s ranking of the rows in `mask` (or, when known, the sorted `rows`)."""
        eligible = len(rows) if rows is not None else int(np.count_nonzero(mask))
        exact = eligible <= exact_rows(exact_limit, self.block.dim) or not self.block.hnsw_ready()
        return Ranking(self, query, mask, exact=exact, rows=rows)

    def allowed(self, rows: npt.NDArray[np.int64], mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """`mask` narrowed to `rows`."""
        out = np.zeros(self.n, dtype=bool)
        out[rows] = True
        return out & mask

    def search(
        self, query: F32, k: int, mask: npt.NDArray[np.bool_], min_score: float | None, exact_limit: int
    ) -> list[ScoredId]:
        found = self.ranking(query, mask, exact_limit).top(k)
        return self.scored([(s, r) for s, r in found if min_score is None or s >= min_score])

    def scored(self, found: Sequence[tuple[float, int]]) -> list[ScoredId]:
        out = [ScoredId(self.ids[r], s) for s, r in found]
        out.sort(key=lambda h: (-h.score, h.id))
        return out

    def vector(self, doc_id: str) -> list[float] | None:
        row = self.block.row_of.get(doc_id)
        if row is None or row >= self.n or not self.alive[row]:
            return None
        return [float(x) for x in self.mat[row]]


SPLIT_ROWS = 32_768  # from this many rows the product runs in two halves at once
_half_pool: ThreadPoolExecutor | None = None
_half_lock = threading.Lock()


def _all_scores(mat: F32, query: F32) -> F32:
    """`mat @ query` on two cores. The product is memory-bound and BLAS runs on one
    thread here (`DISCOVERY_TORCH_THREADS`: OpenBLAS's idle threads spin and take the
    cores from the searches beside it), so the halves go to two Python threads, which
    BLAS lets run at once (it releases the GIL): 100,000 x 64 in ~half the time."""
    if len(mat) < SPLIT_ROWS:
        return (mat @ query).astype(np.float32, copy=False)
    global _half_pool
    with _half_lock:
        if _half_pool is None:
            _half_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="knn-half")
        pool = _half_pool
    half = len(mat) // 2
    first = pool.submit(np.matmul, mat[:half], query)
    second = mat[half:] @ query
    return np.concatenate([first.result(), second]).astype(np.float32, copy=False)


def _row_scores(mat: F32, query: F32, rows: npt.NDArray[np.int64]) -> F32:
    """`mat[rows] @ query` without gathering the rows into a copy first: the copy is
    bound by memory latency (60,000 scattered rows of a million: 5.2 ms, this 1.1)."""
    out = np.empty(len(rows), dtype=np.float32)
    query = np.ascontiguousarray(query, dtype=np.float32)
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    faiss.fvec_inner_products_by_idx(  # type: ignore[attr-defined]
        faiss.swig_ptr(out),
        faiss.swig_ptr(query),
        faiss.swig_ptr(mat),
        faiss.swig_ptr(rows),
        mat.shape[1],
        1,
        len(rows),
    )
    return out


class Ranking:
    """The allowed rows of a view in descending cosine order, cut at any depth: exact
    (one matrix-vector product, reused for deeper cuts) or, beyond the exact limit, HNSW.
    The allowed rows are `mask`, or `rows` (sorted, all within `mask`) when the caller
    has them already."""

    def __init__(
        self,
        view: BlockView,
        query: F32,
        mask: npt.NDArray[np.bool_],
        *,
        exact: bool,
        rows: npt.NDArray[np.int64] | None = None,
    ) -> None:
        self.view, self.query, self.mask, self.exact = view, query, mask, exact
        self.eligible = len(rows) if rows is not None else int(np.count_nonzero(mask))
        self._scores: F32 | None = None
        self._rows = rows  # when only some rows are scored

    def top(self, m: int) -> list[tuple[float, int]]:
        """The best `m` (score, row) pairs, best first."""
        m = min(m, self.eligible)
        if m <= 0:
            return []
        if not self.exact:
            mask = self.mask if self._rows is None else self.view.allowed(self._rows, self.mask)
            scores, rows = self.view.block.hnsw_search(self.query, m, mask, self.view.n)
            return [(float(s), int(r)) for s, r in zip(scores, rows, strict=True) if r >= 0]
        if self._scores is None:
            if self._rows is None and self.eligible * SPARSE_SHARE < len(self.mask):
                self._rows = np.flatnonzero(self.mask)
            if self._rows is not None:
                # A narrow filter: score the allowed rows only, and cut among them (60,000
                # allowed of a million: ~1 ms, where all rows and the cut took 20.5).
                self._scores = _row_scores(self.view.mat, self.query, self._rows)
            else:
                # All rows at once (no copy of the matrix); disallowed rows sink to -inf.
                scores = _all_scores(self.view.mat, self.query)
                scores[~self.mask] = -np.inf
                self._scores = scores
        scores = self._scores
        part = np.argpartition(-scores, m - 1)[:m] if m < len(scores) else np.arange(len(scores))
        order = part[np.argsort(-scores[part], kind="stable")]
        rows = order if self._rows is None else self._rows[order]
        return [(float(s), int(r)) for s, r in zip(scores[order], rows, strict=True)]
