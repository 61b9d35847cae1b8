"""The job kinds a runner knows by name."""

from __future__ import annotations

from indexer.jobs.index_check import IndexCheck
from indexer.jobs.kinds.assets import AfterIngest, AssetIngest, Embedder
from indexer.jobs.kinds.products import AfterWrite, BeforeIndex, KeepUnchanged, ProductImport
from indexer.jobs.model import JobKind


def default_kinds(
    *,
    after_product_write: AfterWrite | None = None,
    before_product_index: BeforeIndex | None = None,
    keep_unchanged_products: KeepUnchanged | None = None,
    embedder: Embedder | None = None,
    after_asset_ingest: AfterIngest | None = None,
) -> dict[str, JobKind]:
    """Every job kind, by name. The hooks come from the service layer (text vectors of a
    product chunk's changed families before they are indexed, suggestions and links after,
    which unchanged rows still need that work;
    the CLIP embed function for assets). Kinds import their pipelines lazily, so building
    this mapping loads no model and no reader."""
    kinds: list[JobKind] = [
        ProductImport(
            after_write=after_product_write, before_index=before_product_index, keep_unchanged=keep_unchanged_products
        ),
        AssetIngest(embedder=embedder, after_ingest=after_asset_ingest),
        IndexCheck(),
    ]
    return {kind.name: kind for kind in kinds}
