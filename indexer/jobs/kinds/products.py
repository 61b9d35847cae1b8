"""`import_products` as a job: the product pipeline (`indexer.products.pipeline`) cut at its
batch boundary.

Plan (chunk 0): read -> map -> validate -> assemble the whole file, as `import_products`
does, but instead of writing each assembled batch, store it as a JSON blob; each blob is
one work chunk. Row rejects, duplicates and merged rows are counted here, once.
Chunks: write one stored batch (records upsert by SKU, then the index), exactly as the
pipeline writes a batch, and commit the index before the chunk is recorded done.

The chunks of one import run in file order, one at a time (`ordered`): a later row with
the same SKU must win, and late links or translations apply to products an earlier batch
stored. Several imports still run side by side.

Re-running a chunk (its worker died) rewrites the same products: the records upsert finds
them unchanged, so on a re-run the whole batch is written to the index again instead of
only what changed, and `indexed` counts the batch's products that the index holds, as
the first run would have.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from discovery.domain import JSONObject, Product
from discovery.errors import BackendUnavailable, RejectedInput
from discovery.store.index.base import BulkReport
from indexer.jobs.model import ChunkContext, ChunkResult, JobEnv, PlanResult

# The import's counts that depend only on the file, never on what an earlier attempt did.
COUNTED = ("received", "rejected", "duplicates", "merged", "products", "parents_created", "indexed",
           "index_failed", "withdrawn")
OVERLOADED = ("429", "es_rejected_execution", "too_many_requests", "circuit_breaking")

AfterWrite = Callable[[JobEnv, list[str]], BulkReport]


class ProductImport:
    """Job kind `import_products`. Params: `file` {blob, name}, `mapping` (a mapping's name or
    null), `mode` (partial | full). `after_write` runs on each chunk's SKUs once they are
    stored (the service layer passes text embedding)."""

    name = "import_products"
    ordered = True

    def __init__(self, *, after_write: AfterWrite | None = None) -> None:
        self._after_write = after_write

    def plan(self, env: JobEnv, chunk: ChunkContext) -> PlanResult:
        from indexer.products.readers import open_rows

        run, spec = _new_run(env, chunk)
        file = _file(chunk.params)
        try:
            path = env.blobs.path(str(file["blob"]))
        except KeyError as exc:
            raise RejectedInput(f"the uploaded file is gone from the blob store: {exc}", field="file") from exc
        payloads: list[JSONObject] = []
        rows, stream = open_rows(path, str(file["name"]), delimiter=spec.delimiter, sheet=spec.sheet)
        try:
            for item in rows:
                batch = run.row(item)
                if batch is not None:
                    payloads.append(_store_batch(env, batch, len(payloads) + 1))
            batch = run.assembler.finish()
            if batch is not None:
                payloads.append(_store_batch(env, batch, len(payloads) + 1))
        finally:
            stream.close()
        if chunk.params.get("mode") == "full":
            payloads.append(_store_withdrawal(env, run))
        return PlanResult(payloads, _result(run.report))

    def run(self, env: JobEnv, chunk: ChunkContext) -> ChunkResult:
        from indexer.products.indexing import index_products

        run, _ = _new_run(env, chunk)
        payload = chunk.payload
        stored = json.loads(env.blobs.path(str(payload["blob"])).read_bytes())
        if payload.get("withdraw"):
            run.assembler.seen = set(stored["seen"])
            run.rejected_skus = set(stored["rejected"])
            run.fatal = bool(stored["fatal"])
            run.report.products = int(stored["products"])
            run.withdraw_absent(chunk.tuning.chunk_size)
            run.report.products = 0  # counted by the plan
        else:
            batch = _load_batch(stored)
            run.batch(batch)
            if chunk.attempt > 1:  # an earlier attempt may have stored products it never indexed
                mine = set(batch.products)
                counted = mine - batch.repeats  # a SKU an earlier batch carried was counted there
                bulk = index_products(env.records, env.backend, sorted(mine), known=batch.products)
                run.report.indexed = sum(1 for o in bulk.outcomes if o.ok and o.id.removeprefix("product:") in counted)
            if self._after_write is not None:
                self._after_write(env, sorted(batch.products))
        _raise_if_overloaded(run.report.dead_letters)
        env.backend.refresh()  # durable before the chunk is recorded done
        return _result(run.report)


def _file(params: JSONObject) -> JSONObject:
    file = params.get("file")
    if not isinstance(file, dict) or not file.get("blob"):
        raise RejectedInput("no file to import", field="file")
    return file


def _new_run(env: JobEnv, chunk: ChunkContext) -> tuple[Any, Any]:
    # The pipeline's batch state machine, shared so a job imports exactly as `import_products` does.
    from indexer.products.completeness import load_channels
    from indexer.products.mapping_spec import MappingSpec, load_mapping
    from indexer.products.pipeline import _Run
    from indexer.products.report import ImportReport

    mapping = chunk.params.get("mapping")
    data_dir = env.settings.data_dir
    spec = load_mapping(str(mapping), data_dir=data_dir) if mapping else MappingSpec(name="canonical")
    file = _file(chunk.params)
    mode = "full" if chunk.params.get("mode") == "full" else "partial"
    report = ImportReport(file=str(file["name"]), job_id=chunk.job_id, mode=mode)
    run = _Run(
        records=env.records, backend=env.backend, spec=spec, report=report,
        chunk_size=chunk.tuning.chunk_size, channels=load_channels(data_dir=data_dir),
    )
    return run, spec


def _result(report: Any) -> ChunkResult:
    counts = report.counts
    result = ChunkResult(counts={k: int(counts.get(k, 0)) for k in COUNTED})
    result.rejects = [r.to_json() for r in report.rejects]
    result.dead_letters = list(report.dead_letters)
    return result


def _raise_if_overloaded(dead_letters: list[JSONObject]) -> None:
    """Index writes refused because the engine is overloaded are not the products' fault:
    the chunk is retried later instead of dead-lettering them."""
    for letter in dead_letters:
        reason = str(letter.get("reason", "")).lower()
        if any(mark in reason for mark in OVERLOADED):
            raise BackendUnavailable(f"the search engine is overloaded: {letter.get('reason')}")


def _store_batch(env: JobEnv, batch: Any, number: int) -> JSONObject:
    """Store an assembled batch as JSON (every field of the pipeline's `Batch`: products as
    their JSON, sets as sorted lists, tuples as lists)."""
    body: dict[str, Any] = {}
    for f in fields(batch):
        value = getattr(batch, f.name)
        if f.name == "products":
            body[f.name] = [p.to_json() for p in value.values()]
        elif isinstance(value, set):
            body[f.name] = {"set": sorted(value)}
        elif isinstance(value, list):
            body[f.name] = [list(x) if isinstance(x, tuple) else x for x in value]
        else:
            body[f.name] = value
    key, _ = env.blobs.put_bytes(json.dumps(body, ensure_ascii=False, sort_keys=True).encode())
    lines = [line for p in batch.products.values() if isinstance(line := p.source.get("line"), int)]
    span = f"lines {min(lines)}-{max(lines)}" if lines else f"batch {number}"
    return {"blob": key, "label": span, "products": len(batch.products)}


def _load_batch(body: dict[str, Any]) -> Any:
    from indexer.products.assemble import Batch

    values: dict[str, Any] = {}
    for f in fields(Batch):
        if f.name not in body:
            continue
        value = body[f.name]
        if f.name == "products":
            values[f.name] = {p.sku: p for p in (Product.from_json(d) for d in value)}
        elif isinstance(value, dict) and set(value) == {"set"}:
            values[f.name] = set(value["set"])
        elif isinstance(value, list):
            values[f.name] = [tuple(x) if isinstance(x, list) else x for x in value]
        else:
            values[f.name] = value
    return Batch(**values)


def _store_withdrawal(env: JobEnv, run: Any) -> JSONObject:
    body = {
        "seen": sorted(run.assembler.seen),
        "rejected": sorted(run.rejected_skus),
        "fatal": run.fatal,
        "products": run.report.products,
    }
    key, _ = env.blobs.put_bytes(json.dumps(body).encode())
    return {"blob": key, "label": "withdraw products absent from the file", "withdraw": True}
