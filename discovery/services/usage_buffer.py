"""Usage rows held in memory until a background thread writes them, so recording a search or
a view costs the request one append under a lock.

Held on the service `Context` (never a module global), started on first use, and flushed
once more when the context closes. Bounded: past `cap` rows, new rows are counted as
dropped rather than growing memory while the database is unreachable.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

Row = Mapping[str, object]

log = logging.getLogger("discovery.analytics")


class UsageBuffer:
    def __init__(self, *, cap: int = 100_000) -> None:
        self.cap = cap
        self.dropped = 0
        self._searches: list[Row] = []
        self._events: list[Row] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._flush: Callable[[], object] | None = None

    def _room(self) -> bool:
        if len(self._searches) + len(self._events) < self.cap:
            return True
        self.dropped += 1
        return False

    def add_search(self, row: Row) -> None:
        with self._lock:
            if self._room():
                self._searches.append(row)

    def add_event(self, row: Row) -> None:
        with self._lock:
            if self._room():
                self._events.append(row)

    def count_dropped(self, n: int) -> None:
        with self._lock:
            self.dropped += n

    def pending(self) -> int:
        with self._lock:
            return len(self._searches) + len(self._events)

    def take(self) -> tuple[list[Row], list[Row]]:
        """Everything buffered so far, leaving the buffer empty."""
        with self._lock:
            searches, events = self._searches, self._events
            self._searches, self._events = [], []
        return searches, events

    def put_back(self, searches: list[Row], events: list[Row]) -> None:
        """Rows a failed write took, returned ahead of newer ones (within the cap)."""
        with self._lock:
            room = max(self.cap - len(self._searches) - len(self._events), 0)
            keep_s = searches[:room]
            keep_e = events[: max(room - len(keep_s), 0)]
            self.dropped += len(searches) + len(events) - len(keep_s) - len(keep_e)
            self._searches = keep_s + self._searches
            self._events = keep_e + self._events

    def run_flush(self) -> object:
        """Run the flush callback, one at a time (the thread, `close` and tests may race)."""
        if self._flush is None:
            return None
        with self._flush_lock:
            return self._flush()

    def start(self, flush: Callable[[], object], *, interval: float) -> None:
        """Flush every `interval` seconds on a daemon thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._flush = flush
            self._thread = threading.Thread(target=self._run, args=(interval,), name="usage-flush", daemon=True)
            self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.run_flush()
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.exception("usage flush failed")

    def close(self, *, timeout: float = 5.0) -> None:
        """Stop the thread and write what is left. Safe at any time: before `start` (nothing
        runs; a later `start` does nothing), while another thread is in `start`, or twice."""
        # Under the lock that `start` holds until its thread runs: a thread seen here has started
        # (joining one that has not raises), and once `_stop` is set no thread will be started.
        with self._lock:
            self._stop.set()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        if self._flush is None and self.pending():
            log.warning("usage buffer closed before it started: %d rows not written", self.pending())
        try:
            self.run_flush()
        except Exception:  # noqa: BLE001 - shutdown goes on; the rows are lost and said so
            log.exception("final usage flush failed; %d rows lost", self.pending())
