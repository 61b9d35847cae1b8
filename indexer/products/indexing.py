"""Write products from the records to the search index, parents with their variants.

A parent's document folds in its variants' colours and sizes, so whenever a variant
changes its parent is rewritten too. Stored text vectors travel with the documents, so
reindexing a product never drops its semantic vector.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from discovery.domain import Asset, Product
from discovery.store.derive import family_roots, product_docs
from discovery.store.index.base import BulkReport, ItemOutcome, SearchBackend, SearchQuery
from discovery.store.index.documents import product_doc_id
from discovery.store.records import Records, UpsertCounts
from indexer.assets.indexing import reindex_linked_assets


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
    """Index the families of `skus` from the records (saved before this is called).

    A family is one document under its parent's SKU (`discovery.store.derive`); a variant
    is never a hit of its own. The report has one outcome per SKU asked for: a variant's
    is its family document's, so callers count per product as before. The documents of
    the assets linked to the family members are rewritten too where what they inherit
    from these products changed (`reindex_linked_assets`)."""
    wanted = list(dict.fromkeys(skus))
    if not wanted:
        return BulkReport()
    products = {**records.get_products([s for s in wanted if s not in (known or {})]), **(known or {})}
    roots = family_roots(products[s] for s in wanted if s in products)
    variant_skus = [s for s in wanted if s in products and products[s].parent_sku]
    roots += _families_left(backend, variant_skus, roots)
    docs, gone = product_docs(records, roots)
    written = backend.upsert(docs)
    # Families that vanished, and variants indexed alone before their parent arrived: a
    # family document lists all its SKUs, and a variant left unchanged by its parent's
    # arrival is not among `skus`, yet its lone document must go all the same.
    members = [s for doc in docs for s in doc.keywords.get("sku", ())]
    variants = (s for s in wanted if s in products and products[s].parent_sku)
    kept = {doc.id for doc in docs}
    stale = [d for d in dict.fromkeys([*gone, *map(product_doc_id, [*members, *variants])]) if d not in kept]
    if stale:
        backend.delete(stale)
    reindex_linked_assets(records, backend, dict.fromkeys([*wanted, *members]))
    by_doc = {o.id: o for o in written.outcomes}
    report = BulkReport()
    for sku in wanted:
        product = products.get(sku)
        if product is None:
            continue
        root_doc = product_doc_id(product.parent_sku or sku)
        outcome = by_doc.get(root_doc) or by_doc.get(product_doc_id(sku))
        if outcome is not None:
            report.outcomes.append(ItemOutcome(product_doc_id(sku), outcome.ok, outcome.error))
    return report


def _families_left(backend: SearchBackend, variant_skus: list[str], roots: list[str]) -> list[str]:
    """Families whose indexed document still lists one of these variants although it now
    belongs elsewhere (its parent changed): they are rewritten without it, or a search for
    the variant's colour or SKU would keep finding the family it left."""
    if not variant_skus:
        return []
    listing = backend.search(
        SearchQuery(filters={"sku": tuple(variant_skus)}, size=2 * len(variant_skus) + 10, highlight=False)
    )
    current = set(roots)
    return list(dict.fromkeys(h.key for h in listing.hits if h.key not in current))


def keep_people_s(product: Product, stored: Product) -> None:
    """What only people and review write, taken from the record as stored when a product is
    saved from an earlier read (a completeness or link sync, a variant's inheritance, a
    withdrawal): tags and primary images."""
    product.tags = list(stored.tags)
    product.primary_images = dict(stored.primary_images)


def keep_unowned(product: Product, stored: Product) -> None:
    """What an import does not own, taken from the record as stored when it writes: reviewed
    tags, the primary images and linked assets."""
    keep_people_s(product, stored)
    product.asset_ids = list(stored.asset_ids)


def save_products(
    records: Records,
    products: list[Product],
    *,
    import_hashes: Mapping[str, str] | None = None,
    settle: Callable[[Product, Product], None] = keep_people_s,
) -> tuple[UpsertCounts, list[str]]:
    """Upsert products, stamping `updated_at` on those that changed (the records keep a
    product's old stamp when it already has one) and keeping it on the others.
    `import_hashes`: an import's row hashes (`indexer.products.unchanged`); `settle`: what to
    take from the record as stored at the write (`Records.upsert_products`): tags and primary
    images by default, also linked assets for an import (`keep_unowned`)."""
    stamps = {p.sku: p.updated_at for p in products}
    for product in products:
        product.updated_at = ""
    counts, changed = records.upsert_products(products, import_hashes=import_hashes, settle=settle)
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
