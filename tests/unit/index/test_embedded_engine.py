"""Behaviours of the embedded engine beyond the shared contract: files, versions, the
writer lock, visibility, threads, exactness under many segments, ties, the HNSW path."""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import tantivy

from discovery.config import SearchSettings
from discovery.errors import IndexLayoutChanged, InvalidQuery
from discovery.store.index import tantivy_facets, tantivy_knn
from discovery.store.index.base import IndexDoc, Range, SearchQuery
from discovery.store.index.embedded import EmbeddedBackend


def doc(n: int, *, text: str = "plain shirt", brand: str = "Acme", vector: list[float] | None = None,
        model: str = "m@1", color: str | None = None) -> IndexDoc:
    keywords = {"brand": [brand], **({"color": [color]} if color else {})}
    return IndexDoc(
        id=f"asset:{n:04d}", type="asset", key=f"{n:04d}", text={"title": text}, keywords=keywords,
        numbers={"width": float(n)}, sort_name=text, image_vector=vector, vector_model=model if vector else None,
        stored={"n": n},
    )


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EmbeddedBackend]:
    backend = EmbeddedBackend(tmp_path / "idx", SearchSettings())
    backend.ensure_ready()
    yield backend
    backend.close()


def _ids(engine: EmbeddedBackend, **kw: object) -> list[str]:
    kw.setdefault("size", 100)
    return [h.id for h in engine.search(SearchQuery(types=("asset",), **kw)).hits]  # type: ignore[arg-type]


def test_documents_and_vectors_survive_a_reopen(tmp_path: Path) -> None:
    first = EmbeddedBackend(tmp_path / "idx", SearchSettings())
    first.upsert([doc(1, vector=[1, 0]), doc(2, vector=[0, 1])], refresh=True)
    first.close()
    again = EmbeddedBackend(tmp_path / "idx", SearchSettings())
    assert again.count() == 2
    assert [s.id for s in again.knn([1, 0], field="image_vector", model="m@1", k=1)] == ["asset:0001"]
    assert again.get(["asset:0002"])["asset:0002"].image_vector == pytest.approx([0.0, 1.0])
    again.close()


def test_an_index_of_an_older_layout_is_refused_and_a_rebuild_replaces_it(tmp_path: Path) -> None:
    first = EmbeddedBackend(tmp_path / "idx", SearchSettings())
    first.upsert([doc(1)], refresh=True)
    first.close()
    folder = next((tmp_path / "idx").glob("v*")) / "tantivy"
    shutil.rmtree(folder)
    folder.mkdir()
    older = tantivy.SchemaBuilder()
    older.add_text_field("t_all")  # the single catch-all field of earlier versions
    tantivy.Index(older.build(), path=str(folder))

    stale = EmbeddedBackend(tmp_path / "idx", SearchSettings())
    with pytest.raises(IndexLayoutChanged, match="another version"):
        stale.ensure_ready()
    stale.rebuild([doc(2)])
    assert _ids(stale, text="plain") == ["asset:0002"]
    stale.close()


def test_a_text_search_keeps_to_its_types(engine: EmbeddedBackend) -> None:
    product = IndexDoc(id="product:P1", type="product", key="P1", text={"name": "plain shirt"}, sort_name="plain shirt")
    engine.upsert([doc(1), product], refresh=True)
    found = {t: sorted(h.id for h in engine.search(SearchQuery(text="plain shi", types=t)).hits)
             for t in (("asset",), ("product",), ("asset", "product"))}
    assert found == {("asset",): ["asset:0001"], ("product",): ["product:P1"],
                     ("asset", "product"): ["asset:0001", "product:P1"]}


def test_writes_are_invisible_until_refresh(engine: EmbeddedBackend) -> None:
    engine.upsert([doc(1, vector=[1, 0])])
    assert engine.count() == 0
    assert engine.knn([1, 0], field="image_vector", model="m@1", k=1) == []
    engine.refresh()
    assert engine.count() == 1
    assert len(engine.knn([1, 0], field="image_vector", model="m@1", k=1)) == 1


def test_searches_during_a_rebuild_see_the_old_version(engine: EmbeddedBackend) -> None:
    engine.upsert([doc(1), doc(2)], refresh=True)
    seen_during: list[int] = []

    def new_docs() -> Iterator[IndexDoc]:
        yield doc(10)
        seen_during.append(engine.search(SearchQuery(types=("asset",))).total)
        yield doc(11)

    engine.rebuild(new_docs())
    assert seen_during == [2]
    assert _ids(engine) == ["asset:0010", "asset:0011"]


def test_a_failed_rebuild_keeps_the_current_version(engine: EmbeddedBackend, tmp_path: Path) -> None:
    engine.upsert([doc(1)], refresh=True)

    def broken() -> Iterator[IndexDoc]:
        yield doc(10)
        raise RuntimeError("records went away")

    with pytest.raises(RuntimeError):
        engine.rebuild(broken())
    assert _ids(engine) == ["asset:0001"]
    assert sorted(p.name for p in (tmp_path / "idx").iterdir() if not p.name.startswith(".")) == ["CURRENT", "v1"]
    engine.upsert([doc(2)], refresh=True)
    assert engine.count() == 2


def _eventually(check: Callable[[], bool], within: float = 1.0) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_another_instance_follows_a_rebuild_within_a_second(engine: EmbeddedBackend, tmp_path: Path) -> None:
    engine.upsert([doc(1)], refresh=True)
    reader = EmbeddedBackend(tmp_path / "idx", SearchSettings())
    assert reader.count() == 1
    engine.rebuild([doc(5), doc(6)])
    assert _eventually(lambda: reader.count() == 2)
    reader.refresh()
    assert reader.count() == 2
    reader.close()


def test_two_instances_write_in_turn_and_each_sees_the_others_commits(
    engine: EmbeddedBackend, tmp_path: Path
) -> None:
    engine.upsert([doc(1, vector=[1, 0])], refresh=True)
    second = EmbeddedBackend(tmp_path / "idx", SearchSettings())
    second.upsert([doc(2, vector=[0, 1])], refresh=True)  # no "locked by another writer"
    engine.upsert([doc(3, vector=[1, 1])], refresh=True)
    assert second.count() >= 2
    assert _eventually(lambda: second.count() == 3 and engine.count() == 3)
    for backend in (engine, second):
        found = backend.knn([0, 1], field="image_vector", model="m@1", k=3)
        assert sorted(h.id for h in found) == ["asset:0001", "asset:0002", "asset:0003"]
        assert found[0].id == "asset:0002"
    second.delete(["asset:0001"], refresh=True)
    assert _eventually(lambda: engine.count() == 2)
    assert "asset:0001" not in {h.id for h in engine.knn([1, 0], field="image_vector", model="m@1", k=3)}
    second.close()


def test_staged_writes_are_committed_without_a_refresh_within_a_second(engine: EmbeddedBackend) -> None:
    engine.upsert([doc(1)])
    assert _eventually(lambda: engine.count() == 1)


def test_writers_in_many_threads_of_two_instances_lose_nothing(engine: EmbeddedBackend, tmp_path: Path) -> None:
    second = EmbeddedBackend(tmp_path / "idx", SearchSettings())

    def write(backend: EmbeddedBackend, start: int) -> None:
        for n in range(start, start + 20):
            backend.upsert([doc(n, vector=[1, n])], refresh=n % 3 == 0)

    threads = [threading.Thread(target=write, args=(b, s)) for b, s in ((engine, 0), (second, 100), (engine, 200))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.refresh()
    second.refresh()
    assert _eventually(lambda: engine.count() == 60 and second.count() == 60)
    reopened = EmbeddedBackend(tmp_path / "idx", SearchSettings())
    assert reopened.count() == 60
    assert len(reopened.knn([1, 0], field="image_vector", model="m@1", k=100)) == 60
    reopened.close()
    second.close()


def test_a_bad_vector_fails_its_document_only(engine: EmbeddedBackend) -> None:
    report = engine.upsert([doc(1, vector=[1, 0]), doc(2, vector=[1, 0, 0]), doc(3, vector=[0, 0])], refresh=True)
    assert [o.ok for o in report.outcomes] == [True, False, False]
    assert report.outcomes[1].error and "dimensions" in report.outcomes[1].error
    assert engine.count() == 1


def test_a_new_model_moves_the_vector_and_delete_removes_it(engine: EmbeddedBackend) -> None:
    engine.upsert([doc(1, vector=[1, 0], model="old@1"), doc(2, vector=[1, 0], model="old@1")], refresh=True)
    engine.upsert([doc(1, vector=[1, 0], model="new@2")], refresh=True)
    assert [s.id for s in engine.knn([1, 0], field="image_vector", model="old@1", k=5)] == ["asset:0002"]
    assert [s.id for s in engine.knn([1, 0], field="image_vector", model="new@2", k=5)] == ["asset:0001"]
    engine.delete(["asset:0002"], refresh=True)
    assert engine.knn([1, 0], field="image_vector", model="old@1", k=5) == []


def test_a_query_vector_of_the_wrong_size_is_refused(engine: EmbeddedBackend) -> None:
    engine.upsert([doc(1, vector=[1, 0])], refresh=True)
    with pytest.raises(InvalidQuery):
        engine.knn([1, 0, 0], field="image_vector", model="m@1", k=1)


def test_hnsw_beyond_the_exact_limit_still_honours_filters(tmp_path: Path) -> None:
    engine = EmbeddedBackend(tmp_path / "idx", SearchSettings(exact_knn_limit=0))
    docs = [doc(n, vector=[1.0, n / 100], brand="Acme" if n % 2 else "Bolt") for n in range(60)]
    engine.upsert(docs, refresh=True)
    def nearest() -> list[str]:
        found = engine.knn([1.0, 0.0], field="image_vector", model="m@1", k=5, filters={"brand": ("Bolt",)},
                           exclude_ids=["asset:0000"])
        return [s.id for s in found]

    expected = ["asset:0002", "asset:0004", "asset:0006", "asset:0008", "asset:0010"]
    assert nearest() == expected  # exact while the graph is built in the background
    view = engine._current().vectors.view("image_vector", "m@1")
    assert view is not None
    block = view.block
    block.wait_for_graph(timeout=30)
    assert block.hnsw_ready()
    assert nearest() == expected  # through the graph
    engine.close()


def test_warm_up_builds_the_graphs_past_the_exact_limit_and_warming_names_them_until_done(tmp_path: Path) -> None:
    engine = EmbeddedBackend(tmp_path / "idx", SearchSettings(exact_knn_limit=20))
    engine.upsert([doc(n, vector=[1.0, n / 100]) for n in range(40)], refresh=True)
    engine.upsert([doc(100 + n, vector=[1.0, n / 100], model="small@1") for n in range(10)], refresh=True)
    assert engine.warming() == ["image_vector/m@1"]  # 10 vectors stay exact: no graph
    engine.warm_up()
    view = engine._current().vectors.view("image_vector", "m@1")
    assert view is not None
    view.block.wait_for_graph(timeout=30)
    assert engine.warming() == []
    assert view.block.has_graph()
    engine.close()


def test_facets_stay_exact_across_many_segments(engine: EmbeddedBackend) -> None:
    # Each batch is a segment with its own value ranking; a per-segment cut would miscount.
    colors = ["Red", "Blue", "Green", "Black", "White"]  # as the index holds colours
    expected: dict[str, int] = {}
    n = 0
    for batch in range(6):
        docs = []
        for i, color in enumerate(colors):
            for _ in range((i + batch) % 4 + 1):
                n += 1
                docs.append(doc(n, color=color))
                expected[color] = expected.get(color, 0) + 1
        engine.upsert(docs, refresh=True)
    result = engine.search(SearchQuery(types=("asset",), facets=("color",), facet_size=3))
    top = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert [(v.value, v.count) for v in result.facets["color"]] == top


@pytest.mark.parametrize("counting", ["aggregation", "term walk", "aggregation past its bucket bound"])
def test_facets_are_exact_whichever_way_they_are_counted(
    engine: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch, counting: str
) -> None:
    # A search matching few documents is counted by an aggregation, one matching many by
    # walking the terms; both must give the same, exact, disjunctive counts.
    monkeypatch.setattr(tantivy_facets, "AGGREGATE_BELOW", 0.0 if counting == "term walk" else 2.0)
    if counting == "aggregation past its bucket bound":
        monkeypatch.setattr(tantivy_facets, "MAX_BUCKETS", 2)
    colors, brands = ["Red", "Blue", "Green", "Black"], ["Acme", "Bolt", "Core"]  # colours as the index holds them
    docs = [doc(n, text="wool sock" if n % 3 else "cotton sock", brand=brands[n % 3], color=colors[n % 4])
            for n in range(48)]
    for start in range(0, 48, 12):  # four segments
        engine.upsert(docs[start : start + 12], refresh=True)
    query = SearchQuery(types=("asset",), text="wool", filters={"brand": ("Bolt", "Core"), "color": ("red",)},
                        facets=("brand", "color"), facet_size=2)
    result = engine.search(query)

    wool = [d for d in docs if "wool" in d.text["title"]]
    by_brand = Counter(d.keywords["brand"][0] for d in wool if d.keywords["color"] == ["Red"])
    by_color = Counter(d.keywords["color"][0] for d in wool if d.keywords["brand"][0] in ("Bolt", "Core"))
    top_brands = sorted(by_brand.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    top_colors = sorted(by_color.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    listed = {v for v, _ in top_colors}
    expected_colors = top_colors + ([("Red", by_color["Red"])] if "Red" not in listed else [])
    assert [(v.value, v.count) for v in result.facets["brand"]] == top_brands
    assert [(v.value, v.count) for v in result.facets["color"]] == expected_colors
    assert result.facet_errors == {}


def test_tied_scores_page_exactly_across_segments(engine: EmbeddedBackend) -> None:
    for batch in ((7, 3, 11), (1, 9, 5, 2), (8, 4, 10, 6)):
        engine.upsert([doc(n) for n in batch], refresh=True)
    engine.upsert([doc(12, text="plain shirt shirt")], refresh=True)
    everything = _ids(engine, text="shirt")
    assert len(everything) == 12 and everything[0] == "asset:0012"
    seen: list[str] = []
    after = None
    while True:
        page = engine.search(SearchQuery(text="shirt", types=("asset",), size=3, search_after=after))
        if not page.hits:
            break
        seen += [h.id for h in page.hits]
        after = page.hits[-1].sort_values
    assert seen == everything
    by_offset = [i for o in range(0, 12, 4) for i in _ids(engine, text="shirt", offset=o, size=4)]
    assert by_offset == everything


def test_concurrent_searches_during_writes(engine: EmbeddedBackend) -> None:
    engine.upsert([doc(n) for n in range(20)], refresh=True)
    errors: list[BaseException] = []
    totals: set[int] = set()
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            try:
                result = engine.search(SearchQuery(text="shirt", types=("asset",), facets=("brand",)))
                totals.add(result.total)
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for t in threads:
        t.start()
    for batch in range(5):
        engine.upsert([doc(100 + batch * 10 + i) for i in range(10)], refresh=True)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert totals <= {20, 30, 40, 50, 60, 70}


def test_far_future_dates_are_kept_as_later_than_now(engine: EmbeddedBackend) -> None:
    forever = doc(1)
    forever.dates = {"rights_expires_at": "9999-12-31T00:00:00+00:00"}
    expired = doc(2)
    expired.dates = {"rights_expires_at": "2020-01-01T00:00:00+00:00"}
    engine.upsert([forever, expired], refresh=True)
    assert _ids(engine, ranges={"rights_expires_at": Range("2026-01-01T00:00:00+00:00", None)}) == ["asset:0001"]


@pytest.mark.parametrize("prefilter_after", [64, 4096])
def test_selective_knn_filters_find_the_exact_allowed_neighbours(
    engine: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch, prefilter_after: int
) -> None:
    # Two allowed documents far down the ranking: checked in batches, or listed up front.
    monkeypatch.setattr(tantivy_knn, "PREFILTER_AFTER", prefilter_after)
    docs = [doc(n, vector=[1.0, n / 10], brand="Bolt" if n in (250, 290) else "Acme") for n in range(300)]
    engine.upsert(docs, refresh=True)
    found = engine.knn([1.0, 0.0], field="image_vector", model="m@1", k=5, filters={"brand": ("Bolt",)})
    assert [s.id for s in found] == ["asset:0250", "asset:0290"]


def test_a_repeated_knn_filter_is_answered_from_its_kept_rows_until_the_next_refresh(engine: EmbeddedBackend) -> None:
    docs = [doc(n, vector=[1.0, n / 10], brand="Bolt" if n % 3 == 0 else "Acme") for n in range(60)]
    engine.upsert(docs, refresh=True)

    def bolts() -> list[str]:
        found = engine.knn([1.0, 0.0], field="image_vector", model="m@1", k=3, filters={"brand": ("Bolt",)})
        return [s.id for s in found]

    assert bolts() == ["asset:0000", "asset:0003", "asset:0006"]
    assert len(engine._current().filter_rows) == 0  # a first use checks candidates, keeps nothing
    assert bolts() == ["asset:0000", "asset:0003", "asset:0006"]
    assert len(engine._current().filter_rows) == 1
    assert bolts() == ["asset:0000", "asset:0003", "asset:0006"]  # from the kept rows
    # A new Bolt near the query and a Bolt turned Acme: the next snapshot's answer has both.
    engine.upsert([doc(100, vector=[1.0, 0.01], brand="Bolt"), doc(3, vector=[1.0, 0.3], brand="Acme")], refresh=True)
    assert len(engine._current().filter_rows) == 0
    assert bolts() == ["asset:0000", "asset:0100", "asset:0006"]
    assert bolts() == ["asset:0000", "asset:0100", "asset:0006"]
