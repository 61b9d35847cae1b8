"""Asset records into the search index: the document of each asset, carrying its image
vector, so a re-index after a link or rights change never drops the vector, and what it
inherits from its linked products, so a product change reaches its assets' documents."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from discovery.domain import Asset
from discovery.store.derive import inherited_for_assets
from discovery.store.index.base import SearchBackend
from discovery.store.index.documents import InheritedProduct, asset_doc_id, asset_to_doc, inherited_part
from discovery.store.records import Records

log = logging.getLogger("discovery.assets")


def index_assets(
    records: Records,
    backend: SearchBackend | None,
    assets: Sequence[Asset],
    *,
    vectors: Mapping[str, np.ndarray] | None = None,
    model: str | None = None,
    inherited: Mapping[str, Sequence[InheritedProduct]] | None = None,
) -> dict[str, str]:
    """Write the assets' index documents; returns the ids the index refused, with why.

    A document is replaced whole, so each carries its image vector: the new one from
    `vectors` (by asset id, of `model`), else the stored one while it still belongs to
    the asset's current file (a vector of an older version is left out); and what the
    asset inherits from its linked products (`inherited`, else read for all of them at
    once)."""
    vectors = vectors or {}
    if inherited is None:
        inherited = inherited_for_assets(records, assets)
    stored = records.get_vectors("image_vector", [asset_doc_id(a.id) for a in assets if a.id not in vectors])
    docs = []
    for asset in assets:
        vec, vec_model = vectors.get(asset.id), model
        old = stored.get(asset_doc_id(asset.id))
        if vec is None and old is not None and old[2] == asset.sha256:
            vec_model, vec = old[0], old[1]
        if vec is None:
            vec_model = None
        docs.append(
            asset_to_doc(
                asset,
                image_vector=None if vec is None else vec.tolist(),
                vector_model=vec_model,
                inherited=inherited.get(asset.id, ()),
            )
        )
    if backend is None or not docs:
        return {}
    prefix = len(asset_doc_id(""))
    return {o.id[prefix:]: o.error or "refused" for o in backend.upsert(docs).failed}


def reindex_linked_assets(
    records: Records, backend: SearchBackend, skus: Iterable[str], *, only_changed: bool = True
) -> int:
    """Rewrite the documents of the assets linked to these SKUs whose inherited values
    (`documents.inherited_part`) differ from what the index holds; returns how many.

    `index_products` calls it for every batch of products it writes (an import batch, a
    withdrawal, a sync after links changed), so a product's new name, category or status
    reaches its assets. Reads are batched for all the SKUs (links, assets, products, the
    indexed documents), and unchanged assets are not written again: re-importing an
    unchanged catalog rewrites no asset. The index is refreshed first, so the comparison
    sees documents other writers staged. With `only_changed=False` (one product's few
    assets, a review decision that must not cost a commit) every linked asset is written,
    staged, without the refresh and the comparison."""
    linked = records.links.assets_for_skus(skus)
    ids = list(dict.fromkeys(i for found in linked.values() for i in found))
    if not ids:
        return 0
    assets = list(records.get_assets(ids).values())
    inherited = inherited_for_assets(records, assets)
    stale = assets
    if only_changed:
        backend.refresh()
        indexed = backend.get([asset_doc_id(a.id) for a in assets])
        stale = [
            a
            for a in assets
            if (doc := indexed.get(asset_doc_id(a.id))) is None
            or inherited_part(doc) != inherited_part(asset_to_doc(a, inherited=inherited.get(a.id, ())))
        ]
    for asset_id, why in index_assets(records, backend, stale, inherited=inherited).items():
        log.warning("index update of asset %s failed: %s", asset_id, why)
    return len(stale)
