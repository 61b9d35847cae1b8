"""Asset reads: the asset view, similar assets, near-duplicates and search by image."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from discovery.domain import Asset, JSONObject, Product
from discovery.errors import InvalidQuery, NotFound, TooLarge
from discovery.services.actors import name_items
from discovery.services.catalog import asset_allowed, asset_json, product_visible
from discovery.services.context import Context
from discovery.services.search import INTERNAL_FIELDS, similar_assets
from discovery.store.derive import inherited_for_assets
from discovery.store.index.base import ScoredId
from discovery.store.index.documents import asset_doc_id

# Pixels an image search may decode (after a JPEG's reduced decode): a 4096x4096 PNG. A
# tiny PNG of 49 MP would otherwise cost 30-45 ordinary searches.
IMAGE_SEARCH_MAX_DECODED_PIXELS = 16_777_216
DUPLICATE_THRESHOLD = 6  # pHash bits that may differ between near-duplicates (10 over-merges simple silhouettes)


def load_asset(ctx: Context, asset_id: str, *, public: bool, channel: str | None = None) -> Asset:
    asset = ctx.records.get_asset(asset_id)
    if asset is None or (public and not asset_allowed(asset, channel=channel)):
        raise NotFound(f"no asset {asset_id!r}")
    return asset


def asset_view(ctx: Context, asset_id: str, *, public: bool, channel: str | None = None) -> JSONObject:
    asset = load_asset(ctx, asset_id, public=public, channel=channel)
    skus = [str(link.get("sku")) for link in asset.product_skus]
    products = _shown_products(ctx, skus, public=public)
    body = asset_json(asset, public=public, shown_skus=set(products))
    body["products"] = [{"sku": s, "name": p.name} for s, p in products.items()]
    # What search finds the asset by besides its own words: from listed products only, so
    # a public caller sees here only products it may see.
    inherited = inherited_for_assets(ctx.records, [asset]).get(asset.id, ())
    body["inherited"] = [item.to_json() for item in inherited]
    if not public and isinstance(tags := body.get("tags"), list):
        name_items(ctx, tags, "decided_by")
    return body


def _shown_products(ctx: Context, skus: list[str], *, public: bool) -> dict[str, Product]:
    """The products of these SKUs a caller may see (a public caller: listed ones only)."""
    products = ctx.records.get_products(skus)
    return {s: p for s, p in products.items() if not public or product_visible(p)}


def _hits(ctx: Context, neighbours: list[ScoredId], *, group_by_product: bool, public: bool) -> JSONObject:
    docs = ctx.backend.get([n.id for n in neighbours])
    hits: list[JSONObject] = []
    for n in neighbours:
        doc = docs.get(n.id)
        if doc is None:
            continue
        hits.append({**doc.stored, "type": "asset", "id": doc.key, "score": round(n.score, 6)})
    skus = [str(s) for h in hits for s in (h.get("product_skus") or [])]  # type: ignore[union-attr]
    products = _shown_products(ctx, skus, public=public)
    if public:  # a hit names only the products a shopper may see
        for hit in hits:
            hit["product_skus"] = [s for s in hit.get("product_skus") or [] if str(s) in products]  # type: ignore[union-attr]
    body: JSONObject = {"total": len(hits), "total_is_lower_bound": False, "hits": hits}  # type: ignore[dict-item]
    if group_by_product:
        body["products"] = _group_by_product(hits, products)  # type: ignore[assignment]
    return body


def _group_by_product(hits: list[JSONObject], products: Mapping[str, Product]) -> list[JSONObject]:
    """Products of the hits, best first; a variant collapses to its parent, showing the image
    of the variant that matched."""
    best: dict[str, JSONObject] = {}
    for hit in hits:
        for sku in hit.get("product_skus") or []:  # type: ignore[union-attr]
            product = products.get(str(sku))
            if product is None:
                continue
            root = product.parent_sku or product.sku
            if root not in best:
                best[root] = {
                    "sku": root,
                    "matched_sku": product.sku,
                    "name": product.name,
                    "score": hit["score"],
                    "image": hit.get("id"),
                    "thumbnail": hit.get("thumbnail"),
                }
    return list(best.values())


def similar(
    ctx: Context,
    asset_id: str,
    *,
    k: int,
    public: bool,
    channel: str | None = None,
    filters: Mapping[str, tuple[str, ...]] | None = None,
    group_by_product: bool = False,
) -> JSONObject:
    """Nearest neighbours of a stored asset's image vector (same model only), narrowed by
    `filters` on facet fields as a search is (a shopper may not filter on internal ones)."""
    if public and (hidden := sorted(set(filters or {}) & INTERNAL_FIELDS)):
        raise InvalidQuery(f"unknown filter field {hidden[0]!r}", field=hidden[0])
    asset = load_asset(ctx, asset_id, public=public, channel=channel)
    vec = ctx.records.get_vectors("image_vector", [asset_doc_id(asset.id)]).get(asset_doc_id(asset.id))
    if vec is None:
        raise NotFound(f"asset {asset_id!r} has no image vector (not an image, or not embedded yet)")
    model, vector, _ = vec
    neighbours = similar_assets(
        ctx, vector, model=model, k=k, exclude=[asset_doc_id(asset.id)], filters=filters, public=public, channel=channel
    )
    body = _hits(ctx, neighbours, group_by_product=group_by_product, public=public)
    body["model"] = {"clip": model}
    return body


def search_by_image(
    ctx: Context,
    data: bytes,
    *,
    k: int,
    public: bool,
    channel: str | None = None,
    filters: Mapping[str, tuple[str, ...]] | None = None,
    group_by_product: bool = True,
) -> JSONObject:
    """Assets (and their products) that look like an uploaded image."""
    from indexer.assets.safe_image import TooManyPixels, UnsafeImage, decode
    from indexer.assets.sniff import UnsupportedType, sniff

    try:
        kind = sniff(data[:64])
        if not kind.is_image:
            raise InvalidQuery("search by image needs an image (JPEG, PNG, WebP, GIF, TIFF)", field="file")
        decoded = decode(data, kind.pil_format, longest=512, max_decoded_pixels=IMAGE_SEARCH_MAX_DECODED_PIXELS)
    except TooManyPixels as exc:
        raise TooLarge(str(exc), field="file") from exc
    except (UnsupportedType, UnsafeImage) as exc:
        raise InvalidQuery(str(exc), field="file") from exc
    clip = ctx.clip()
    vector: np.ndarray = clip.encode_images([decoded.image])[0]
    model = clip.model_id
    neighbours = similar_assets(ctx, vector, model=model, k=k, filters=filters, public=public, channel=channel)
    body = _hits(ctx, neighbours, group_by_product=group_by_product, public=public)
    body["model"] = {"clip": model}
    return body


def duplicates(ctx: Context, asset_id: str, *, public: bool, threshold: int = DUPLICATE_THRESHOLD) -> JSONObject:
    """Assets whose perceptual hash is within `threshold` bits of this one's."""
    from indexer.assets.phash import hamming

    asset = load_asset(ctx, asset_id, public=public)
    if not asset.phash:
        return {"items": [], "threshold": threshold}
    items: list[JSONObject] = []
    # A scan of every asset's hash: fine to ~10^5 assets; a BK-tree or the index beyond.
    for batch in ctx.records.iter_assets(batch=1000):
        for other in batch:
            if other.id == asset.id or not other.phash:
                continue
            distance = hamming(asset.phash, other.phash)
            if distance <= threshold and (not public or asset_allowed(other, channel=None)):
                items.append(
                    {
                        "id": other.id,
                        "filename": other.filename,
                        "distance": distance,
                        "thumbnail": f"/api/assets/{other.id}/renditions/thumbnail",
                    }
                )
    items.sort(key=lambda i: (i["distance"], i["id"]))
    return {"items": items, "threshold": threshold}  # type: ignore[dict-item]


def check_k(k: int) -> int:
    if not 1 <= k <= 200:
        raise InvalidQuery("k must be between 1 and 200", field="k")
    return k
