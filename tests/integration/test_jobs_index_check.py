"""The records-against-index check: what the index lacks is written again, what it holds
without a record is removed, an asset whose file is gone is reported. Embedded engine."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import tantivy

from discovery.config import Settings, TextSettings
from discovery.domain import Asset, Product
from discovery.services import jobs
from discovery.services.context import Context
from discovery.services.search import SearchRequest, search
from discovery.store.index.documents import product_to_doc
from indexer.jobs.index_check import check_index


@pytest.fixture
def ctx(tmp_path) -> Iterator[Context]:  # type: ignore[no-untyped-def]
    ctx = Context.open(Settings(data_dir=tmp_path / "var", text=TextSettings(enabled=False)))
    yield ctx
    jobs.close_jobs(ctx)
    ctx.close()


def _drift(ctx: Context) -> None:
    products = [Product(sku=f"K-{i}", name=f"Kettle {i}") for i in range(5)]
    ctx.records.upsert_products(products)
    ctx.backend.upsert([product_to_doc(p) for p in products[:3]])  # K-3, K-4 never indexed
    ctx.backend.upsert([product_to_doc(Product(sku="GONE", name="Deleted long ago"))])  # no record
    key, size = ctx.blobs.put_bytes(b"kept file")
    ctx.records.upsert_assets([
        Asset(id="a-kept", sha256=key, filename="kept.jpg", media_type="image/jpeg", bytes=size),
        Asset(id="a-lost", sha256="f" * 64, filename="lost.jpg", media_type="image/jpeg", bytes=1),
    ])
    ctx.backend.refresh()


def test_missing_documents_are_written_again_orphans_removed_and_lost_files_reported(ctx: Context) -> None:
    _drift(ctx)
    drift = check_index(ctx.records, ctx.backend, ctx.blobs, repair=True)
    assert sorted(drift.missing) == ["asset:a-kept", "asset:a-lost", "product:K-3", "product:K-4"]
    assert drift.orphans == ["product:GONE"]
    assert drift.files_missing == ["asset:a-lost"]
    assert drift.checked == 7
    again = check_index(ctx.records, ctx.backend, ctx.blobs, repair=True)
    assert (again.missing, again.orphans, again.checked) == ([], [], 7)
    assert ctx.backend.count() == 7


def test_the_check_runs_as_a_job_whose_report_names_the_lost_files(ctx: Context) -> None:
    _drift(ctx)
    job = jobs.wait_for_job(ctx, jobs.start_index_check(ctx), timeout=60)
    assert job["state"] == "succeeded"
    assert job["counts"]["index_missing"] == 4 and job["counts"]["index_orphans"] == 1
    assert [d["item"] for d in job["dead_letters"]] == ["asset:a-lost"]


def test_an_index_of_an_older_layout_is_rebuilt_from_the_records_at_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path / "var", text=TextSettings(enabled=False))
    first = Context.open(settings)
    first.records.upsert_products([Product(sku="K-1", name="Copper kettle")])
    first.close()
    folder = next((settings.index_dir / settings.index_prefix).glob("v*")) / "tantivy"
    shutil.rmtree(folder)
    folder.mkdir()
    older = tantivy.SchemaBuilder()
    older.add_text_field("t_all")  # the single catch-all field of earlier versions
    tantivy.Index(older.build(), path=str(folder))

    again = Context.open(settings)
    try:
        found = search(again, SearchRequest(q="kettle", mode="keyword"))
        assert [h["id"] for h in found["hits"]] == ["K-1"]
    finally:
        again.close()
