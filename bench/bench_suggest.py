"""Completions while typing (`GET /api/suggest`) on the embedded engine at scale: the
service function and, with `--http`, through `discovery serve`.

    .venv/bin/python bench/bench_suggest.py --data /tmp/bench-100k            # 100k + 100k
    .venv/bin/python bench/bench_suggest.py --data /tmp/bench-100k --http

The data set is bench_search.py's (same `--data` dir, built once and reused): N products
from the sample generator and as many synthetic assets. Prefixes are the first 2 to 5
letters of product-name words and brands, as someone types them; each is asked as a
shopper would (the public view). Target (issue 21, 2 cores): p50 <= 20 ms at 100k.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from statistics import median, quantiles

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import build_embedded, prepare  # noqa: E402
from search_layers import Server  # noqa: E402

from discovery.config import Settings  # noqa: E402
from discovery.services.context import Context  # noqa: E402
from discovery.services.suggest import suggest  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="bench_search's data dir (built when missing)")
    p.add_argument("--products", type=int, default=100_000)
    p.add_argument("--assets", type=int, default=None)
    p.add_argument("--clip-dim", type=int, default=64)
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--http", action="store_true")
    p.add_argument("--seed", type=int, default=3)
    args = p.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    meta = prepare(args.data, args)
    build_embedded(args.data, meta)
    rnd = random.Random(args.seed)
    words = [w for w in meta.name_words + meta.brands if len(w) >= 3]
    prefixes = [w[: rnd.randint(2, min(5, len(w)))].lower() for w in rnd.choices(words, k=args.queries)]
    ctx = Context.open(Settings(data_dir=args.data, backend="embedded", index_prefix="discovery"))
    try:
        for q in prefixes[:20]:  # warm the reader and caches
            suggest(ctx, q, public=True)
        service: list[float] = []
        found = 0
        for q in prefixes:
            started = time.perf_counter()
            body = suggest(ctx, q, public=True)
            service.append((time.perf_counter() - started) * 1000)
            found += bool(body.get("suggestions"))
    finally:
        ctx.close()
    rows = [("service", service)]
    if args.http:
        import httpx

        env = {
            "DISCOVERY_DATA_DIR": str(args.data),
            "DISCOVERY_BACKEND": "embedded",
            "DISCOVERY_INDEX_PREFIX": "discovery",
        }
        server = Server(env, args.data / "serve-suggest.log")
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as client:
                for q in prefixes[:20]:
                    client.get("/api/suggest", params={"q": q})
                http: list[float] = []
                for q in prefixes:
                    started = time.perf_counter()
                    client.get("/api/suggest", params={"q": q}).raise_for_status()
                    http.append((time.perf_counter() - started) * 1000)
            rows.append(("http", http))
        finally:
            server.close()
    print(f"suggest at {meta.products:,} products + {meta.assets:,} assets, {len(prefixes)} prefixes "
          f"({found} with completions); load average {os.getloadavg()[0]:.2f}")
    for layer, ms in rows:
        cuts = quantiles(ms, n=100)
        print(f"  {layer:8s} p50 {median(ms):7.2f} ms   p90 {cuts[89]:7.2f} ms   p99 {cuts[98]:7.2f} ms")


if __name__ == "__main__":
    main()
