"""Chunk messages through a pipe: how a server hands its jobs to the job worker process it
supervises (`discovery.services.job_process`).

The server's `PipeDispatcher` writes one JSON line per chunk to the worker's stdin; the
worker reads them (`read_messages`) and sends each to its own in-process `ThreadRunner`,
whose queue id the server chose and named when it started the worker. The records hold
every chunk's truth, so a message lost with a dead worker costs only time: the next
worker's reconciler re-sends the chunks of a queue that stopped beating.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import IO


class PipeDispatcher:
    """A `Dispatcher` writing to the current worker's stdin (`stream()` gives it, or None
    while no worker runs)."""

    def __init__(self, queue_id: Callable[[], str], stream: Callable[[], IO[str] | None]) -> None:
        self._queue_id = queue_id
        self._stream = stream
        self._lock = threading.Lock()

    def current_queue(self) -> str:
        return self._queue_id()

    def send(self, job_id: str, chunk_no: int, *, delay: float = 0.0) -> None:
        line = json.dumps({"job": job_id, "chunk": chunk_no, "delay": delay}) + "\n"
        with self._lock:
            stream = self._stream()
            if stream is None:
                raise ConnectionError("the job worker process is not running")  # transient: re-sent later
            stream.write(line)
            stream.flush()

    def is_live(self, queue_id: str) -> bool:
        return queue_id == self._queue_id() or not queue_id.startswith("thread:")


def read_messages(stream: IO[str], send: Callable[[str, int, float], None]) -> None:
    """Pass each chunk message on `stream` to `send(job_id, chunk_no, delay)` until EOF
    (the server closed the pipe, or died)."""
    for line in stream:
        if not line.strip():
            continue
        message = json.loads(line)
        send(str(message["job"]), int(message["chunk"]), float(message.get("delay") or 0.0))
