"""A small in-process outbox: work items run on background threads, each when it is due.

The request that queues an item never waits for it. A handler may ask for its item to run
again later (a retry after a delay). Held on the service `Context`, started on first use
and closed with it; what is still queued at close is handed to the `abandon` callback.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
# Runs one item; returns None when done, or seconds after which to run it again.
Handler = Callable[[Item], float | None]

log = logging.getLogger("discovery.outbox")


class Outbox(Generic[Item]):
    def __init__(self, name: str = "outbox") -> None:
        self.name = name
        self._heap: list[tuple[float, int, Item]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closing = False
        self._busy = 0
        self._abandon: Callable[[Item], None] | None = None

    def start(self, handler: Handler[Item], *, workers: int = 2, abandon: Callable[[Item], None] | None = None) -> None:
        """Start the worker threads (once; later calls do nothing)."""
        with self._cond:
            if self._threads or self._closing:
                return
            self._abandon = abandon
            for n in range(workers):
                thread = threading.Thread(target=self._work, args=(handler,), name=f"{self.name}-{n}", daemon=True)
                self._threads.append(thread)
                thread.start()

    def put(self, item: Item, *, delay: float = 0.0) -> None:
        with self._cond:
            closing = self._closing
            if not closing:
                heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), item))
                self._cond.notify()
        if closing and self._abandon:
            self._abandon(item)

    def pending(self) -> int:
        """Items queued or running."""
        with self._cond:
            return len(self._heap) + self._busy

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or running (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pending() == 0:
                return True
            time.sleep(0.02)
        return self.pending() == 0

    def _next(self) -> Item | None:
        with self._cond:
            while not self._closing:
                if self._heap:
                    due = self._heap[0][0] - time.monotonic()
                    if due <= 0:
                        self._busy += 1
                        return heapq.heappop(self._heap)[2]
                    self._cond.wait(due)
                else:
                    self._cond.wait()
            return None

    def _work(self, handler: Handler[Item]) -> None:
        while (item := self._next()) is not None:
            again: float | None = None
            try:
                again = handler(item)
            except Exception:  # noqa: BLE001 - one bad item must not stop the worker
                log.exception("%s: an item failed", self.name)
            if again is not None:  # queued before it stops counting as busy, so idle means done
                self.put(item, delay=again)
            with self._cond:
                self._busy -= 1

    def close(self, *, timeout: float = 2.0) -> None:
        """Stop the workers (each finishes the item in hand) and abandon what is queued."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(timeout)
        with self._cond:
            left, self._heap = [entry[2] for entry in self._heap], []
        for item in left:
            if self._abandon:
                try:
                    self._abandon(item)
                except Exception:  # noqa: BLE001 - shutdown goes on
                    log.exception("%s: abandoning an item failed", self.name)
