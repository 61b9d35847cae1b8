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
only what changed, and `indexed` counts the products this job changed (their records name
the job), as the first run would have. A re-run of the `full` mode's withdraw chunk writes
every withdrawn product's document again, for the same reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from discovery.domain import JSONObject, Product
from discovery.errors import BackendUnavailable, RejectedInput
from discovery.foreground import step_aside
from indexer.jobs.model import ChunkContext, ChunkResult, JobEnv, PlanResult

# The import's counts that depend only on the file, never on what an earlier attempt did.
COUNTED = ("received", "rejected", "duplicates", "merged", "products", "parents_created", "indexed",
           "index_failed", "withdrawn")
OVERLOADED = ("429", "es_rejected_execution", "too_many_requests", "circuit_breaking")

T = TypeVar("T")
# (env, the chunk's SKUs, those of them whose records the chunk changed, the job's params)
# -> what linking did (`ChunkResult.links` entries)
AfterWrite = Callable[[JobEnv, list[str], list[str], JSONObject], list[JSONObject]]
# (env, the SKUs whose records a chunk changed), after they are stored, before they are indexed
BeforeIndex = Callable[[JobEnv, list[str]], object]
# (env, SKUs whose rows are unchanged since the import that stored them) -> those of them
# that still need the hooks' work (a family without a vector of the current text model)
KeepUnchanged = Callable[[JobEnv, list[str]], set[str]]


class ProductImport:
    """Job kind `import_products`. Params: `file` {blob, name}, `mapping` (a mapping's name or
    null), `mode` (partial | full). `after_write` runs on each chunk's SKUs once they are
    stored, told which of them changed (the service layer passes suggestions, asset links
    and text embedding, which an unchanged product does not need again); `before_index`
    runs on the changed SKUs between the records and the index (the service layer stores
    their text vectors there, so their documents are written once, vectors included).
    `link_rule` and `link_pattern` say how stored files are linked to the products by name."""

    name = "import_products"
    ordered = True

    def __init__(
        self,
        *,
        after_write: AfterWrite | None = None,
        before_index: BeforeIndex | None = None,
        keep_unchanged: KeepUnchanged | None = None,
    ) -> None:
        self._after_write = after_write
        self._before_index = before_index
        self._keep_unchanged = keep_unchanged

    def plan(self, env: JobEnv, chunk: ChunkContext) -> PlanResult:
        payloads: list[JSONObject] = []
        with _pipeline(env, chunk, survey_file=True, salt_extra=self._salt(env)) as (run, rows_from_start):
            pending = _Pending(env, chunk.tuning.chunk_size, payloads)
            keep = self._keep_unchanged
            if keep is not None:
                run.keep_unchanged = lambda skus: keep(env, skus)
            for item in _until_cancelled(chunk, rows_from_start()):
                step_aside()
                batch = run.row(item)
                if batch is not None:
                    pending.add(run.skip_unchanged(batch))
            if chunk.cancelled():  # reading stopped at the cancel: the executor adds no chunks
                stopped = _result(run.report)
                stopped.stopped = True
                return PlanResult([], stopped)
            batch = run.assembler.finish()
            if batch is not None:
                pending.add(run.skip_unchanged(batch))
            pending.flush()
            if chunk.params.get("mode") == "full":
                payloads.append(
                    {"withdraw": True, "label": "withdraw products absent from the file",
                     "fatal": run.fatal, "products": run.report.products}
                )
            return PlanResult(payloads, _result(run.report))

    def _salt(self, env: JobEnv) -> str:
        """The text model is part of what an import makes of a row when it embeds: with
        another model (or none before), no row is skipped as unchanged."""
        if self._before_index is None and self._after_write is None:
            return ""
        text = env.settings.text
        return f"text {text.enabled} {text.model}"

    def run(self, env: JobEnv, chunk: ChunkContext) -> ChunkResult:
        payload = chunk.payload
        withdraw = bool(payload.get("withdraw"))
        links: list[JSONObject] = []
        with _pipeline(env, chunk, survey_file=withdraw) as (run, _):
            if withdraw:  # `full` mode, after every batch: needs the file's SKUs, surveyed again
                run.fatal = bool(payload.get("fatal"))
                run.report.products = int(payload.get("products") or 0)  # type: ignore[arg-type]
                run.withdraw_absent(chunk.tuning.chunk_size)
                run.report.products = 0  # counted by the plan
                if chunk.attempt > 1:
                    _index_withdrawn_again(env, chunk.tuning.chunk_size)
            else:
                batch = _load_batch(json.loads(_blob(env, str(payload["blob"])).read_bytes()))
                if self._before_index is not None:
                    hook = self._before_index
                    run.before_index = lambda skus: hook(env, skus)
                run.batch(batch)
                if chunk.attempt > 1:
                    if self._before_index is not None:  # the dead attempt may have stored records, not vectors
                        self._before_index(env, sorted(batch.products))
                    run.report.indexed = _index_again(env, chunk, batch)
                if self._after_write is not None:
                    # A re-run cannot tell what its dead predecessor changed: all of them.
                    changed = run.written if chunk.attempt == 1 else list(batch.products)
                    links = self._after_write(env, sorted(batch.products), sorted(changed), chunk.params)
            _raise_if_overloaded(run.report.dead_letters)
            env.backend.refresh()  # durable before the chunk is recorded done
            result = _result(run.report)
            result.links = links
            return result


def _index_withdrawn_again(env: JobEnv, batch: int) -> None:
    """An earlier attempt may have withdrawn products in the records and died before the
    index heard of it; this one skips them (already withdrawn). Write every withdrawn
    product's document again from its record, so search agrees with the records."""
    from indexer.products.indexing import index_products

    for stored in env.records.iter_products(batch=batch):
        withdrawn = {p.sku: p for p in stored if p.status == "withdrawn"}
        if withdrawn:
            index_products(env.records, env.backend, sorted(withdrawn), known=withdrawn)


def _index_again(env: JobEnv, chunk: ChunkContext, batch: Any) -> int:
    """An earlier attempt may have stored products and died before indexing them; this one
    found them unchanged and left them out. Index the whole batch, and count as indexed what
    this job wrote (a stored record names the job that last changed it), as a first run
    counts what it changed."""
    from indexer.products.indexing import index_products

    mine = set(batch.products) - set(getattr(batch, "repeats", ()))
    bulk = index_products(env.records, env.backend, sorted(batch.products), known=batch.products)
    ok = {o.id.removeprefix("product:") for o in bulk.outcomes if o.ok}
    stored = env.records.get_products(sorted(mine & ok))
    return sum(1 for p in stored.values() if p.source.get("job") == chunk.job_id)


def _file(params: JSONObject) -> JSONObject:
    file = params.get("file")
    if not isinstance(file, dict) or not file.get("blob"):
        raise RejectedInput("no file to import", field="file")
    return file


def _blob(env: JobEnv, key: str) -> Path:
    try:
        return env.blobs.path(key)
    except KeyError as exc:
        raise RejectedInput(f"the uploaded file is gone from the blob store: {exc}", field="file") from exc


@contextmanager
def _pipeline(
    env: JobEnv, chunk: ChunkContext, *, survey_file: bool, salt_extra: str = ""
) -> Iterator[tuple[Any, Callable[[], Any]]]:
    """The pipeline's batch state machine for this job, shared so that a job imports exactly
    as `import_products` does; with `survey_file`, after the pipeline's survey of the file
    (each SKU's last row). Yields it with a function that reads the file from its start."""
    from indexer.products.completeness import load_channels
    from indexer.products.mapping import Mapper
    from indexer.products.mapping_spec import MappingSpec, load_mapping
    from indexer.products.pipeline import _Run, survey
    from indexer.products.readers import RowSource
    from indexer.products.report import ImportReport
    from indexer.products.skulines import SkuLines

    mapping = chunk.params.get("mapping")
    data_dir = env.settings.data_dir
    spec = load_mapping(str(mapping), data_dir=data_dir) if mapping else MappingSpec(name="canonical")
    file = _file(chunk.params)
    mode = "full" if chunk.params.get("mode") == "full" else "partial"
    report = ImportReport(file=str(file["name"]), job_id=chunk.job_id, mode=mode)
    lines = SkuLines()
    try:
        with _blob(env, str(file["blob"])).open("rb") as stream:

            def rows_from_start() -> RowSource:
                stream.seek(0)
                return RowSource.over(stream, filename=str(file["name"]), delimiter=spec.delimiter, sheet=spec.sheet)

            unknown = survey(_until_cancelled(chunk, rows_from_start()), Mapper(spec), lines) if survey_file else False
            run = _Run(
                records=env.records, backend=env.backend, spec=spec, report=report, lines=lines,
                chunk_size=chunk.tuning.chunk_size, channels=load_channels(data_dir=data_dir),
                salt_extra=salt_extra,
            )
            run.unknown_skus = unknown
            yield run, rows_from_start
    finally:
        lines.close()


def _until_cancelled(chunk: ChunkContext, rows: Iterable[T]) -> Iterator[T]:
    """The rows, until the job is cancelled (reading a large file stops there; a file is
    not even opened again once it is)."""
    if chunk.cancelled():
        return
    for row in rows:
        if chunk.cancelled():
            return
        yield row


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


class _Pending:
    """Batches left after skipping unchanged rows, joined until a chunk's worth: a re-import
    where 1 % of rows changed becomes a few full chunks, not one nearly empty chunk (and
    one index commit) per 500 rows read."""

    def __init__(self, env: JobEnv, size: int, payloads: list[JSONObject]) -> None:
        self._env = env
        self._size = size
        self._payloads = payloads
        self._batch: Any = None

    def add(self, batch: Any) -> None:
        if self._batch is None:
            self._batch = batch
        else:
            self._batch.absorb(batch)
        if len(self._batch) >= self._size:
            self.flush()

    def flush(self) -> None:
        batch, self._batch = self._batch, None
        if batch is not None and not batch.empty():
            self._payloads.append(_store_batch(self._env, batch, len(self._payloads) + 1))


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
