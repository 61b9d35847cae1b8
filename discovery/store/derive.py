"""Derive index documents from the records: the index is always rebuildable from here.

A product family (a parent and its variants) is one document, keyed by the parent SKU; a
variant alone is never a separate hit, its colours and sizes are the parent's facets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np

from discovery.domain import Asset, Product
from discovery.foreground import step_aside
from discovery.store.index.base import IndexDoc
from discovery.store.index.documents import (
    InheritedProduct,
    asset_to_doc,
    inherited_from,
    product_doc_id,
    product_to_doc,
)
from discovery.store.records import Records


def family_roots(products: Iterable[Product]) -> list[str]:
    """The SKUs whose documents a change to these products touches (parents for variants)."""
    return list(dict.fromkeys(p.parent_sku or p.sku for p in products))


def product_docs(records: Records, root_skus: Iterable[str]) -> tuple[list[IndexDoc], list[str]]:
    """Documents for the given family roots, and the doc ids to delete (roots that no longer
    exist, or variants indexed on their own before their parent arrived). Variants whose
    parent is missing are indexed on their own, so they are never lost."""
    roots = list(dict.fromkeys(root_skus))
    found = records.get_products(roots)
    families = records.variants_of(roots)
    members = [v.sku for vs in families.values() for v in vs]
    linked = records.links.assets_for_skus([*roots, *members])
    # Every document's text vector in one read (a root, or an orphaned variant's own).
    vectors = records.get_vectors("text_vector", [product_doc_id(s) for s in (*roots, *members)])
    parents = {p.parent_sku for p in found.values() if p.parent_sku}
    parents_found = set(records.get_products(parents)) if parents else set()
    docs: list[IndexDoc] = []
    gone: list[str] = []
    for sku in roots:
        step_aside()  # an import in the API's process: requests first
        product = found.get(sku)
        if product is None:
            gone.append(product_doc_id(sku))
            docs.extend(_doc(v, [], linked, vectors) for v in families.get(sku, []))
        elif product.parent_sku and product.parent_sku in parents_found:
            gone.append(product_doc_id(sku))
        else:
            docs.append(_doc(product, families.get(sku, []), linked, vectors))
    return docs, gone


def _doc(
    product: Product,
    variants: list[Product],
    linked: dict[str, list[str]],
    vectors: Mapping[str, tuple[str, np.ndarray, str]],
) -> IndexDoc:
    # A withdrawn variant's colour or size must not keep a live family findable by it
    # (a withdrawn family keeps all its members).
    if product.status != "withdrawn":
        variants = [v for v in variants if v.status != "withdrawn"]
    doc_id = product_doc_id(product.sku)
    vec = vectors.get(doc_id)
    images = [a for p in (product, *variants) for a in (*p.asset_ids, *linked.get(p.sku, []))]
    return product_to_doc(
        product,
        variants=variants,
        text_vector=vec[1].tolist() if vec else None,
        vector_model=vec[0] if vec else None,
        thumbnail=f"/api/assets/{images[0]}/renditions/thumbnail" if images else None,
    )


def linked_skus(asset: Asset) -> list[str]:
    """The SKUs an asset links to, each once, in link order."""
    skus = (link.get("sku") for link in asset.product_skus if isinstance(link, dict))
    return list(dict.fromkeys(str(s) for s in skus if s))


def inherited_for_assets(records: Records, assets: Sequence[Asset]) -> dict[str, tuple[InheritedProduct, ...]]:
    """What each asset inherits from its linked products, by asset id (absent: nothing).

    Only listed products lend values (a variant: only when its stored parent is listed
    too): the index is shared by every caller, and a public search must not find an asset,
    or show a highlight, by the words of a draft product it may not see. The linked
    products and their parents are read in two batched reads for all `assets` together, so
    a bulk import costs no lookup per asset."""
    wanted = {a.id: skus for a in assets if (skus := linked_skus(a))}
    if not wanted:  # an ingest of files that link to nothing reads nothing
        return {}
    products = records.get_products(s for skus in wanted.values() for s in skus)
    missing = {p.parent_sku for p in products.values() if p.parent_sku and p.parent_sku not in products}
    known = {**(records.get_products(missing) if missing else {}), **products}
    out: dict[str, tuple[InheritedProduct, ...]] = {}
    for asset_id, skus in wanted.items():
        found: list[InheritedProduct] = []
        for sku in skus:
            product = products.get(sku)
            parent = known.get(product.parent_sku) if product is not None and product.parent_sku else None
            if product is None or not product.listed or (parent is not None and not parent.listed):
                continue
            found.append(inherited_from(product, parent))
        if found:
            out[asset_id] = tuple(found)
    return out


def all_docs(records: Records, *, batch: int = 500, image_model: str | None = None) -> Iterator[IndexDoc]:
    """Every document the index should hold, streamed (for `discovery reindex`). Assets carry
    their image vector of `image_model` (a model switch's next generation) or, without it,
    of the active generation."""
    for products in records.iter_products(batch=batch):
        roots = [p.sku for p in products if not p.parent_sku]
        orphan_parents = {p.parent_sku for p in products if p.parent_sku} - set(roots)
        roots += [s for s in orphan_parents if s and records.get_product(s) is None]
        docs, _ = product_docs(records, roots)
        yield from docs
    for assets in records.iter_assets(batch=batch):
        vectors = records.get_vectors("image_vector", [f"asset:{a.id}" for a in assets], model=image_model)
        inherited = inherited_for_assets(records, assets)
        for asset in assets:
            vec = vectors.get(f"asset:{asset.id}")
            yield asset_to_doc(
                asset,
                image_vector=vec[1].tolist() if vec else None,
                vector_model=vec[0] if vec else None,
                inherited=inherited.get(asset.id, ()),
            )
