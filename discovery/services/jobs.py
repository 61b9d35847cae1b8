"""Jobs as the API and the CLI see them: start a product import or an asset ingest, follow
it, list, cancel, and run a worker. Routes and commands call these; so do Celery workers,
through the same job kinds.

With `DISCOVERY_REDIS_URL` set, jobs go to Celery workers (`discovery worker`); without it
they run in this process on a bounded thread pool (`settings.workers` threads). Either way
the job's truth is in the records database, so `get_job` answers the same everywhere.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from discovery.config import Settings
from discovery.domain import JSONObject
from discovery.errors import InvalidQuery, NotFound, RejectedInput
from discovery.services.context import Context
from indexer.jobs.dispatch import Dispatcher
from indexer.jobs.kinds import default_kinds
from indexer.jobs.model import JobEnv, JobKind, JobTuning
from indexer.jobs.runner import JobRunner
from indexer.products.mapping_spec import mapping_path

# Defaults per kind: products in batches of 500 rows, files 32 at a time (one CLIP batch).
PRODUCT_TUNING = JobTuning(chunk_size=500)
ASSET_TUNING = JobTuning(chunk_size=32)
_RUNNER_ATTR = "_job_runner"
_runner_lock = threading.Lock()

Upload = Path | BinaryIO | bytes


def job_kinds() -> dict[str, JobKind]:
    """The job kinds with this layer's hooks: text embedding of imported products, CLIP for
    ingested images. Workers and in-process runners use the same mapping."""
    from discovery.services.model_switch import ClipSwitch

    kinds = default_kinds(
        after_product_write=_embed_products,
        before_product_index=_store_text_vectors,
        keep_unchanged_products=_lacking_text_vectors,
        embedder=_clip_embedder,
        after_asset_ingest=_after_asset_ingest,
    )
    return {**kinds, ClipSwitch.name: ClipSwitch()}


def _store_text_vectors(env: JobEnv, changed: list[str]) -> list[str]:
    from discovery.services.embedding import store_text_vectors

    assert isinstance(env, Context)
    return store_text_vectors(env, changed)


def _lacking_text_vectors(env: JobEnv, skus: list[str]) -> set[str]:
    from discovery.services.embedding import lacking_text_vectors

    assert isinstance(env, Context)
    return lacking_text_vectors(env, skus)


def _embed_products(env: JobEnv, skus: list[str], changed: list[str], params: JSONObject) -> list[JSONObject]:
    """Suggestions and asset links for the products this write changed (an unchanged product
    had both when it was stored), then text vectors for the unchanged ones' families that
    still lack one of the current model (`_store_text_vectors` embedded the changed ones
    before they were indexed). Returns what linking did (the job report's links)."""
    from discovery.services.embedding import embed_products
    from discovery.services.links import after_product_import
    from indexer.assets.links import rules_for

    assert isinstance(env, Context)
    try:
        rules = rules_for(_text(params.get("link_rule")), _text(params.get("link_pattern")))
    except ValueError as exc:
        raise RejectedInput(str(exc), field="link_rule") from exc
    links = after_product_import(env, changed, rules=rules)
    done = set(changed)
    embed_products(env, [s for s in skus if s not in done], changed=[])
    return links


def _text(value: object) -> str | None:
    return str(value) if value else None


def check_link_rule(link_rule: str | None, link_pattern: str | None) -> JSONObject:
    """The job params of a per-import link rule, checked now (a bad pattern is the caller's to
    fix before anything is stored)."""
    from indexer.assets.links import rules_for

    try:
        rules_for(link_rule, link_pattern)
    except ValueError as exc:
        raise InvalidQuery(str(exc), field="link_pattern" if link_pattern else "link_rule") from exc
    return {"link_rule": (link_rule or "filename").strip().casefold(), "link_pattern": link_pattern or None}


def _after_asset_ingest(env: JobEnv, asset_ids: list[str]) -> None:
    from discovery.services.links import after_asset_ingest

    assert isinstance(env, Context)
    after_asset_ingest(env, asset_ids)


def _clip_embedder(env: JobEnv) -> Callable[[list[Any]], tuple[Any, str]]:
    def embed(images: list[Any]) -> tuple[Any, str]:
        clip = env.clip()
        return clip.encode_images(images), clip.model_id

    return embed


def runner(ctx: Context) -> JobRunner:
    """The context's job runner, made on first use (it starts threads and the reconciler
    when jobs run in-process). `close_jobs(ctx)` stops it."""
    with _runner_lock:
        found: JobRunner | None = getattr(ctx, _RUNNER_ATTR, None)
        if found is None:
            found = JobRunner(ctx, kinds=job_kinds())
            setattr(ctx, _RUNNER_ATTR, found)
        return found


def hand_jobs_to(ctx: Context, dispatcher: Dispatcher) -> None:
    """Jobs this context starts from now on go to `dispatcher` (a server's job worker
    process, `job_process`) instead of running on threads of this process."""
    with _runner_lock:
        setattr(ctx, _RUNNER_ATTR, JobRunner(ctx, kinds=job_kinds(), dispatcher=dispatcher))


def close_jobs(ctx: Context, *, wait: bool = True) -> None:
    """Stop this process's job threads (before `ctx.close()`). Chunks not started stay in the
    records and are run by the next process."""
    with _runner_lock:
        found: JobRunner | None = getattr(ctx, _RUNNER_ATTR, None)
        if found is not None:
            found.close(wait=wait)
            setattr(ctx, _RUNNER_ATTR, None)


def _store(ctx: Context, upload: Upload) -> tuple[str, int]:
    if isinstance(upload, bytes):
        return ctx.blobs.put_bytes(upload)
    if isinstance(upload, Path):
        with upload.open("rb") as fh:
            return ctx.blobs.put(fh)
    return ctx.blobs.put(upload)


def start_product_import(
    ctx: Context,
    *,
    source: Upload,
    filename: str,
    mapping: str | None = None,
    mode: str = "partial",
    created_by: str | None = None,
    tuning: JobTuning | None = None,
    link_rule: str | None = None,
    link_pattern: str | None = None,
) -> str:
    """Store the export in the blob store and start its import; returns the job id at once.
    `link_rule` (filename | none) and `link_pattern` say how stored files link to the
    products by file name."""
    if mode not in ("partial", "full"):
        raise InvalidQuery(f"mode must be partial or full, not {mode!r}", field="mode")
    if mapping:
        # A bad or unknown name is the caller's to fix now; as a job it would fail (after
        # its retries) on a file already stored.
        mapping_path(mapping, data_dir=ctx.settings.data_dir)
    rule = check_link_rule(link_rule, link_pattern)
    key, size = _store(ctx, source)
    file = {"blob": key, "name": filename, "bytes": size}
    params: JSONObject = {"file": file, "mapping": mapping, "mode": mode, **rule}  # type: ignore[dict-item]
    tuning = tuning or replace(PRODUCT_TUNING, lease_s=ctx.settings.job_lease_seconds)
    return runner(ctx).submit("import_products", params=params, created_by=created_by, tuning=tuning)


def start_asset_ingest(
    ctx: Context,
    *,
    files: Sequence[tuple[str, Upload]],
    manifest: Upload | None = None,
    collection: str | None = None,
    created_by: str | None = None,
    tuning: JobTuning | None = None,
    link_rule: str | None = None,
    link_pattern: str | None = None,
) -> str:
    """Store the uploaded files (a zip is one file here, expanded by the ingest) and start
    their ingest; returns the job id at once. `link_rule` (filename | none) and
    `link_pattern` say how the files link to products by their names."""
    rule = check_link_rule(link_rule, link_pattern)
    params = asset_params(ctx, files=files, manifest=manifest, collection=collection, actor=created_by) | rule
    tuning = tuning or replace(ASSET_TUNING, lease_s=ctx.settings.job_lease_seconds)
    return runner(ctx).submit("ingest_assets", params=params, created_by=created_by, tuning=tuning)


def start_index_check(ctx: Context, *, created_by: str | None = None) -> str:
    """Compare records, index and stored files; write what the index lacks, remove what it
    holds without a record, list assets whose file is gone (the job's dead letters)."""
    return runner(ctx).submit("check_index", params={}, created_by=created_by)


def asset_params(
    ctx: Context,
    *,
    files: Sequence[tuple[str, Upload]],
    manifest: Upload | None = None,
    collection: str | None = None,
    actor: str | None = None,
) -> JSONObject:
    """Store an upload's files in the blob store; the params of its `ingest_assets` job."""
    listed = [{"name": name, "blob": _store(ctx, data)[0]} for name, data in files]
    files_key, _ = ctx.blobs.put_bytes(json.dumps(listed).encode())
    return {
        "files": files_key,
        "count": len(listed),
        "manifest": _store(ctx, manifest)[0] if manifest is not None else None,
        "collection": collection,
        "actor": actor,
    }


def get_job(ctx: Context, job_id: str) -> JSONObject:
    """The job in the contract's shape (id, kind, state, progress, counts, rejects,
    dead_letters, timings, who), plus `chunks`: how many there are and in which state, and
    for imports and ingests `links`: links made (by how), suggested and ambiguous."""
    job = ctx.records.get_job(job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    job["chunks"] = runner(ctx).store.chunk_states(job_id)  # type: ignore[assignment]
    if job.get("kind") in ("ingest_assets", "import_products"):
        job["links"] = runner(ctx).store.link_report(job_id)
    return job


def list_jobs(ctx: Context, *, limit: int = 50) -> list[JSONObject]:
    """The most recent jobs first."""
    return ctx.records.list_jobs(limit=limit)


def cancel_job(ctx: Context, job_id: str) -> JSONObject:
    """Cancel a queued or running job (a finished one is left as it ended); returns it."""
    if runner(ctx).cancel(job_id):
        ctx.job_ended(job_id, "cancelled")
    return get_job(ctx, job_id)


def wait_for_job(
    ctx: Context,
    job_id: str,
    *,
    timeout: float | None = None,
    on_progress: Callable[[JSONObject], None] | None = None,
) -> JSONObject:
    """Follow a job until it ends, calling `on_progress` with each reading (progress bars)."""
    return runner(ctx).wait(job_id, timeout=timeout, on_progress=on_progress)


def run_worker(settings: Settings, *, concurrency: int | None = None, pool: str | None = None) -> None:
    """`discovery worker`: a Celery worker on `settings.redis_url` plus the reconciler. Blocks.
    Each worker process opens its own context (stores, models) on its first chunk."""
    from indexer.jobs.worker import run_worker as run

    if not settings.redis_url:
        raise ValueError("DISCOVERY_REDIS_URL is not set: jobs run in-process, no worker is needed")
    run(settings, env_factory=lambda: Context.open(settings), kinds=job_kinds(), concurrency=concurrency, pool=pool)
