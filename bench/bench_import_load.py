"""Searches at a fixed rate while an import runs: idle against during-import latency, side by
side, and the import's throughput.

    .venv/bin/python bench/bench_import_load.py --products 2000 --import-rows 3000 --rate 20
    .venv/bin/python bench/bench_import_load.py --jobs in-process      # the model before the worker

1. Builds the sample catalog (`load_demo`, --products) in a temporary data dir.
2. Starts the server: `discovery serve` (--jobs worker: imports run in the server's niced
   job worker process) or the app through uvicorn's factory (--jobs in-process: imports on
   threads of the serving process, stepping aside between rows).
3. Idle: --rate requests a second for --idle seconds, on a fixed schedule (open loop, latency
   from the scheduled start), of bench_load's mix: keyword + facets, hybrid, filtered kNN.
4. During import: POST /api/ingest/products with --import-rows new products, and the same
   schedule until the job ends (at most --max-import seconds, then it is cancelled).
Prints p50/p90/p99/max per kind for both phases, errors, the import's rows/s, and the load
average. Loopback only; bounded in requests and time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import HOST, MIX, Tally, _env, _free_port, _products_csv, _request, _target, open_loop  # noqa: E402

from discovery.api.auth import create_key  # noqa: E402
from discovery.config import Settings  # noqa: E402
from discovery.services.context import Context  # noqa: E402
from discovery.services.demo import load_demo  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def serving(settings: Settings, port: int, jobs: str) -> Iterator[subprocess.Popen[bytes]]:
    if jobs == "worker":
        cmd = [sys.executable, "-m", "discovery.cli", "serve", "--host", HOST, "--port", str(port)]
    else:
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "discovery.api.app:create_app", "--host", HOST,
               "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=_env(settings), cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True)
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


def _pct(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000:7.1f}"


def _row(label: str, values: list[float], errors: int) -> str:
    cols = " ".join(_pct(values, q) for q in (50, 90, 99, 100))
    return f"  {label:16s} n={len(values):5d} err={errors:3d}  p50/p90/p99/max ms {cols}"


async def during_import(base: str, key: str, args: argparse.Namespace, target: object) -> tuple[Tally, dict, float]:
    """The search schedule while one import runs; the tally, the final job, its seconds."""
    budget = [int(args.rate * args.max_import) + 10]
    async with httpx.AsyncClient(base_url=base, timeout=120, headers={"X-API-Key": key}) as client:
        files = {"file": ("import.csv", _products_csv(args.import_rows, 99), "text/csv")}
        started = time.perf_counter()
        response = await client.post("/api/ingest/products", files=files)
        response.raise_for_status()
        job_id = str(response.json()["id"])
        load = asyncio.create_task(open_loop(base, target, args.rate, args.max_import, 64, budget))  # type: ignore[arg-type]
        job: dict = {}
        while True:
            job = (await client.get(f"/api/jobs/{job_id}")).json()
            if job["state"] in ("succeeded", "failed", "cancelled"):
                break
            if time.perf_counter() - started > args.max_import:
                await client.post(f"/api/jobs/{job_id}/cancel")
            await asyncio.sleep(0.5)
        seconds = time.perf_counter() - started
        budget[0] = 0  # stop the schedule with the import
        tally, _lag = await load
    return tally, job, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=2000, help="sample catalog size (products)")
    parser.add_argument("--import-rows", type=int, default=3000, help="rows of the product import")
    parser.add_argument("--rate", type=float, default=20.0, help="searches a second (fixed schedule)")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of the idle phase")
    parser.add_argument("--max-import", type=float, default=600.0, help="cancel the import after this long")
    parser.add_argument("--jobs", choices=["worker", "in-process"], default="worker")
    args = parser.parse_args()
    temp = Path(tempfile.mkdtemp(prefix="bench-import-load-"))
    settings = Settings(data_dir=temp / "var", backend="embedded")
    try:
        started = time.perf_counter()
        info = load_demo(settings, products=args.products)
        ctx = Context.open(settings)
        try:
            key = create_key(ctx.records, role="editor", name="bench_import_load")
        finally:
            ctx.close()
        print(f"catalog: {info['products']} products, {info['assets']} assets "
              f"({time.perf_counter() - started:.0f} s to build); jobs: {args.jobs}")  # fmt: skip
        port = _free_port()
        with serving(settings, port, args.jobs):
            base = f"http://{HOST}:{port}"
            with httpx.Client(base_url=base, timeout=60) as client:
                target = _target(client, dict(info))
                for kind, _ in MIX:  # models loaded before the clock starts
                    path, params = _request(kind, target, __import__("random").Random(0))
                    client.get(path, params=params).raise_for_status()
            idle, _ = asyncio.run(open_loop(base, target, args.rate, args.idle, 64, [int(args.rate * args.idle)]))
            load_idle = os.getloadavg()[0]
            busy, job, seconds = asyncio.run(during_import(base, key, args, target))
            load_busy = os.getloadavg()[0]
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    counts = job.get("counts") or {}
    print(f"import: {job.get('state')} {counts.get('indexed')} of {args.import_rows} rows in {seconds:.1f} s "
          f"= {args.import_rows / seconds:.0f} rows/s")  # fmt: skip
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
