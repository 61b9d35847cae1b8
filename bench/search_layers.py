"""The layers bench_search.py times one request through: the service function, HTTP,
and the engine calls the service made, replayed straight to the engine (its backend
adapter, and for OpenSearch also the raw `_search` bodies over REST).

The raw calls are not rebuilt by hand: a recording pass runs each request through the
service with the backend wrapped, and keeps exactly the `search`/`knn`/`get` calls it
made (query embeddings included), so the raw path asks the engine the same questions.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from discovery.store.index.base import IndexDoc, ScoredId, SearchBackend, SearchQuery, SearchResult

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Call:
    method: str  # search | knn | get
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


@dataclass
class Recorder:
    """A backend that passes everything through and notes the read calls."""

    inner: SearchBackend
    calls: list[Call] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.inner.name

    def search(self, query: SearchQuery) -> SearchResult:
        self.calls.append(Call("search", (query,), {}))
        return self.inner.search(query)

    def knn(self, vector: Sequence[float], **kwargs: Any) -> list[ScoredId]:
        self.calls.append(Call("knn", (list(vector),), kwargs))
        return self.inner.knn(vector, **kwargs)

    def get(self, ids: Sequence[str]) -> dict[str, IndexDoc]:
        self.calls.append(Call("get", (list(ids),), {}))
        return self.inner.get(ids)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def replay(backend: SearchBackend, calls: Sequence[Call]) -> None:
    for c in calls:
        getattr(backend, c.method)(*c.args, **c.kwargs)


def rest_bodies(calls: Sequence[Call]) -> list[tuple[str, bytes]]:
    """The OpenSearch request bodies the adapter renders for `calls`, serialised once, so
    the REST layer times only the round trip and OpenSearch's own work."""
    from discovery.store.index import opensearch_knn as oknn
    from discovery.store.index import opensearch_search as osearch

    out = []
    for c in calls:
        if c.method == "search":
            body: dict[str, Any] = osearch.plan(c.args[0]).body
            out.append(("_search", json.dumps(body).encode()))
        elif c.method == "knn":
            kw = dict(c.kwargs)
            # Applied to the answer (min_score), or to how an error is read (strict_model): not sent.
            kw.pop("min_score", None)
            kw.pop("strict_model", None)
            kw.setdefault("types", ("asset",))
            kw["filters"] = kw.get("filters") or {}
            kw["ranges"] = kw.get("ranges") or {}
            kw.setdefault("exclude_ids", ())
            body = oknn.knn_body(oknn.unit(c.args[0]), **kw)
            out.append(("_search", json.dumps(body).encode()))
        elif c.args[0]:  # the adapter sends no request for no ids
            out.append(("_mget", json.dumps({"ids": c.args[0]}).encode()))
    return out


class RestReplay:
    """Posts prebuilt bodies to the alias; keeps OpenSearch's own `took` per request."""

    def __init__(self, url: str, alias: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=30.0)
        self.alias = alias
        self.took_ms: list[float] = []

    def send(self, bodies: Sequence[tuple[str, bytes]]) -> list[bytes]:
        answers = []
        for endpoint, body in bodies:
            r = self.client.post(
                f"/{self.alias}/{endpoint}", content=body, headers={"Content-Type": "application/json"}
            )
            r.raise_for_status()
            answers.append(r.content)
        return answers

    def took(self, answers: Sequence[bytes]) -> float:
        return float(sum(json.loads(a).get("took", 0) for a in answers))

    def close(self) -> None:
        self.client.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`discovery serve` in a subprocess over the same data (its log goes to a file)."""

    def __init__(self, env: Mapping[str, str], log: Path) -> None:
        self.port = free_port()
        full = {**os.environ, **env, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
        exe = Path(sys.executable).with_name("discovery")
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [str(exe), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=full,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60.0)
        self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60.0)
        self._wait(log)

    def _wait(self, log: Path, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"discovery serve exited: {log.read_text()[-2000:]}")
            try:
                if self.client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError("discovery serve did not answer /healthz in time")
        self._wait_warm()

    def _wait_warm(self, timeout: float = 3600.0) -> None:
        """Until the server's HNSW graphs are built: a build running beside the timed
        queries took a core from every layer, the in-process ones included."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.client.get("/readyz").json().get("warming"):
                return
            time.sleep(1.0)
        raise RuntimeError("discovery serve was still building its HNSW graphs")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def get(self, params: Sequence[tuple[str, str]], path: str = "/api/search") -> bytes:
        """One GET over a kept-alive connection. Plain `http.client`, as wrk or k6 would
        send it: httpx spent most of a millisecond per request here on its own side,
        which read as server overhead."""
        target = f"{path}?{urlencode(list(params))}" if params else path
        for attempt in (1, 2):
            try:
                self._conn.request("GET", target)
                r = self._conn.getresponse()
                body = r.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self._conn.close()  # the server closed an idle connection: send it again
                if attempt == 2:
                    raise
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}: {body[:500]!r}")
        return body

    def close(self) -> None:
        self.client.close()
        self._conn.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


def timed_ms(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU milliseconds (CPU of this whole process, every thread)."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000


IDLE_LEAVES = ("_worker (concurrent/futures/thread.py", "Condition.wait (", "EpollSelector.select (", "Event.wait (")


def spy(pid: int, work: Callable[[], object], out: Path) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """Sample process `pid` with py-spy (every thread, so the HTTP server's worker threads
    too) while `work` runs. Samples whose innermost frame is a thread waiting for work are
    dropped. Answers (busy samples, top frames by own samples, top frames by inclusive)."""
    exe = Path(sys.executable).with_name("py-spy")
    cmd = [str(exe), "record", "--pid", str(pid), "--rate", "500", "--format", "raw", "--output", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # let it attach
    work()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        if frames[-1].startswith(IDLE_LEAVES):
            continue
        count = int(count_text)
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    return total, own.most_common(20), inclusive.most_common(40)


class CachedEmbeddings:
    """A model stand-in that answers each query text from a cache filled by the real
    model, so the service can be timed without the model's share."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.cache: dict[tuple[str, str], Any] = {}

    def _cached(self, method: str, texts: Sequence[str]) -> Any:
        key = (method, "\x00".join(texts))
        if key not in self.cache:
            self.cache[key] = getattr(self.model, method)(texts)
        return self.cache[key]

    def encode(self, texts: Sequence[str]) -> Any:
        return self._cached("encode", texts)

    def encode_texts(self, texts: Sequence[str]) -> Any:
        return self._cached("encode_texts", texts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)
