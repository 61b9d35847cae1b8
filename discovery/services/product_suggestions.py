"""Suggestions on products: categories ranked from the text, and values for enum attributes
(colour, material, pattern) chosen only among the allowed options, from the text, the
linked images' colours and CLIP. They go to review like image tags:

- `category:path:<Men/Tops/Hoodies>` - accepted, the path joins the product's categories;
- `attribute:<name>=<option>` - accepted, the value fills the attribute (and so counts
  towards completeness).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from discovery.domain import Product, Tag
from discovery.foreground import step_aside
from discovery.services.context import Context
from discovery.services.review import merge_suggestions

CATEGORY_PREFIX = "category:path:"
ATTRIBUTE_PREFIX = "attribute:"
SUGGESTED_ATTRIBUTES = ("color", "material", "pattern")
MIN_CATEGORY_CONFIDENCE = 0.2


def _suggesters(ctx: Context):  # type: ignore[no-untyped-def]
    from models.attributes import AttributeSuggester
    from models.categories import CategorySuggester
    from models.taxonomy import load_taxonomy

    cached = getattr(ctx, "_product_suggesters", None)
    if cached is None:
        taxonomy = load_taxonomy()
        text = ctx.text()
        categories = CategorySuggester(text, taxonomy) if text is not None else None
        cached = (taxonomy, categories, AttributeSuggester(ctx.clip(), taxonomy))
        ctx._product_suggesters = cached  # type: ignore[attr-defined]
    return cached


def _options(taxonomy, attribute: str) -> list[str]:  # type: ignore[no-untyped-def]
    from models.rules import ATTRIBUTE_GROUPS

    group = taxonomy.groups.get(ATTRIBUTE_GROUPS.get(attribute, ""))
    return [name.split(":", 1)[1] for name in group.tags] if group is not None else []


def _images(ctx: Context, ids: list[str]) -> tuple[np.ndarray | None, list[dict[str, object]]]:
    if not ids:
        return None, []
    vectors = ctx.records.get_vectors("image_vector", [f"asset:{i}" for i in ids])
    clip_id = ctx.clip().model_id
    usable = [v for model, v, _ in vectors.values() if model == clip_id]
    colors: list[dict[str, object]] = []
    for asset_id in ids[:1]:
        asset = ctx.records.get_asset(asset_id)
        if asset is not None:
            colors = [dict(c) for c in asset.colors]
    return (np.stack(usable) if usable else None), colors


def suggest_for_products(ctx: Context, skus: Iterable[str]) -> int:
    """Suggest categories for products without one and attribute values for empty enum
    attributes; merge into the products' tags. Returns how many products changed."""
    taxonomy, categories, attributes = _suggesters(ctx)
    products = [p for p in ctx.records.get_products(list(dict.fromkeys(skus))).values() if p.status != "withdrawn"]
    changed = 0
    needing_category = [p for p in products if not p.categories]
    by_sku: dict[str, list[Tag]] = {p.sku: [] for p in products}
    if categories is not None and needing_category:
        ranked = categories.suggest_many([(p.name, p.description_text) for p in needing_category], top_k=2)
        for product, found in zip(needing_category, ranked, strict=True):
            by_sku[product.sku] += [
                Tag(f"{CATEGORY_PREFIX}{s.path}", "text", "suggested", round(s.confidence, 4), s.model)
                for s in found
                if s.confidence >= MIN_CATEGORY_CONFIDENCE
            ]
    linked = ctx.records.links.assets_for_skus([p.sku for p in products])
    families = ctx.records.variants_of([p.sku for p in products])
    for product in products:
        step_aside()
        if families.get(product.sku):
            continue  # a parent's colours and materials are its variants'
        missing = [a for a in SUGGESTED_ATTRIBUTES if not product.attributes.get(a) and _options(taxonomy, a)]
        if not missing:
            continue
        vectors, colors = _images(ctx, list(dict.fromkeys([*product.asset_ids, *linked.get(product.sku, [])])))
        text = f"{product.name}. {product.description_text}"
        for attribute in missing:
            found = attributes.suggest(
                attribute, _options(taxonomy, attribute), text=text, image_vectors=vectors, colors=colors
            )
            if found is not None:
                by_sku[product.sku].append(
                    Tag(
                        f"{ATTRIBUTE_PREFIX}{attribute}={found.value}",
                        found.source,
                        "suggested",
                        round(found.confidence, 4),
                        found.model,
                    )
                )
    for product in products:
        fresh = by_sku[product.sku]
        if not fresh:
            continue
        merged = merge_suggestions(product.tags, fresh)
        if [t.to_json() for t in merged] != [t.to_json() for t in product.tags]:
            ctx.records.tags.replace_tags(product, merged)
            changed += 1
    return changed


def apply_accepted(product: Product, tag: str) -> bool:
    """What accepting a product suggestion does to the record; True when it changed it."""
    if tag.startswith(CATEGORY_PREFIX):
        path = tag.removeprefix(CATEGORY_PREFIX)
        if path and path not in product.categories:
            product.categories.append(path)
            return True
    elif tag.startswith(ATTRIBUTE_PREFIX) and "=" in tag:
        name, value = tag.removeprefix(ATTRIBUTE_PREFIX).split("=", 1)
        if name and product.attributes.get(name) != value:
            product.attributes[name] = value
            return True
    return False
