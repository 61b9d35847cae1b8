"""`discovery models use NAME`: switch the CLIP image model of a live catalog.

A job of kind `use_clip_model` re-embeds every asset that has an image vector into the next
generation (the records keep vectors per model, `store/vector_records`) while searches keep
using the active one, then swaps:

1. chunks of `chunk_size` assets: each asset's file is embedded with the new model, stored
   beside the active vector (skipped when a vector of the new model for the same bytes is
   there: a re-run does no work twice);
2. the last chunk embeds what arrived meanwhile, rebuilds the index from the records with
   the new model's vectors (a new index version made current atomically: the embedded
   engine's `CURRENT`, OpenSearch's alias), then records the new model as active. A query
   that meets the new index before its process read the new model is told so by the engine
   and asks again with the new model (`clip_generation`): one model per answer, never
   neighbours of two;
3. once every process has read the new generation (`GENERATION_TTL_S`), assets written
   meanwhile by a process still on the old model are embedded and indexed again, and only
   then the old generation's vectors are dropped from the records.

Progress is the job's: chunks done over chunks, through `GET /api/jobs/{id}`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from discovery.domain import Asset, JSONObject
from discovery.errors import Conflict, InvalidQuery
from discovery.foreground import step_aside
from discovery.services.asset_writes import reindex_assets
from discovery.services.context import GENERATION_TTL_S, IMAGE_FIELD, Context
from discovery.store.derive import all_docs
from discovery.store.index.documents import asset_doc_id
from discovery.store.job_records import JobStore
from indexer.jobs.model import ChunkContext, ChunkResult, JobEnv, JobTuning, PlanResult
from models.errors import ModelUnavailable

KIND = "use_clip_model"
SWITCH_TUNING = JobTuning(chunk_size=64)
SETTLE_S = GENERATION_TTL_S + 1.0  # every process has read the records' generation since
_BATCH = 256


def start_clip_switch(ctx: Context, *, model: str, pretrained: str = "", created_by: str | None = None) -> str:
    """Check the model can be had and is not the active one, name it the pending generation,
    and start the job that fills and activates it; returns the job id at once."""
    from discovery.services.jobs import runner

    spec: JSONObject = {"model": model, "pretrained": pretrained}
    try:
        model_id = ctx.clip_for(spec).model_id  # loads it: an unknown name fails here, not in the job
    except ModelUnavailable as exc:
        raise InvalidQuery(str(exc), field="model") from exc
    current = ctx.clip()
    gen = ctx.clip_generation(fresh=True)
    if model_id == (gen.active if gen is not None else current.model_id):
        raise Conflict(f"{model_id} is the active image model already", field="model")
    if gen is not None and gen.pending is not None:
        running = [p for p in JobStore(ctx.records.engine).active_jobs().values() if p.get("model") == gen.pending]
        if running:
            raise Conflict(f"a switch to {gen.pending} is running; wait for it or cancel its job", field="model")
        ctx.records.vectors.abandon(IMAGE_FIELD, gen.pending)
    active_spec: JSONObject = (
        gen.active_spec if gen is not None
        else {"model": current.name, "pretrained": current.pretrained if current.name == current.configured else ""}
    )  # fmt: skip
    ctx.records.vectors.begin(
        IMAGE_FIELD,
        active=gen.active if gen is not None else current.model_id,
        active_spec=active_spec,
        pending=model_id,
        pending_spec=spec,
    )
    tuning = replace(SWITCH_TUNING, lease_s=ctx.settings.job_lease_seconds)
    params: JSONObject = {"model": model_id, "spec": spec}
    return runner(ctx).submit(KIND, params=params, created_by=created_by, tuning=tuning)


def model_overview(ctx: Context) -> JSONObject:
    """What `discovery models list` and `GET /api/models` show of the records: each field's
    generation and the vectors per (field, model)."""
    gens: JSONObject = {}
    for field in ("image_vector", "text_vector"):
        gen = ctx.records.vectors.generation(field)
        if gen is not None:
            gens[field] = {"active": gen.active, "active_spec": gen.active_spec, "pending": gen.pending}
    vectors: list[JSONObject] = [
        {"field": f, "model": m, "count": n} for f, m, n in sorted(ctx.records.vector_counts())
    ]
    return {"generations": gens, "vectors": vectors}  # type: ignore[dict-item]


class ClipSwitch:
    """Job kind `use_clip_model`. Params: `model` (the new model's id, `name@version`) and
    `spec` (what builds it). Chunks: asset targets to embed, then one `swap`."""

    name = KIND
    ordered = True  # the swap runs after every embedding chunk

    def plan(self, env: JobEnv, chunk: ChunkContext) -> PlanResult:
        ctx = _context(env)
        gen = ctx.records.vectors.generation(IMAGE_FIELD)
        model = str(chunk.params["model"])
        if gen is None or model not in gen.models:
            raise Conflict(f"{model} is no longer the image model a switch fills", field="model")
        targets = ctx.records.vectors.targets(IMAGE_FIELD, gen.active) if gen.active != model else []
        size = max(1, chunk.tuning.chunk_size)
        payloads: list[JSONObject] = [
            {"label": f"embed {len(part)} assets", "targets": part}  # type: ignore[dict-item]
            for part in (targets[i : i + size] for i in range(0, len(targets), size))
        ]
        payloads.append({"label": "swap", "swap": True})
        return PlanResult(payloads)

    def run(self, env: JobEnv, chunk: ChunkContext) -> ChunkResult:
        ctx = _context(env)
        model = str(chunk.params["model"])
        spec = chunk.params.get("spec")
        clip = ctx.clip_for(spec if isinstance(spec, dict) else None)
        if clip.model_id != model:
            raise Conflict(f"{spec} now loads as {clip.model_id}, not {model}", field="model")
        result = ChunkResult()
        if chunk.payload.get("swap"):
            counts = swap(ctx, clip)
            result.counts.update(counts)
            return result
        targets = [str(t) for t in chunk.payload.get("targets") or []]  # type: ignore[union-attr]
        ids = [t.split(":", 1)[1] for t in targets]
        assets = list(ctx.records.get_assets(ids).values())
        result.add("received", len(targets))
        embedded, failed = embed_assets(ctx, clip, assets)
        result.add("indexed", len(embedded))
        result.dead_letters = [
            {"item": i, "chunk": chunk.chunk_no, "attempts": 1, "reason": why} for i, why in failed.items()
        ]
        return result


def embed_assets(ctx: Context, clip: object, assets: Sequence[Asset]) -> tuple[list[str], dict[str, str]]:
    """Embed the files of `assets` that lack a vector of `clip`'s model for their current
    bytes, and store the vectors; (ids of the assets embedded, reason by id of failures)."""
    from models.clip import ClipModel

    assert isinstance(clip, ClipModel)
    model = clip.model_id
    have = ctx.records.get_vectors(IMAGE_FIELD, [asset_doc_id(a.id) for a in assets], model=model)
    todo = [a for a in assets if (found := have.get(asset_doc_id(a.id))) is None or found[2] != a.sha256]
    failed: dict[str, str] = {}
    done: list[str] = []
    for start in range(0, len(todo), clip.batch_size):
        step_aside()  # requests in this process first
        part = todo[start : start + clip.batch_size]
        encoded = clip.encode_image_files([ctx.blobs.path(a.sha256) for a in part], workers=1)
        rows = []
        for i, asset in enumerate(part):
            if i in encoded.failed:
                failed[asset.id] = encoded.failed[i]
            else:
                rows.append((asset_doc_id(asset.id), encoded.vectors[i], asset.sha256))
        ctx.records.put_vectors(IMAGE_FIELD, model, rows)
        done += [a.id for i, a in enumerate(part) if i not in encoded.failed]
    return done, failed


def swap(ctx: Context, clip: object) -> dict[str, int]:
    """Steps 2 and 3 of the module docstring; idempotent (a re-run after the activation
    only does step 3)."""
    from models.clip import ClipModel

    assert isinstance(clip, ClipModel)
    model = clip.model_id
    gen = ctx.records.vectors.generation(IMAGE_FIELD)
    if gen is None or model not in gen.models:
        raise Conflict(f"{model} is no longer the image model a switch fills", field="model")
    counts: dict[str, int] = {}
    if gen.active != model:
        counts["caught_up"] = _catch_up(ctx, clip, since=None)
        started = datetime.now(UTC).isoformat()
        ctx.records.vectors.begin(
            IMAGE_FIELD, active=gen.active, active_spec=gen.active_spec, pending=model,
            pending_spec={**(gen.pending_spec or {}), "swap_started": started},
        )  # fmt: skip
        report = ctx.backend.rebuild(all_docs(ctx.records, image_model=model), fresh_vectors=(IMAGE_FIELD,))
        counts["reindexed"] = report.indexed
        if not ctx.records.vectors.activate(IMAGE_FIELD, model):
            raise Conflict(f"{model} stopped being the pending image model during the swap", field="model")
        gen = ctx.records.vectors.generation(IMAGE_FIELD)
        assert gen is not None
    time.sleep(SETTLE_S)
    since = str(gen.active_spec.get("swap_started") or "")
    counts["written_during_swap"] = _catch_up(ctx, clip, since=since or "0")
    counts["dropped_vectors"] = ctx.records.vectors.drop_other_models(IMAGE_FIELD, keep=[model])
    return counts


def _catch_up(ctx: Context, clip: object, *, since: str | None) -> int:
    """Embed the assets with an image vector but none of the new model for their bytes;
    with `since` (after the activation), also write again the index documents of those and
    of every asset changed since then (a process on the old generation may have written
    them with its vector). How many assets were embedded or rewritten."""
    from models.clip import ClipModel

    assert isinstance(clip, ClipModel)
    touched = 0
    for assets in ctx.records.iter_assets(batch=_BATCH):
        held = ctx.records.vector_models(IMAGE_FIELD, [asset_doc_id(a.id) for a in assets])
        embedded, _ = embed_assets(ctx, clip, [a for a in assets if held.get(asset_doc_id(a.id))])
        if since is None:
            touched += len(embedded)
            continue
        fresh = set(embedded)
        stale = [a for a in assets if a.id in fresh or (a.updated_at or "") >= since]
        if stale:
            reindex_assets(ctx, stale, refresh=False)
            touched += len(stale)
    if since is not None:
        ctx.backend.refresh()
    return touched


def _context(env: JobEnv) -> Context:
    assert isinstance(env, Context)
    return env
