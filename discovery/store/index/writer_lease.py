"""The embedded index's writer lease: which process may write, one at a time, by design.

Every process that opens the embedded engine (the server, its job worker, a CLI command,
a Celery worker, a second server) may write. Before it opens a tantivy writer it takes
this lease, an exclusive `flock` on `<index root>/.writer.lock`; it writes one batch,
commits, saves the vectors, closes the writer and lets the lease go. A second writer
waits on the lock (it never sees tantivy's "locked by another writer"), so writes from
many processes interleave batch by batch.

A process that dies holding the lease loses it with its file descriptor: the kernel
releases a `flock` when the process ends, however it ends, and tantivy's own lock file
is an `flock` too. What it had not committed is lost from the index only; the records
hold it, and the job that wrote it runs the chunk again (a chunk is recorded done only
after its commit).

Readers take the lease shared and without waiting, to see a commit whole (the tantivy
files and the vector segments written under one exclusive hold); when a writer holds it
they try again on their next look.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".writer.lock"


class WriterLease:
    """An `flock` on one file, shared by the threads of this process (callers serialise
    among themselves; see `EmbeddedBackend`)."""

    def __init__(self, root: Path) -> None:
        self.path = root / LOCK_NAME
        self._fd: int | None = None
        self._open_lock = threading.Lock()

    def _descriptor(self) -> int:
        with self._open_lock:
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            return self._fd

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the lease to write; waits while another process writes."""
        fd = self._descriptor()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    @contextmanager
    def shared_now(self) -> Iterator[bool]:
        """Hold the lease shared if no writer holds it; yields whether it is held."""
        fd = self._descriptor()
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._open_lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
