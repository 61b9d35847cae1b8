"""The scale-out stack as separate real processes, for the node-loss tests and the scale bench:
`discovery serve` and `discovery worker` processes (Celery on Redis) over PostgreSQL records and
the local OpenSearch cluster that `scripts/services cluster start 3` runs, a search loop that
counts its answers and errors, and a throwaway PostgreSQL that may be killed.

Everything is asked through the server's public HTTP API, never by opening the index or db."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from discovery.config import Settings
from discovery.errors import BackendUnavailable
from discovery.store.index import make_backend
from tests.integration.server_support import ADMIN_KEY, Server
from tests.support import processes
from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "scripts" / "services"


def cluster_urls() -> list[str]:
    """The local cluster's node URLs, as `scripts/services cluster urls` prints them."""
    out = subprocess.run([str(SERVICES), "cluster", "urls"], capture_output=True, text=True, check=True, cwd=ROOT)
    return [u for u in out.stdout.strip().split(",") if u]


def cluster_health(url: str, **params: str) -> dict[str, Any]:
    answer = httpx.get(f"{url}/_cluster/health", params=params, timeout=60)
    body: dict[str, Any] = answer.json()
    return body


def node_pid(number: int) -> int:
    out = subprocess.run([str(SERVICES), "cluster", "pid", str(number)], capture_output=True, text=True, cwd=ROOT)
    return int(out.stdout.strip())


def restart_cluster(nodes: int) -> None:
    """Start what is not running (a killed node) and wait until all `nodes` are in."""
    subprocess.run([str(SERVICES), "cluster", "start", str(nodes)], check=True, cwd=ROOT, capture_output=True)


def primary_node(url: str, index_prefix: str) -> int:
    """The number of the node (node-N) holding the primary of the index behind the alias."""
    rows = httpx.get(f"{url}/_cat/shards/{index_prefix}", params={"format": "json"}, timeout=30).json()
    primary = next(r for r in rows if r["prirep"] == "p" and r["state"] == "STARTED")
    return int(str(primary["node"]).removeprefix("node-"))


def product_csv(rows: int, *, start: int = 0, tag: str = "") -> bytes:
    """A product export: SKUs P-<start>... with names, brands, prices and categories."""
    lines = ["sku,name,brand,price,categories,color,size"]
    kinds = ("Shoes/Sneakers", "Shoes/Boots", "Tops/Shirts", "Tops/Hoodies", "Bags")
    colours = ("Red", "Blue", "Black", "White", "Green")
    lines += [
        f"P-{i:07d},Product {i} {tag}shirt,Brand {i % 23},{10 + i % 90}.50,Women/{kinds[i % 5]},{colours[i % 5]},"
        f"{'SML'[i % 3]}"
        for i in range(start, start + rows)
    ]
    return ("\n".join(lines) + "\n").encode()


@dataclass
class Stack:
    """A server and its Celery workers, all on one environment."""

    data_dir: Path
    env: dict[str, str]
    log: Path
    server: Server | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *, workers: int = 1, concurrency: int = 2) -> Stack:
        ensure_index(self.env)
        self.server = Server(self.data_dir, self.log, **self.env)
        for _ in range(workers):
            self.start_worker(concurrency)
        return self

    def start_worker(self, concurrency: int = 2) -> None:
        env = {**os.environ, **(self.server.env if self.server else self.env), "DISCOVERY_WORKERS": str(concurrency)}
        self.workers.append(subprocess.Popen(
            [sys.executable, "-m", "discovery.cli", "worker"], cwd=ROOT, env=env,
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        ))

    @property
    def http(self) -> httpx.Client:
        assert self.server is not None
        return self.server.http

    def import_products(self, csv: bytes, filename: str = "export.csv") -> str:
        answer = self.http.post("/api/ingest/products", files={"file": (filename, csv, "text/csv")})
        assert answer.status_code == 202, answer.text
        return str(answer.json()["id"])

    def job(self, job_id: str) -> dict[str, Any]:
        """The job as the API tells it."""
        answer = self.http.get(f"/api/jobs/{job_id}")
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body

    def wait_job(self, job_id: str, timeout: float, *, progress: float = 1.01) -> dict[str, Any]:
        """The job once it ended (or reached `progress`); transient API errors are waited out."""
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                last = self.job(job_id)
                if last["state"] in ("succeeded", "failed", "cancelled") or float(last["progress"]) >= progress:
                    return last
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} did not get there in {timeout:.0f}s: {last}")

    def all_skus(self) -> list[str]:
        assert self.server is not None
        return self.server.skus()

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(worker.pid, signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        if self.server is not None:
            self.server.stop()


def ensure_index(env: dict[str, str], timeout: float = 300.0) -> None:
    """Create the index before the server starts. A new index is published to every node of
    the cluster; on a loaded 2-core box that can outlast the client's 30 s, and a server whose
    start-up `ensure_ready` times out exits (an operator would create it, then start)."""
    settings = Settings(
        backend="opensearch", opensearch_url=env["DISCOVERY_OPENSEARCH_URL"],
        index_prefix=env["DISCOVERY_INDEX_PREFIX"],
        opensearch_shards=int(env.get("DISCOVERY_OPENSEARCH_SHARDS", "1")),
        opensearch_replicas=int(env.get("DISCOVERY_OPENSEARCH_REPLICAS", "0")),
    )
    deadline = time.monotonic() + timeout
    while True:
        backend = make_backend(settings)
        try:
            backend.ensure_ready()
            return
        except BackendUnavailable:
            if time.monotonic() > deadline:
                raise
        finally:
            backend.close()


class SearchLoop:
    """Searches sent one after another from a thread: answers, errors, and when they came."""

    def __init__(self, url: str, params: dict[str, str] | None = None, pause_s: float = 0.05) -> None:
        self.url = url
        self.params = params or {"q": "shirt", "type": "product", "facets": "brand"}
        self.pause_s = pause_s
        self.ok: list[float] = []  # monotonic times of good answers
        self.errors: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SearchLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30, headers={"X-API-Key": ADMIN_KEY}) as http:
            while not self._stop.is_set():
                try:
                    answer = http.get("/api/search", params=self.params)
                    if answer.status_code == 200:
                        self.ok.append(time.monotonic())
                    else:
                        self.errors.append((time.monotonic(), f"{answer.status_code} {answer.text[:120]}"))
                except httpx.HTTPError as exc:
                    self.errors.append((time.monotonic(), repr(exc)))
                self._stop.wait(self.pause_s)


class ThrowawayPostgres:
    """A PostgreSQL of its own (initdb under /tmp, a free port), found the way scripts/services
    finds Debian's binaries, run as the services' unprivileged user when we are root: this one
    may be killed with -9, never the shared server."""

    USER = "discovery-svc"

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
        if not found:
            raise FileNotFoundError("no PostgreSQL under /usr/lib/postgresql")
        self.bin = found[-1]
        self.dir = Path(tempfile.mkdtemp(prefix="scale-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.dir.chmod(0o755)
        self._as_user(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust")

    def _as_user(self, *args: str) -> None:
        prefix = ["runuser", "-u", self.USER, "--"] if os.getuid() == 0 else []
        if os.getuid() == 0:
            shutil.chown(self.dir, self.USER)
        subprocess.run([*prefix, *args], check=True, capture_output=True)

    def start(self) -> None:
        self._as_user(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t", "60",
            "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir}", "start",
        )

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def kill_9(self) -> None:
        """The primary's postmaster and every backend, as a crash of the server would."""
        pid = self.postmaster_pid()
        children = processes.children(pid)
        os.kill(pid, signal.SIGKILL)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(processes.pid_alive(p) for p in [pid, *children]) and time.monotonic() < deadline:
            time.sleep(0.05)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self._as_user(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
