"""`ingest_assets` as a job: uploaded files, stored in the blob store when the job was
started, are ingested `chunk_size` files per chunk by the asset pipeline
(`indexer.assets.pipeline.ingest_assets`), chunks in parallel.

Idempotent by content: a file whose bytes are stored already becomes no second asset.
The same bytes twice in one upload are ingested once (the later copies count as
duplicates). Each new version names the job that stored it, so a chunk re-run after its
worker died (a `kill -9` of the server included) counts what its dead attempt stored as
`indexed` (as the first run would have), not as `duplicates`, whatever the upload's form:
loose files or the members of a zip.

The index is reconciled from the records before a chunk is recorded done: every asset the
chunk touched (stored now, stored by a dead attempt, or met as a duplicate of an asset stored
earlier) is looked up in the index, what is missing is written again from its record, and a
chunk whose assets still are not all there is retried, never recorded done; an asset the
engine refuses outright is listed among the job's dead letters: a job does not report
success with assets silently missing from search.

A file the pipeline could not process for a reason other than bad input (the decoder
raised something unexpected) is tried again on its own, up to `max_item_attempts` tries in
all, then listed in the job's dead letters; the rest of its chunk is ingested as usual.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from discovery.domain import JSONObject
from discovery.errors import BackendUnavailable, RejectedInput
from discovery.store.index.documents import asset_doc_id
from indexer.assets.indexing import index_assets
from indexer.jobs.model import ChunkContext, ChunkResult, JobEnv, PlanResult

# How the pipeline reports a file whose processing raised (not a refusal of bad input).
CRASHED = "could not process:"
COUNTED = ("received", "indexed", "rejected", "duplicates")

Embedder = Callable[[JobEnv], Any]  # env -> the pipeline's `embed` callable, or None
AfterIngest = Callable[[JobEnv, list[str]], None]  # env, ids of assets stored or updated


class AssetIngest:
    """Job kind `ingest_assets`. Params: `files` (blob key of a JSON list of {name, blob}),
    `manifest` (blob key of a CSV, or null), `collection`, `actor`, `link_rule` (filename |
    none) and `link_pattern` (a file-name rule's regular expression, or null)."""

    name = "ingest_assets"
    ordered = False

    def __init__(self, *, embedder: Embedder | None = None, after_ingest: AfterIngest | None = None) -> None:
        self._embedder = embedder
        self._after_ingest = after_ingest

    def plan(self, env: JobEnv, chunk: ChunkContext) -> PlanResult:
        files = _load_json(env, chunk.params.get("files"), what="file list")
        seen: set[str] = set()
        items: list[JSONObject] = []
        for entry in files:
            blob = str(entry["blob"])
            # The same bytes twice in one upload: only the first is ingested (chunks run in
            # parallel, so the second could not see the first's asset in time).
            repeat = blob in seen
            seen.add(blob)
            items.append({"name": str(entry["name"]), "blob": blob, "repeat": repeat})
        size = chunk.tuning.chunk_size
        payloads: list[JSONObject] = [
            {"items": items[i : i + size], "label": f"files {i + 1}-{min(i + size, len(items))}"}  # type: ignore[dict-item]
            for i in range(0, len(items), size)
        ]
        return PlanResult(payloads)

    def run(self, env: JobEnv, chunk: ChunkContext) -> ChunkResult:
        listed: list[dict[str, Any]] = list(chunk.payload["items"])  # type: ignore[arg-type]
        items = [i for i in listed if not i.get("repeat")]
        report = self._ingest(env, chunk, items)
        result = ChunkResult(counts={k: int(report.counts.get(k, 0)) for k in COUNTED})
        repeats = len(listed) - len(items)
        result.add("received", repeats)
        result.add("duplicates", repeats)
        crashed = {str(r.get("file")): str(r.get("reason")) for r in report.rejects if _crashed(r)}
        result.rejects = [r for r in report.rejects if not _crashed(r)]
        result.links = list(report.links)
        result.counts["rejected"] -= len(crashed)
        touched = _Touched(list(report.asset_ids), list(report.duplicate_ids))
        self._retry_crashed(env, chunk, [i for i in items if i["name"] in crashed], crashed, result, touched)
        # A re-run: duplicates of assets a dead attempt of this job stored are this job's own.
        redone = _stored_by_job(env, touched.duplicates, chunk.job_id) if chunk.attempt > 1 else []
        result.counts["duplicates"] -= len(redone)
        result.counts["indexed"] += len(redone)
        if self._after_ingest is not None:
            # Tag suggestions and product links are derived again from the records, so a
            # chunk that runs twice does this twice with the same outcome. A re-run also
            # names the assets its dead attempt stored (the pipeline saw them as duplicates).
            self._after_ingest(env, list(dict.fromkeys(touched.new + redone)))
        if env.backend is not None:
            # Durable before the chunk is recorded done; what the engine refuses is said, not lost.
            refused = ensure_indexed(env, touched.new + touched.duplicates)
            result.dead_letters += [
                {"asset": i, "chunk": chunk.chunk_no, "attempts": 1,
                 "reason": f"stored, but the search index refused it: {why}"[:500]}
                for i, why in refused.items()
            ]  # fmt: skip
        return result

    def _ingest(self, env: JobEnv, chunk: ChunkContext, items: list[dict[str, Any]]) -> Any:
        from indexer.assets.links import rules_for
        from indexer.assets.pipeline import ingest_assets

        try:
            rules = rules_for(_text(chunk.params.get("link_rule")), _text(chunk.params.get("link_pattern")))
        except ValueError as exc:
            raise RejectedInput(str(exc), field="link_rule") from exc
        manifest = chunk.params.get("manifest")
        collection = chunk.params.get("collection")
        actor = chunk.params.get("actor")
        return ingest_assets(
            records=env.records,
            blobs=env.blobs,
            backend=env.backend,
            items=[(str(i["name"]), _path(env, str(i["blob"]))) for i in items],
            manifest=_path(env, str(manifest)) if manifest else None,
            collection=str(collection) if collection else None,
            actor=str(actor) if actor else None,
            job=chunk.job_id,
            embed=self._embedder(env) if self._embedder is not None else None,
            batch_size=max(1, len(items)),
            rules=rules,
        )

    def _retry_crashed(
        self, env: JobEnv, chunk: ChunkContext, items: list[dict[str, Any]], reasons: dict[str, str],
        result: ChunkResult, touched: _Touched,
    ) -> None:
        for item in items:
            reason = reasons[item["name"]]
            for _ in range(chunk.tuning.max_item_attempts - 1):
                again = self._ingest(env, chunk, [item])
                if not any(_crashed(r) for r in again.rejects):
                    for key in ("indexed", "rejected", "duplicates"):
                        result.counts[key] += int(again.counts.get(key, 0))
                    result.rejects.extend(again.rejects)
                    result.links.extend(again.links)
                    touched.new += again.asset_ids
                    touched.duplicates += again.duplicate_ids
                    break
                reason = str(again.rejects[0].get("reason"))
            else:
                result.dead_letters.append(
                    {"file": item["name"], "chunk": chunk.chunk_no, "attempts": chunk.tuning.max_item_attempts,
                     "reason": reason.removeprefix(CRASHED).strip()[:500]}
                )


def _text(value: object) -> str | None:
    return str(value) if value else None


def _crashed(reject: JSONObject) -> bool:
    return str(reject.get("reason", "")).startswith(CRASHED)


def _path(env: JobEnv, key: str) -> Path:
    try:
        return env.blobs.path(key)
    except KeyError as exc:
        raise RejectedInput(f"an uploaded file is gone from the blob store: {exc}", field="files") from exc


def _load_json(env: JobEnv, key: object, *, what: str) -> list[dict[str, Any]]:
    if not isinstance(key, str) or not key:
        raise RejectedInput(f"no {what}", field="files")
    data = json.loads(_path(env, key).read_bytes())
    if not isinstance(data, list):
        raise RejectedInput(f"the {what} is not a list", field="files")
    return data


@dataclass(slots=True)
class _Touched:
    """The assets a chunk met: stored now (`new`), or already in the records (`duplicates`)."""

    new: list[str]
    duplicates: list[str]


def _stored_by_job(env: JobEnv, asset_ids: list[str], job_id: str) -> list[str]:
    """Of `asset_ids`, those whose current file a version written by `job_id` brought."""
    out: list[str] = []
    for asset_id in dict.fromkeys(asset_ids):
        asset = env.records.get_asset(asset_id)
        if asset is not None and any(
            v.get("job") == job_id and v.get("sha256") == asset.sha256 for v in asset.versions
        ):
            out.append(asset_id)
    return out


def ensure_indexed(env: JobEnv, asset_ids: list[str]) -> dict[str, str]:
    """Make every one of `asset_ids` that has a record present in the index, writing the
    missing ones again from their records. Returns the ids the engine refused, with why (the
    job lists them). Raises `BackendUnavailable` (transient: the chunk is retried) when some
    are still absent without a refusal, so a chunk is never recorded done while assets
    silently miss from search."""
    env.backend.refresh()
    missing = _absent(env, list(dict.fromkeys(asset_ids)))
    if not missing:
        return {}
    assets = [a for a in (env.records.get_asset(i) for i in missing) if a is not None]
    refused = index_assets(env.records, env.backend, assets)
    env.backend.refresh()
    still = [i for i in _absent(env, [a.id for a in assets]) if i not in refused]
    if still:
        raise BackendUnavailable(f"{len(still)} stored asset(s) are not in the search index yet, e.g. {still[0]}")
    return refused


def _absent(env: JobEnv, asset_ids: list[str]) -> list[str]:
    held: set[str] = set()
    for start in range(0, len(asset_ids), 500):
        held.update(env.backend.get([asset_doc_id(i) for i in asset_ids[start : start + 500]]))
    return [i for i in asset_ids if asset_doc_id(i) not in held]
