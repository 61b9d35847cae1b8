"""Asset ingest as a job (in-process, embedded): files stored at start, ingested in chunks,
a duplicate and a corrupt file reported, a file that crashes the decoder every time
dead-lettered after N attempts while the rest of its chunk is ingested, and a chunk run
twice counting each file once. Crash recovery of the index: a duplicate of a stored asset
missing from the index, a zip chunk re-run, and a product import's withdraw chunk re-run."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from jobs_support import GoneProcess
from PIL import Image

from discovery.config import Settings, TextSettings
from discovery.services import jobs
from discovery.services.context import Context
from discovery.store.index.base import ItemOutcome
from discovery.store.job_records import JobStore
from indexer.assets import process
from indexer.assets.pipeline import ingest_assets
from indexer.jobs.executor import execute_chunk
from indexer.jobs.model import ChunkContext, JobTuning
from indexer.jobs.reconcile import reconcile_once
from indexer.jobs.runner import submit_job

TUNING = JobTuning(chunk_size=3, lease_s=5.0, retry_base_s=0.05, retry_cap_s=0.2, max_item_attempts=3)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    ctx = Context.open(Settings(data_dir=tmp_path / "var", text=TextSettings(enabled=False)))
    yield ctx
    jobs.close_jobs(ctx)
    ctx.close()


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return out.getvalue()


def _files() -> list[tuple[str, bytes]]:
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30), (30, 200, 200)]
    files = [(f"shoe-{i}.png", _png(c)) for i, c in enumerate(colours)]
    files.append(("shoe-0-again.png", files[0][1]))  # the same bytes again
    files.append(("broken.jpg", b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10))
    return files


def test_an_asset_job_ingests_in_chunks_and_reports_duplicates_and_rejects(ctx: Context) -> None:
    job = jobs.wait_for_job(ctx, jobs.start_asset_ingest(ctx, files=_files(), tuning=TUNING), timeout=120)
    assert job["state"] == "succeeded"
    assert job["counts"] == {"received": 7, "indexed": 5, "rejected": 1, "duplicates": 1}
    assert [r["file"] for r in job["rejects"]] == ["broken.jpg"]
    assert job["dead_letters"] == []
    assert sum(len(batch) for batch in ctx.records.iter_assets()) == 5
    assert jobs.get_job(ctx, job["id"])["chunks"] == {"total": 3, "done": 3}


def test_a_file_that_crashes_the_decoder_every_time_is_dead_lettered_and_the_rest_ingested(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A decoder bug, not bad input: the real probe raises on this file's bytes, every time.
    poison = _png((123, 45, 67))
    real_probe = process.probe
    tries: list[str] = []

    def probe(c, **kw):  # type: ignore[no-untyped-def]
        if c.data == poison:
            tries.append(c.name)
            raise RuntimeError("decoder crashed")
        return real_probe(c, **kw)

    monkeypatch.setattr(process, "probe", probe)
    files = [*_files()[:2], ("poison.png", poison), _files()[2]]
    job = jobs.wait_for_job(ctx, jobs.start_asset_ingest(ctx, files=files, tuning=TUNING), timeout=120)
    assert job["state"] == "succeeded"
    assert job["dead_letters"] == [
        {"file": "poison.png", "chunk": 1, "attempts": 3, "reason": "decoder crashed"}
    ]
    assert tries == ["poison.png"] * 3
    assert job["counts"] == {"received": 4, "indexed": 3, "rejected": 0, "duplicates": 0}
    assert sorted(a.filename for batch in ctx.records.iter_assets() for a in batch) == [
        "shoe-0.png", "shoe-1.png", "shoe-2.png"
    ]


def test_an_asset_chunk_whose_worker_died_after_its_effect_counts_each_file_once(ctx: Context) -> None:
    tuning = replace(TUNING, lease_s=0.5)
    runner = jobs.runner(ctx)
    kind = runner.kinds["ingest_assets"]
    store = JobStore(ctx.records.engine)
    gone = GoneProcess()
    params = jobs.asset_params(ctx, files=_files()[:4])
    job_id = submit_job(store, gone, kind, params=params, tuning=tuning)  # its messages are lost
    assert execute_chunk(ctx, runner.kinds, gone, job_id, 0).state == "done"
    # A worker took chunk 1, stored its three files, and died before recording anything.
    claim = store.claim(job_id, 1, owner="dead-worker", lease_s=tuning.lease_s)
    assert claim is not None
    kind.run(ctx, ChunkContext(job_id=job_id, chunk_no=1, attempt=1, params=claim.params, payload=claim.payload,
                               tuning=tuning))
    time.sleep(tuning.lease_s + 0.1)
    assert reconcile_once(store, runner.dispatcher).resent == 2  # chunk 1 (lease ran out), chunk 2 (lost)
    job = jobs.wait_for_job(ctx, job_id, timeout=120)
    assert job["state"] == "succeeded"
    assert job["counts"] == {"received": 4, "indexed": 4, "rejected": 0, "duplicates": 0}
    assert sum(len(batch) for batch in ctx.records.iter_assets()) == 4
    ctx.backend.refresh()
    assert ctx.backend.count() == 4


def test_a_duplicate_of_a_stored_asset_missing_from_the_index_is_indexed_again(ctx: Context) -> None:
    # An asset a crashed ingest stored in the records but never wrote to the index.
    first = jobs.wait_for_job(ctx, jobs.start_asset_ingest(ctx, files=_files()[:1], tuning=TUNING), timeout=120)
    assert first["counts"]["indexed"] == 1
    (asset,) = next(ctx.records.iter_assets())
    ctx.backend.delete([f"asset:{asset.id}"], refresh=True)
    assert ctx.backend.count() == 0

    again = jobs.wait_for_job(ctx, jobs.start_asset_ingest(ctx, files=_files()[:1], tuning=TUNING), timeout=120)
    assert again["state"] == "succeeded"
    assert again["counts"] == {"received": 1, "indexed": 0, "rejected": 0, "duplicates": 1}
    assert list(ctx.backend.get([f"asset:{asset.id}"])) == [f"asset:{asset.id}"]


def test_a_zip_chunk_rerun_after_its_worker_died_counts_the_members_it_stored_as_indexed(ctx: Context) -> None:
    tuning = replace(TUNING, lease_s=0.5)
    runner = jobs.runner(ctx)
    kind = runner.kinds["ingest_assets"]
    store = JobStore(ctx.records.engine)
    gone = GoneProcess()
    members = _files()[:5]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    params = jobs.asset_params(ctx, files=[("pictures.zip", out.getvalue())])
    job_id = submit_job(store, gone, kind, params=params, tuning=tuning)
    assert execute_chunk(ctx, runner.kinds, gone, job_id, 0).state == "done"
    claim = store.claim(job_id, 1, owner="dead-worker", lease_s=tuning.lease_s)
    assert claim is not None
    # The dead attempt stored every member in the records and none in the index.
    ingest_assets(records=ctx.records, blobs=ctx.blobs, backend=None, items=[("pictures.zip", out.getvalue())],
                  job=job_id)
    time.sleep(tuning.lease_s + 0.1)
    reconcile_once(store, runner.dispatcher)
    job = jobs.wait_for_job(ctx, job_id, timeout=120)
    assert job["state"] == "succeeded"
    assert job["counts"] == {"received": 5, "indexed": 5, "rejected": 0, "duplicates": 0}
    ctx.backend.refresh()
    assert ctx.backend.count() == 5


def test_a_withdraw_chunk_rerun_after_its_worker_died_writes_the_withdrawals_to_the_index(ctx: Context) -> None:
    tuning = replace(TUNING, lease_s=0.5, chunk_size=10)
    rows = "sku,name\n" + "".join(f"W-{i},Withdrawable kettle {i}\n" for i in range(4))
    started = jobs.start_product_import(ctx, source=rows.encode(), filename="all.csv")
    first = jobs.wait_for_job(ctx, started, timeout=120)
    assert first["state"] == "succeeded"
    runner = jobs.runner(ctx)
    kind = runner.kinds["import_products"]
    store = JobStore(ctx.records.engine)
    gone = GoneProcess()
    # Renamed, so the kept rows are changed rows (an unchanged one is skipped before any chunk).
    kept = "sku,name\n" + "".join(f"W-{i},Kept kettle {i}\n" for i in range(2))
    key, size = ctx.blobs.put_bytes(kept.encode())
    params = {"file": {"blob": key, "name": "kept.csv", "bytes": size}, "mapping": None, "mode": "full"}
    job_id = submit_job(store, gone, kind, params=params, tuning=tuning)
    assert execute_chunk(ctx, runner.kinds, gone, job_id, 0).state == "done"
    assert execute_chunk(ctx, runner.kinds, gone, job_id, 1).state == "done"
    # A worker took the withdraw chunk, withdrew W-2 and W-3 in the records, and died.
    assert store.claim(job_id, 2, owner="dead-worker", lease_s=tuning.lease_s) is not None
    gone_skus = ["W-2", "W-3"]
    stored = ctx.records.get_products(gone_skus)
    for product in stored.values():
        product.status = "withdrawn"
    ctx.records.upsert_products(list(stored.values()))
    time.sleep(tuning.lease_s + 0.1)
    reconcile_once(store, runner.dispatcher)
    job = jobs.wait_for_job(ctx, job_id, timeout=120)
    assert job["state"] == "succeeded"
    ctx.backend.refresh()
    docs = ctx.backend.get([f"product:{s}" for s in gone_skus])
    assert all(d.keywords.get("status") == ["withdrawn"] for d in docs.values()), docs  # or gone from it


def test_an_asset_the_index_refuses_is_a_dead_letter_not_a_silent_gap(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused_bytes = _files()[1][1]
    real_upsert = ctx.backend.upsert

    def upsert(docs, *, refresh=False):  # type: ignore[no-untyped-def]
        docs = list(docs)
        bad = {d.id for d in docs if d.stored.get("filename") == "shoe-1.png"}
        report = real_upsert([d for d in docs if d.id not in bad], refresh=refresh)
        report.outcomes += [ItemOutcome(i, False, "mapper_parsing_exception (test)") for i in bad]
        return report

    monkeypatch.setattr(ctx.backend, "upsert", upsert)
    files = [_files()[0], ("shoe-1.png", refused_bytes)]
    job = jobs.wait_for_job(ctx, jobs.start_asset_ingest(ctx, files=files, tuning=TUNING), timeout=120)
    assert job["state"] == "succeeded"
    (letter,) = job["dead_letters"]
    assert "the search index refused it: mapper_parsing_exception (test)" in letter["reason"]
    assert ctx.records.get_asset(letter["asset"]).filename == "shoe-1.png"  # type: ignore[union-attr]
