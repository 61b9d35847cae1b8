"""The vector store's files: saves append small segments, a reload replays them to the
same vectors, and old segments are folded away."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from discovery.store.index import vector_store
from discovery.store.index.base import IndexDoc
from discovery.store.index.vector_store import VectorStore
from discovery.store.index.vectors import Ranking, VectorBlock, exact_rows


def _doc(n: int, vector: list[float], model: str = "m@1") -> IndexDoc:
    return IndexDoc(id=f"asset:{n}", type="asset", key=str(n), image_vector=vector, vector_model=model)


def _live(store: VectorStore) -> dict[str, list[float]]:
    out = {}
    for (field, model), view in store.snapshot().views.items():
        for row in np.flatnonzero(view.alive):
            out[f"{field}/{model}/{view.ids[row]}"] = [round(float(x), 5) for x in view.mat[row]]
    return out


def _save(store: VectorStore, folder: Path) -> None:
    store.apply()
    store.save(folder)


def test_a_reload_replays_puts_replacements_and_deletes(tmp_path: Path) -> None:
    store = VectorStore()
    for n in range(5):
        store.stage_put(_doc(n, [1.0, float(n)]), n)
    _save(store, tmp_path)
    store.stage_put(_doc(1, [0.0, 1.0]), 1)  # replaced
    store.stage_delete("asset:2")
    store.stage_put(_doc(3, [1.0, 0.0], model="m@2"), 3)  # moved to another model
    _save(store, tmp_path)
    store.stage_put(_doc(2, [1.0, 1.0]), 2)  # back again
    _save(store, tmp_path)
    assert _live(VectorStore.load(tmp_path)) == _live(store)


def test_a_small_batch_writes_a_small_segment(tmp_path: Path) -> None:
    store = VectorStore()
    for n in range(500):
        store.stage_put(_doc(n, list(np.random.default_rng(n).standard_normal(64))), n)
    _save(store, tmp_path)
    first = {p.name: p.stat().st_size for p in tmp_path.glob("*.npz")}
    store.stage_put(_doc(999, [1.0] * 64), 999)
    _save(store, tmp_path)
    added = [p.stat().st_size for p in tmp_path.glob("*.npz") if p.name not in first]
    assert len(added) == 1 and added[0] < min(first.values()) / 10


def test_segments_are_folded_into_one_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector_store, "MAX_SEGMENTS", 3)
    store = VectorStore()
    for n in range(7):
        store.stage_put(_doc(n, [1.0, float(n)]), n)
        _save(store, tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) <= 3
    assert _live(VectorStore.load(tmp_path)) == _live(store)


def test_rows_with_hashes_finds_every_row_of_an_id_written_twice() -> None:
    block = VectorBlock("image_vector", "m@1", 2)
    for n, doc_id in enumerate(["a", "b", "c", "b", "d"]):  # "b" rewritten: a dead row, then a live one
        block.put(doc_id, "asset", np.array([1.0, float(n)], dtype=np.float32), hashed=hash_of(doc_id))
    view = block.view()
    wanted = np.array([hash_of("b"), hash_of("d"), hash_of("zz")], dtype=np.uint64)
    assert view.rows_with(wanted).tolist() == np.isin(view.hashes, wanted).tolist()
    assert view.rows_with(wanted).tolist() == [False, True, False, True, True]
    assert not view.rows_with(np.zeros(0, dtype=np.uint64)).any()


def test_ids_are_named_by_hash_across_vector_sets_and_unknown_hashes_stay_unnamed() -> None:
    store = VectorStore()
    store.stage_put(_doc(1, [1.0, 0.0]), hashed=11)
    store.stage_put(_doc(2, [0.0, 1.0], model="other@1"), hashed=22)
    store.stage_put(_doc(1, [0.5, 0.5]), hashed=11)  # rewritten: two rows, one id
    store.apply()
    assert store.snapshot().ids_by_hash([22, 11, 99]) == ["asset:2", "asset:1", None]
    assert store.snapshot().ids_by_hash([]) == []


def test_the_hash_order_of_a_later_view_extends_the_earlier_one() -> None:
    rng = np.random.default_rng(7)
    block = VectorBlock("image_vector", "m@1", 2)

    def put(count: int) -> None:
        for _ in range(count):
            n = int(rng.integers(0, 40))  # ids repeat: rewritten documents
            block.put(f"d{n}", "asset", np.array([1.0, 0.0], dtype=np.float32), hashed=1000 + n * 7 % 31)

    put(30)
    older = block.view()
    put(25)
    newer = block.view()
    for view in (newer, older):  # the newer first: the older one is then sorted afresh
        wanted = np.array([1000 + n * 7 % 31 for n in (3, 17, 39)], dtype=np.uint64)
        assert view.rows_with(wanted).tolist() == np.isin(view.hashes, wanted).tolist()
    put(10)
    latest = block.view()
    order, ordered = latest._hash_order()  # merged into the order kept for `newer`
    assert ordered.tolist() == sorted(latest.hashes.tolist())
    assert latest.hashes[order].tolist() == ordered.tolist() and sorted(order.tolist()) == list(range(latest.n))


def hash_of(doc_id: str) -> int:
    return {"a": 5, "b": 3, "c": 9, "d": 1, "zz": 7}[doc_id]


@pytest.mark.parametrize("allowed_share", [0.05, 0.5, 1.0])
def test_exact_ranking_of_allowed_rows_matches_brute_force(allowed_share: float) -> None:
    rng = np.random.default_rng(4)
    block = VectorBlock("image_vector", "m@1", 8)
    for n in range(400):
        vec = rng.standard_normal(8).astype(np.float32)
        block.put(f"d{n}", "asset", vec / np.linalg.norm(vec), hashed=n)
    view = block.view()
    mask = rng.random(400) < allowed_share
    query = rng.standard_normal(8).astype(np.float32)
    scores = view.mat @ query
    expected = sorted(np.flatnonzero(mask), key=lambda r: -scores[r])[:7]
    for ranking in (
        Ranking(view, query, mask, exact=True),
        Ranking(view, query, mask, exact=True, rows=np.flatnonzero(mask)),
    ):
        found = ranking.top(7)
        assert [r for _, r in found] == [int(r) for r in expected]
        assert [s for s, _ in found] == pytest.approx([float(scores[r]) for r in expected], abs=1e-6)


def test_wider_vectors_switch_to_hnsw_at_proportionally_fewer_rows() -> None:
    assert exact_rows(200_000, 64) == 200_000
    assert exact_rows(200_000, 384) == 33_333
    assert exact_rows(200_000, 512) == 25_000
    assert exact_rows(200_000, 8) == 200_000  # narrower vectors are not given more
