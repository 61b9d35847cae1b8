"""What only the OpenSearch engine has to get right, against a real node: bulk answers read
item by item, 429s retried, the alias swap under load, lazy vector mappings, and a node that
is not there. (The behaviours both engines share are in tests/contract.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch

from discovery.config import SearchSettings, Settings
from discovery.domain import Product
from discovery.errors import BackendUnavailable, InvalidQuery
from discovery.store.index import make_backend
from discovery.store.index.base import IndexDoc, SearchQuery
from discovery.store.index.documents import product_to_doc
from discovery.store.index.opensearch import OpenSearchBackend
from discovery.store.index.opensearch_bulk import BulkLimits


def doc(sku: str, *, name: str = "Plain Shirt", vector: list[float] | None = None) -> IndexDoc:
    product = Product(sku=sku, name=name, brand="Acme", categories=["Men/Tops"], price=10.0, currency="EUR")
    return product_to_doc(product, text_vector=vector, vector_model="text-test@1" if vector else None)


@pytest.fixture
def engine(opensearch_url: str, unique_prefix: str) -> Iterator[OpenSearchBackend]:
    engine = OpenSearchBackend(url=opensearch_url, prefix=unique_prefix, search=SearchSettings())
    engine.ensure_ready()
    yield engine
    engine.drop()
    engine.close()


@pytest.fixture
def client(opensearch_url: str) -> Iterator[OpenSearch]:
    client = OpenSearch(hosts=[opensearch_url])
    yield client
    client.close()


def indices_of(client: OpenSearch, prefix: str) -> dict[str, list[str]]:
    found = client.indices.get_alias(index=f"{prefix}-v*")
    return {name: sorted(info.get("aliases", {})) for name, info in found.items()}


def test_a_failed_item_inside_an_http_200_is_reported_and_the_rest_indexed(engine: OpenSearchBackend) -> None:
    bad = doc("BAD-1")
    bad.numbers["price"] = "cheap"  # type: ignore[assignment]  # OpenSearch refuses it, not Python
    report = engine.upsert([doc("OK-1"), bad, doc("OK-2")], refresh=True)
    assert [(o.id, o.ok) for o in report.outcomes] == [
        ("product:OK-1", True), ("product:BAD-1", False), ("product:OK-2", True)
    ]
    assert "mapper_parsing_exception" in (report.failed[0].error or "")
    assert engine.count() == 2


def test_a_document_opensearch_cannot_hold_is_reported_without_being_sent(engine: OpenSearchBackend) -> None:
    bad = doc("NAN-1")
    bad.numbers["price"] = float("nan")
    report = engine.upsert([bad, doc("OK-1")], refresh=True)
    assert [(o.id, o.ok) for o in report.outcomes] == [("product:NAN-1", False), ("product:OK-1", True)]
    assert engine.count() == 1


def test_vector_field_is_mapped_with_the_first_dimension_and_others_are_refused(
    engine: OpenSearchBackend, client: OpenSearch, unique_prefix: str
) -> None:
    report = engine.upsert([doc("V-1", vector=[1.0, 0.0, 0.0]), doc("V-2", vector=[1.0, 0.0])], refresh=True)
    assert [o.ok for o in report.outcomes] == [True, False]
    mapping = client.indices.get_mapping(index=unique_prefix)
    (properties,) = (m["mappings"]["properties"] for m in mapping.values())
    assert properties["text_vector"]["dimension"] == 3
    found = engine.knn([1.0, 0.1, 0.0], field="text_vector", model="text-test@1", k=5, types=("product",))
    assert [s.id for s in found] == ["product:V-1"]
    with pytest.raises(InvalidQuery):
        engine.knn([1.0, 0.0], field="text_vector", model="text-test@1", k=5, types=("product",))


def test_knn_before_any_vector_is_indexed_finds_nothing(engine: OpenSearchBackend) -> None:
    engine.upsert([doc("P-1")], refresh=True)
    assert engine.knn([1.0, 0.0], field="image_vector", model="clip@1", k=3) == []


def test_small_chunks_still_report_every_document_in_order(opensearch_url: str, unique_prefix: str) -> None:
    engine = OpenSearchBackend(
        url=opensearch_url, prefix=unique_prefix, search=SearchSettings(), limits=BulkLimits(max_docs=2, max_bytes=600)
    )
    try:
        docs = [doc(f"C-{i}") for i in range(7)]
        report = engine.upsert(docs, refresh=True)
        assert [o.id for o in report.outcomes] == [d.id for d in docs] and not report.failed
        assert engine.count() == 7
    finally:
        engine.drop()
        engine.close()


def test_rebuild_moves_the_alias_and_deletes_the_old_version(
    engine: OpenSearchBackend, client: OpenSearch, unique_prefix: str
) -> None:
    engine.upsert([doc("OLD-1", vector=[0.0, 1.0])], refresh=True)
    assert indices_of(client, unique_prefix) == {f"{unique_prefix}-v1": [unique_prefix]}
    engine.rebuild([doc("NEW-1", vector=[1.0, 0.0])])
    assert indices_of(client, unique_prefix) == {f"{unique_prefix}-v2": [unique_prefix]}
    found = engine.knn([1.0, 0.0], field="text_vector", model="text-test@1", k=3, types=("product",))
    assert [s.id for s in found] == ["product:NEW-1"]


def test_searches_during_a_rebuild_never_fail_nor_see_an_empty_index(engine: OpenSearchBackend) -> None:
    old = [doc(f"OLD-{i}") for i in range(30)]
    new = [doc(f"NEW-{i}") for i in range(400)]
    engine.upsert(old, refresh=True)
    totals: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def query_in_a_loop() -> None:
        while not done.is_set():
            try:
                totals.append(engine.search(SearchQuery(text="shirt", size=1)).total)
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

    reader = threading.Thread(target=query_in_a_loop)
    reader.start()
    try:
        time.sleep(0.2)
        for _ in range(2):  # twice: the second swap moves the alias away from a rebuilt version
            engine.rebuild(new)
        time.sleep(0.2)
    finally:
        done.set()
        reader.join(timeout=30)
    assert not errors, errors[:3]
    assert len(totals) > 10
    assert set(totals) == {len(old), len(new)}
    assert totals[-1] == len(new)


def test_a_node_that_does_not_answer_is_backend_unavailable() -> None:
    engine = OpenSearchBackend(url="http://127.0.0.1:9", prefix="nowhere", search=SearchSettings())
    try:
        assert engine.ping() is not None
        with pytest.raises(BackendUnavailable):
            engine.search(SearchQuery(text="shirt"))
        with pytest.raises(BackendUnavailable):
            engine.upsert([doc("X-1")])
    finally:
        engine.close()


def test_a_locale_cannot_name_other_fields(engine: OpenSearchBackend) -> None:
    with pytest.raises(InvalidQuery):
        engine.search(SearchQuery(text="shirt", locale="*"))


def test_a_marker_like_character_in_a_document_comes_back_verbatim(engine: OpenSearchBackend) -> None:
    engine.upsert([doc("M-1", name="Shirt \ue000 with <em>tags</em>")], refresh=True)
    (hit,) = engine.search(SearchQuery(text="shirt")).hits
    (h,) = hit.highlights["name"]
    assert h.text == "Shirt \ue000 with <em>tags</em>"
    assert [h.text[s:e] for s, e in h.offsets] == ["Shirt"]


# A read_only_allow_delete block (what a full disk sets) makes the node refuse each write
# with 429 inside an HTTP 200: a real "busy" answer, on this test's index only.
BUSY = {"index.blocks.read_only_allow_delete": True}
NOT_BUSY = {"index.blocks.read_only_allow_delete": None}


def busy_engine(url: str, prefix: str, retries: int) -> OpenSearchBackend:
    limits = BulkLimits(retries=retries, backoff_s=0.1, max_backoff_s=0.4)
    engine = OpenSearchBackend(url=url, prefix=prefix, search=SearchSettings(), limits=limits)
    engine.ensure_ready()
    return engine


def test_items_refused_with_429_are_retried_until_the_node_takes_them(
    opensearch_url: str, unique_prefix: str, client: OpenSearch
) -> None:
    engine = busy_engine(opensearch_url, unique_prefix, retries=8)
    try:
        client.indices.put_settings(index=unique_prefix, body=BUSY)
        lift = threading.Timer(0.5, lambda: client.indices.put_settings(index=unique_prefix, body=NOT_BUSY))
        lift.start()
        started = time.monotonic()
        report = engine.upsert([doc("R-1"), doc("R-2")], refresh=True)
        lift.join()
        assert not report.failed and report.indexed == 2
        assert time.monotonic() - started >= 0.5  # it waited for the node, it did not give up
        assert engine.count() == 2
    finally:
        engine.drop()
        engine.close()


def test_items_still_refused_after_the_retries_are_reported_failed(
    opensearch_url: str, unique_prefix: str, client: OpenSearch
) -> None:
    engine = busy_engine(opensearch_url, unique_prefix, retries=2)
    try:
        client.indices.put_settings(index=unique_prefix, body=BUSY)
        report = engine.upsert([doc("R-1"), doc("R-2")])
        assert [o.ok for o in report.outcomes] == [False, False]
        assert all("cluster_block_exception" in (o.error or "") for o in report.failed)
    finally:
        client.indices.put_settings(index=unique_prefix, body=NOT_BUSY)
        engine.drop()
        engine.close()


def test_a_write_before_ensure_ready_lands_in_a_versioned_index_behind_the_alias(
    opensearch_url: str, unique_prefix: str, client: OpenSearch
) -> None:
    engine = OpenSearchBackend(url=opensearch_url, prefix=unique_prefix, search=SearchSettings())
    try:
        engine.upsert([doc("W-1")], refresh=True)
        assert indices_of(client, unique_prefix) == {f"{unique_prefix}-v1": [unique_prefix]}
    finally:
        engine.drop()
        engine.close()


def test_a_read_before_ensure_ready_makes_it_ready(opensearch_url: str, unique_prefix: str, client: OpenSearch) -> None:
    engine = OpenSearchBackend(url=opensearch_url, prefix=unique_prefix, search=SearchSettings())
    try:
        assert engine.search(SearchQuery()).total == 0
        assert indices_of(client, unique_prefix) == {f"{unique_prefix}-v1": [unique_prefix]}
    finally:
        engine.drop()
        engine.close()


def test_index_versions_take_their_shards_and_replicas_from_settings(
    opensearch_url: str, unique_prefix: str, client: OpenSearch
) -> None:
    settings = Settings(
        backend="opensearch", opensearch_url=opensearch_url, index_prefix=unique_prefix,
        opensearch_shards=2, opensearch_replicas=1,
    )
    engine = make_backend(settings)
    try:
        engine.ensure_ready()
        engine.rebuild([doc("SHAPE-1"), doc("SHAPE-2")])  # a rebuilt version keeps the shape
        (index,) = indices_of(client, unique_prefix)
        shape = client.indices.get_settings(index=index)[index]["settings"]["index"]
        assert (shape["number_of_shards"], shape["number_of_replicas"]) == ("2", "1")
        assert engine.count() == 2
    finally:
        engine.drop()  # type: ignore[attr-defined]
        engine.close()


def test_a_cluster_url_lists_every_node_and_a_dead_one_is_skipped(opensearch_url: str, unique_prefix: str) -> None:
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens there
    engine = OpenSearchBackend(url=f"{dead},{opensearch_url}", prefix=unique_prefix, search=SearchSettings())
    try:
        engine.ensure_ready()
        for n in range(4):  # round-robin reaches the dead node at least once
            engine.upsert([doc(f"NODE-{n}")], refresh=True)
        assert engine.count() == 4
    finally:
        engine.drop()
        engine.close()
