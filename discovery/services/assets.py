"""Asset reads: the asset view, similar assets, near-duplicates and search by image."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from discovery.domain import Asset, JSONObject, Product
from discovery.errors import InvalidQuery, NotFound, TooLarge
from discovery.services.actors import name_items
from discovery.services.asset_titles import display_title
from discovery.services.catalog import asset_allowed, asset_json, product_visible
from discovery.services.clip_generation import stored_vector_search, with_clip
from discovery.services.context import Context
from discovery.services.image_results import DUPLICATE_THRESHOLD, ImageQuery, check, image_results
from discovery.store.derive import inherited_for_assets
from discovery.store.index.documents import asset_doc_id

if TYPE_CHECKING:
    from models.clip import ClipModel

# Pixels an image search may decode (after a JPEG's reduced decode): a 4096x4096 PNG. A
# tiny PNG of 49 MP would otherwise cost 30-45 ordinary searches.
IMAGE_SEARCH_MAX_DECODED_PIXELS = 16_777_216


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
    named = [(s, p.name) for s, p in products.items()]
    body["display_title"] = display_title(title=asset.title, filename=asset.filename, products=named)
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


def similar(ctx: Context, asset_id: str, *, query: ImageQuery, public: bool) -> JSONObject:
    """Nearest neighbours of a stored asset's image vector (same model only), the asset
    itself left out; filters, facets, collapse and paging as `image_results` describes."""
    check(query, public=public)
    asset = load_asset(ctx, asset_id, public=public, channel=query.channel)
    target = asset_doc_id(asset.id)

    def run(model: str, vector: np.ndarray) -> JSONObject:
        return image_results(ctx, vector, model=model, query=query, public=public, exclude=[target])

    body = stored_vector_search(ctx, target, run)
    if body is None:
        raise NotFound(f"asset {asset_id!r} has no image vector (not an image, or not embedded yet)")
    return body


def search_by_image(ctx: Context, data: bytes, *, query: ImageQuery, public: bool) -> JSONObject:
    """Assets (and their products) that look like an uploaded image."""
    from indexer.assets.safe_image import TooManyPixels, UnsafeImage, decode
    from indexer.assets.sniff import UnsupportedType, sniff

    check(query, public=public)
    try:
        kind = sniff(data[:64])
        if not kind.is_image:
            raise InvalidQuery("search by image needs an image (JPEG, PNG, WebP, GIF, TIFF)", field="file")
        decoded = decode(data, kind.pil_format, longest=512, max_decoded_pixels=IMAGE_SEARCH_MAX_DECODED_PIXELS)
    except TooManyPixels as exc:
        raise TooLarge(str(exc), field="file") from exc
    except (UnsupportedType, UnsafeImage) as exc:
        raise InvalidQuery(str(exc), field="file") from exc
    def run(clip: ClipModel) -> JSONObject:
        vector: np.ndarray = clip.encode_images([decoded.image])[0]
        return image_results(ctx, vector, model=clip.model_id, query=query, public=public)

    return with_clip(ctx, run)


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
