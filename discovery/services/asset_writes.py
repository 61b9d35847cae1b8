"""Rewriting the index documents of assets whose records changed (collections, usage, edits)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from discovery.domain import Asset
from discovery.services.context import Context
from discovery.store.derive import inherited_for_assets
from discovery.store.index.base import BulkReport, IndexDoc
from discovery.store.index.documents import asset_doc_id, asset_to_doc
from discovery.store.record_edits import AssetChange

log = logging.getLogger("discovery.assets")


def asset_docs(ctx: Context, assets: Sequence[Asset]) -> list[IndexDoc]:
    """The current index documents of `assets`: their stored image vectors and the values
    their linked products lend them, read in one query each."""
    vectors = ctx.records.get_vectors("image_vector", [asset_doc_id(a.id) for a in assets])
    inherited = inherited_for_assets(ctx.records, assets)
    docs = []
    for asset in assets:
        vec = vectors.get(asset_doc_id(asset.id))
        docs.append(
            asset_to_doc(
                asset,
                image_vector=vec[1].tolist() if vec else None,
                vector_model=vec[0] if vec else None,
                inherited=inherited.get(asset.id, ()),
            )
        )
    return docs


def reindex_assets(ctx: Context, assets: Sequence[Asset], *, refresh: bool = True) -> BulkReport:
    """Write the current documents of `assets` (with their stored image vectors). A failed
    item is logged; the records stay the truth and the reconciler repairs the index."""
    if not assets:
        return BulkReport()
    report = ctx.backend.upsert(asset_docs(ctx, assets), refresh=refresh)
    for failed in report.failed:
        log.warning("index update of %s failed: %s", failed.id, failed.error)
    return report


def edit_and_reindex(ctx: Context, ids: Sequence[str], change: AssetChange) -> list[Asset]:
    """Apply `change` to these assets as stored now (`RecordEdits.assets`: nothing another
    writer committed meanwhile is lost), then make the index show the changed ones in the
    next search. Returns the changed assets as written."""
    changed = ctx.records.edits.assets(ids, change)
    reindex_assets(ctx, changed, refresh=True)
    return changed
