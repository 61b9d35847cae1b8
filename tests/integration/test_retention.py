"""Retention: a job's uploads that no asset kept are deleted when it ends, and `discovery gc`
(a real process) lists, then removes, blobs nothing names, abandoned upload files, index
versions older than the kept previous one and versions a killed rebuild left unpublished;
on the embedded engine and on OpenSearch."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from discovery.config import Settings, TextSettings
from discovery.services import jobs
from discovery.services.context import Context
from discovery.services.reindex import reindex
from discovery.store.index.versions import Versions

DISCOVERY = Path(sys.executable).with_name("discovery")
LONG_AGO = time.time() - 3 * 3600


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", text=TextSettings(enabled=False))


@pytest.fixture
def ctx(settings: Settings) -> Iterator[Context]:
    ctx = Context.open(settings)
    yield ctx
    jobs.close_jobs(ctx)
    ctx.close()


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


def _settled_keys(ctx: Context) -> set[str]:
    """The blob keys once the job's ending (heard just after its state is written) is done."""
    last: set[str] = set()
    for _ in range(50):
        keys = set(ctx.blobs.keys())
        if keys == last:
            return keys
        last = keys
        time.sleep(0.2)
    return last


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def test_a_rejected_upload_and_the_zip_are_deleted_when_the_job_ends_and_the_assets_kept(ctx: Context) -> None:
    rejected = b"%PDF-1.4 this is no pdf at all" * 1000
    good = _png((200, 30, 30))
    packed = _zip({"inner.png": _png((30, 200, 30))})
    job = jobs.wait_for_job(
        ctx, jobs.start_asset_ingest(ctx, files=[("bad.pdf", rejected), ("good.png", good), ("pack.zip", packed)]),
        timeout=120,
    )
    counts: Any = job["counts"]
    assert job["state"] == "succeeded" and counts["rejected"] == 1, job
    keys = _settled_keys(ctx)
    def sha(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    assert sha(rejected) not in keys
    assert sha(packed) not in keys
    assets = [a for batch in ctx.records.iter_assets() for a in batch]
    assert len(assets) == 2
    for asset in assets:  # the files and renditions of what was ingested stay
        assert asset.sha256 in keys
        assert all(k in keys for name, k in asset.renditions.items() if not name.endswith(".stamp"))


def test_a_product_import_leaves_neither_its_file_nor_its_batches(ctx: Context) -> None:
    rows = "sku,name\n" + "".join(f"R-{i},Retained kettle {i}\n" for i in range(30))
    before = set(ctx.blobs.keys())
    job_id = jobs.start_product_import(ctx, source=rows.encode(), filename="r.csv", tuning=jobs.PRODUCT_TUNING)
    assert jobs.wait_for_job(ctx, job_id, timeout=120)["state"] == "succeeded"
    assert _settled_keys(ctx) == before


def _gc(settings: Settings, *args: str, extra: dict[str, str] | None = None) -> str:
    env = {**os.environ, "DISCOVERY_DATA_DIR": str(settings.data_dir), "DISCOVERY_BACKEND": settings.backend,
           "DISCOVERY_OPENSEARCH_URL": settings.opensearch_url, "DISCOVERY_INDEX_PREFIX": settings.index_prefix,
           **(extra or {})}  # fmt: skip
    done = subprocess.run([str(DISCOVERY), "gc", *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_gc_lists_then_removes_orphan_blobs_stale_uploads_and_index_versions_nobody_serves(
    settings: Settings,
) -> None:
    ctx = Context.open(settings)
    try:
        job = jobs.wait_for_job(ctx, jobs.start_asset_ingest(ctx, files=[("keep.png", _png((1, 2, 3)))]), timeout=120)
        assert job["state"] == "succeeded"
        (asset,) = next(ctx.records.iter_assets())
        orphan, _ = ctx.blobs.put_bytes(b"left behind by an older version of Discovery")
        fresh, _ = ctx.blobs.put_bytes(b"an upload whose job is being created right now")
        os.utime(ctx.blobs.path(orphan), (LONG_AGO, LONG_AGO))
        stale_tmp = settings.blob_dir / "tmp" / "tmpdead"
        stale_tmp.write_bytes(b"x" * 100)
        os.utime(stale_tmp, (LONG_AGO, LONG_AGO))
        reindex(ctx)
        reindex(ctx)
    finally:
        jobs.close_jobs(ctx)
        ctx.close()
    versions = Versions(settings.index_dir / settings.index_prefix)
    current = versions.current()
    assert current is not None
    partial = versions.folder(current + 1)  # a reindex killed before it published
    (partial / "tantivy").mkdir(parents=True)
    (partial / "tantivy" / "segment").write_bytes(b"half")
    for path in [partial, *partial.rglob("*")]:
        os.utime(path, (LONG_AGO, LONG_AGO))
    young = versions.folder(current + 2)  # a rebuild in progress
    young.mkdir()
    retain = {"DISCOVERY_RETENTION_INDEX_VERSIONS": "0"}

    listed = _gc(settings, extra=retain)
    assert f"would delete blob {orphan}" in listed
    assert "would delete temporary file tmpdead" in listed
    assert f"would delete index version v{current - 1}" in listed and f"v{current + 1}" in listed
    assert fresh not in listed and asset.sha256 not in listed and f"v{current + 2}" not in listed
    assert ctx.blobs.exists(orphan) and stale_tmp.exists()  # a dry run deletes nothing

    _gc(settings, "--delete", extra=retain)
    assert not ctx.blobs.exists(orphan) and not stale_tmp.exists()
    assert ctx.blobs.exists(fresh) and ctx.blobs.exists(asset.sha256)
    assert versions.existing() == [current, current + 2]
    assert "0 blob(s), 0 temporary file(s), 0 index version(s)" in _gc(settings, extra=retain)


@pytest.mark.opensearch
def test_gc_removes_an_opensearch_version_a_killed_rebuild_left_without_the_alias(
    tmp_path: Path, opensearch_url: str
) -> None:
    prefix = f"gc-{uuid.uuid4().hex[:10]}"
    settings = Settings(data_dir=tmp_path / "var", backend="opensearch", opensearch_url=opensearch_url,
                        index_prefix=prefix, text=TextSettings(enabled=False))  # fmt: skip
    ctx = Context.open(settings)
    try:
        ctx.backend.ensure_ready()
        client = ctx.backend._client  # type: ignore[attr-defined]
        client.indices.create(index=f"{prefix}-v7")  # the rebuild died before its swap
        listed = _gc(settings, extra={"DISCOVERY_RETENTION_MIN_AGE_MINUTES": "0"})
        assert f"would delete index version {prefix}-v7" in listed
        assert f"{prefix}-v1" not in listed
        _gc(settings, "--delete", extra={"DISCOVERY_RETENTION_MIN_AGE_MINUTES": "0"})
        assert not client.indices.exists(index=f"{prefix}-v7")
        assert client.indices.exists_alias(name=prefix)
    finally:
        ctx.backend.drop()  # type: ignore[attr-defined]
        ctx.close()
