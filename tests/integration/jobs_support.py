"""Helpers for the job tests: a small job kind that writes real product records, an
environment for it, and a worker process started the way `discovery worker` starts one.

`RowsKind` ("test_rows") plans `params["rows"]` rows into chunks of `tuning.chunk_size`; each
row upserts product `R-<i>` into the records (an idempotent upsert by SKU, like an import).
Row `params["poison"]` raises on every try (a decoder crash); `params["flaky"]` names
chunks whose first `params["flaky_times"]` runs raise `BackendUnavailable`, counted in a
file so that worker processes share the count; `params["row_sleep_s"]` slows rows down so a
test can act while a job is in the middle.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from discovery.config import Settings
from discovery.domain import Product
from discovery.errors import BackendUnavailable, RejectedInput
from discovery.foreground import Foreground
from discovery.store.blobs import FilesystemBlobStore
from discovery.store.records import Records
from indexer.jobs.items import each_item
from indexer.jobs.model import ChunkContext, ChunkResult, JobEnv, PlanResult

WORKER = Path(__file__).with_name("jobs_worker.py")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RecordsEnv:
    """Just the stores `RowsKind` needs (no search engine, no models)."""

    settings: Settings
    records: Records
    blobs: FilesystemBlobStore
    backend: Any = None
    foreground: Foreground = field(default_factory=Foreground)
    ended: list[tuple[str, str]] = field(default_factory=list)  # (job id, state), as told

    def clip(self) -> Any:
        raise NotImplementedError

    def job_ended(self, job_id: str, state: str) -> None:
        self.ended.append((job_id, state))

    def text(self) -> Any:
        return None

    @classmethod
    def open(cls, settings: Settings) -> RecordsEnv:
        return cls(settings, Records.open(settings.records_url), FilesystemBlobStore(settings.blob_dir))


class RowsKind:
    name = "test_rows"
    ordered = False

    def plan(self, env: JobEnv, chunk: ChunkContext) -> PlanResult:
        rows = chunk.params["rows"]
        if not isinstance(rows, int):
            raise RejectedInput(f"rows must be a number, not {rows!r}", field="rows")
        size = chunk.tuning.chunk_size
        return PlanResult(
            [{"label": f"rows {s}-{min(s + size, rows) - 1}", "start": s, "stop": min(s + size, rows)}
             for s in range(0, rows, size)]
        )

    def run(self, env: JobEnv, chunk: ChunkContext) -> ChunkResult:
        self._maybe_flake(env, chunk)
        start, stop = int(chunk.payload["start"]), int(chunk.payload["stop"])  # type: ignore[arg-type]
        poison = chunk.params.get("poison")
        pause = float(chunk.params.get("row_sleep_s") or 0.0)  # type: ignore[arg-type]
        result = ChunkResult()
        result.add("received", stop - start)

        def make(i: int) -> Product:
            if pause:
                time.sleep(pause)
            if i == poison:
                raise ValueError(f"cannot decode row {i}")
            return Product(sku=f"R-{i:06d}", name=f"Row {i}", source={"job": chunk.job_id})

        made = each_item(range(start, stop), make, chunk=chunk, result=result, describe=lambda i: {"line": i})
        products = [p for _, p in made]
        env.records.upsert_products(products)
        result.add("indexed", len(products))
        return result

    def _maybe_flake(self, env: JobEnv, chunk: ChunkContext) -> None:
        if chunk.chunk_no not in (chunk.params.get("flaky") or []):  # type: ignore[operator]
            return
        marker = env.settings.data_dir / f"flaky-{chunk.job_id}-{chunk.chunk_no}"
        seen = int(marker.read_text()) if marker.exists() else 0
        marker.write_text(str(seen + 1))
        if seen < int(chunk.params.get("flaky_times") or 0):  # type: ignore[arg-type]
            raise BackendUnavailable("search engine away (test)")


class GoneProcess:
    """A dispatcher whose queue belonged to a process that died: what is sent there is lost."""

    def current_queue(self) -> str:
        return "thread:gone"

    def send(self, job_id: str, chunk_no: int, *, delay: float = 0.0) -> None:
        pass

    def is_live(self, queue_id: str) -> bool:
        return False


def extra_kinds() -> dict[str, Any]:
    return {RowsKind.name: RowsKind()}


def product_csv(rows: int, *, duplicates: int = 0, bad: int = 0) -> bytes:
    """A canonical product export: `rows` products P-000000..., then `duplicates` rows repeating
    the first SKUs with a new name (the later row wins) and `bad` rows without a SKU."""
    lines = ["sku,name,brand,price,categories"]
    lines += [f"P-{i:06d},Product {i},Brand {i % 7},{10 + i % 90}.50,Women/Shoes/Sneakers" for i in range(rows)]
    lines += [f"P-{i:06d},Product {i} renamed,Brand {i % 7},9.99,Women/Shoes" for i in range(duplicates)]
    lines += [f",Nameless {i},Brand,1.00,Women" for i in range(bad)]
    return ("\n".join(lines) + "\n").encode()


def start_worker(env: dict[str, str], *, queue: str, log: Path, pool: str = "threads", concurrency: int = 2,
                 reconcile_every: float = 0.5, context: bool = False) -> subprocess.Popen[bytes]:
    """A real worker process in its own process group (so `kill -9` takes all of it). With
    `context`, chunks run on the service's full context (search index included)."""
    args = [sys.executable, str(WORKER), "--queue", queue, "--pool", pool, "--concurrency", str(concurrency),
            "--reconcile-every", str(reconcile_every), "--env", "context" if context else "records"]
    out = log.open("ab")
    return subprocess.Popen(
        args, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


class Outage:
    """A TCP forwarder in front of a real service (here OpenSearch) that can be cut off and
    restored: clients see connections refused and open ones reset, as when the service
    stops, while the shared service itself keeps running for everyone else."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Outage:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        for _ in range(100):  # the port's old connections may take a moment to go
            try:
                listener.bind(("127.0.0.1", self.port))
                break
            except OSError:
                time.sleep(0.1)
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._open = self._open, set()
        if listener is not None:
            listener.close()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def restore(self) -> None:
        self.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    client.close()
                    upstream.close()
                    return
                self._open |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
