"""The server's job worker: imports and ingests run in a child process, never beside the
searches.

`discovery serve` on the embedded engine without Redis starts one worker process and
supervises it (`JobProcess`). The server keeps creating jobs in the records and sends
each job's plan chunk down the worker's stdin (`indexer.jobs.pipe`); the worker runs the
chunks on its own thread pool, as the in-process runner does, at a lower CPU priority
(`os.nice`), committing each chunk to the index under the writer lease. The server's
searches follow those commits like any other process's (`store.index.embedded`).

Lifetimes:
- The worker exits when its stdin closes: at the server's clean shutdown (after finishing
  the chunks it is running, within `STOP_WAIT_S`, else it is killed), and when the server
  dies in any way, kill -9 included (the kernel closes the pipe). A thread also watches
  the parent's pid, in case the pipe was inherited elsewhere.
- A worker that dies is started again by the supervisor (with a back-off); its unfinished
  chunks are re-run by the new worker's reconciler once the old queue stops beating.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from typing import IO

from discovery.config import Settings
from discovery.services.context import Context
from discovery.services.jobs import job_kinds
from indexer.jobs.pipe import PipeDispatcher, read_messages
from indexer.jobs.threads import ThreadRunner, thread_queue_id

log = logging.getLogger(__name__)

WORKER_NICE = 10  # below the request-serving process
STOP_WAIT_S = 30.0
RESTART_BACKOFF_S = (1.0, 30.0)
RECONCILE_EVERY_S = 5.0


class JobProcess:
    """Starts the job worker process, restarts it when it dies, stops it at `close()`."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._proc: subprocess.Popen[str] | None = None
        self._queue_id = thread_queue_id()
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self.dispatcher = PipeDispatcher(lambda: self._queue_id, self._stdin)
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def start(self) -> JobProcess:
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="job-process", daemon=True)
        self._watcher.start()
        return self

    def _stdin(self) -> IO[str] | None:
        proc = self._proc
        return proc.stdin if proc is not None and proc.poll() is None else None

    def _spawn(self) -> None:
        with self._lock:
            self._queue_id = thread_queue_id()
            proc = subprocess.Popen(
                [sys.executable, "-m", "discovery.services.job_process", self._queue_id],
                stdin=subprocess.PIPE,
                text=True,
                close_fds=True,
                # Its own session: a Ctrl+C or a SIGTERM to the server's process group does
                # not cut a chunk short; the server's shutdown closes the pipe instead.
                start_new_session=True,
            )
            assert proc.stdin is not None
            # The settings travel down the pipe: the worker runs with exactly the server's.
            proc.stdin.write(self._settings.model_dump_json() + "\n")
            proc.stdin.flush()
            self._proc = proc
        log.info("job worker process %d started (queue %s)", proc.pid, self._queue_id)

    def _watch(self) -> None:
        backoff = RESTART_BACKOFF_S[0]
        while not self._closing.is_set():
            proc = self._proc
            assert proc is not None
            started = time.monotonic()
            code = proc.wait()
            if self._closing.is_set():
                return
            log.error("job worker process %d exited with %s; starting another in %.0fs", proc.pid, code, backoff)
            if self._closing.wait(backoff):
                return
            ran_long = time.monotonic() - started > 60
            backoff = RESTART_BACKOFF_S[0] if ran_long else min(backoff * 2, RESTART_BACKOFF_S[1])
            self.restarts += 1
            self._spawn()

    def close(self, *, wait: float = STOP_WAIT_S) -> None:
        """Stop the worker: close its stdin (it finishes its running chunks and exits);
        kill it if it has not after `wait` seconds."""
        self._closing.set()
        with self._lock:
            proc = self._proc
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            log.warning("job worker process %d did not stop in %.0fs: killing it", proc.pid, wait)
            proc.kill()
            proc.wait()
        log.info("job worker process %d stopped", proc.pid)


def _exit_with_parent(parent: int) -> None:
    """A safety net beside the pipe: leave at once when the parent is gone."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def main() -> None:
    """The worker: read the settings line, open the stores, run chunks sent down stdin."""
    parent = os.getppid()
    # `kill -USR1 <pid>` prints every thread's stack to the server's log: what a chunk waits on.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    threading.Thread(target=_exit_with_parent, args=(parent,), name="parent-watch", daemon=True).start()
    settings = Settings.model_validate_json(sys.stdin.readline())
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s job-worker %(levelname)s %(name)s: %(message)s")
    for ours in ("discovery", "indexer"):
        logging.getLogger(ours).setLevel(logging.INFO)
    os.nice(WORKER_NICE)
    ctx = Context.open(settings)
    runner = ThreadRunner(
        ctx, kinds=job_kinds(), workers=settings.workers, reconcile_every=RECONCILE_EVERY_S, queue_id=sys.argv[1]
    ).start()
    try:
        read_messages(sys.stdin, lambda job, chunk, delay: runner.send(job, chunk, delay=delay))
    finally:
        runner.close(wait=True)
        ctx.close()


if __name__ == "__main__":
    main()
