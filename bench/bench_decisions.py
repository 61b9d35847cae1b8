"""Review decisions beside searches: C clients, each sending a decision (accept a tag on a
random product, POST /api/review/decisions) every --every-th request and a keyword search
with facets otherwise, against `discovery serve` on a catalog of --products products.
Prints search and decision latency percentiles, how long an accepted tag took to be
searchable (visibility), the load average, and the server's CPU time per request (steadier
than latency on a shared machine).

    .venv/bin/python bench/bench_decisions.py --products 20000 --clients 20 --duration 30
    .venv/bin/python bench/bench_decisions.py --products 200000 --clients 20 --think 1.0

Closed loop (the default) sends each client's next request the moment the last answers:
latency is then about clients / throughput, the CPU per request decides it. --think S makes
each client pause S seconds on average (exponential) after an answer, as people do.
    .venv/bin/python bench/bench_decisions.py --engine opensearch --opensearch-url http://127.0.0.1:9200

On OpenSearch it first times one product document written alone, with `refresh=wait_for`
(what a decision cost before it was made visible by one explicit refresh) against written and
then refreshed (`make_visible`), on the same index.

Run it from another checkout to compare (`cd /work/main && .venv/bin/python
/path/to/bench_decisions.py`): the server is started from the current directory's code.
Bounded: --duration seconds of load, loopback only, a temporary data dir removed after.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, os.getcwd())

from discovery.config import Settings, TextSettings  # noqa: E402
from discovery.domain import Product  # noqa: E402
from discovery.store.derive import all_docs  # noqa: E402
from discovery.store.index import make_backend  # noqa: E402
from discovery.store.records import Records  # noqa: E402

ADMIN = "dk_bench_decisions-admin-key-0123456789"
WORDS = ["shirt", "hoodie", "sneaker", "jacket", "dress", "scarf", "boot", "cap"]
TAGS = ["summer", "winter", "sale", "new", "eco", "classic"]


def load(settings: Settings, products: int) -> None:
    """Products straight into the records and the index (no import job: faster)."""
    records = Records.open(settings.records_url)
    rng = random.Random(5)
    batch: list[Product] = []
    for i in range(products):
        word = WORDS[i % len(WORDS)]
        batch.append(
            Product(
                sku=f"B-{i:06d}", name=f"{word.title()} {i}", brand=f"Brand {i % 13}",
                categories=[f"Men/{word.title()}s"], price=float(10 + rng.randrange(90)), status="approved",
            )
        )
        if len(batch) == 2000:
            records.upsert_products(batch)
            batch = []
    if batch:
        records.upsert_products(batch)
    backend = make_backend(settings)
    backend.ensure_ready()
    backend.rebuild(all_docs(records))
    backend.close()
    records.close()


def write_modes(settings: Settings, rounds: int = 30) -> None:
    """One document written with refresh=wait_for, then written + make_visible: p50 of each."""
    records = Records.open(settings.records_url)
    backend = make_backend(settings)
    docs = list(all_docs(records))[:rounds]
    waited: list[float] = []
    refreshed: list[float] = []
    for doc in docs:
        t0 = time.perf_counter()
        backend.upsert([doc], refresh=True)
        waited.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        backend.upsert([doc])
        backend.make_visible()
        refreshed.append(time.perf_counter() - t0)
    backend.close()
    records.close()
    print(f"one write + wait_for      p50 {pct(waited, .5)} ms  (n={len(waited)})")
    print(f"one write + make_visible  p50 {pct(refreshed, .5)} ms")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux `/proc`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--every", type=int, default=3, help="one request in EVERY is a decision")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a client pauses after each answer (0: closed loop, no pause)")
    parser.add_argument("--engine", choices=["embedded", "opensearch"], default="embedded")
    parser.add_argument("--opensearch-url", default="http://127.0.0.1:9200")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-decisions-"))
    prefix = f"bench-decisions-{os.getpid()}"
    settings = Settings(
        data_dir=data_dir, text=TextSettings(enabled=False), backend=args.engine,
        opensearch_url=args.opensearch_url, index_prefix=prefix,
    )
    env = {**os.environ, "DISCOVERY_DATA_DIR": str(data_dir), "DISCOVERY_TEXT_ENABLED": "false",
           "DISCOVERY_ADMIN_KEY": ADMIN, "DISCOVERY_BACKEND": args.engine,
           "DISCOVERY_OPENSEARCH_URL": args.opensearch_url, "DISCOVERY_INDEX_PREFIX": prefix}
    started = time.monotonic()
    load(settings, args.products)
    print(f"loaded {args.products} products in {time.monotonic() - started:.0f}s on {args.engine}; "
          f"code from {os.getcwd()}")
    if args.engine == "opensearch" and hasattr(make_backend(settings), "make_visible"):
        write_modes(settings)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "discovery.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    searches: list[float] = []
    decisions: list[float] = []
    visible: list[float] = []
    errors: list[str] = []
    try:
        with httpx.Client(base_url=url, timeout=60) as probe:
            # Measured from ready on: before it the warm-up loads the models (seconds of
            # both cores), which a user's first search does not meet either.
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                try:
                    if probe.get("/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            else:
                raise SystemExit("the server was not ready within 600 s")
            print(f"ready {time.monotonic() - started:.0f}s after the load began")
            probe.get("/api/search", params={"q": "shirt", "type": "product"})
        cpu_before = cpu_seconds(server.pid)
        stop = time.monotonic() + args.duration

        def client(n: int) -> None:
            rng = random.Random(n)
            with httpx.Client(base_url=url, timeout=60, headers={"X-API-Key": ADMIN}) as http:
                count = 0
                while time.monotonic() < stop:
                    count += 1
                    t0 = time.perf_counter()
                    try:
                        if count % args.every == 0:
                            sku = f"B-{rng.randrange(args.products):06d}"
                            tag = f"{rng.choice(TAGS)}-{n}-{count}"  # new each time: a real change
                            body = [{"target": {"type": "product", "id": sku}, "tag": tag, "decision": "accept"}]
                            r = http.post("/api/review/decisions", json=body)
                            decisions.append(time.perf_counter() - t0)
                            if r.status_code != 200 or not r.json()["results"][0]["ok"]:
                                errors.append(f"decision {r.status_code} {r.text[:100]}")
                            elif n == 0:  # one client also times visibility
                                while time.perf_counter() - t0 < 5:
                                    found = http.get("/api/search", params={"type": "product", "filter.tags": tag})
                                    if found.json()["total"] == 1:
                                        visible.append(time.perf_counter() - t0)
                                        break
                                    time.sleep(0.02)
                        else:
                            word = rng.choice(WORDS)
                            r = http.get("/api/search", params={"q": word, "type": "product", "facets": "brand"})
                            searches.append(time.perf_counter() - t0)
                            if r.status_code != 200:
                                errors.append(f"search {r.status_code}")
                    except httpx.HTTPError as exc:
                        errors.append(repr(exc))
                    if args.think:  # a person reads the answer before the next request
                        time.sleep(min(rng.expovariate(1 / args.think), max(0.0, stop - time.monotonic())))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        cpu_used = cpu_seconds(server.pid) - cpu_before
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)
        if args.engine == "opensearch":
            backend = make_backend(settings)
            backend.drop()  # type: ignore[attr-defined]
            backend.close()
    load1, load5, _ = os.getloadavg()
    pace = f"think {args.think:.2f} s" if args.think else "closed loop"
    print(f"{args.clients} clients ({pace}), {args.duration:.0f}s, {args.products} products; "
          f"load {load1:.2f} / {load5:.2f}")
    print(f"searches   n={len(searches):5d}  p50 {pct(searches, .5)} ms  p99 {pct(searches, .99)} ms")
    print(f"decisions  n={len(decisions):5d}  p50 {pct(decisions, .5)} ms  p99 {pct(decisions, .99)} ms")
    print(f"visible    n={len(visible):5d}  p50 {pct(visible, .5)} ms  max {pct(visible, 1.0)} ms  (sent -> found)")
    done = len(searches) + len(decisions)
    print(f"server CPU {cpu_used:.1f} s over the run: {cpu_used / max(done, 1) * 1000:.1f} ms per request "
          f"({done / args.duration:.0f} requests/s)")
    print(f"errors     {len(errors)} {errors[:3]}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
