"""Searches at a fixed rate while an import runs: idle against during-import latency, side by
side, and the import's throughput.

    .venv/bin/python bench/bench_import_load.py --products 2000 --import-rows 3000 --rate 20
    .venv/bin/python bench/bench_import_load.py --jobs in-process      # the model before the worker
    .venv/bin/python bench/bench_import_load.py --data /tmp/bench-100k --import-rows 50000 --ingest-images 1000

1. Builds the sample catalog (`load_demo`, --products) in a temporary data dir, or with --data
   copies a bench_search data set (100,000 products + 100,000 assets: `bench_search.py --build`)
   after giving it the same catalog as records (once, in place), so the server's index check
   keeps its documents.

2. Starts the server: `discovery serve` (--jobs worker: imports run in the server's niced
   job worker process) or the app through uvicorn's factory (--jobs in-process: imports on
   threads of the serving process, stepping aside between rows).
3. Idle: --rate requests a second for --idle seconds, on a fixed schedule (open loop, latency
   from the scheduled start), of bench_load's mix: keyword + facets, hybrid, filtered kNN.
4. During import: POST /api/ingest/products with --import-rows new products (and, with
   --ingest-images N, POST /api/ingest/assets with a zip of N generated JPEGs at once), and
   the same schedule until the jobs end (at most --max-import seconds, then cancelled).
Prints p50/p90/p99/max per kind for both phases, errors, the import's rows/s, and the load
average. Loopback only; bounded in requests and time.

With --profile DIR (py-spy installed), the server and its worker process are sampled during
each phase into DIR/idle.txt and DIR/during.txt (py-spy's raw format, one line per stack,
the process named first): where a tail comes from, server or worker.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_assets import make_jpegs  # noqa: E402
from bench_load import HOST, MIX, Tally, _env, _free_port, _products_csv, _request, _target, open_loop  # noqa: E402
from search_dataset import Meta, write_records  # noqa: E402

from discovery.api.auth import create_key  # noqa: E402
from discovery.config import Settings  # noqa: E402
from discovery.services.context import Context  # noqa: E402
from discovery.services.demo import load_demo  # noqa: E402
from discovery.store.records import Records  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def sampled(pid: int, out: Path | None) -> Iterator[None]:
    """py-spy on `pid` and its child processes while the block runs (nothing without `out`)."""
    if out is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    cmd = [spy, "record", "--pid", str(pid), "--subprocesses", "--rate", "100", "--format", "raw",
           "--output", str(out), "--nonblocking"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.send_signal(2)  # py-spy writes its file on SIGINT
        proc.wait(timeout=60)


@contextlib.contextmanager
def serving(settings: Settings, port: int, jobs: str, extra: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    if jobs == "worker":
        cmd = [sys.executable, "-m", "discovery.cli", "serve", "--host", HOST, "--port", str(port)]
    else:
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "discovery.api.app:create_app", "--host", HOST,
               "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=_env(settings) | extra, cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited with {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://{HOST}:{port}/readyz", timeout=2).status_code == 200:
                    break
            time.sleep(0.5)
        else:
            raise SystemExit("the server did not become ready")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def _graphs_built(client: httpx.Client, limit: float = 600.0) -> float:
    """Seconds until `/readyz` names no vector set still building its HNSW graph: the
    idle phase measures the steady state, not the build (searches are exact meanwhile)."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if not client.get("/readyz").json().get("warming"):
            break
        time.sleep(1.0)
    return time.perf_counter() - started


def _pct(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000:7.1f}"


def _row(label: str, values: list[float], errors: int) -> str:
    cols = " ".join(_pct(values, q) for q in (50, 90, 99, 100))
    return f"  {label:16s} n={len(values):5d} err={errors:3d}  p50/p90/p99/max ms {cols}"


def _images_zip(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i, data in enumerate(make_jpegs(count, 256, seed=5)):
            archive.writestr(f"load-image-{i:05d}.jpg", data)
    return buffer.getvalue()


async def _follow(client: httpx.AsyncClient, job_id: str, started: float, limit: float) -> tuple[dict, float]:
    """The job once it ended, and its seconds from `started`; cancelled past `limit`."""
    while True:
        job = (await client.get(f"/api/jobs/{job_id}")).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job, time.perf_counter() - started
        if time.perf_counter() - started > limit:
            await client.post(f"/api/jobs/{job_id}/cancel")
        await asyncio.sleep(0.5)


async def during_import(
    base: str, key: str, args: argparse.Namespace, target: object, images: bytes | None
) -> tuple[Tally, list[tuple[str, dict, float]]]:
    """The search schedule while the import (and the image ingest) runs; the tally and each
    job as it ended with its seconds."""
    budget = [int(args.rate * args.max_import) + 10]
    async with httpx.AsyncClient(base_url=base, timeout=300, headers={"X-API-Key": key}) as client:
        started = time.perf_counter()
        load = asyncio.create_task(open_loop(base, target, args.rate, args.max_import, 64, budget))  # type: ignore[arg-type]
        files = {"file": ("import.csv", _products_csv(args.import_rows, 99), "text/csv")}
        response = await client.post("/api/ingest/products", files=files)
        response.raise_for_status()
        follows = [("products", _follow(client, str(response.json()["id"]), started, args.max_import))]
        if images is not None:
            answer = await client.post("/api/ingest/assets", files={"files": ("images.zip", images, "application/zip")})
            answer.raise_for_status()
            follows.append(("images", _follow(client, str(answer.json()["id"]), started, args.max_import)))
        ended = await asyncio.gather(*(follow for _, follow in follows))
        budget[0] = 0  # stop the schedule with the jobs
        tally, _lag = await load
    return tally, [(name, job, seconds) for (name, _), (job, seconds) in zip(follows, ended, strict=True)]


def prepared_copy(source: Path, temp: Path) -> tuple[Settings, dict[str, object], dict[str, str]]:
    """A copy of a bench_search data set with its catalog in the records (written into the
    source once), the words its searches draw from, and the server's model settings."""
    meta = Meta.load(source / "bench_meta.json")
    probe = Settings(data_dir=source, backend="embedded", index_prefix="discovery")
    records = Records.open(probe.records_url)
    try:
        print(f"the data set's catalog into {source}'s records (written once)")
        write_records(records, source / "catalog" / "products.jsonl", meta)
    finally:
        records.close()
    shutil.copytree(source, temp / "var", ignore=shutil.ignore_patterns("*.log", "local.key", "server.json"))
    settings = Settings(data_dir=temp / "var", backend="embedded", index_prefix="discovery")
    extra = {"DISCOVERY_INDEX_PREFIX": "discovery", "DISCOVERY_CLIP_PRETRAINED": ""}
    extra["DISCOVERY_CLIP_MODEL"] = meta.clip_model.split("@")[0]
    return settings, {"products": meta.products, "assets": meta.assets, "sample_words": meta.name_words}, extra


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=2000, help="sample catalog size (products)")
    parser.add_argument("--import-rows", type=int, default=3000, help="rows of the product import")
    parser.add_argument("--rate", type=float, default=20.0, help="searches a second (fixed schedule)")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of the idle phase")
    parser.add_argument("--max-import", type=float, default=600.0, help="cancel the import after this long")
    parser.add_argument("--jobs", choices=["worker", "in-process"], default="worker")
    parser.add_argument("--data", type=Path, help="a bench_search data set to copy instead of the sample catalog")
    parser.add_argument("--ingest-images", type=int, default=0, help="JPEGs ingested beside the import (one zip)")
    parser.add_argument("--profile", type=Path, help="sample server and worker with py-spy into this folder")
    args = parser.parse_args()
    temp = Path(tempfile.mkdtemp(prefix="bench-import-load-"))
    settings = Settings(data_dir=temp / "var", backend="embedded")
    extra: dict[str, str] = {}
    images = _images_zip(args.ingest_images) if args.ingest_images else None
    try:
        started = time.perf_counter()
        if args.data:
            settings, info, extra = prepared_copy(args.data, temp)
        else:
            info = load_demo(settings, products=args.products)
        ctx = Context.open(settings)
        try:
            key = create_key(ctx.records, role="editor", name="bench_import_load")
        finally:
            ctx.close()
        print(f"catalog: {info['products']} products, {info['assets']} assets "
              f"({time.perf_counter() - started:.0f} s to build); jobs: {args.jobs}")  # fmt: skip
        port = _free_port()
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
        with serving(settings, port, args.jobs, extra) as server:
            base = f"http://{HOST}:{port}"
            with httpx.Client(base_url=base, timeout=60) as client:
                target = _target(client, dict(info))
                for kind, _ in MIX:  # models loaded before the clock starts
                    path, params = _request(kind, target, __import__("random").Random(0))
                    client.get(path, params=params).raise_for_status()
                print(f"HNSW graphs built {_graphs_built(client):.0f} s after the first searches", flush=True)
            profile = {phase: args.profile / f"{phase}.txt" if args.profile else None for phase in ("idle", "during")}
            with sampled(server.pid, profile["idle"]):
                idle, _ = asyncio.run(open_loop(base, target, args.rate, args.idle, 64, [int(args.rate * args.idle)]))
            load_idle = os.getloadavg()[0]
            with sampled(server.pid, profile["during"]):
                busy, jobs = asyncio.run(during_import(base, key, args, target, images))
            load_busy = os.getloadavg()[0]
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    for name, job, seconds in jobs:
        counts = job.get("counts") or {}
        asked = args.import_rows if name == "products" else args.ingest_images
        print(f"{name}: {job.get('state')} {counts.get('indexed')} of {asked} in {seconds:.1f} s "
              f"= {asked / seconds:.0f} /s  counts {counts}")  # fmt: skip
    for name, tally, load in (("idle", idle, load_idle), ("during import", busy, load_busy)):
        print(f"{name} ({args.rate:.0f} req/s; load average {load:.2f}):")
        print(_row("all", tally.all_latencies(), tally.error_count))
        for kind, _ in MIX:
            print(_row(kind, tally.latencies.get(kind, []), tally.errors.get(kind, 0)))
        for example in tally.examples[:3]:
            print(f"    e.g. {example}")
    return 1 if busy.error_count or idle.error_count else 0


if __name__ == "__main__":
    raise SystemExit(main())
