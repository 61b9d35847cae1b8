"""The body of every chunk task, the same under Celery and in-process.

claim (with a lease) -> run the kind's plan or chunk while a heartbeat keeps the lease ->
record the outcome (replacing any earlier attempt's) -> recompute the job's totals.
A failure decides between a retry with backoff (transient), a failed chunk (bad input, or
too many attempts), and nothing at all (someone else holds the chunk: a duplicate message).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from types import TracebackType

from discovery.domain import JSONObject
from discovery.errors import RejectedInput
from discovery.store.job_records import PLAN_CHUNK, ChunkClaim, ChunkOutcome, JobStore
from indexer.jobs.dispatch import Dispatcher, dispatch
from indexer.jobs.items import dead_letter, reject_entry
from indexer.jobs.model import ChunkContext, ChunkResult, JobEnv, JobKinds, JobTuning
from indexer.jobs.retry import backoff, is_transient

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Ran:
    """What became of one delivery: skipped | done | cancelled | failed | retry."""

    state: str
    retry_in: float = 0.0
    ended: str | None = None  # the job's final state, when this delivery ended the job


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def execute_chunk(env: JobEnv, kinds: JobKinds, dispatcher: Dispatcher, job_id: str, chunk_no: int) -> Ran:
    """Run one chunk if nobody else holds it. Safe to call any number of times per chunk."""
    store = JobStore(env.records.engine)
    params = store.job_params(job_id) or {}
    ordered = bool(params.get("ordered"))
    if ordered and store.open_before(job_id, chunk_no):
        return Ran("skipped")  # not its turn; the chunk before it sends it when done
    tuning = JobTuning.from_params(params)
    claim = store.claim(job_id, chunk_no, owner=new_owner(), lease_s=tuning.lease_s)
    if claim is None:
        return Ran("skipped")
    ran = _run_claimed(env, kinds, store, claim, tuning)
    if ran.ended is not None:
        env.job_ended(job_id, ran.ended)
    if ran.state in ("done", "failed", "cancelled") and (chunk_no == PLAN_CHUNK or ordered):
        # After the plan: every chunk (or, ordered, the first); after an ordered chunk: the next.
        pending = store.pending_chunks(job_id)
        dispatch(store, dispatcher, job_id, pending[:1] if ordered else pending)
    return ran


def _run_claimed(env: JobEnv, kinds: JobKinds, store: JobStore, claim: ChunkClaim, tuning: JobTuning) -> Ran:
    if claim.job_cancelled:
        return _finish(store, claim, ChunkOutcome("cancelled", ChunkResult().counts, [], []))
    kind = kinds.get(claim.kind)
    if kind is None:
        return _fail(store, claim, f"no job kind {claim.kind!r} in this worker", letter=False)
    if claim.attempts > tuning.max_attempts:
        return _fail(store, claim, f"gave up after {tuning.max_attempts} attempts")
    chunk = ChunkContext(
        job_id=claim.job_id, chunk_no=claim.chunk_no, attempt=claim.attempts, params=claim.params,
        payload=claim.payload, tuning=tuning,
    )
    with _LeaseKeeper(store, claim, chunk):
        try:
            if claim.chunk_no == PLAN_CHUNK:
                plan = kind.plan(env, chunk)
                result = plan.result
                if not result.stopped:  # a plan cut short by a cancel leaves no work behind
                    store.add_chunks(claim.job_id, plan.payloads)
            else:
                result = kind.run(env, chunk)
        except Exception as exc:
            return _after_failure(store, claim, tuning, exc)
    state = "cancelled" if result.stopped else "done"
    outcome = ChunkOutcome(state, result.counts, result.rejects, result.dead_letters, links=result.links)
    return _finish(store, claim, outcome)


def _after_failure(store: JobStore, claim: ChunkClaim, tuning: JobTuning, exc: Exception) -> Ran:
    reason = f"{type(exc).__name__}: {exc}"[:500]
    if isinstance(exc, RejectedInput):  # bad input at chunk level (an unreadable file): no retry
        outcome = ChunkOutcome("failed", ChunkResult().counts, [reject_entry(exc)], [], reason)
        return _finish(store, claim, outcome)
    transient = is_transient(exc)
    limit = tuning.max_attempts if transient else tuning.max_item_attempts
    if claim.attempts >= limit:
        log.error("job %s chunk %s failed for good: %s", claim.job_id, claim.chunk_no, reason, exc_info=exc)
        return _fail(store, claim, reason)
    delay = backoff(claim.attempts, base=tuning.retry_base_s, cap=tuning.retry_cap_s)
    log.warning(
        "job %s chunk %s attempt %d: %s; retry in %.1fs", claim.job_id, claim.chunk_no, claim.attempts, reason, delay
    )
    if not store.release_for_retry(
        claim.job_id, claim.chunk_no, owner=claim.owner, retry_in=delay, lease_s=tuning.lease_s, error=reason
    ):
        return Ran("skipped")  # taken over or cancelled meanwhile: not ours to retry
    return Ran("retry", delay)


def _fail(store: JobStore, claim: ChunkClaim, reason: str, *, letter: bool = True) -> Ran:
    """The chunk is given up on; its input is listed among the job's dead letters."""
    where: JSONObject = {"items": _describe(claim)}
    letters = [dead_letter(where, RuntimeError(reason), attempts=claim.attempts, chunk_no=claim.chunk_no)]
    return _finish(store, claim, ChunkOutcome("failed", ChunkResult().counts, [], letters if letter else [], reason))


def _describe(claim: ChunkClaim) -> str:
    """A short name for a chunk's input in a report (its row range, its files)."""
    label = claim.payload.get("label")
    return str(label) if label is not None else f"chunk {claim.chunk_no}"


def _finish(store: JobStore, claim: ChunkClaim, outcome: ChunkOutcome) -> Ran:
    if not store.finish_chunk(claim.job_id, claim.chunk_no, outcome, owner=claim.owner):
        log.info("job %s chunk %s: taken over before it finished; outcome dropped", claim.job_id, claim.chunk_no)
        return Ran("skipped")
    state, ended = store.refresh_job_ended(claim.job_id)
    return Ran(outcome.state, ended=state if ended else None)


# How often a running chunk asks whether its job was cancelled (a cancel stops work within
# about this long; renewing the lease is the question).
CANCEL_POLL_S = 2.0


class _LeaseKeeper:
    """Renews the chunk's lease while the chunk runs (every third of it, and at least every
    `CANCEL_POLL_S`); tells the chunk to stop when the job is cancelled or the lease was lost
    (someone else took the chunk)."""

    def __init__(self, store: JobStore, claim: ChunkClaim, chunk: ChunkContext) -> None:
        self._store = store
        self._claim = claim
        self._chunk = chunk
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{claim.chunk_no}", daemon=True)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        lease = self._chunk.tuning.lease_s
        while not self._done.wait(min(lease / 3, CANCEL_POLL_S)):
            try:
                state = self._store.extend_lease(
                    self._claim.job_id, self._claim.chunk_no, owner=self._claim.owner, lease_s=lease
                )
            except Exception as exc:  # a database blip: keep running, try again next beat
                log.warning("job %s chunk %s: lease renewal failed: %r", self._claim.job_id, self._claim.chunk_no, exc)
                continue
            if state is None or state == "cancelled":
                self._chunk.stop()
