"""Links a person makes or takes back: link and unlink an asset and a product, choose a
product's primary image (for every channel or for one), and decide a suggested link.

Each change is written to the records (the truth), audited, and shown by the next search:
the asset's document is rewritten and the touched products are synced (`links.sync_products`
with `force`: their `asset_ids`, completeness and thumbnail) with an index refresh.

An unlink is remembered as a rejected `link:<SKU>` tag on the asset, so no later import
or ingest links the two again by a rule or a reference; a manual link clears it.
"""

from __future__ import annotations

from discovery.domain import Asset, JSONObject, JSONValue, Product, Tag, TagStatus, utcnow
from discovery.errors import Conflict, InvalidQuery, NotFound
from discovery.services.context import Context
from indexer.assets.links import LINK_TAG, link_tag


def link(ctx: Context, asset_id: str, sku: str, *, actor: str, via: str = "api") -> JSONObject:
    """Link `asset_id` to the product `sku` (how `manual`: it outranks every rule). Linking
    twice changes nothing the second time."""
    _asset(ctx, asset_id)
    product = _product(ctx, sku)
    seen: JSONObject = {}

    def change(asset: Asset) -> bool:
        before = next((dict(x) for x in asset.product_skus if x.get("sku") == product.sku), None)
        seen["before"] = before
        if before is not None and before.get("how") == "manual":
            return False
        asset.product_skus = [x for x in asset.product_skus if x.get("sku") != product.sku]
        asset.product_skus.append({"sku": product.sku, "how": "manual"})
        _set_link_tag(asset, product.sku, "accepted" if via == "review" else None, actor)
        return True

    saved = ctx.records.edits.asset(asset_id, change)
    if saved is None:
        return _answer(_asset(ctx, asset_id), product, changed=False)
    ctx.records.audit(
        actor=actor, action="link.add", target=f"asset:{saved.id}",
        detail={"sku": product.sku, "before": seen.get("before"), "after": "manual", "via": via},
    )  # fmt: skip
    _after_change(ctx, saved, [product.sku])
    return _answer(saved, product, changed=True)


def unlink(ctx: Context, asset_id: str, sku: str, *, actor: str) -> JSONObject:
    """Take the link between `asset_id` and `sku` away, however it was made; the product's
    primary image, when it was this asset, is cleared."""
    _asset(ctx, asset_id)
    seen: JSONObject = {}

    def change(asset: Asset) -> bool:
        before = next((dict(x) for x in asset.product_skus if x.get("sku") == sku), None)
        if before is None:
            raise NotFound(f"asset {asset_id} is not linked to {sku!r}", field="sku")
        seen["before"] = before
        asset.product_skus = [x for x in asset.product_skus if x.get("sku") != sku]
        _set_link_tag(asset, sku, "rejected", actor)
        return True

    asset = ctx.records.edits.asset(asset_id, change)
    if asset is None:
        raise NotFound(f"no asset {asset_id!r}", field="asset_id")
    cleared: list[str] = []

    def clear_primary(product: Product) -> bool:
        cleared[:] = [c for c, i in product.primary_images.items() if i == asset_id]
        for channel in cleared:
            del product.primary_images[channel]
        return bool(cleared)

    ctx.records.edits.product(sku, clear_primary)
    ctx.records.audit(
        actor=actor, action="link.remove", target=f"asset:{asset.id}",
        detail={"sku": sku, "before": seen.get("before"), "primary_cleared": list[JSONValue](cleared)},
    )  # fmt: skip
    _after_change(ctx, asset, [sku])
    skus = list[JSONValue](asset.product_skus)
    return {"asset_id": asset.id, "sku": sku, "linked": False, "changed": True, "product_skus": skus}


def set_primary_image(ctx: Context, sku: str, asset_id: str, *, channel: str | None, actor: str) -> JSONObject:
    """Make `asset_id` (linked to `sku`) the product's primary image: its thumbnail in search
    and first in its images, for every channel or, with `channel`, for that channel's view."""
    from indexer.products.completeness import load_channels

    product = _product(ctx, sku)
    key = (channel or "").strip()
    if key and key not in load_channels(data_dir=ctx.settings.data_dir) and key not in product.channels:
        raise InvalidQuery(f"no channel {key!r}", field="channel")
    linked = ctx.records.links.assets_for_skus([product.sku]).get(product.sku, [])
    if asset_id not in linked:
        raise Conflict(f"asset {asset_id} is not linked to {product.sku!r}: link it first", field="asset_id")
    seen: JSONObject = {}

    def change(stored: Product) -> bool:
        seen["before"] = stored.primary_images.get(key)
        if seen["before"] == asset_id:
            return False
        stored.primary_images[key] = asset_id
        return True

    saved = ctx.records.edits.product(product.sku, change)
    if saved is not None:
        ctx.records.audit(
            actor=actor, action="product.primary_image", target=f"product:{product.sku}",
            detail={"channel": key or None, "before": seen.get("before"), "after": asset_id},
        )  # fmt: skip
    from discovery.services.links import sync_products

    sync_products(ctx, [product.sku], force=True)
    current = saved or ctx.records.get_product(product.sku) or product
    return {"sku": product.sku, "channel": key or None, "asset_id": asset_id, "changed": saved is not None,
            "primary_images": dict(current.primary_images)}  # fmt: skip


def decide_suggested_link(ctx: Context, asset: Asset, tag: str, status: TagStatus, *, actor: str) -> int | None:
    """A reviewer's decision on a suggested link (`link:<SKU>` on the asset): accepted makes
    the link (how `manual`); rejected keeps the rule from suggesting or making it again.
    Returns the decision's audit entry (what an undo names), or None for the reject of a
    link that already stood (an unlink, which is not undone as a tag decision)."""
    sku = tag[len(LINK_TAG) :]
    if status == "accepted":
        before = next((t.to_json() for t in asset.tags if t.name == tag), None)
        link(ctx, asset.id, sku, actor=actor, via="review")
        # Also audited as a tag decision, so the reviewer's undo takes the link back and the
        # suggestion returns (the `link.add` entry above is the link's own history).
        detail: JSONObject = {"tag": tag, "sku": sku, "before": before, "after": None, "link": True}
        return ctx.records.audit(actor=actor, action="tag.accept", target=f"asset:{asset.id}", detail=detail)
    linked = any(x.get("sku") == sku for x in asset.product_skus)
    if linked:
        unlink(ctx, asset.id, sku, actor=actor)
        return None
    seen: JSONObject = {}

    def reject(stored: Asset) -> bool:
        seen["before"] = next((t.to_json() for t in stored.tags if t.name == tag), None)
        _set_link_tag(stored, sku, "rejected", actor)
        seen["after"] = next((t.to_json() for t in stored.tags if t.name == tag), None)
        return True

    if ctx.records.edits.asset(asset.id, reject) is None:
        raise NotFound(f"no asset {asset.id!r}", field="asset_id")
    # Audited as any tag decision, so the reviewer's undo brings the suggestion back.
    detail = {"tag": tag, "sku": sku, "before": seen.get("before"), "after": seen.get("after")}
    return ctx.records.audit(actor=actor, action="tag.reject", target=f"asset:{asset.id}", detail=detail)


def _set_link_tag(asset: Asset, sku: str, status: TagStatus | None, actor: str) -> None:
    """Record the person's word on the link as the asset's `link:<SKU>` tag: rejected (an
    unlink), or none at all (a link: the link itself is the record, and an accepted link
    tag would be a search facet value)."""
    name = link_tag(sku)
    asset.tags = [t for t in asset.tags if t.name != name]
    if status == "rejected":
        asset.tags.append(
            Tag(name=name, source="human", status="rejected", decided_by=actor, decided_at=utcnow().isoformat())
        )


def _after_change(ctx: Context, asset: Asset, skus: list[str]) -> None:
    """Show a saved link change: the asset's document and the touched products'."""
    from discovery.services.asset_writes import reindex_assets
    from discovery.services.links import sync_products

    reindex_assets(ctx, [asset])
    sync_products(ctx, skus, force=True)


def _asset(ctx: Context, asset_id: str) -> Asset:
    asset = ctx.records.get_asset(asset_id)
    if asset is None:
        raise NotFound(f"no asset {asset_id!r}", field="asset_id")
    return asset


def _product(ctx: Context, sku: str) -> Product:
    if not sku.strip():
        raise InvalidQuery("sku is empty", field="sku")
    product = ctx.records.get_product(sku)
    if product is None:
        raise NotFound(f"no product with SKU {sku!r}", field="sku")
    return product


def _answer(asset: Asset, product: Product, *, changed: bool) -> JSONObject:
    return {"asset_id": asset.id, "sku": product.sku, "linked": True, "changed": changed,
            "product_skus": list[JSONValue](asset.product_skus)}  # fmt: skip
