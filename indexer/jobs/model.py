"""What a job kind is, what it is handed and what it answers: the types every runner shares.

A job kind splits its input in `plan` (chunk 0) and does one chunk's work in `run`. Both must
be idempotent: a chunk may run twice (a worker killed after the effect but before the record,
a message redelivered), so its effects are upserts keyed by SKU or asset id, and what it
counts depends only on its input, never on what an earlier attempt already wrote.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from discovery.config import Settings
from discovery.domain import JSONObject, JSONValue
from discovery.foreground import Foreground
from discovery.store.blobs import FilesystemBlobStore
from discovery.store.index.base import SearchBackend
from discovery.store.job_records import empty_counts
from discovery.store.records import Records


class JobEnv(Protocol):
    """What a chunk may use: the stores and the models (`discovery.services.context.Context`)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def records(self) -> Records: ...
    @property
    def backend(self) -> SearchBackend: ...
    @property
    def blobs(self) -> FilesystemBlobStore: ...
    @property
    def foreground(self) -> Foreground: ...
    def clip(self) -> Any: ...
    def text(self) -> Any: ...
    def job_ended(self, job_id: str, state: str) -> None:
        """Told once when a job reaches succeeded, failed or cancelled (the service sends
        its `job.finished` webhook here)."""
        ...


@dataclass(frozen=True, slots=True)
class JobTuning:
    """Per-job knobs, stored in the job's params so every worker runs a job the same way."""

    chunk_size: int = 500  # rows (or files) per chunk
    lease_s: float = 60.0  # a holder silent this long is presumed dead; renewed every third
    max_attempts: int = 8  # deliveries of one chunk (crashes and transient retries) before it fails
    max_item_attempts: int = 3  # tries of one item that raises before it is dead-lettered
    retry_base_s: float = 1.0  # first retry delay; doubles per attempt
    retry_cap_s: float = 60.0  # longest retry delay (the broker's visibility timeout is far longer)
    requeue_after_s: float = 900.0  # a pending chunk untouched this long is re-sent (lost message)

    @classmethod
    def from_params(cls, params: Mapping[str, JSONValue]) -> JobTuning:
        raw = params.get("tuning")
        if not isinstance(raw, dict):
            return cls()
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key in known and isinstance(value, int | float) and not isinstance(value, bool):
                values[key] = int(value) if known[key] == "int" else float(value)
        return cls(**values)

    def to_json(self) -> JSONObject:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(slots=True)
class ChunkResult:
    """What one chunk did. Rejects are bad input (never retried); dead letters are items that
    kept failing for another reason after `max_item_attempts` tries."""

    counts: dict[str, int] = field(default_factory=empty_counts)
    rejects: list[JSONObject] = field(default_factory=list)
    dead_letters: list[JSONObject] = field(default_factory=list)
    # What linking did: {"outcome": linked | suggested | ambiguous, "file", "sku" | "candidates", ...}
    links: list[JSONObject] = field(default_factory=list)
    stopped: bool = False  # the job was cancelled while this chunk ran; it stopped early

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


@dataclass(slots=True)
class PlanResult:
    """A plan's answer: one payload per work chunk, plus what reading the input rejected."""

    payloads: list[JSONObject]
    result: ChunkResult = field(default_factory=ChunkResult)


@dataclass(slots=True)
class ChunkContext:
    """Hands a running chunk its input and tells it when to stop."""

    job_id: str
    chunk_no: int
    attempt: int
    params: JSONObject
    payload: JSONObject
    tuning: JobTuning
    _stop: threading.Event = field(default_factory=threading.Event)

    def cancelled(self) -> bool:
        """True once the job is cancelled or another worker took this chunk over: stop early."""
        return self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()


class JobKind(Protocol):
    """One kind of job (`import_products`, `ingest_assets`, ...). An `ordered` kind's chunks
    run one at a time in chunk order (each may build on what the one before stored);
    the others' chunks run in parallel."""

    name: str
    ordered: bool

    def plan(self, env: JobEnv, chunk: ChunkContext) -> PlanResult:
        """Split the job's input (named in `chunk.params`) into chunk payloads, storing any
        bulky input durably (blob store) so a chunk can run on any worker, any time later."""
        ...

    def run(self, env: JobEnv, chunk: ChunkContext) -> ChunkResult:
        """Do one chunk's work, idempotently."""
        ...


JobKinds = Mapping[str, JobKind]
