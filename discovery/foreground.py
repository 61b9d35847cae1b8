"""Background work in the API's own process steps aside while requests are being answered.

With the in-process job runner (the embedded default), an import and the searches share
one interpreter: measured on 2 cores, a running import held the GIL so much that the
server used 1.25 cores and answered 52 of 98 requests a second, p99 55 s. Job threads
now call `step_aside()` between small pieces of work (a row, a document, an embedding
batch); while any request is in flight it waits, releasing the GIL, for up to
`longest` seconds before doing the next piece, so an import still moves on under
constant traffic, only slower.

The HTTP layer counts requests on the context's `Foreground`; the in-process job runner
marks its threads with `background(gate)`. Only marked threads ever wait: a request
thread that writes (a review decision) must never wait for itself, and a Celery worker,
with no requests in flight, never waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

PAUSE_S = 0.05  # the longest one step waits for a quiet moment

_marks = threading.local()


class Foreground:
    """Requests in flight in this process."""

    def __init__(self) -> None:
        self._busy = 0
        self._quiet = threading.Condition()
        self.waits = 0  # steps that found requests in flight
        self.waited_s = 0.0  # and how long they waited in all

    @property
    def in_flight(self) -> int:
        return self._busy

    def started(self) -> None:
        with self._quiet:
            self._busy += 1

    def finished(self) -> None:
        with self._quiet:
            self._busy = max(0, self._busy - 1)
            if not self._busy:
                self._quiet.notify_all()

    def wait_quiet(self, longest: float) -> float:
        """Wait until nothing is in flight, at most `longest` seconds; the seconds waited."""
        if not self._busy:  # one unlocked read on the common path
            return 0.0
        started = time.monotonic()
        deadline = started + longest
        with self._quiet:
            while self._busy and (left := deadline - time.monotonic()) > 0:
                self._quiet.wait(left)
            waited = time.monotonic() - started
            self.waits += 1
            self.waited_s += waited
        return waited


@contextmanager
def background(gate: Foreground | None) -> Iterator[None]:
    """This thread's work yields to `gate`'s requests for the duration."""
    before = getattr(_marks, "gate", None)
    _marks.gate = gate
    try:
        yield
    finally:
        _marks.gate = before


def step_aside(longest: float = PAUSE_S) -> float:
    """In a thread marked `background`: wait for a moment without requests (at most
    `longest` seconds). Anywhere else it returns at once. The seconds waited."""
    gate: Foreground | None = getattr(_marks, "gate", None)
    return gate.wait_quiet(longest) if gate is not None else 0.0
