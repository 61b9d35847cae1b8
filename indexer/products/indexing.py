"""Write products from the records to the search index, parents with their variants.

A parent's document folds in its variants' colours and sizes, so whenever a variant
changes its parent is rewritten too. Stored text vectors travel with the documents, so
reindexing a product never drops its semantic vector.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from discovery.domain import Asset, Product
from discovery.store.index.base import BulkReport, SearchBackend
from discovery.store.index.documents import product_doc_id, product_to_doc
from discovery.store.records import Records, UpsertCounts


def with_parents(skus: Iterable[str], known: Mapping[str, Product]) -> set[str]:
    """The SKUs plus the parents of those that are variants."""
    wanted = set(skus)
    wanted |= {p.parent_sku for s in list(wanted) if (p := known.get(s)) is not None and p.parent_sku}
    return wanted


def index_products(
    records: Records,
    backend: SearchBackend,
    skus: Iterable[str],
    *,
    known: Mapping[str, Product] | None = None,
) -> BulkReport:
    """Index `skus` and their parents from the records (or `known`, when fresher)."""
    known = dict(known or {})
    wanted = set(skus)
    missing = [s for s in wanted if s not in known]
    known.update(records.get_products(missing))
    wanted = with_parents(wanted, known)
    missing = [s for s in wanted if s not in known]
    known.update(records.get_products(missing))
    present = sorted(s for s in wanted if s in known)
    if not present:
        return BulkReport()
    variants = records.variants_of(present)
    vectors = records.get_vectors("text_vector", [product_doc_id(s) for s in present])
    docs = []
    for sku in present:
        stored = vectors.get(product_doc_id(sku))
        docs.append(
            product_to_doc(
                known[sku],
                variants=variants.get(sku, ()),
                text_vector=[float(x) for x in stored[1]] if stored else None,
                vector_model=stored[0] if stored else None,
            )
        )
    return backend.upsert(docs)


def save_products(records: Records, products: list[Product]) -> tuple[UpsertCounts, list[str]]:
    """Upsert products, stamping `updated_at` on those that changed (the records keep a
    product's old stamp when it already has one) and keeping it on the others."""
    stamps = {p.sku: p.updated_at for p in products}
    for product in products:
        product.updated_at = ""
    counts, changed = records.upsert_products(products)
    written = set(changed)
    for product in products:
        if product.sku not in written:
            product.updated_at = stamps[product.sku]
    return counts, changed


def linked_assets(records: Records, products: Iterable[Product]) -> dict[str, Asset]:
    """The assets linked to these products, for image rules judged on analysed images."""
    out: dict[str, Asset] = {}
    for product in products:
        for asset_id in product.asset_ids:
            if asset_id not in out:
                asset = records.get_asset(asset_id)
                if asset is not None:
                    out[asset_id] = asset
    return out
