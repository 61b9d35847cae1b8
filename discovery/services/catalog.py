"""Read views of products and assets, internal and public (shopper)."""

from __future__ import annotations

from datetime import UTC, datetime

from discovery.domain import Asset, JSONObject, JSONValue, Product, Tag
from discovery.errors import NotFound
from discovery.services.context import Context
from discovery.store.index.documents import rights_status

# Attributes a shopper never sees, whatever the source file called them.
INTERNAL_ATTRIBUTES = frozenset({"cost", "cost_price", "supplier", "margin", "internal_notes"})


def _public_tags(tags: list[Tag]) -> list[JSONValue]:
    return [{"name": t.name} for t in tags if t.status == "accepted"]


def asset_allowed(asset: Asset, *, channel: str | None, now: datetime | None = None) -> bool:
    """Whether a shopper may see an asset: rights not expired, channel allowed."""
    if rights_status(asset.rights, now=now or datetime.now(UTC)) == "expired":
        return False
    channels = asset.rights.get("channels")
    return not (channel and isinstance(channels, list) and channels and channel not in channels)


def product_json(product: Product, *, public: bool) -> JSONObject:
    data = product.to_json()
    # Attributes starting with "_" are bookkeeping (e.g. what a variant inherited).
    data["attributes"] = {k: v for k, v in product.attributes.items() if not k.startswith("_")}
    if public:
        data["tags"] = _public_tags(product.tags)
        attributes = data.get("attributes") or {}
        data["attributes"] = {k: v for k, v in attributes.items() if k not in INTERNAL_ATTRIBUTES}  # type: ignore[union-attr]
        for key in ("source", "completeness", "image_refs"):
            data.pop(key, None)
    return data


def asset_json(asset: Asset, *, public: bool) -> JSONObject:
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
        for key in ("versions", "usage", "vector_model"):
            data.pop(key, None)
        data["product_skus"] = [{"sku": link.get("sku")} for link in asset.product_skus]
    return data


def product_view(ctx: Context, sku: str, *, public: bool, channel: str | None = None) -> JSONObject:
    product = ctx.records.get_product(sku)
    if product is None or (public and product.status == "withdrawn"):
        raise NotFound(f"no product with SKU {sku!r}")
    variants = ctx.records.variants_of([product.sku]).get(product.sku, [])
    parent = ctx.records.get_product(product.parent_sku) if product.parent_sku else None
    linked = ctx.records.links.assets_for_skus([product.sku, *(v.sku for v in variants)])
    family = (product, *variants)
    asset_ids = list(dict.fromkeys(a for p in family for a in (*p.asset_ids, *linked.get(p.sku, []))))
    assets = [a for a in (ctx.records.get_asset(i) for i in asset_ids) if a is not None]
    if public:
        assets = [a for a in assets if asset_allowed(a, channel=channel)]
    body = product_json(product, public=public)
    body["variants"] = [product_json(v, public=public) for v in variants]
    body["parent"] = product_json(parent, public=public) if parent else None
    body["assets"] = [asset_json(a, public=public) for a in assets]
    return body
