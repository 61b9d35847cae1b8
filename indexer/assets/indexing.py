"""Asset records into the search index: the document of each asset, carrying its image
vector, so a re-index after a link or rights change never drops the vector."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from discovery.domain import Asset
from discovery.store.index.base import SearchBackend
from discovery.store.index.documents import asset_doc_id, asset_to_doc
from discovery.store.records import Records


def index_assets(
    records: Records,
    backend: SearchBackend | None,
    assets: Sequence[Asset],
    *,
    vectors: Mapping[str, np.ndarray] | None = None,
    model: str | None = None,
) -> dict[str, str]:
    """Write the assets' index documents; returns the ids the index refused, with why.

    A document is replaced whole, so each carries its image vector: the new one from
    `vectors` (by asset id, of `model`), else the stored one while it still belongs to
    the asset's current file (a vector of an older version is left out)."""
    vectors = vectors or {}
    stored = records.get_vectors("image_vector", [asset_doc_id(a.id) for a in assets if a.id not in vectors])
    docs = []
    for asset in assets:
        vec, vec_model = vectors.get(asset.id), model
        old = stored.get(asset_doc_id(asset.id))
        if vec is None and old is not None and old[2] == asset.sha256:
            vec_model, vec = old[0], old[1]
        if vec is None:
            vec_model = None
        docs.append(asset_to_doc(asset, image_vector=None if vec is None else vec.tolist(), vector_model=vec_model))
    if backend is None or not docs:
        return {}
    prefix = len(asset_doc_id(""))
    return {o.id[prefix:]: o.error or "refused" for o in backend.upsert(docs).failed}


def save_assets(records: Records, backend: SearchBackend | None, assets: Sequence[Asset]) -> dict[str, str]:
    """Write changed assets (links, rights, collections) to the records, then the index."""
    records.upsert_assets(list(assets))
    return index_assets(records, backend, assets)
