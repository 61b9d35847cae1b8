"""Keep products and their assets in step, whichever arrives first.

After an import, stored assets are linked to the new products (by image references and
file-name rules); after an asset ingest, the products the new assets link to are
updated. Either way each touched product gets its `asset_ids` from the links, its
completeness recomputed against the linked, analysed images, and its family document
rewritten (which also gives it a thumbnail).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from discovery.domain import JSONObject, Product
from discovery.services.context import Context
from indexer.assets.indexing import reindex_linked_assets

if TYPE_CHECKING:
    from indexer.assets.links import FilenameRule


def sync_products(ctx: Context, skus: Iterable[str], *, force: bool = False) -> list[str]:
    """Refresh asset ids (the primary image first) and completeness of these products;
    returns the SKUs that changed. `force` reindexes them even when neither changed (their
    record did), and refreshes the index so the next search shows them."""
    from indexer.products.completeness import completeness, load_channels
    from indexer.products.indexing import index_products, save_products

    wanted = list(dict.fromkeys(skus))
    if not wanted:
        return []
    products = ctx.records.get_products(wanted)
    linked = ctx.records.links.assets_for_skus(wanted)
    channels = load_channels(data_dir=ctx.settings.data_dir)
    touched: list[Product] = []
    for sku, product in products.items():
        # The primary image a person chose comes first: it is the product's thumbnail.
        first = [i for i in (product.primary_images.get(""),) if i and i in linked.get(sku, [])]
        ids = list(dict.fromkeys([*first, *linked.get(sku, [])]))
        assets = {i: a for i in ids if (a := ctx.records.get_asset(i)) is not None}
        before = (list(product.asset_ids), product.completeness)
        product.asset_ids = ids
        product.completeness = completeness(product, channels, assets)
        if force or (product.asset_ids, product.completeness) != before:
            touched.append(product)
    if not touched:
        return []
    _, changed = save_products(ctx.records, touched)
    reindex = [p.sku for p in touched] if force else changed
    index_products(ctx.records, ctx.backend, reindex, known={p.sku: p for p in touched})
    if force:
        ctx.backend.refresh()
    return changed


def reindex_assets_for_products(ctx: Context, skus: Iterable[str], *, refresh: bool = True) -> int:
    """Write again the documents of every asset linked to these SKUs, with what they
    inherit from them now (name, categories, colours, materials, accepted tags; only from
    listed products); returns how many. For changes to a few products that do not pass
    through `index_products` (which compares and rewrites only changed assets itself): a
    status change (its family), an accepted product tag. `refresh=False` leaves the
    documents staged for the next near-real-time commit."""
    count = reindex_linked_assets(ctx.records, ctx.backend, skus, only_changed=False)
    if count and refresh:
        ctx.backend.refresh()
    return count


def after_product_import(
    ctx: Context, skus: list[str], *, rules: Sequence[FilenameRule] | None = None
) -> list[JSONObject]:
    """Link stored assets to these products (file-name `rules`: the default ones when None),
    then sync the products. Returns what linking did (linked, suggested, ambiguous)."""
    from discovery.services.product_suggestions import suggest_for_products
    from indexer.assets.indexing import index_assets
    from indexer.assets.linking import link_products
    from indexer.assets.links import DEFAULT_RULES

    suggest_for_products(ctx, skus)
    if ctx.records.count_assets() == 0:
        return []
    products = list(ctx.records.get_products(skus).values())
    changed_assets, report = link_products(ctx.records, products, rules=DEFAULT_RULES if rules is None else rules)
    if changed_assets:
        index_assets(ctx.records, ctx.backend, changed_assets)
    # Products an earlier file-name-rule link was taken back from lose it too.
    unlinked = [str(e["sku"]) for e in report if e.get("outcome") == "suggested"]
    sync_products(ctx, [*skus, *unlinked])
    return report


def after_asset_ingest(ctx: Context, asset_ids: list[str]) -> None:
    """Suggest tags for new assets and sync the products they link to."""
    from discovery.services.tagging import suggest_for_assets

    if not asset_ids:
        return
    suggest_for_assets(ctx, asset_ids)
    from discovery.services.product_suggestions import suggest_for_products

    skus = [str(link.get("sku")) for i in asset_ids if (a := ctx.records.get_asset(i)) for link in a.product_skus]
    sync_products(ctx, skus)
    suggest_for_products(ctx, skus)
