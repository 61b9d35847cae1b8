"""Relevance of keyword, semantic and hybrid search, measured on judged queries.

    python bench/bench_relevance.py [--products 200] [--seed 7] [--opensearch] [--json OUT]

Loads each judged set into a fresh service (the real import job, the real text model
all-MiniLM-L6-v2, the embedded engine; with --opensearch also a real OpenSearch node)
and prints nDCG@10, precision@10, recall@10, MRR and the zero-result rate per set,
engine and mode, then per query kind. The sets (bench/relevance.py):

- sample: the generated sample catalog, judged from the generator's truth;
- shopify: Shopify's public sample store, judged from its own types and tags. Run
  bench/fetch_catalog.py first; the set is skipped (with a note) when its data is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.relevance import MODES, Judged, Scores, evaluate, mean, sample_judged, shopify_judged  # noqa: E402
from discovery.config import Settings  # noqa: E402
from discovery.services import jobs  # noqa: E402
from discovery.services.context import Context  # noqa: E402
from discovery.services.search import SearchRequest, search  # noqa: E402

MATCH_SET_CAP = 400
SHOPIFY_DIR = Path(__file__).resolve().parent / "data" / "shopify"


@contextmanager
def loaded(settings: Settings, file: Path, mapping: str | None) -> Iterator[Context]:
    """A service over `file`, imported (and embedded) by the real product import job."""
    ctx = Context.open(settings)
    try:
        job = jobs.wait_for_job(ctx, jobs.start_product_import(ctx, source=file, filename=file.name, mapping=mapping))
        if job["state"] != "succeeded":
            raise SystemExit(f"import of {file} ended {job['state']}: {job.get('rejects')}")
        ctx.backend.refresh()
        yield ctx
    finally:
        jobs.close_jobs(ctx)
        drop = getattr(ctx.backend, "drop", None)
        if drop is not None:
            drop()
        ctx.close()


def searcher(ctx: Context):  # type: ignore[no-untyped-def]
    def run(query: str, mode: str) -> list[str]:
        """The whole match set, best first (catalogs here stay under MATCH_SET_CAP)."""
        found: list[str] = []
        for page in range(1, MATCH_SET_CAP // 100 + 1):
            body = search(ctx, SearchRequest(q=query, mode=mode, size=100, page=page))  # type: ignore[arg-type]
            found += [str(h["id"]) for h in body["hits"]]  # type: ignore[index,union-attr]
            if len(found) >= int(body["total"]):  # type: ignore[call-overload]
                break
        return found

    return run


def settings_for(engine: str, data_dir: Path, opensearch_url: str) -> Settings:
    if engine == "opensearch":
        prefix = f"rel{uuid.uuid4().hex[:8]}"
        return Settings(data_dir=data_dir, backend="opensearch", opensearch_url=opensearch_url, index_prefix=prefix)
    return Settings(data_dir=data_dir, backend="embedded")


def sample_file(tmp: Path, products: int, seed: int) -> Path:
    from indexer.sample import generate_catalog

    info = generate_catalog(tmp / "sample", products=products, seed=seed, images=False)
    assert info.products_jsonl is not None
    return info.products_jsonl


def report(name: str, results: dict[str, dict[str, list[Scores]]]) -> dict[str, dict[str, dict[str, float]]]:
    table = {mode: {kind: mean(s) for kind, s in kinds.items()} for mode, kinds in results.items()}
    kinds = list(next(iter(results.values())).keys())
    print(f"\n== {name}")
    print(f"{'kind':<11}{'mode':<10}{'n':>4}{'nDCG@10':>9}{'P@10':>7}{'R@10':>7}{'MRR':>7}{'zero':>7}{'setP':>7}")
    for kind in kinds:
        for mode in results:
            m = table[mode][kind]
            print(
                f"{kind:<11}{mode:<10}{int(m['n']):>4}{m['ndcg@10']:>9.3f}{m['p@10']:>7.3f}"
                f"{m['r@10']:>7.3f}{m['mrr']:>7.3f}{m['zero']:>7.3f}{m['set_p']:>7.3f}"
            )
    return table


def run_set(
    name: str, judged: Sequence[Judged], settings: Settings, file: Path, mapping: str | None
) -> dict[str, object]:
    started = time.perf_counter()
    with loaded(settings, file, mapping) as ctx:
        results = evaluate(judged, searcher(ctx), MODES)
    table = report(f"{name} ({len(judged)} queries, {time.perf_counter() - started:.0f} s)", results)
    return {"queries": len(judged), "table": table}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=200, help="sample catalog size (product groups)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--opensearch", action="store_true", help="also measure on OpenSearch")
    parser.add_argument("--opensearch-url", default="http://127.0.0.1:9200")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    engines = ["embedded", *(["opensearch"] if args.opensearch else [])]
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="relevance-") as tmp_name:
        tmp = Path(tmp_name)
        sets: list[tuple[str, list[Judged], Path, str | None]] = [
            ("sample", sample_judged(args.seed, args.products), sample_file(tmp, args.products, args.seed), None)
        ]
        if (SHOPIFY_DIR / "truth.json").exists():
            sets.append(
                ("shopify", shopify_judged(SHOPIFY_DIR / "truth.json"), SHOPIFY_DIR / "products.csv", "shopify")
            )
        else:
            print(f"shopify: {SHOPIFY_DIR} is missing; run bench/fetch_catalog.py first")
        for engine in engines:
            for name, judged, file, mapping in sets:
                settings = settings_for(engine, tmp / f"{engine}-{name}", args.opensearch_url)
                out[f"{name}/{engine}"] = run_set(f"{name} / {engine}", judged, settings, file, mapping)
    print(f"\nload average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
