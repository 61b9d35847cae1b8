"""The thread that writes owed index documents (`store.index_pending`) in batches.

A review decision writes its records, wakes this thread and answers. The thread waits
`gather` seconds, so decisions arriving together share one rebuild and one commit (and, under
a steady stream of decisions, until `spacing` seconds after the previous drain began: an index
commit costs ~20 ms of CPU and ~150 ms of the writer lease at 20,000 documents), then runs
the drain (`owed_docs.drain`: rebuild the owed documents from the records, commit them, mark
them done). Unwoken it runs every `every` seconds: rows another process left, or a crash did,
are written then. A drain that fails leaves its rows owed; the next run tries again.

Held on the service `Context` (never a module global), started on first use or by the
server at start, and run once more when the context closes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("discovery.index")


class DocWriter:
    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()  # one drain at a time (the thread, `close`, tests)
        self._thread: threading.Thread | None = None
        self._drain: Callable[[], int] | None = None

    def start(self, drain: Callable[[], int], *, every: float, gather: float, spacing: float = 0.0) -> None:
        """Run `drain` on a daemon thread when woken and every `every` seconds, drains
        starting at least `spacing` seconds apart (once; later calls do nothing). `drain`
        returns how many rows it wrote."""
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._drain = drain
            args = (every, gather, spacing)
            self._thread = threading.Thread(target=self._run, args=args, name="doc-writer", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def run_drain(self) -> int:
        """Run the drain once; how many rows it wrote."""
        if self._drain is None:
            return 0
        with self._run_lock:
            return self._drain()

    def _run(self, every: float, gather: float, spacing: float) -> None:
        last, first = 0.0, True  # the first drain runs at once: what a crash left owed
        while not self._stop.is_set():
            if first:
                first = False
            elif self._wake.wait(every):
                # Decisions arriving together share the drain; under a steady stream of them
                # drains (each one index commit) start `spacing` apart.
                self._stop.wait(max(gather, last + spacing - time.monotonic()))
            if self._stop.is_set():
                return
            self._wake.clear()  # before the drain reads the rows: a later wake runs another
            last = time.monotonic()
            try:
                self.run_drain()
            except Exception:  # noqa: BLE001 - the rows stay owed; the next run tries again
                log.exception("writing owed index documents failed; they stay owed")
                self._stop.wait(every)

    def close(self, *, timeout: float = 10.0) -> None:
        """Stop the thread and write what is still owed (what cannot be stays owed)."""
        self._stop.set()
        self._wake.set()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            try:
                self.run_drain()
            except Exception:  # noqa: BLE001 - shutdown goes on; the rows stay owed for the next start
                log.exception("final write of owed index documents failed; they stay owed")
