"""The reconciler: finds the chunks of running jobs that nobody will run, and sends them again.

Runs when a worker (or an in-process runner) starts and then on a schedule. A chunk is
re-sent when
- its holder's lease ran out (the worker was killed, or its machine died),
- it waits in a queue whose contents were lost (Redis restarted without persistence; the
  process that ran in-process jobs is gone), or was never sent (the broker was down),
- it waited untouched for `requeue_after_s` (a message lost some other way).
Re-sending is always safe: a chunk that someone holds or that is done ignores the message.
A job whose chunks are all finished but which was never closed (its last worker died in
between) is closed here with the summed counts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from discovery.store.job_records import JobStore, OpenChunk, now_utc
from indexer.jobs.dispatch import Dispatcher, dispatch, thread_queue_live
from indexer.jobs.model import JobTuning

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Resend:
    chunk_no: int
    reset: bool  # its lease ran out: put it back to pending first
    why: str


@dataclass(slots=True)
class ReconcileReport:
    resent: int = 0
    closed_jobs: list[str] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)


def chunks_to_resend(
    chunks: list[OpenChunk], *, tuning: JobTuning, now: datetime, is_live: Callable[[str], bool]
) -> list[Resend]:
    """Which of a job's unfinished chunks nobody will run. Pure."""
    out: list[Resend] = []
    grace = timedelta(seconds=tuning.lease_s)
    stale = timedelta(seconds=tuning.requeue_after_s)
    for c in chunks:
        if c.state in ("running", "retrying"):
            if c.lease_expires_at is None or c.lease_expires_at < now:
                out.append(Resend(c.chunk_no, True, "lease expired"))
        elif c.queue_id is None:
            if c.created_at < now - grace:  # the plan sends right after adding; give it time
                out.append(Resend(c.chunk_no, False, "never sent"))
        elif not is_live(c.queue_id):
            out.append(Resend(c.chunk_no, False, "queue lost"))
        elif c.enqueued_at is not None and c.enqueued_at < now - stale:
            out.append(Resend(c.chunk_no, False, "waited too long"))
    return out


def reconcile_once(
    store: JobStore, dispatcher: Dispatcher, on_ended: Callable[[str, str], None] | None = None
) -> ReconcileReport:
    """One pass over every queued or running job; `on_ended(job_id, state)` hears of each
    job this pass closes (its last chunk's worker died before closing it)."""
    report = ReconcileReport()
    live: dict[str, bool] = {}

    def is_live(queue_id: str) -> bool:
        if queue_id not in live:
            if queue_id.startswith("thread:") and queue_id != dispatcher.current_queue():
                live[queue_id] = thread_queue_live(store, queue_id)
            else:
                live[queue_id] = dispatcher.is_live(queue_id)
        return live[queue_id]

    for job_id, params in store.active_jobs().items():
        chunks = store.open_chunks(job_id)
        if not chunks:
            state, ended = store.refresh_job_ended(job_id)
            if state not in ("queued", "running"):
                report.closed_jobs.append(job_id)
            if ended and state is not None and on_ended is not None:
                on_ended(job_id, state)
            continue
        if params.get("ordered"):
            chunks = chunks[:1]  # the one chunk whose turn it is; the later ones wait for it
            first = chunks[0]
            came = store.turn_came(job_id, first.chunk_no) if first.queue_id is None else None
            if came is not None and came > first.created_at:
                # Its message is due from when the chunk before it finished, not from when the
                # plan made it: between the two, the next chunk read as "never sent" and was
                # sent twice (harmless, the second message is ignored, but it warned).
                chunks = [replace(first, created_at=came)]
        resends = chunks_to_resend(chunks, tuning=JobTuning.from_params(params), now=now_utc(), is_live=is_live)
        nos = [r.chunk_no for r in resends if not r.reset or store.reset_expired(job_id, r.chunk_no)]
        for r in resends:
            report.reasons[r.why] = report.reasons.get(r.why, 0) + 1
        if nos:
            log.warning("job %s: re-sending %d chunk(s): %s", job_id, len(nos), sorted({r.why for r in resends}))
            report.resent += dispatch(store, dispatcher, job_id, nos)
    return report


class ReconcilerLoop:
    """Runs `reconcile_once` now and then every `every` seconds in a daemon thread.
    `on_tick` runs before each pass (an in-process runner beats its queue there)."""

    def __init__(
        self,
        store: JobStore,
        dispatcher: Dispatcher,
        *,
        every: float,
        on_tick: Callable[[], None] | None = None,
        after_pass: Callable[[], None] | None = None,
        on_ended: Callable[[str, str], None] | None = None,
    ) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self._every = every
        self._on_tick = on_tick
        self._after_pass = after_pass
        self._on_ended = on_ended
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jobs-reconciler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            try:
                if self._on_tick is not None:
                    self._on_tick()
                reconcile_once(self._store, self._dispatcher, self._on_ended)
            except Exception as exc:  # a database or broker blip: the next pass tries again
                log.warning("reconciler pass failed: %r", exc)
            if self._after_pass is not None:
                try:
                    self._after_pass()
                except Exception as exc:  # the same blip here must not end the loop: a chunk whose
                    # worker died while the records database was down is re-sent by a later pass
                    log.warning("reconciler after-pass failed: %r", exc)
            if self._stop.wait(self._every):
                return
