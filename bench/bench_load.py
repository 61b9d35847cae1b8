"""Load test over loopback: the query mix at rising concurrency to saturation, then 70% of
that rate for a while as product imports run; prints latency percentiles and errors.

    .venv/bin/python bench/bench_load.py                       # 5-minute sustained phase
    .venv/bin/python bench/bench_load.py --duration 60         # a short run
    .venv/bin/python bench/bench_load.py --backend opensearch --opensearch-url http://127.0.0.1:9200

1. Builds the sample catalog (`load_demo`, --products N) in a temporary data dir (or
   --data-dir, reused when it already holds one) and an editor key (`create_key`).
2. Starts the app with uvicorn in a subprocess on 127.0.0.1 and a free port; waits for /readyz.
3. Ramp (closed loop), after --warmup seconds of unmeasured load: C workers each send the
   next request when the last one answers, C = 1, 2, 4, ... for --step seconds each; the mix
   is keyword search with facets, hybrid search, and filtered kNN (GET /api/assets/{id}/similar
   ?filter.<field>=...). Saturation is the best throughput seen; the ramp stops once more
   workers stop adding throughput.
4. Sustained (open loop): requests start on a fixed schedule at --load x saturation for
   --duration seconds, whether earlier ones have answered or not, while product imports
   (POST /api/ingest/products, --import-rows rows each) run one after another as an editor.
   Every round updates the same SKUs (new prices, colours, sizes); round 0 runs before the
   ramp, so the catalog is the same size while saturation is measured and during imports.
   With --no-import the phase runs without imports (a baseline to compare with).
   The mix goes through `load_client.LeanClient` (keep-alive GETs over asyncio streams):
   the generator shares the cores with the server, and httpx cost ~1 ms CPU a request.
   Latency counts from the scheduled start, so a stalled server is not hidden by a
   client that waited for it (coordinated omission).
5. Verdict: PASS only with no errors, every import succeeded (or cancelled by the bench
   at the end), the server still answering, AND the p99 of the sustained mix within
   --p99-budget-ms (default 100 ms, issue 16's budget for search during imports); FAIL
   names which of these failed.
Bounded: at most --max-requests requests, --max-inflight at once, and ramp + duration in time.
Loopback only: the server binds 127.0.0.1 and the client talks to nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from discovery.api.auth import create_key  # noqa: E402
from discovery.config import Settings  # noqa: E402
from discovery.services.context import Context  # noqa: E402
from discovery.services.demo import load_demo  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_client import LeanClient  # noqa: E402

HOST = "127.0.0.1"
MIX = (("keyword+facets", 0.5), ("hybrid", 0.3), ("filtered knn", 0.2))
FACETS = "brand,category,color,size"
PERCENTILES = (50, 95, 99, 99.9)


@dataclass
class Target:
    """What the mix draws from: words to search, assets and filters for kNN."""

    words: list[str]
    assets: list[str]
    knn_filters: list[tuple[str, str]]
    brands: list[str]


@dataclass
class Tally:
    """Latencies (seconds) and errors by kind of request."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(map(len, self.latencies.values())) + sum(self.errors.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def all_latencies(self) -> list[float]:
        return [x for values in self.latencies.values() for x in values]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _settings(args: argparse.Namespace, data_dir: Path) -> Settings:
    if args.backend == "opensearch":
        return Settings(
            data_dir=data_dir, backend="opensearch", opensearch_url=args.opensearch_url, index_prefix=args.index_prefix,
            torch_threads=args.torch_threads,
        )
    return Settings(data_dir=data_dir, backend="embedded", torch_threads=args.torch_threads)


def _env(settings: Settings) -> dict[str, str]:
    """The child's configuration, through the DISCOVERY_* variables Settings reads."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCOVERY_")}
    env |= {"DISCOVERY_DATA_DIR": str(settings.data_dir), "DISCOVERY_BACKEND": settings.backend}
    env |= {"DISCOVERY_TORCH_THREADS": str(settings.torch_threads)}
    if settings.backend == "opensearch":
        env |= {"DISCOVERY_OPENSEARCH_URL": settings.opensearch_url, "DISCOVERY_INDEX_PREFIX": settings.index_prefix}
    return env


@contextlib.contextmanager
def serving(settings: Settings, port: int) -> Iterator[subprocess.Popen[bytes]]:
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "discovery.api.app:create_app", "--host", HOST,
           "--port", str(port), "--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "60"]  # fmt: skip
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(cmd, env=_env(settings), cwd=root)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited with {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://{HOST}:{port}/readyz", timeout=2).status_code == 200:
                    break
            time.sleep(0.5)
        else:
            raise SystemExit("the server did not become ready within 120 s")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _target(client: httpx.Client, info: dict[str, object]) -> Target:
    words = [str(w) for w in info.get("sample_words") or []] or ["shirt"]  # type: ignore[attr-defined]
    body = client.get("/api/search", params={"type": "asset", "size": 100, "facets": "colors,background"}).json()
    assets = [h["id"] for h in body["hits"]]
    knn = [(name, v["value"]) for name in ("colors", "background") for v in body["facets"].get(name, [])[:4]]
    brands = [v["value"] for v in client.get("/api/search", params={"facets": "brand"}).json()["facets"]["brand"]]
    if not assets or not knn:
        raise SystemExit("the catalog has no assets to run kNN on")
    return Target(words, assets, knn, brands)


def _request(kind: str, target: Target, rng: random.Random) -> tuple[str, dict[str, str]]:
    if kind == "keyword+facets":
        params = {"q": rng.choice(target.words), "mode": "keyword", "facets": FACETS, "size": "20"}
        if rng.random() < 0.5 and target.brands:
            params["filter.brand"] = rng.choice(target.brands)
        return "/api/search", params
    if kind == "hybrid":
        return "/api/search", {"q": " ".join(rng.sample(target.words, 2)), "mode": "hybrid", "size": "20"}
    name, value = rng.choice(target.knn_filters)
    return f"/api/assets/{rng.choice(target.assets)}/similar", {"k": "20", f"filter.{name}": value}


def _kind(rng: random.Random) -> str:
    return rng.choices([kind for kind, _ in MIX], weights=[share for _, share in MIX])[0]


async def _one(client: LeanClient, target: Target, rng: random.Random, tally: Tally, started: float) -> None:
    kind = _kind(rng)
    path, params = _request(kind, target, rng)
    try:
        response = await client.get(path, params=params)
        ok = response.status == 200
        why = f"{response.status} {path} {response.text[:120]}"
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        ok, why = False, f"{type(exc).__name__} {path}"
    if ok:
        tally.latencies[kind].append(time.perf_counter() - started)
    else:
        tally.errors[kind] += 1
        if len(tally.examples) < 5:
            tally.examples.append(why)


async def closed_loop(base: str, target: Target, workers: int, seconds: float, budget: list[int]) -> Tally:
    """`workers` callers, each sending its next request when the last one answered."""
    tally = Tally()
    end = time.perf_counter() + seconds
    async with LeanClient(base, max_connections=workers, timeout=30) as client:

        async def worker(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < end and budget[0] > 0:
                budget[0] -= 1
                await _one(client, target, rng, tally, time.perf_counter())

        await asyncio.gather(*(worker(i) for i in range(workers)))
    return tally


async def open_loop(
    base: str, target: Target, rate: float, seconds: float, max_inflight: int, budget: list[int]
) -> tuple[Tally, float]:
    """Requests started on a fixed schedule at `rate` per second; returns the tally and the
    worst lag of the schedule (how far behind the client itself fell)."""
    tally, rng = Tally(), random.Random(7)
    gate = asyncio.Semaphore(max_inflight)
    tasks: set[asyncio.Task[None]] = set()
    lag = 0.0
    async with LeanClient(base, max_connections=max_inflight, timeout=60) as client:
        start = time.perf_counter()
        n = 0
        while budget[0] > 0:
            due = start + n / rate
            if due - start >= seconds:
                break
            now = time.perf_counter()
            if due > now:
                await asyncio.sleep(due - now)
            lag = max(lag, time.perf_counter() - due)
            await gate.acquire()
            budget[0] -= 1
            task = asyncio.create_task(_gated(gate, _one(client, target, rng, tally, due)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        await asyncio.gather(*tasks)
    return tally, lag


async def _nothing() -> list[dict[str, object]]:
    return []


async def _gated(gate: asyncio.Semaphore, work: Awaitable[None]) -> None:
    try:
        await work
    finally:
        gate.release()


def _products_csv(rows: int, round_no: int) -> bytes:
    """The same SKUs every round with new prices, colours and sizes: a feed updating the
    catalog, so the catalog the searches run over keeps its size through the run."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sku", "name", "description", "brand", "categories", "price", "currency", "color", "size"])
    rng = random.Random(round_no)
    for i in range(rows):
        colour = rng.choice(["Red", "Blue", "Green", "Black", "White"])
        name, price = f"Load test tee {i} {colour}", f"{rng.uniform(5, 80):.2f}"
        description = f"<p>A {colour.lower()} cotton tee made for the load test.</p>"
        sku = f"LOAD-{i:06d}"
        writer.writerow(
            [sku, name, description, "Loadwear", "Men/Tops/T-Shirts", price, "EUR", colour, rng.choice("SML")]
        )
    return out.getvalue().encode()


async def imports_until(base: str, key: str, rows: int, stop: asyncio.Event) -> list[dict[str, object]]:
    """Product imports one after another until `stop`; the one still running then is
    cancelled (the run is bounded in time). Returns the jobs as they ended."""
    finished: list[dict[str, object]] = []
    async with httpx.AsyncClient(base_url=base, timeout=120, headers={"X-API-Key": key}) as client:
        round_no = 1  # round 0 ran before the ramp (`first_import`)
        while not stop.is_set():
            files = {"file": (f"load-{round_no}.csv", _products_csv(rows, round_no), "text/csv")}
            response = await client.post("/api/ingest/products", files=files)
            if response.status_code != 202:
                finished.append({"state": f"refused {response.status_code}", "detail": response.text[:200]})
                return finished
            finished.append(await _follow(client, str(response.json()["id"]), stop))
            round_no += 1
    return finished


def first_import(client: httpx.Client, key: str, rows: int) -> dict[str, object]:
    """Round 0, before the ramp: the SKUs the later rounds update are in the catalog
    while saturation is measured."""
    files = {"file": ("load-0.csv", _products_csv(rows, 0), "text/csv")}
    response = client.post("/api/ingest/products", files=files, headers={"X-API-Key": key})
    response.raise_for_status()
    job_id = str(response.json()["id"])
    while True:
        job: dict[str, object] = client.get(f"/api/jobs/{job_id}", headers={"X-API-Key": key}).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.5)


async def _follow(client: httpx.AsyncClient, job_id: str, stop: asyncio.Event) -> dict[str, object]:
    cancelled = False
    while True:
        with contextlib.suppress(httpx.TransportError):  # a poll lost to a closing keep-alive is retried
            job: dict[str, object] = (await client.get(f"/api/jobs/{job_id}")).json()
            if job["state"] in ("succeeded", "failed", "cancelled"):
                job["cancelled_by_bench"] = cancelled
                return job
            if stop.is_set() and not cancelled:
                await client.post(f"/api/jobs/{job_id}/cancel")
                cancelled = True
        await asyncio.sleep(1)


def _ms(values: list[float], q: float) -> str:
    return f"{float(np.percentile(values, q)) * 1000:8.1f}" if values else "       -"


def print_ramp(level: int, tally: Tally, seconds: float) -> float:
    rate = tally.count / seconds
    values = tally.all_latencies()
    print(f"  {level:4d} workers  {rate:7.1f} req/s  p50 {_ms(values, 50)} ms  p99 {_ms(values, 99)} ms  "
          f"errors {tally.error_count}")  # fmt: skip
    return (tally.count - tally.error_count) / seconds


def print_sustained(tally: Tally, seconds: float) -> None:
    head = "".join(f"  p{q:<6}" for q in PERCENTILES)
    print(f"  {'kind':16s} {'requests':>9s} {'errors':>7s} {head}   (ms)")
    for kind, _share in (*MIX, ("all", 1.0)):
        values = tally.all_latencies() if kind == "all" else tally.latencies.get(kind, [])
        errors = tally.error_count if kind == "all" else tally.errors.get(kind, 0)
        cells = "".join(f" {_ms(values, q)}" for q in PERCENTILES)
        print(f"  {kind:16s} {len(values) + errors:9d} {errors:7d} {cells}")
    rate = tally.count / seconds
    print(f"  served {rate:.1f} req/s over the phase; error rate {tally.error_count / max(tally.count, 1):.4%}")
    for example in tally.examples:
        print(f"    error: {example}")


async def run(args: argparse.Namespace, base: str, target: Target, key: str, server_pid: int) -> int:
    budget = [args.max_requests]
    print(f"ramp (closed loop, {args.step:.0f} s per step, mix: "
          + ", ".join(f"{k} {s:.0%}" for k, s in MIX) + ")")  # fmt: skip
    await closed_loop(base, target, 2, args.warmup, budget)  # first calls of each kind are slow: not measured
    best, flat = 0.0, 0
    workers = 1
    while workers <= args.max_workers and budget[0] > 0:
        tally = await closed_loop(base, target, workers, args.step, budget)
        rate = print_ramp(workers, tally, args.step)
        if tally.error_count > 0.01 * max(tally.count, 1):
            print("  errors above 1%: saturated")
            break
        if rate > best * 1.05:
            best, flat = max(best, rate), 0
        else:
            best, flat = max(best, rate), flat + 1
            if flat >= 2:
                break
        workers *= 2
    print(f"saturation: {best:.1f} req/s")
    rate = best * args.load
    print(f"\nsustained: {rate:.1f} req/s ({args.load:.0%} of saturation) for {args.duration:.0f} s, "
          f"product imports of {args.import_rows} rows running throughout")  # fmt: skip
    stop = asyncio.Event()
    importing = asyncio.create_task(
        imports_until(base, key, args.import_rows, stop) if not args.no_import else _nothing()
    )
    cpu_before, phase_started = _cpu_seconds(server_pid), time.perf_counter()
    tally, lag = await open_loop(base, target, rate, args.duration, args.max_inflight, budget)
    elapsed = time.perf_counter() - phase_started
    cpu = _cpu_seconds(server_pid) - cpu_before
    stop.set()
    print_sustained(tally, elapsed)
    print(
        f"  phase took {elapsed:.0f} s for {args.duration:.0f} s of schedule; server CPU {cpu / elapsed:.2f} cores "
        f"on average; the schedule fell behind by up to {lag:.1f} s (requests waiting for a free slot)"
    )
    jobs = await importing
    for job in jobs:
        how = " (cancelled by the bench at the end of the phase)" if job.get("cancelled_by_bench") else ""
        print(f"  import: {job.get('state')}{how} counts {job.get('counts')}")
    imports_ok = all(j.get("state") == "succeeded" or j.get("cancelled_by_bench") for j in jobs)
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        alive = (await client.get("/healthz")).status_code == 200
        metrics = (await client.get("/metrics")).text
    waited = [line.split()[-1] for line in metrics.splitlines() if line.startswith("discovery_background_wait")]
    print(f"  imports stepped aside for requests {waited[1] if len(waited) > 1 else '?'} times, "
          f"{waited[0] if waited else '?'} s in all")
    print(f"  server still answering /healthz: {alive}")
    p99 = float(np.percentile(tally.all_latencies(), 99) * 1000) if tally.all_latencies() else float("inf")
    failed = [
        why
        for why, bad in (
            (f"{tally.error_count} errors", tally.error_count > 0),
            ("an import failed", not imports_ok),
            ("the server stopped answering", not alive),
            (f"p99 {p99:.0f} ms over the {args.p99_budget_ms:.0f} ms budget", p99 > args.p99_budget_ms),
        )
        if bad
    ]
    verdict = "FAIL" if failed else "PASS"
    during = "without imports" if args.no_import else "during imports"
    print(f"\n{verdict}: {tally.error_count} errors at {args.load:.0%} of saturation {during}; "
          f"p99 of the mix {_ms(tally.all_latencies(), 99).strip()} ms (budget {args.p99_budget_ms:.0f} ms)"
          + (f"; {', '.join(failed)}" if failed else ""))  # fmt: skip
    return 0 if verdict == "PASS" else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=200, help="sample catalog size (products)")
    parser.add_argument("--duration", type=float, default=300, help="seconds of the sustained phase (default 5 min)")
    parser.add_argument("--step", type=float, default=10, help="seconds per ramp step")
    parser.add_argument("--warmup", type=float, default=10, help="seconds of unmeasured load before the ramp")
    parser.add_argument("--load", type=float, default=0.7, help="sustained rate as a share of saturation")
    parser.add_argument("--max-workers", type=int, default=64, help="largest ramp concurrency")
    parser.add_argument("--max-inflight", type=int, default=256, help="open-loop requests in flight at most")
    parser.add_argument("--max-requests", type=int, default=500_000, help="hard cap on requests sent")
    parser.add_argument("--import-rows", type=int, default=2000, help="rows per product import")
    parser.add_argument("--no-import", action="store_true", help="the sustained phase without imports (a baseline)")
    parser.add_argument("--p99-budget-ms", type=float, default=100, help="PASS needs the sustained p99 within this")
    parser.add_argument("--data-dir", type=Path, help="keep the catalog here (default: a temporary dir)")
    parser.add_argument("--torch-threads", type=int, default=1, help="the server's DISCOVERY_TORCH_THREADS")
    parser.add_argument("--backend", choices=["embedded", "opensearch"], default="embedded")
    parser.add_argument("--opensearch-url", default="http://127.0.0.1:9200")
    parser.add_argument("--index-prefix", default=f"load{uuid.uuid4().hex[:8]}")
    args = parser.parse_args()
    temp = None if args.data_dir else Path(tempfile.mkdtemp(prefix="bench-load-"))
    settings = _settings(args, (args.data_dir or temp) / "var")  # type: ignore[operator]
    try:
        started = time.perf_counter()
        info = load_demo(settings, products=args.products)
        ctx = Context.open(settings)
        try:
            key = create_key(ctx.records, role="editor", name="bench_load")
        finally:
            ctx.close()
        print(f"catalog: {info['products']} products, {info['assets']} assets, {settings.backend} engine "
              f"({time.perf_counter() - started:.0f} s to build); {os.cpu_count()} CPUs")  # fmt: skip
        port = _free_port()
        with serving(settings, port) as proc:
            base = f"http://{HOST}:{port}"
            with httpx.Client(base_url=base, timeout=60) as client:
                if not args.no_import:
                    first = first_import(client, key, args.import_rows)
                    print(f"first import (the SKUs later rounds update): {first.get('state')} {first.get('counts')}")
                target = _target(client, dict(info))
                for kind in (k for k, _ in MIX):  # load the models before the clock starts
                    path, params = _request(kind, target, random.Random(0))
                    client.get(path, params=params).raise_for_status()
            return asyncio.run(run(args, base, target, key, proc.pid))
    finally:
        if settings.backend == "opensearch":
            _drop(settings)
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def _drop(settings: Settings) -> None:
    ctx = Context.open(settings)
    try:
        drop: Callable[[], None] | None = getattr(ctx.backend, "drop", None)
        if drop is not None:
            drop()
    finally:
        ctx.close()


if __name__ == "__main__":
    raise SystemExit(main())
