"""Channel views and feeds: a product as a channel should get it, in the channel's locale,
with only the images that fit the channel's rules and whose rights allow it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from discovery.domain import Asset, Product
from discovery.errors import NotFound
from discovery.services.catalog import INTERNAL_ATTRIBUTES, asset_allowed, product_visible
from discovery.services.context import Context


def _channel(ctx: Context, name: str):  # type: ignore[no-untyped-def]
    from indexer.products.completeness import load_channels

    channels = load_channels(data_dir=ctx.settings.data_dir)
    spec = channels.get(name)
    if spec is None:
        raise NotFound(f"no channel {name!r}; known: {', '.join(sorted(channels))}", field="channel")
    return spec


def _fits(asset: Asset, spec) -> bool:  # type: ignore[no-untyped-def]
    from indexer.products.completeness import _image_fits

    return asset.media_type.startswith("image/") and _image_fits(spec.images, name=asset.filename, asset=asset)


def _rendition_for(ctx: Context, channel: str) -> str:
    from indexer.assets.renditions import load_presets

    return channel if channel in load_presets() else "preview"


def _family_assets(ctx: Context, product: Product, variants: list[Product]) -> list[Asset]:
    linked = ctx.records.links.assets_for_skus([product.sku, *(v.sku for v in variants)])
    ids = list(dict.fromkeys(a for p in (product, *variants) for a in (*p.asset_ids, *linked.get(p.sku, []))))
    return [a for a in (ctx.records.get_asset(i) for i in ids) if a is not None]


def _localised(product: Product, locale: str, default_locale: str) -> tuple[str, str]:
    texts = product.locales.get(locale, {})
    if locale == default_locale or not texts:
        return texts.get("name") or product.name, texts.get("description") or product.description
    return texts.get("name") or product.name, texts.get("description") or product.description


def _in_channel(product: Product, channel: str, *, public: bool) -> bool:
    """Whether the channel carries the product for this caller: never withdrawn, in the
    product's channels, and for a public caller listed (the shopper view's rule)."""
    if product.status == "withdrawn" or (product.channels and channel not in product.channels):
        return False
    return not public or product_visible(product)


def channel_product(
    ctx: Context, channel: str, sku: str, *, locale: str | None = None, public: bool = False
) -> dict[str, object]:
    spec = _channel(ctx, channel)
    product = ctx.records.get_product(sku)
    if product is None or not _in_channel(product, channel, public=public):
        raise NotFound(f"product {sku!r} is not in channel {channel!r}")
    return _view(ctx, channel, spec, product, locale=locale or spec.default_locale, public=public)


def _view(ctx: Context, channel: str, spec, product: Product, *, locale: str, public: bool) -> dict[str, object]:  # type: ignore[no-untyped-def]
    variants = ctx.records.variants_of([product.sku]).get(product.sku, [])
    if public:
        variants = [v for v in variants if product_visible(v)]
    rendition = _rendition_for(ctx, channel)
    images: list[dict[str, object]] = []
    for asset in _family_assets(ctx, product, variants):
        if _fits(asset, spec) and asset_allowed(asset, channel=channel):
            images.append(
                {
                    "id": asset.id,
                    "url": f"/api/assets/{asset.id}/renditions/{rendition}",
                    "width": asset.width,
                    "height": asset.height,
                    "skus": [str(link.get("sku")) for link in asset.product_skus],
                }
            )
    name, description = _localised(product, locale, spec.default_locale)
    state = product.completeness.get(channel) if isinstance(product.completeness, dict) else None
    return {
        "channel": channel,
        "locale": locale,
        "sku": product.sku,
        "name": name,
        "description": description,
        "brand": product.brand,
        "price": product.price,
        "currency": product.currency,
        "categories": list(product.categories),
        "attributes": {
            k: v for k, v in product.attributes.items() if k not in INTERNAL_ATTRIBUTES and not k.startswith("_")
        },
        "variants": [
            {
                "sku": v.sku,
                "name": _localised(v, locale, spec.default_locale)[0],
                "price": v.price,
                "attributes": {
                    k: a for k, a in v.attributes.items() if k not in INTERNAL_ATTRIBUTES and not k.startswith("_")
                },
            }
            for v in variants
        ],
        "images": images,
        "ready": bool(state.get("ready")) if isinstance(state, dict) else False,
        "missing": _missing(state),
    }


def _missing(state: object) -> list[str]:
    if not isinstance(state, dict):
        return ["completeness not computed"]
    missing = state.get("missing")
    return [str(m) for m in missing] if isinstance(missing, list) else []


def _roots(ctx: Context) -> Iterator[Product]:
    for batch in ctx.records.iter_products(batch=500):
        for product in batch:
            if not product.parent_sku:
                yield product


def feed_check(ctx: Context, channel: str) -> None:
    """Raise NotFound before a stream starts, so an unknown channel is a 404, not a broken stream."""
    _channel(ctx, channel)


def feed(ctx: Context, channel: str, *, fmt: str = "jsonl", ready: bool = True, public: bool = False) -> Iterator[str]:
    """Stream the channel's ready products (`ready=True`) or its not-ready report with reasons,
    as JSON lines or CSV, a product at a time; a public caller gets listed products only."""
    spec = _channel(ctx, channel)
    writer_buffer = io.StringIO()
    writer = csv.writer(writer_buffer)
    if fmt == "csv":
        header = ["sku", "name", "brand", "price", "currency", "images"] if ready else ["sku", "name", "missing"]
        writer.writerow(header)
        yield _drain(writer_buffer)
    for product in _roots(ctx):
        if not _in_channel(product, channel, public=public):
            continue
        state = product.completeness.get(channel) if isinstance(product.completeness, dict) else None
        is_ready = isinstance(state, dict) and bool(state.get("ready"))
        if is_ready != ready:
            continue
        if ready:
            view = _view(ctx, channel, spec, product, locale=spec.default_locale, public=public)
            if fmt == "csv":
                images = " ".join(str(i["url"]) for i in view["images"])  # type: ignore[attr-defined]
                writer.writerow([_cell(view[k]) for k in ("sku", "name", "brand", "price", "currency")] + [images])
                yield _drain(writer_buffer)
            else:
                yield json.dumps(view, ensure_ascii=False) + "\n"
        else:
            missing = _missing(state)
            if fmt == "csv":
                writer.writerow([_cell(product.sku), _cell(product.name), "; ".join(missing)])
                yield _drain(writer_buffer)
            else:
                yield (
                    json.dumps({"sku": product.sku, "name": product.name, "missing": missing}, ensure_ascii=False)
                    + "\n"
                )


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
