"""The records-against-index check: what the index lacks is written again, what it holds
without a record is removed, an asset whose file is gone is reported. Embedded engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from discovery.config import Settings, TextSettings
from discovery.domain import Asset, Product
from discovery.services import jobs
from discovery.services.context import Context
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
