"""Search latency by layer: the service function, HTTP, and the same engine calls sent
straight to each engine, so the service's overhead reads as a difference and a ratio.

    .venv/bin/python bench/bench_search.py --data /tmp/bench-100k --http         # embedded, 100k + 100k
    .venv/bin/python bench/bench_search.py --products 20000 --opensearch --http  # both engines at 20k
    .venv/bin/python bench/bench_search.py --data /tmp/bench-1m --products 1000000 --queries 100

Data: N products from the sample generator (`generate_catalog(images=False,
variant_share=0)`) and N synthetic assets (default: as many as products), written straight
through each backend's `upsert` (see search_dataset.py for the vectors). `--data DIR`
keeps the catalog and the embedded index there: the first run builds, later runs only
measure. OpenSearch (`--opensearch [URL]`) is filled per run under the prefix
`benchsearch`, force-merged to one segment, and dropped at the end.

Query mix (M of each, `--queries`; facets brand, category, color, size):
  kw+4f+filter  a name word or two, mode=keyword, 4 facets, filter.brand
  common+4f     a term in more than half the products, mode=keyword, 4 facets
  hybrid+4f     a name word or two, mode=hybrid (MiniLM query embedding + text-vector kNN + RRF), 4 facets
  knn-text      filtered kNN on asset image vectors, as the search service does it: type=asset,
                mode=semantic, CLIP text tower, filter.background=white + filter.colors=<one>
  knn-vector    the same filters, query vector given: `services.image_results` (as POST /api/search/image)
Layers: service (`services.search.search` on a `Context` over the data dir), http (`discovery
serve` in a subprocess, httpx, sequential GETs), raw (the engine calls the service made,
replayed to the backend adapter), rest (OpenSearch: the adapter's rendered bodies posted as
is; `os-took` is OpenSearch's own `took`), embed (query embedding alone, a part of service).
Layers run interleaved per query in rotating order, so load from other processes hits
them alike. `--torch-threads 1` pins the query encoders to one thread (here and in the
server): on a busy 2-core box torch's default two threads made a MiniLM query ~5x slower.
`--profile` prints cProfile of the service per shape and, with `--http` and py-spy in the
venv, where the server's busy samples go (`--shapes` narrows the mix).
Targets (issue 6, 2 cores): embedded kw + 4 facets p50 <= 3 ms, p99 <= 10 ms at the
service; HTTP adds <= 3 ms at p50; filtered kNN p50 <= 5 ms; service over raw <= 1.5 ms
(tantivy), <= 10 % (OpenSearch); at 1,000,000 products p50 <= 10 ms, p99 <= 30 ms.
The py-spy profiler is an extra: `pip install "py-spy>=0.4,<0.5"` into the venv.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_dataset import TINY_CLIP_DIM, Meta, asset_docs, product_docs, survey, word_vectors, write_chunks  # noqa: E402
from search_layers import CachedEmbeddings, Recorder, RestReplay, Server, replay, rest_bodies, spy, timed_ms  # noqa: E402
from search_probes import LAYERS, SHAPES, Probe, Samples, make_probes, print_table  # noqa: E402

from discovery.config import SearchSettings, Settings  # noqa: E402
from discovery.errors import IndexLayoutChanged  # noqa: E402
from discovery.services.context import Context  # noqa: E402
from discovery.store.index.base import IndexDoc, SearchBackend  # noqa: E402

OS_PREFIX = "benchsearch"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--products", type=int, default=100_000)
    p.add_argument("--assets", type=int, default=None, help="default: as many as products")
    p.add_argument("--queries", type=int, default=200, help="queries per shape")
    p.add_argument("--opensearch", nargs="?", const="http://127.0.0.1:9200", default=None, metavar="URL")
    p.add_argument("--no-embedded", action="store_true", help="measure OpenSearch only")
    p.add_argument("--http", action="store_true", help="also through `discovery serve`")
    p.add_argument("--data", type=Path, default=None, help="keep (and reuse) the data set here")
    p.add_argument("--clip-dim", type=int, default=TINY_CLIP_DIM, help="asset vector size (64 = the tiny CLIP)")
    p.add_argument("--profile", action="store_true", help="cProfile the service layer per shape")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--shapes", default="", help="comma-separated subset of the query shapes")
    p.add_argument(
        "--torch-threads",
        type=int,
        default=None,
        help="torch and BLAS threads here and in the server",
    )
    return p.parse_args()


def prepare(data: Path, args: argparse.Namespace) -> Meta:
    """The catalog, the query vocabulary and the model names (built once per data dir)."""
    from indexer.sample import generate_catalog
    from models.factory import load_clip, load_text

    assets = args.products if args.assets is None else args.assets
    meta_path = data / "bench_meta.json"
    if meta_path.exists():
        meta = Meta.load(meta_path)
        if (meta.products, meta.assets, meta.clip_dim) == (args.products, assets, args.clip_dim):
            return meta
        shutil.rmtree(data / "index", ignore_errors=True)
    started = time.perf_counter()
    info = generate_catalog(data / "catalog", products=args.products, images=False, variant_share=0)
    words, common, brands, colors, rows = survey(data / "catalog" / "products.jsonl")
    text = load_text()
    clip_model = load_clip(model="tiny").model_id if args.clip_dim == TINY_CLIP_DIM else f"bench-clip@{args.clip_dim}d"
    meta = Meta(rows, assets, args.clip_dim, text.model_id, clip_model, words, common, brands, colors)
    meta.save(meta_path)
    print(f"catalog: {info.rows} products in {time.perf_counter() - started:.1f}s; common terms {common}")
    return meta


def documents(data: Path, meta: Meta) -> tuple[Iterator[IndexDoc], Iterator[IndexDoc]]:
    from models.factory import load_text

    jsonl = data / "catalog" / "products.jsonl"
    words = word_vectors(meta.name_words, lambda ws: load_text().encode(ws))
    return (
        product_docs(jsonl, words, meta.text_model),
        asset_docs(jsonl, meta.assets, meta.colors, meta.clip_dim, meta.clip_model),
    )


def fill(backend: SearchBackend, data: Path, meta: Meta) -> None:
    started = time.perf_counter()
    products, assets = documents(data, meta)
    n = write_chunks(backend, products)
    n += write_chunks(backend, assets)
    took = time.perf_counter() - started
    print(f"{backend.name}: indexed {n} docs in {took:.0f}s ({n / took:.0f} docs/s), count {backend.count()}")


def build_embedded(data: Path, meta: Meta) -> None:
    from discovery.store.index.embedded import EmbeddedBackend

    path = data / "index" / "discovery"
    backend = EmbeddedBackend(path, SearchSettings())
    try:
        backend.ensure_ready()
        complete = backend.count() == meta.products + meta.assets
    except IndexLayoutChanged as exc:  # an index of an older layout: built again
        print(f"embedded: {exc}")
        complete = False
    if not complete:
        backend.close()
        shutil.rmtree(path, ignore_errors=True)
        backend = EmbeddedBackend(path, SearchSettings())
        backend.ensure_ready()
        fill(backend, data, meta)
    backend.close()


def build_opensearch(data: Path, meta: Meta, url: str) -> None:
    import httpx

    from discovery.store.index.opensearch import OpenSearchBackend

    backend = OpenSearchBackend(url=url, prefix=OS_PREFIX, search=SearchSettings())
    backend.drop()
    backend.ensure_ready()
    fill(backend, data, meta)
    # A bulk load leaves many small segments; a long-lived index is merged.
    httpx.post(f"{url}/{OS_PREFIX}/_forcemerge", params={"max_num_segments": "1"}, timeout=600).raise_for_status()
    backend.refresh()
    backend.close()


def drop_opensearch(url: str) -> None:
    from discovery.store.index.opensearch import OpenSearchBackend

    backend = OpenSearchBackend(url=url, prefix=OS_PREFIX, search=SearchSettings())
    backend.drop()
    backend.close()


def record(ctx: Context, probes: list[Probe]) -> None:
    """Warm up and note each request's engine calls (see search_layers)."""
    rec = Recorder(ctx.backend)
    ctx.backend = rec  # type: ignore[assignment]
    try:
        for probe in probes:
            rec.calls = []
            probe.total = probe.run_service(ctx)
            probe.calls = list(rec.calls)
    finally:
        ctx.backend = rec.inner
    for probe in probes:
        probe.run_embed(ctx)


def cached_models(ctx: Context) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """(real text, real clip), (caching text, caching clip): swapped into the context for
    the `svc-cached` layer (the service with the query embedding precomputed)."""
    real = (ctx.text(), ctx.clip())
    return real, (CachedEmbeddings(real[0]), CachedEmbeddings(real[1]))


def with_models(ctx: Context, models: tuple[Any, Any], probe: Probe) -> None:
    ctx._text, ctx._clip = models
    probe.run_service(ctx)


def measure(ctx: Context, probes: list[Probe], rest: RestReplay | None, server: Server | None) -> Samples:
    samples = Samples()
    real, cached = cached_models(ctx)
    for probe in probes:
        if probe.embed:
            with_models(ctx, cached, probe)  # fills the caches
    ctx._text, ctx._clip = real
    if rest is not None:
        for probe in probes:
            probe.bodies = rest_bodies(probe.calls)
            rest.send(probe.bodies)
    if server is not None:
        for probe in probes:
            if probe.http is not None:
                server.get(probe.http)
    for i, probe in enumerate(probes):
        steps = {
            "service": lambda p=probe: p.run_service(ctx),
            "svc-cached": (lambda p=probe: with_models(ctx, cached, p)) if probe.embed else None,
            "raw": lambda p=probe: replay(ctx.backend, p.calls),
            "embed": (lambda p=probe: p.run_embed(ctx)) if probe.embed else None,
            "rest": (lambda p=probe: _rest(rest, p, samples)) if rest is not None else None,
            "http": (lambda p=probe: server.get(p.http)) if server and probe.http else None,
        }
        order = [name for name in LAYERS if steps[name] is not None]
        shift = i % len(order)
        for name in order[shift:] + order[:shift]:
            wall, cpu = timed_ms(steps[name])  # type: ignore[arg-type]
            samples.add(probe.shape, name, wall, None if name in ("http", "rest") else cpu)
            ctx._text, ctx._clip = real
        if server is not None and probe.shape == SHAPES[0]:
            # The HTTP floor: a trivial route over the same client, server and event loop.
            samples.add("healthz", "http", timed_ms(lambda: server.get([], "/healthz"))[0])
    return samples


def _rest(rest: RestReplay | None, probe: Probe, samples: Samples) -> None:
    assert rest is not None
    answers = rest.send(probe.bodies)
    samples.add(probe.shape, "os-took", rest.took(answers))


def profile(ctx: Context, probes: list[Probe], server: Server | None, data: Path) -> None:
    for shape in dict.fromkeys(p.shape for p in probes):
        chosen = [p for p in probes if p.shape == shape]
        prof = cProfile.Profile()
        prof.enable()
        for probe in chosen:
            probe.run_service(ctx)
        prof.disable()
        print(f"\n--- cProfile, service layer, {ctx.backend.name} {shape} (top 18 by own time) ---")
        pstats.Stats(prof).sort_stats("tottime").print_stats(18)
        if (
            server is not None
            and chosen[0].http is not None
            and shutil.which("py-spy", path=str(Path(sys.executable).parent))
        ):
            spy_server(server, chosen, data / "spy.txt", f"{ctx.backend.name} {shape}")


def spy_server(server: Server, chosen: list[Probe], out: Path, label: str) -> None:
    def work() -> None:
        for probe in chosen * 3:
            if probe.http is not None:
                server.get(probe.http)

    total, own, inclusive = spy(server.pid, work, out)
    print(f"--- py-spy, HTTP server, {label}: {total} busy samples; by own share, then by inclusive share ---")
    for frame, n in own:
        print(f"  own {100 * n / total:5.1f}%  {frame}")
    for frame, n in inclusive:
        print(f"  inc {100 * n / total:5.1f}%  {frame}")


def run_engine(engine: str, data: Path, meta: Meta, args: argparse.Namespace) -> Samples:
    url = args.opensearch or "http://127.0.0.1:9200"
    prefix = OS_PREFIX if engine == "opensearch" else "discovery"
    threads = {"torch_threads": args.torch_threads} if args.torch_threads else {}
    settings = Settings(data_dir=data, backend=engine, index_prefix=prefix, opensearch_url=url, **threads)
    env = {
        "DISCOVERY_DATA_DIR": str(data),
        "DISCOVERY_BACKEND": engine,
        "DISCOVERY_INDEX_PREFIX": prefix,
        "DISCOVERY_OPENSEARCH_URL": url,
    }
    if args.torch_threads:
        # The service's own setting on both sides (torch and numpy's BLAS), so the
        # in-process layers and the server run their vector products alike.
        env["DISCOVERY_TORCH_THREADS"] = str(args.torch_threads)
    ctx = Context.open(settings)
    server = Server(env, data / f"serve-{engine}.log") if args.http else None
    rest = RestReplay(url, OS_PREFIX) if engine == "opensearch" else None
    try:
        probes = make_probes(meta, args.queries, args.seed)
        if args.shapes:
            probes = [p for p in probes if p.shape in args.shapes.split(",")]
        if hasattr(ctx.backend, "build_graphs"):  # HNSW is built once per process, not per query
            needed = {"image_vector"} | ({"text_vector"} if any(p.shape == "hybrid+4f" for p in probes) else set())
            ctx.backend.build_graphs(sorted(needed))
        record(ctx, probes)
        load = os.getloadavg()
        samples = measure(ctx, probes, rest, server)
        samples.load = (load, os.getloadavg())
        shapes = dict.fromkeys(p.shape for p in probes)
        samples.totals = {s: int(median(p.total for p in probes if p.shape == s)) for s in shapes}
        if args.profile:
            profile(ctx, probes, server, data)
        return samples
    finally:
        if server is not None:
            server.close()
        if rest is not None:
            rest.close()
        ctx.close()


def main() -> None:
    args = parse_args()
    own_tmp = args.data is None
    data = (args.data or Path(tempfile.mkdtemp(prefix="bench-search-"))).resolve()
    data.mkdir(parents=True, exist_ok=True)
    engines = ([] if args.no_embedded else ["embedded"]) + (["opensearch"] if args.opensearch else [])
    try:
        meta = prepare(data, args)
        print(
            f"data {data}: {meta.products} products + {meta.assets} assets, image vectors {meta.clip_dim}-d "
            f"({meta.clip_model}), text vectors {meta.text_model}; load avg {os.getloadavg()}"
        )
        results: dict[str, Samples] = {}
        for engine in engines:
            if engine == "embedded":
                build_embedded(data, meta)
            else:
                build_opensearch(data, meta, args.opensearch)
            results[engine] = run_engine(engine, data, meta, args)
        print_table(results, meta, args.queries)
    finally:
        if args.opensearch:
            drop_opensearch(args.opensearch)
        if own_tmp:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
