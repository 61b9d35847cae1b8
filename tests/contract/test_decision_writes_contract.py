"""Review decisions against the index, on both engines: a decision's record is written in one
transaction with its audit entry and the document it owes the index; the document follows
within a second (the embedded engine's writer thread, or the request itself on OpenSearch),
several decisions on one document all land, a document a crash left owed is written by the
next process that starts, and a decision made while the index is rebuilt is in the version
the rebuild swaps in."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import ENGINES
from sqlalchemy import update

from discovery.config import Settings, TextSettings
from discovery.domain import Product
from discovery.services import owed_docs
from discovery.services.context import Context
from discovery.services.review import DecisionIn, decide
from discovery.store.derive import all_docs
from discovery.store.index.base import SearchQuery

SKUS = [f"DEC-{i}" for i in range(3)]


def _settings(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    text = TextSettings(enabled=False)
    if engine == "opensearch":
        url = request.getfixturevalue("opensearch_url")
        prefix = request.getfixturevalue("unique_prefix")
        return Settings(
            data_dir=tmp_path / "var", backend="opensearch", opensearch_url=url, index_prefix=prefix, text=text
        )
    return Settings(data_dir=tmp_path / "var", backend="embedded", text=text)


def _open(settings: Settings) -> Context:
    ctx = Context.open(settings)
    if ctx.records.get_product(SKUS[0]) is None:
        products = [Product(sku=s, name=f"Jacket {s}", categories=["Men/Jackets"], status="approved") for s in SKUS]
        ctx.records.upsert_products(products)
        ctx.backend.rebuild(all_docs(ctx.records))
    return ctx


def _close(ctx: Context, *, drop: bool = True) -> None:
    drop_indices = getattr(ctx.backend, "drop", None)  # OpenSearch indices outlive the test
    if drop and drop_indices is not None:
        drop_indices()
    ctx.close()


@pytest.fixture(params=ENGINES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return _settings(request.param, request, tmp_path)


@pytest.fixture
def ctx(settings: Settings) -> Iterator[Context]:
    context = _open(settings)
    try:
        yield context
    finally:
        _close(context)


def tagged(ctx: Context, tag: str) -> list[str]:
    """The products the index finds by an accepted tag."""
    result = ctx.backend.search(SearchQuery(types=("product",), filters={"tags": (tag,)}, size=50))
    return sorted(h.id for h in result.hits)


def within(seconds: float, check: Callable[[], object]) -> object:
    """`check()`'s first truthy value within `seconds`, else its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def accept(sku: str, tag: str) -> DecisionIn:
    return DecisionIn("product", sku, tag, "accept")


def test_a_decision_is_searchable_within_a_second(ctx: Context) -> None:
    [result] = decide(ctx, [accept("DEC-1", "eco")], actor="rev")
    assert result["ok"], result
    assert within(1.0, lambda: tagged(ctx, "eco")) == ["product:DEC-1"]


def test_several_decisions_on_one_product_all_land(ctx: Context) -> None:
    tags = [f"tag{i}" for i in range(8)]
    threads = [threading.Thread(target=decide, args=(ctx, [accept("DEC-2", t)]), kwargs={"actor": "rev"}) for t in tags]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = ctx.records.get_product("DEC-2")
    assert stored is not None
    assert sorted(t.name for t in stored.tags if t.status == "accepted") == tags
    for tag in tags:
        assert within(1.0, lambda tag=tag: tagged(ctx, tag)) == ["product:DEC-2"], tag  # type: ignore[misc]
    assert within(1.0, lambda: ctx.records.pending.count() == 0)


def test_a_document_owed_when_the_process_died_is_written_at_the_next_start(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _open(settings)
    # The process dies right after the decision's records transaction: nothing reaches the index.
    with monkeypatch.context() as patched:
        patched.setattr("discovery.services.review.settle", lambda ctx, keys: None)
        [result] = decide(first, [accept("DEC-0", "winter")], actor="rev")
    assert result["ok"], result
    first.backend.refresh()
    assert tagged(first, "winter") == []
    assert first.records.pending.count() == 1
    _close(first, drop=False)  # a closing process writes what is owed; a killed one does not:
    monkeypatch.setattr(owed_docs, "LEFTOVER_AFTER_S", 0.0)  # (no live request on OpenSearch)
    again = _open(settings)
    try:
        owed_docs.start(again)  # what the server does at start
        assert within(3.0, lambda: tagged(again, "winter")) == ["product:DEC-0"]
        assert within(1.0, lambda: again.records.pending.count() == 0)
    finally:
        _close(again)


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Context]:
    context = _open(Settings(data_dir=tmp_path / "var", backend="embedded", text=TextSettings(enabled=False)))
    try:
        yield context
    finally:
        context.close()


def test_a_decisions_tag_audit_and_owed_document_are_one_transaction(
    embedded: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: object) -> None:
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr("discovery.store.tag_records.mark", fail)
    with pytest.raises(RuntimeError):
        decide(embedded, [accept("DEC-1", "sale")], actor="rev")
    stored = embedded.records.get_product("DEC-1")
    assert stored is not None and stored.tags == []
    assert [e for e in embedded.records.audit_entries() if str(e["action"]).startswith("tag.")] == []
    assert embedded.records.pending.count() == 0


def test_a_failed_index_write_stays_owed_and_the_writer_retries_it(
    embedded: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    upsert = embedded.backend.upsert
    failures = [RuntimeError("the index is briefly unwritable")]

    def flaky(*args: object, **kwargs: object) -> object:
        if failures:
            raise failures.pop()
        return upsert(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(owed_docs, "DRAIN_EVERY_S", 0.2)
    monkeypatch.setattr(embedded.backend, "upsert", flaky)
    [result] = decide(embedded, [accept("DEC-1", "classic")], actor="rev")
    assert result["ok"], result
    assert within(3.0, lambda: tagged(embedded, "classic")) == ["product:DEC-1"]
    assert not failures  # the first write did fail
    assert within(1.0, lambda: embedded.records.pending.count() == 0)


def test_a_decision_made_while_the_index_is_rebuilt_is_in_the_new_version(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    from discovery.services import reindex as rebuild
    from discovery.store import tables

    with ctx.records.engine.begin() as conn:  # the catalog was written long before the rebuild
        conn.execute(update(tables.products).values(updated_at=datetime(2026, 1, 1, tzinfo=UTC)))
    building, decided = threading.Event(), threading.Event()
    every_doc = rebuild.all_docs

    def slow_docs(records: object, **kw: object) -> Iterator[object]:
        for doc in every_doc(records, **kw):  # type: ignore[arg-type]
            building.set()
            decided.wait(timeout=30)  # the version being built holds the record as it was
            yield doc

    monkeypatch.setattr(rebuild, "all_docs", slow_docs)
    counts: dict[str, object] = {}
    worker = threading.Thread(target=lambda: counts.update(rebuild.reindex(ctx)))
    worker.start()
    try:
        assert building.wait(timeout=30)
        [result] = decide(ctx, [accept("DEC-1", "rebuilt")], actor="rev")
        assert result["ok"], result
        within(1.0, lambda: ctx.records.pending.count() == 0)  # written to the version searched now
    finally:
        decided.set()
        worker.join(timeout=120)
    assert counts["caught_up"] == 1 and counts["failed"] == 0, counts  # the decision stamped its product
    assert within(1.0, lambda: tagged(ctx, "rebuilt")) == ["product:DEC-1"], "the swap dropped the decision"
