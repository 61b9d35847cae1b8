"""Read views of products and assets, internal and public (shopper)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from discovery.domain import Asset, JSONObject, JSONValue, Product, Tag
from discovery.errors import NotFound
from discovery.services.actors import name_items
from discovery.services.context import Context
from discovery.store.index.documents import rights_status

# Attributes a shopper never sees, whatever the source file called them.
INTERNAL_ATTRIBUTES = frozenset({"cost", "cost_price", "supplier", "margin", "internal_notes"})


def _public_tags(tags: list[Tag]) -> list[JSONValue]:
    return [{"name": t.name} for t in tags if t.status == "accepted"]


def asset_allowed(asset: Asset, *, channel: str | None, now: datetime | None = None) -> bool:
    """Whether a shopper may see an asset (its view, file or renditions): rights not
    expired, and, when its rights name channels, the caller names one of them (a caller
    naming no channel sees only assets no channel restricts). Search applies the same rule
    as filters (`search._view_filters`)."""
    if rights_status(asset.rights, now=now or datetime.now(UTC)) == "expired":
        return False
    channels = asset.rights.get("channels")
    if not isinstance(channels, list) or not channels:
        return True
    return channel is not None and channel in channels


def product_visible(product: Product) -> bool:
    """Whether a shopper may see a product: listed by the workflow (approved only)."""
    return product.listed


def product_json(product: Product, *, public: bool, shown_assets: Collection[str] = ()) -> JSONObject:
    """A product as a caller sees it; a public caller's `asset_ids` keep only `shown_assets`
    (those the shopper may see), and no workflow or import internals."""
    data = product.to_json()
    # Attributes starting with "_" are bookkeeping (e.g. what a variant inherited).
    data["attributes"] = {k: v for k, v in product.attributes.items() if not k.startswith("_")}
    if public:
        data["tags"] = _public_tags(product.tags)
        attributes = data.get("attributes") or {}
        data["attributes"] = {k: v for k, v in attributes.items() if k not in INTERNAL_ATTRIBUTES}  # type: ignore[union-attr]
        data["asset_ids"] = [a for a in product.asset_ids if a in shown_assets]
        for key in ("source", "completeness", "image_refs", "status"):
            data.pop(key, None)
    return data


def asset_json(asset: Asset, *, public: bool, shown_skus: Collection[str] = ()) -> JSONObject:
    """An asset as a caller sees it; a public caller's `product_skus` keep only `shown_skus`
    (the listed products), and no history, usage, hashes or collections."""
    data = asset.to_json()
    data["rights_status"] = rights_status(asset.rights)
    data["renditions"] = {k: v for k, v in asset.renditions.items() if not k.endswith(".stamp")}
    data["file"] = f"/api/assets/{asset.id}/file"
    data["thumbnail"] = (
        f"/api/assets/{asset.id}/renditions/thumbnail" if asset.media_type.startswith("image/") else None
    )
    if public:
        data["tags"] = _public_tags(asset.tags)
        metadata = data.get("metadata") or {}
        data["metadata"] = {k: v for k, v in metadata.items() if not k.lower().startswith("gps")}  # type: ignore[union-attr]
        for key in ("versions", "usage", "vector_model", "phash", "collections"):
            data.pop(key, None)
        data["product_skus"] = [
            {"sku": link.get("sku")} for link in asset.product_skus if str(link.get("sku")) in shown_skus
        ]
    return data


def product_view(ctx: Context, sku: str, *, public: bool, channel: str | None = None) -> JSONObject:
    product = ctx.records.get_product(sku)
    if product is None or (public and not product_visible(product)):
        raise NotFound(f"no product with SKU {sku!r}")
    variants = ctx.records.variants_of([product.sku]).get(product.sku, [])
    parent = ctx.records.get_product(product.parent_sku) if product.parent_sku else None
    if public:
        variants = [v for v in variants if product_visible(v)]
        parent = parent if parent is not None and product_visible(parent) else None
    linked = ctx.records.links.assets_for_skus([product.sku, *(v.sku for v in variants)])
    family = (product, *variants)
    asset_ids = list(dict.fromkeys(a for p in family for a in (*p.asset_ids, *linked.get(p.sku, []))))
    chosen = product.primary_images.get(channel or "") or product.primary_images.get("")
    if chosen in asset_ids:  # the channel's primary image first, else the product's
        asset_ids = [chosen, *(a for a in asset_ids if a != chosen)]
    assets = [a for a in (ctx.records.get_asset(i) for i in asset_ids) if a is not None]
    if public:
        assets = [a for a in assets if asset_allowed(a, channel=channel)]
    shown = {a.id for a in assets}
    skus = {p.sku for p in family}
    body = product_json(product, public=public, shown_assets=shown)
    body["variants"] = [product_json(v, public=public, shown_assets=shown) for v in variants]
    body["parent"] = product_json(parent, public=public, shown_assets=shown) if parent else None
    asset_bodies = [asset_json(a, public=public, shown_skus=skus) for a in assets]
    body["assets"] = list[JSONValue](asset_bodies)
    if not public:
        name_items(ctx, _tags_of([body, *body["variants"], *asset_bodies]), "decided_by")  # type: ignore[misc]
    return body


def _tags_of(parts: list[JSONValue]) -> list[JSONValue]:
    found: list[JSONValue] = []
    for part in parts:
        tags = part.get("tags") if isinstance(part, dict) else None
        if isinstance(tags, list):
            found.extend(tags)
    return found


def hide_unlisted(ctx: Context, hits: list[dict[str, object]]) -> None:
    """Take the products a shopper may not see out of search hits' stored fields: a family's
    `variants` and an asset's `product_skus` are indexed for every caller (one lookup of the
    page's SKUs)."""
    skus = [str(v.get("sku")) for h in hits for v in _dicts(h.get("variants"))]
    skus += [str(s) for h in hits for s in _list(h.get("product_skus"))]
    if not skus:
        return
    listed = {sku for sku, p in ctx.records.get_products(skus).items() if product_visible(p)}
    for hit in hits:
        if isinstance(hit.get("variants"), list):
            hit["variants"] = [v for v in _dicts(hit["variants"]) if str(v.get("sku")) in listed]
        if isinstance(hit.get("product_skus"), list):
            hit["product_skus"] = [s for s in _list(hit["product_skus"]) if str(s) in listed]


def _dicts(value: object) -> list[dict[str, object]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []
