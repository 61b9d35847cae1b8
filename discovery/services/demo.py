"""The demo: a generated sample catalog, imported through the same jobs as real data."""

from __future__ import annotations

from typing import Any

from discovery.config import Settings
from discovery.domain import JSONObject
from discovery.services import jobs
from discovery.services.context import Context
from discovery.services.ingest import expand_paths


def load_demo(settings: Settings, *, products: int = 200, seed: int = 7, console: Any = None) -> JSONObject:
    """Generate (once per seed and size) and ingest the sample catalog; re-running changes
    nothing. Returns counts and a word to search for: `products` and `assets` are what the
    records hold afterwards (a second run's jobs index nothing new: its assets are all
    duplicates, and their `indexed` count is 0)."""
    from indexer.sample import generate_catalog

    out = settings.data_dir / "sample" / f"seed{seed}-n{products}"
    say = console.print if console is not None else (lambda *_a, **_k: None)
    say(f"generating the sample catalog ({products} products, seed {seed}) in {out}")
    info = generate_catalog(out, products=products, seed=seed)
    ctx = Context.open(settings)
    try:
        assert info.products_jsonl is not None
        job = jobs.start_product_import(ctx, source=info.products_jsonl, filename=info.products_jsonl.name)
        product_job = jobs.wait_for_job(ctx, job)
        say(f"products: {product_job['state']} {product_job['counts']}")
        asset_job: JSONObject = {"counts": {}}
        if info.images_dir is not None:
            files = list(expand_paths([info.images_dir]))
            job = jobs.start_asset_ingest(ctx, files=list(files), manifest=info.manifest_csv)
            asset_job = jobs.wait_for_job(ctx, job)
            say(f"assets: {asset_job['state']} {asset_job['counts']}")
        return {
            "products": ctx.records.count_products(),
            "assets": ctx.records.count_assets(),
            "sample_word": info.sample_words[0] if info.sample_words else "hoodie",
            "sample_words": list(info.sample_words),
            "catalog_dir": str(out),
            "truth_json": str(info.truth_json),
            "product_job": product_job,
            "asset_job": asset_job,
        }
    finally:
        jobs.close_jobs(ctx)
        ctx.close()
