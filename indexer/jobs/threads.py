"""In-process jobs (no Redis configured, the embedded default): the same chunk tasks on a
bounded thread pool, retries on timers, and the reconciler in a thread of its own."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from discovery.foreground import background
from discovery.store.job_records import JobStore
from indexer.jobs.executor import execute_chunk
from indexer.jobs.model import JobEnv, JobKinds
from indexer.jobs.reconcile import ReconcilerLoop
from indexer.jobs.retry import is_transient

log = logging.getLogger(__name__)

# A chunk whose claim hit a database blip is tried again after this long.
CLAIM_RETRY_S = 5.0


def thread_queue_id() -> str:
    """A fresh id for an in-process queue ("thread:..." tells the reconciler to judge it
    by its heartbeat)."""
    return f"thread:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ThreadRunner:
    """Runs jobs in this process. Implements `Dispatcher`: its queue is this process, so when
    the process ends its waiting chunks count as lost and the next runner re-sends them."""

    def __init__(
        self,
        env: JobEnv,
        *,
        kinds: JobKinds,
        workers: int,
        reconcile_every: float = 10.0,
        queue_id: str | None = None,
    ) -> None:
        self.env = env
        self.kinds = kinds
        self.store = JobStore(env.records.engine)
        # A server's job worker is given its queue id by the server that sends to it.
        self.queue_id = queue_id or thread_queue_id()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="jobs")
        self._lock = threading.Lock()
        self._timers: set[threading.Timer] = set()
        self._closed = False
        self._loop = ReconcilerLoop(
            self.store,
            self,
            every=min(reconcile_every, 10.0),
            on_tick=lambda: self.store.beat_queue(self.queue_id),
            on_ended=env.job_ended,
        )

    def start(self) -> ThreadRunner:
        """Beat once (so this runner counts as live before anything is sent to it), then
        start the reconciler, whose first pass picks up work a previous process left."""
        self.store.beat_queue(self.queue_id)
        self._loop.start()
        return self

    # --- Dispatcher ----------------------------------------------------------------------

    def current_queue(self) -> str:
        return self.queue_id

    def is_live(self, queue_id: str) -> bool:
        # Another kind of queue (a Redis broker this process cannot see) is not ours to judge;
        # the reconciler's `requeue_after_s` still re-sends its chunks if they sit too long.
        return queue_id == self.queue_id or not queue_id.startswith("thread:")

    def send(self, job_id: str, chunk_no: int, *, delay: float = 0.0) -> None:
        if delay <= 0:
            self._submit(job_id, chunk_no)
            return
        timer = threading.Timer(delay, self._fire, args=(job_id, chunk_no))
        timer.daemon = True
        with self._lock:
            if self._closed:
                return
            self._timers.add(timer)
        timer.start()

    # --- running -------------------------------------------------------------------------

    def _fire(self, job_id: str, chunk_no: int) -> None:
        with self._lock:
            self._timers = {t for t in self._timers if t.is_alive() and t is not threading.current_thread()}
        self._submit(job_id, chunk_no)

    def _submit(self, job_id: str, chunk_no: int) -> None:
        with self._lock:
            if self._closed:
                return  # left pending: the next runner's reconciler sends it again
            self._pool.submit(self._run, job_id, chunk_no)

    def _run(self, job_id: str, chunk_no: int) -> None:
        try:
            with background(self.env.foreground):  # this process also answers requests
                ran = execute_chunk(self.env, self.kinds, self, job_id, chunk_no)
        except Exception as exc:
            if is_transient(exc):
                log.warning("job %s chunk %s: %r; trying again in %.0fs", job_id, chunk_no, exc, CLAIM_RETRY_S)
                self.send(job_id, chunk_no, delay=CLAIM_RETRY_S)
            else:
                log.exception("job %s chunk %s: unexpected error outside the chunk", job_id, chunk_no)
            return
        if ran.state == "retry":
            self.send(job_id, chunk_no, delay=ran.retry_in)

    def close(self, *, wait: bool = True) -> None:
        """Stop taking work; with `wait`, let running chunks finish (waiting ones stay pending
        in the records and are picked up by the next runner)."""
        with self._lock:
            self._closed = True
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()
        self._loop.stop()
        self._pool.shutdown(wait=wait, cancel_futures=True)
