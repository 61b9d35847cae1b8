"""How chunk messages are sent: the port both runners (Celery on Redis, in-process threads)
implement, and the one function that sends a job's waiting chunks through it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from discovery.store.job_records import JobStore
from indexer.jobs.retry import is_transient

log = logging.getLogger(__name__)

# How long an in-process runner may stay silent before its queued chunks count as lost.
THREAD_QUEUE_ALIVE_S = 30.0


class Dispatcher(Protocol):
    def current_queue(self) -> str:
        """The identity of the queue messages go to now. It changes when the queue's contents
        are lost (a Redis restarted without persistence, a process that ran in-process jobs)."""
        ...

    def send(self, job_id: str, chunk_no: int, *, delay: float = 0.0) -> None:
        """Ask for the chunk to be run, after `delay` seconds."""
        ...

    def is_live(self, queue_id: str) -> bool:
        """Whether messages sent to `queue_id` can still arrive."""
        ...


def thread_queue_live(store: JobStore, queue_id: str) -> bool:
    """An in-process runner's queue lives as long as its process keeps beating."""
    return store.queue_alive(queue_id, within_s=THREAD_QUEUE_ALIVE_S)


def dispatch(store: JobStore, dispatcher: Dispatcher, job_id: str, chunk_nos: Sequence[int] | None = None) -> int:
    """Send chunks (default: every pending chunk of the job) and record where they went.
    A broker that does not answer is not an error here: the chunks stay pending without a
    queue, and the reconciler sends them once it answers again. Returns how many were sent."""
    nos = list(chunk_nos) if chunk_nos is not None else store.pending_chunks(job_id)
    if not nos:
        return 0
    sent: list[int] = []
    queue_id = ""
    try:
        queue_id = dispatcher.current_queue()
        for no in nos:
            dispatcher.send(job_id, no)
            sent.append(no)
    except Exception as exc:
        if not is_transient(exc):
            raise
        log.warning("job %s: could not send %d chunk(s), the reconciler will: %r", job_id, len(nos) - len(sent), exc)
    store.mark_enqueued(job_id, sent, queue_id=queue_id)
    return len(sent)
