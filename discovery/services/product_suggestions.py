"""Suggestions on products: categories ranked from the text, and values for enum attributes
(colour, material, pattern, gender) chosen only among the allowed options, from the text, the
linked images' colours and CLIP. The allowed options are the values the catalog already
uses for that attribute (spelled as it spells them) when it uses a few, else the
taxonomy's. Each suggestion carries its evidence. They go to review like image tags:

- `category:path:<Men/Tops/Hoodies>` - accepted, the path joins the product's categories;
- `attribute:<name>=<option>` - accepted, the value fills the attribute (and so counts
  towards completeness).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from discovery.domain import Asset, Product, Tag
from discovery.foreground import step_aside
from discovery.services.context import Context
from discovery.services.review import merge_suggestions
from discovery.store.tag_records import ChangedMeanwhile

CATEGORY_PREFIX = "category:path:"
ATTRIBUTE_PREFIX = "attribute:"
SUGGESTED_ATTRIBUTES = ("color", "material", "pattern", "gender")
# The catalog's own values for an attribute become its options once it uses this many,
# each on at least two products (a value seen once may be a typo).
MIN_CATALOG_OPTIONS = 3
# Suggested only where the catalog itself records it: a shop that never states a gender
# does not want one suggested for every product filed under Men/.
CATALOG_ONLY_ATTRIBUTES = frozenset({"gender"})
MIN_CATEGORY_CONFIDENCE = 0.2
CATEGORY_SUGGESTIONS = 3
# Below this many filed products (with text vectors) the catalog's own tree says too little:
# suggestions come from the taxonomy instead.
MIN_FILED_PRODUCTS = 20
FILED_POOL = 50_000  # neighbours are drawn from at most this many filed products
POOL_REFRESH_SECONDS = 60.0
CATALOG_SURE = 0.5


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


def _catalog_pool(ctx: Context) -> tuple[list[tuple[str, str, tuple[str, ...]]], dict[str, list[str]]]:
    """One pass over the catalog, kept for a minute: its filed products (sku, name, paths)
    and, per suggested attribute, the values it uses (most used first)."""
    import time
    from collections import Counter

    count = ctx.records.count_products()
    cached = getattr(ctx, "_catalog_pool", None)
    if cached is not None and time.monotonic() - cached[0] < POOL_REFRESH_SECONDS and not _grew(cached[2], count):
        return cached[1]
    filed: list[tuple[str, str, tuple[str, ...]]] = []
    used: dict[str, Counter[str]] = {a: Counter() for a in SUGGESTED_ATTRIBUTES}
    for batch in ctx.records.iter_products():
        for p in batch:
            if p.status == "withdrawn":
                continue
            if p.categories and not p.parent_sku:
                filed.append((p.sku, p.name, tuple(p.categories)))
            for attribute, counter in used.items():
                value = p.attributes.get(attribute)
                counter.update(v.strip() for v in (value if isinstance(value, list) else [value])
                               if isinstance(v, str) and v.strip())  # fmt: skip
    values = {a: [v for v, n in c.most_common() if n >= 2] for a, c in used.items()}
    pool = (filed, values)
    ctx._catalog_pool = (time.monotonic(), pool, count)  # type: ignore[attr-defined]
    return pool


def _grew(before: int, now: int) -> bool:
    """A catalog a tenth larger (or smaller) than the pool knew is read again at once: its
    first import's values and tree matter most, and a minute is a long wait for them."""
    return abs(now - before) >= max(1, before // 10)


def _catalog_categories(ctx: Context, taxonomy):  # type: ignore[no-untyped-def]
    """The suggester over the catalog's own filed products, rebuilt with the pool."""
    from discovery.store.index.documents import product_doc_id
    from models.catalog_categories import CatalogCategories

    text = ctx.text()
    if text is None:
        return None
    pool = _catalog_pool(ctx)
    cached = getattr(ctx, "_catalog_categories", None)
    if cached is not None and cached[0] is pool:
        return cached[1]
    filed = pool[0]
    if len(filed) > FILED_POOL:
        filed = [filed[i] for i in np.random.default_rng(0).choice(len(filed), FILED_POOL, replace=False)]
    model_id = text.model_id
    vectors = ctx.records.get_vectors("text_vector", [product_doc_id(sku) for sku, _, _ in filed])
    rows = [(vectors[product_doc_id(sku)][1], name, paths) for sku, name, paths in filed
            if product_doc_id(sku) in vectors and vectors[product_doc_id(sku)][0] == model_id]  # fmt: skip
    suggester = None
    if len(rows) >= MIN_FILED_PRODUCTS:
        suggester = CatalogCategories(
            np.stack([v for v, _, _ in rows]),
            [paths for _, _, paths in rows],
            texts=[name for _, name, _ in rows],
            synonyms=_synonyms(taxonomy),
        )
    ctx._catalog_categories = (pool, suggester)  # type: ignore[attr-defined]
    return suggester


def _synonyms(taxonomy) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Leaf word -> the taxonomy's synonyms for categories of that name ("trouser" -> pants...)."""
    from models.catalog_categories import words_of

    out: dict[str, list[str]] = {}
    for category in taxonomy.categories.values():
        for word in words_of(category.path.rsplit("/", 1)[-1]):
            out.setdefault(word, []).extend(category.synonyms)
    return out


def _suggest_categories(  # type: ignore[no-untyped-def]
    ctx: Context, taxonomy, fallback, products: list[Product], *, own_tree: bool = True
) -> dict[str, list[Tag]]:
    """Category suggestions per SKU: the catalog's own tree when it has one, else the taxonomy."""
    from discovery.store.index.documents import product_doc_id
    from models.catalog_categories import words_of

    out: dict[str, list[Tag]] = {}
    catalog = _catalog_categories(ctx, taxonomy) if products and own_tree else None
    if catalog is not None:
        text = ctx.text()
        assert text is not None
        stored = ctx.records.get_vectors("text_vector", [product_doc_id(p.sku) for p in products])
        usable = {p.sku: found[1] for p in products
                  if (found := stored.get(product_doc_id(p.sku))) and found[0] == text.model_id}  # fmt: skip
        # The others are variants, which have no document of their own: their family
        # document's vector, else their own text in one call. A variant with neither (no
        # name, no description: most variants inherit both) has nothing to suggest from; it
        # was embedded as ". " before.
        unstored = [p for p in products if p.sku not in usable]
        families = ctx.records.get_vectors(
            "text_vector", [product_doc_id(p.parent_sku) for p in unstored if p.parent_sku]
        )
        for p in unstored:
            family = families.get(product_doc_id(p.parent_sku)) if p.parent_sku else None
            if family is not None and family[0] == text.model_id:
                usable[p.sku] = family[1]
        texts = {p.sku: f"{p.name}. {p.description_text}"[:1000] for p in unstored if p.sku not in usable}
        texts = {sku: t for sku, t in texts.items() if t.strip(". ")}
        if texts:
            usable.update(zip(texts, text.encode(list(texts.values())), strict=True))
        out.update({p.sku: [] for p in products if p.sku not in usable})
        products = [p for p in products if p.sku in usable]
        vectors = [usable[p.sku] for p in products]
        ranked = (
            catalog.suggest(np.stack(vectors), [p.name for p in products], top_k=CATEGORY_SUGGESTIONS)
            if products
            else []
        )
        for product, found in zip(products, ranked, strict=True):
            out[product.sku] = [
                Tag(
                    f"{CATEGORY_PREFIX}{s.path}",
                    "catalog",
                    "suggested",
                    round(s.confidence, 4),
                    text.model_id,
                    evidence=s.evidence or None,
                )
                for s in found
                if s.confidence >= MIN_CATEGORY_CONFIDENCE
            ]
        # A product the catalog's tree has no good place for also hears what the taxonomy says:
        # its best path is right less than half the time at that score, or its name names a
        # taxonomy category ("jacket") while none of the catalog's paths is named by it.
        category_words = _category_words(taxonomy)  # once per batch, not per product
        named = {sku for sku, found in zip([p.sku for p in products], ranked, strict=True)
                 if any(s.evidence.startswith("the name") for s in found)}  # fmt: skip
        unsure = [
            p for p in products
            if not out[p.sku] or out[p.sku][0].confidence < CATALOG_SURE
            or (p.sku not in named and bool(words_of(p.name) & category_words))
        ]  # fmt: skip
        if fallback is not None and unsure:
            for sku, tags in _suggest_categories(ctx, taxonomy, fallback, unsure, own_tree=False).items():
                offered = {t.name for t in out[sku]}
                extra = [t for t in tags if t.name not in offered]
                if sku in named:  # the catalog's tree has a path the name names: it leads
                    merged = sorted(out[sku] + extra, key=lambda t: -t.confidence)
                else:  # the name names a category the catalog's tree lacks: the taxonomy's lead,
                    # and the catalog's own paths are less likely than their neighbours said
                    merged = extra + [replace(t, confidence=round(t.confidence / 2, 4)) for t in out[sku]]
                out[sku] = merged[:CATEGORY_SUGGESTIONS]
        return out
    if fallback is not None:
        ranked = fallback.suggest_many([(p.name, p.description_text) for p in products], top_k=CATEGORY_SUGGESTIONS)
        for product, found in zip(products, ranked, strict=True):
            out[product.sku] = [
                Tag(
                    f"{CATEGORY_PREFIX}{s.path}",
                    "text",
                    "suggested",
                    round(s.confidence, 4),
                    s.model,
                    evidence=s.evidence or None,
                )
                for s in found
                if s.confidence >= MIN_CATEGORY_CONFIDENCE
            ]
    return out


def _category_words(taxonomy) -> set[str]:  # type: ignore[no-untyped-def]
    """Every word that names a leaf category of the taxonomy or one of its synonyms."""
    from models.catalog_categories import words_of

    return {w for c in taxonomy.categories.values() if c.is_leaf
            for w in words_of(" ".join([c.path.rsplit("/", 1)[-1], *c.synonyms]))}  # fmt: skip


def _options(taxonomy, attribute: str, catalog: dict[str, list[str]] | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    """The values a suggestion may take: the catalog's own when it uses a few, else the taxonomy's."""
    from models.attributes import PRODUCT_ATTRIBUTE_GROUPS

    own = (catalog or {}).get(attribute, [])
    if len(own) >= MIN_CATALOG_OPTIONS:
        return own
    if attribute in CATALOG_ONLY_ATTRIBUTES:
        return []
    group = taxonomy.groups.get(PRODUCT_ATTRIBUTE_GROUPS.get(attribute, ""))
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
    needing_category = [p for p in products if not p.categories]
    by_sku: dict[str, list[Tag]] = {p.sku: [] for p in products}
    if needing_category:
        for sku, tags in _suggest_categories(ctx, taxonomy, categories, needing_category).items():
            by_sku[sku] += tags
    linked = ctx.records.links.assets_for_skus([p.sku for p in products])
    families = ctx.records.variants_of([p.sku for p in products])
    catalog_values = _catalog_pool(ctx)[1] if products else {}
    options = {a: _options(taxonomy, a, catalog_values) for a in SUGGESTED_ATTRIBUTES}
    for product in products:
        step_aside()
        if families.get(product.sku):
            continue  # a parent's colours and materials are its variants'
        missing = [a for a in SUGGESTED_ATTRIBUTES if not product.attributes.get(a) and options[a]]
        if not missing:
            continue
        vectors, colors = _images(ctx, list(dict.fromkeys([*product.asset_ids, *linked.get(product.sku, [])])))
        fields = [("the name", product.name), ("the description", product.description_text),
                  ("its category", " ; ".join(product.categories))]  # fmt: skip
        for attribute in missing:
            found = attributes.suggest(
                attribute, options[attribute], fields=fields, image_vectors=vectors, colors=colors
            )
            if found is not None:
                by_sku[product.sku].append(
                    Tag(
                        f"{ATTRIBUTE_PREFIX}{attribute}={found.value}",
                        found.source,
                        "suggested",
                        round(found.confidence, 4),
                        found.model,
                        evidence=found.evidence or None,
                    )
                )
    return _merge_in(ctx, products, by_sku)


def _merge_in(ctx: Context, products: list[Product], by_sku: dict[str, list[Tag]], *, attempts: int = 3) -> int:
    """Merge the suggestions into the products' tags in one transaction (one per product was
    a fifth of a new import's time). A reviewer who decided on one of them meanwhile makes
    the write refuse (`ChangedMeanwhile`): the tags are read again and merged again."""
    for attempt in range(attempts):
        writes: list[tuple[Product | Asset, list[Tag]]] = []
        for product in products:
            if not (fresh := by_sku.get(product.sku)):
                continue
            merged = merge_suggestions(product.tags, fresh)
            if [t.to_json() for t in merged] != [t.to_json() for t in product.tags]:
                writes.append((product, merged))
        if not writes:
            return 0
        try:
            ctx.records.tags.apply(writes, [])
            return len(writes)
        except ChangedMeanwhile:
            if attempt == attempts - 1:
                raise
            products = list(ctx.records.get_products(p.sku for p, _ in writes if isinstance(p, Product)).values())
    return 0


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
