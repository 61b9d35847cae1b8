"""What HTTP adds to a search, per mode: the client's latency against the service's own
`took_ms`, through a real uvicorn server on loopback (keep-alive, one request at a time).

    .venv/bin/python bench/bench_http.py                  # 200-product sample catalog
    .venv/bin/python bench/bench_http.py --requests 200

Prints per mode (keyword + facets, hybrid, semantic) the p50 of the HTTP latency, of the
service's `took_ms` and of their difference, plus the first search after `/readyz` said
ready against the steady p50. Targets (issue 16): HTTP adds <= 3 ms at p50 in every mode;
the first search after ready within 2x of the steady p50. Note `uptime` beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_client import LeanClient  # noqa: E402

from discovery.config import Settings  # noqa: E402
from discovery.services.demo import load_demo  # noqa: E402

QUERIES = ["red hoodie", "blue mug", "leather boots", "summer dress", "warm jacket"]
MODES = ("keyword", "hybrid", "semantic")


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _params(mode: str, i: int) -> dict[str, str]:
    params = {"q": QUERIES[i % len(QUERIES)], "mode": mode}
    return {**params, "facets": "brand,color"} if mode == "keyword" else params


async def measure(base: str, requests: int) -> None:
    async with LeanClient(base, max_connections=1) as client:
        started = time.perf_counter()
        await client.get("/api/search", params=_params("hybrid", 0))
        first = (time.perf_counter() - started) * 1000
        steady: list[float] = []
        for mode in MODES:
            total, service = [], []
            for i in range(requests + 5):
                started = time.perf_counter()
                response = await client.get("/api/search", params=_params(mode, i))
                total.append((time.perf_counter() - started) * 1000)
                service.append(float(json.loads(response.body)["took_ms"]))
            total, service = total[5:], service[5:]
            if mode == "hybrid":
                steady = total
            added = [t - s for t, s in zip(total, service, strict=True)]
            print(
                f"{mode:9s} HTTP p50 {statistics.median(total):6.2f} ms   "
                f"service p50 {statistics.median(service):6.2f} ms   HTTP adds p50 {statistics.median(added):5.2f} ms"
            )
        print(f"first search after ready (hybrid) {first:.1f} ms, steady hybrid p50 {statistics.median(steady):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=200, help="sample catalog size")
    parser.add_argument("--requests", type=int, default=100, help="measured requests per mode")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-http-"))
    settings = Settings(data_dir=work / "var", backend="embedded")
    load_demo(settings, products=args.products, seed=5)
    port = _port()
    env = {**os.environ, "DISCOVERY_DATA_DIR": str(settings.data_dir), "DISCOVERY_BACKEND": "embedded"}
    command = [sys.executable, "-m", "uvicorn", "discovery.api.app:create_app", "--factory", "--port", str(port)]
    server = subprocess.Popen([*command, "--host", "127.0.0.1", "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        while time.perf_counter() - started < 600:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        print(f"ready {time.perf_counter() - started:.1f} s after start; load average {os.getloadavg()[0]:.2f}")
        asyncio.run(measure(base, args.requests))
        print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
