"""The scale-out stack under load: bulk loads through the real import path with 1 and 2 Celery
worker processes, the search mix against the same bodies sent to OpenSearch's REST API, then
a fixed-rate client at 70 % of measured saturation while re-imports run.

    scripts/services cluster start 3
    .venv/bin/python bench/bench_scale.py                       # ~10 minutes on 2 cores
    .venv/bin/python bench/bench_scale.py --products 1000000 --assets 200000 --text   # the issue's size

--text gives products their text vectors (MiniLM, as a default deployment does); without it
only assets carry vectors (tiny CLIP), and imports measure the records and the bulk writes.

1. Load: `discovery serve` and one `discovery worker` (Celery on Redis, prefork pool) over a
   PostgreSQL database of its own and the OpenSearch nodes of --opensearch-url (default: the
   local cluster, one replica). Half the products are imported through POST
   /api/ingest/products with one worker process (--concurrency 1), the other half with two;
   docs/s counts from the upload to the job's end. Then --assets generated JPEGs through
   POST /api/ingest/assets (tiny CLIP: image vectors included).
2. Search mix, --probes requests per shape, each sent through the server's HTTP API and its
   recorded OpenSearch bodies sent to the REST API (search_layers: the same questions):
   keyword + 4 facets + brand filter, a very common term + 4 facets, hybrid on assets,
   filtered kNN (similar assets with a colour filter). p50/p99 of each, and the ratio.
3. Saturation (bench_load's closed-loop ramp, 1-2-4-8 callers), then bench_load's open loop at
   --load x saturation for --duration seconds while --reimport-rows product imports run one
   after another: p99 and errors.
Bounded and loopback only; the database, indices and temporary files are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx
import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_assets import make_jpegs  # noqa: E402
from bench_load import Target, closed_loop, imports_until, open_loop, print_sustained  # noqa: E402
from search_layers import Recorder, RestReplay, rest_bodies  # noqa: E402

from discovery.config import Settings, TextSettings  # noqa: E402
from discovery.services import assets as asset_service  # noqa: E402
from discovery.services.context import Context  # noqa: E402
from discovery.services.image_results import ImageQuery  # noqa: E402
from discovery.services.search import SearchRequest, search  # noqa: E402
from tests.integration.server_support import ADMIN_KEY  # noqa: E402
from tests.scale.scale_support import Stack, cluster_urls, product_csv  # noqa: E402

FACETS = ("brand", "category", "color", "size")
SHAPES = ("kw+4f+filter", "common+4f", "hybrid", "filtered-knn")
PG = "postgresql://discovery:discovery@127.0.0.1:5432/discovery_test"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


def pct(values: list[float], q: float) -> str:
    return f"{float(np.percentile(values, q)) * 1000:7.1f}" if values else "      -"


def timed_import(stack: Stack, post: Callable[[], str], rows: int, label: str) -> float:
    started = time.monotonic()
    job_id = post()
    job = stack.wait_job(job_id, timeout=24 * 3600)
    took = time.monotonic() - started
    rate = rows / took
    print(f"  {label:34s} {rows:8d} docs in {took:6.1f}s  {rate:7.1f} docs/s  {job['state']} "
          f"{ {k: v for k, v in job['counts'].items() if v} }  [{load()}]", flush=True)
    if job["state"] != "succeeded":
        raise SystemExit(f"the import did not succeed: {job}")
    return rate


def restart_worker(stack: Stack, concurrency: int) -> None:
    """Replace the worker by one with `concurrency` processes; back once it says it is ready
    (its log line), so that its start-up is not counted in the import's docs/s."""
    old, stack.workers = stack.workers, []
    for proc in old:
        proc.terminate()
        proc.wait(timeout=60)
    seen = stack.log.read_text(errors="replace").count(" ready.")
    stack.start_worker(concurrency)
    deadline = time.monotonic() + 600
    while stack.log.read_text(errors="replace").count(" ready.") <= seen:
        if time.monotonic() > deadline:
            raise SystemExit("the worker did not start in 10 minutes")
        time.sleep(0.5)


def bulk_load(stack: Stack, args: argparse.Namespace) -> None:
    print(f"1. bulk load through the real import path  [{load()}]")
    half = args.products // 2
    restart_worker(stack, 1)
    one = timed_import(stack, lambda: stack.import_products(product_csv(half, start=0)), half,
                       "products, 1 worker process")  # fmt: skip
    restart_worker(stack, 2)
    rest = args.products - half
    two = timed_import(stack, lambda: stack.import_products(product_csv(rest, start=half)), rest,
                       "products, 2 worker processes")  # fmt: skip
    print(f"  scaling 1 -> 2 worker processes: x{two / one:.2f}")
    if args.assets:
        timed_import(stack, lambda: import_assets(stack, args.assets), args.assets, "assets (JPEG, tiny CLIP), 2 procs")


def import_assets(stack: Stack, count: int) -> str:
    """One zip of generated JPEGs; the upload is one request."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i, data in enumerate(make_jpegs(count, 96, seed=3)):
            archive.writestr(f"scale-{i:07d}.jpg", data)
    files = {"files": ("assets.zip", buffer.getvalue(), "application/zip")}
    answer = stack.http.post("/api/ingest/assets", files=files, timeout=600)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


class Probe:
    """One request: its HTTP form, and the service call that records its engine calls."""

    def __init__(self, shape: str, path: str, params: dict[str, str], run: Callable[[Context], object]) -> None:
        self.shape, self.path, self.params, self.run = shape, path, params, run
        self.bodies: list[tuple[str, bytes]] = []


def similar(ctx: Context, *, asset: str, filters: dict[str, tuple[str, ...]]) -> object:
    return asset_service.similar(ctx, asset, query=ImageQuery(k=20, filters=filters), public=False)


def make_probes(target: Target, per_shape: int) -> list[Probe]:
    rng = random.Random(11)
    facets = ",".join(FACETS)
    out: list[Probe] = []
    for _ in range(per_shape):
        word, brand = rng.choice(target.words), rng.choice(target.brands)
        kw = SearchRequest(q=word, mode="keyword", facets=FACETS, filters={"brand": (brand,)})
        out.append(Probe("kw+4f+filter", "/api/search",
                         {"q": word, "mode": "keyword", "facets": facets, "filter.brand": brand},
                         lambda ctx, r=kw: search(ctx, r)))  # fmt: skip
        common = SearchRequest(q="shirt", mode="keyword", facets=FACETS)
        out.append(Probe("common+4f", "/api/search", {"q": "shirt", "mode": "keyword", "facets": facets},
                         lambda ctx, r=common: search(ctx, r)))  # fmt: skip
        colour = rng.choice([v for _, v in target.knn_filters])
        hybrid = SearchRequest(q=f"{colour} photo", type="asset", mode="hybrid")
        out.append(Probe("hybrid", "/api/search", {"q": f"{colour} photo", "type": "asset", "mode": "hybrid"},
                         lambda ctx, r=hybrid: search(ctx, r)))  # fmt: skip
        asset, (name, value) = rng.choice(target.assets), rng.choice(target.knn_filters)
        out.append(Probe("filtered-knn", f"/api/assets/{asset}/similar", {"k": "20", f"filter.{name}": value},
                         partial(similar, asset=asset, filters={name: (value,)})))  # fmt: skip
    return out


def record(settings: Settings, probes: list[Probe]) -> None:
    """The OpenSearch bodies each probe's service call sends (search_layers.Recorder)."""
    ctx = Context.open(settings)
    rec = Recorder(ctx.backend)
    ctx.backend = rec  # type: ignore[assignment]
    try:
        for probe in probes:
            rec.calls = []
            probe.run(ctx)
            probe.bodies = rest_bodies(rec.calls)
    finally:
        ctx.backend = rec.inner
        ctx.close()


def search_mix(stack: Stack, settings: Settings, target: Target, args: argparse.Namespace) -> None:
    print(f"2. search mix, {args.probes} requests per shape: the API vs the same bodies to OpenSearch's REST API  "
          f"[{load()}]")
    probes = make_probes(target, args.probes)
    record(settings, probes)
    rest = RestReplay(settings.opensearch_url.split(",")[0], settings.index_prefix)
    api: dict[str, list[float]] = {s: [] for s in SHAPES}
    raw: dict[str, list[float]] = {s: [] for s in SHAPES}
    errors = 0
    for warm in (True, False):
        for probe in probes:
            t0 = time.perf_counter()
            answer = stack.http.get(probe.path, params=probe.params)
            t1 = time.perf_counter()
            rest.send(probe.bodies)
            t2 = time.perf_counter()
            errors += answer.status_code != 200
            if not warm:
                api[probe.shape].append(t1 - t0)
                raw[probe.shape].append(t2 - t1)
    rest.close()
    print(f"  {'shape':14s} {'API p50':>8s} {'API p99':>8s} {'REST p50':>9s} {'REST p99':>9s}  API/REST p50  (ms)")
    for shape in SHAPES:
        ratio = float(np.percentile(api[shape], 50) / max(np.percentile(raw[shape], 50), 1e-6))
        print(f"  {shape:14s} {pct(api[shape], 50)}  {pct(api[shape], 99)}  {pct(raw[shape], 50)}   "
              f"{pct(raw[shape], 99)}   x{ratio:.2f}")
    print(f"  API errors: {errors}")


def make_target(http: httpx.Client) -> Target:
    body = http.get("/api/search", params={"type": "asset", "size": 100, "facets": "colors"}).json()
    assets = [h["id"] for h in body["hits"]]
    knn = [("colors", v["value"]) for v in body["facets"].get("colors", [])[:4]]
    brands = [v["value"] for v in http.get("/api/search", params={"facets": "brand"}).json()["facets"]["brand"]]
    if not assets or not knn:
        raise SystemExit("no assets with colours to run kNN on")
    return Target(["shirt", "product", "tee", "sneakers", "boots", "hoodies", "bags"], assets, knn, brands)


async def saturation_then_load(base: str, target: Target, args: argparse.Namespace) -> int:
    print(f"3. saturation (closed loop), then {args.load:.0%} of it at a fixed rate while re-imports run  "
          f"[{load()}]")
    budget = [args.max_requests]
    best = 0.0
    for workers in (1, 2, 4, 8):
        tally = await closed_loop(base, target, workers, args.step, budget)
        rate = (tally.count - tally.error_count) / args.step
        values = tally.all_latencies()
        print(f"  {workers:2d} callers {rate:7.1f} req/s  p50 {pct(values, 50)} ms  p99 {pct(values, 99)} ms  "
              f"errors {tally.error_count}  [{load()}]")
        if rate < best * 1.05:
            best = max(best, rate)
            break
        best = max(best, rate)
    rate = best * args.load
    stop = asyncio.Event()
    imports = asyncio.create_task(imports_until(base, ADMIN_KEY, args.reimport_rows, stop))
    sustained, lag = await open_loop(base, target, rate, args.duration, 64, budget)
    stop.set()
    jobs = await imports
    print(f"  fixed rate {rate:.1f} req/s (saturation {best:.1f}) for {args.duration:.0f}s, "
          f"client lag {lag * 1000:.0f} ms  [{load()}]")
    print_sustained(sustained, args.duration)
    states = [f"{j.get('state')}{' (cancelled by the bench at the end)' if j.get('cancelled_by_bench') else ''}"
              for j in jobs]  # fmt: skip
    print(f"  re-imports of {args.reimport_rows} rows during the phase: {states}")
    bad = [s for s in states if not s.startswith(("succeeded", "cancelled"))]
    return 1 if bad or sustained.error_count else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=20_000, help="1000000 for the issue's size")
    parser.add_argument("--assets", type=int, default=300)
    parser.add_argument("--opensearch-url", default="", help="node URLs, comma-separated (default: the local cluster)")
    parser.add_argument("--replicas", type=int, default=None, help="default: 1 on a cluster, 0 on one node")
    parser.add_argument("--postgres-url", default=PG, help="a database is created there and dropped after")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="not the scale tests' db 13")
    parser.add_argument("--text", action="store_true",
                        help="products get text vectors (MiniLM) as in a default deployment; off: CLIP only")
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--step", type=float, default=8.0, help="seconds per ramp level")
    parser.add_argument("--load", type=float, default=0.7)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--reimport-rows", type=int, default=5_000)
    parser.add_argument("--max-requests", type=int, default=200_000)
    args = parser.parse_args()
    urls = args.opensearch_url or ",".join(cluster_urls())
    replicas = args.replicas if args.replicas is not None else (1 if "," in urls else 0)
    prefix, db = f"scale-bench-{uuid.uuid4().hex[:8]}", f"scale_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    database_url = args.postgres_url.rsplit("/", 1)[0] + "/" + db
    env = {
        "DISCOVERY_BACKEND": "opensearch", "DISCOVERY_OPENSEARCH_URL": urls, "DISCOVERY_INDEX_PREFIX": prefix,
        "DISCOVERY_OPENSEARCH_REPLICAS": str(replicas), "DISCOVERY_REDIS_URL": args.redis_url,
        "DISCOVERY_DATABASE_URL": database_url, "DISCOVERY_TEXT_ENABLED": str(args.text).lower(),
        "DISCOVERY_CLIP_MODEL": "tiny", "DISCOVERY_CLIP_PRETRAINED": "",
    }
    settings = Settings(
        data_dir=tmp / "var", backend="opensearch", opensearch_url=urls, index_prefix=prefix,
        opensearch_replicas=replicas, redis_url=args.redis_url, database_url=database_url,
        text=TextSettings(enabled=args.text), clip={"model": "tiny", "pretrained": ""},
    )
    print(f"scale bench: {args.products} products + {args.assets} assets on {urls.count(',') + 1} OpenSearch node(s), "
          f"{replicas} replica(s); product text vectors {'on' if args.text else 'off'}; "
          f"{os.cpu_count()} cores  [{load()}]", flush=True)
    stack = Stack(tmp / "var", env, tmp / "stack.log")
    code = 1
    try:
        stack.start(workers=0)
        bulk_load(stack, args)
        target = make_target(stack.http)
        search_mix(stack, settings, target, args)
        assert stack.server is not None
        code = asyncio.run(saturation_then_load(stack.server.url, target, args))
    finally:
        stack.stop()
        for url in urls.split(","):
            if httpx.delete(f"{url}/{prefix}-v*", timeout=120).status_code < 500:
                break
        with psycopg.connect(args.postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"done  [{load()}]")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
