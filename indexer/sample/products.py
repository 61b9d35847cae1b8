"""Product rows with canonical field names, generated one product group at a time.

A group is a simple product (one row with its own colour and size) or a variant parent
followed by its 2-4 variants (each with `parent_sku`, its own colour, size and price).
Groups are drawn from one `random.Random(seed)` in order, so the same seed gives the
same rows; nothing here depends on whether images are drawn.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from indexer.sample.palette import COLOUR_NAMES
from indexer.sample.vocab import (
    ADJECTIVES,
    BRANDS,
    CHANNEL_SETS,
    DESCRIPTION_CARE,
    DESCRIPTION_OPENERS,
    NEUTRAL_ROOTS,
    NOUNS,
    PRODUCT_TYPES,
    STATUSES,
    ProductType,
)

Row = dict[str, object]
_T = TypeVar("_T")

VARIANT_SHARE = 0.3  # default share of groups that are a parent with variants
FRENCH_SHARE = 0.4  # share of groups with a name-fr_FR
CURRENCY = "EUR"

# Canonical column order, shared by the JSONL key order and the CSV header.
COLUMNS: tuple[str, ...] = (
    "sku", "parent_sku", "name", "name-fr_FR", "description", "brand", "categories", "price",
    "currency", "status", "channels", "color", "size", "material", "image",
)  # fmt: skip


@dataclass(slots=True)
class ProductGroup:
    """One product as the catalog holds it: its rows, and the colours its images show."""

    sku: str
    product_type: ProductType
    name_words: tuple[str, str]  # the adjective and noun of the name, for sample words
    rows: list[Row]  # the simple row, or the parent row then its variants
    row_colours: list[str | None]  # per row: its colour (None for a parent)
    colours: list[str] = field(default_factory=list)  # distinct colours, in row order


def iter_groups(seed: int, count: int, variant_share: float = VARIANT_SHARE) -> Iterator[ProductGroup]:
    """`count` product groups, deterministic from `seed`; `variant_share` of them with variants."""
    rng = random.Random(seed)
    for index in range(count):
        yield _group(rng, index, variant_share)


def _group(rng: random.Random, index: int, variant_share: float) -> ProductGroup:
    brand, code = _pick(rng, BRANDS)
    kind = _pick(rng, PRODUCT_TYPES)
    adjective, noun = _pick(rng, ADJECTIVES), _pick(rng, NOUNS)
    name = f"{adjective} {noun} {kind.word}"
    material = _pick(rng, kind.materials)
    base: Row = {
        "sku": f"{code}-{index:06d}",
        "name": name,
        "name-fr_FR": f"{kind.word_fr} {adjective} {noun}" if rng.random() < FRENCH_SHARE else None,
        "description": _description(rng, kind, material, brand),
        "brand": brand,
        "categories": _categories(rng, kind),
        "price": _price(rng, kind),
        "currency": CURRENCY,
        "status": _weighted(rng, STATUSES),
        "channels": list(_weighted(rng, CHANNEL_SETS)),
        "material": material,
    }
    if rng.random() < variant_share:
        rows, colours = _variant_rows(rng, kind, base)
    else:
        colour = _pick(rng, COLOUR_NAMES)
        rows, colours = [_ordered({**base, "color": colour, "size": _pick(rng, kind.sizes)})], [colour]
    distinct = list(dict.fromkeys(c for c in colours if c is not None))
    return ProductGroup(str(base["sku"]), kind, (adjective, noun), rows, colours, distinct)


def _variant_rows(rng: random.Random, kind: ProductType, base: Row) -> tuple[list[Row], list[str | None]]:
    """A parent row (no colour or size of its own) and 2-4 variants with their own."""
    count = rng.randint(2, 4)
    # Enough colours for `count` distinct (colour, size) pairs: one-size products vary by colour only.
    colour_count = max(rng.randint(1, min(count, 3)), -(-count // len(kind.sizes)))
    palette = rng.sample(COLOUR_NAMES, colour_count)
    combos = sorted(
        rng.sample([(c, s) for c in palette for s in kind.sizes], count),
        key=lambda cs: (palette.index(cs[0]), kind.sizes.index(cs[1])),
    )
    parent_sku, base_price = str(base["sku"]), float(base["price"])  # type: ignore[arg-type]
    variants: list[Row] = []
    for colour, size in combos:
        variants.append(_ordered({
            **base,
            "sku": f"{parent_sku}-{colour.upper()}-{re.sub('[^0-9A-Za-z]', '', size).upper()}",
            "parent_sku": parent_sku,
            "name": f"{base['name']} - {colour.title()}, {size}",
            "price": round(base_price + _pick(rng, (0, 0, 5, 10)), 2),
            "color": colour,
            "size": size,
        }))  # fmt: skip
    parent = _ordered({**base, "price": min(float(v["price"]) for v in variants)})  # type: ignore[arg-type]
    return [parent, *variants], [None, *(colour for colour, _ in combos)]


def _ordered(row: Row) -> Row:
    """The row with keys in canonical order and empty fields left out."""
    return {key: row[key] for key in COLUMNS if row.get(key) is not None}


def _categories(rng: random.Random, kind: ProductType) -> list[str]:
    if kind.gendered:
        roots = _weighted(rng, ((("Men",), 0.4), (("Women",), 0.4), (("Men", "Women"), 0.2)))
    else:
        roots = (NEUTRAL_ROOTS[kind.path.split("/")[0]],)
    paths = [f"{root}/{kind.path}" for root in roots]
    if rng.random() < 0.1:
        paths.append(f"Sale/{kind.path.split('/')[0]}")
    return paths


def _price(rng: random.Random, kind: ProductType) -> float:
    low, high = kind.price
    return round(max(1.0, round(rng.uniform(low, high)) - _pick(rng, (0.05, 0.01, 0.0))), 2)


def _description(rng: random.Random, kind: ProductType, material: str, brand: str) -> str:
    opener = _pick(rng, DESCRIPTION_OPENERS).format(m=material, t=kind.word.lower())
    care = "".join(rng.sample(DESCRIPTION_CARE, 2))
    return f"{opener}<ul><li>Brand: {brand}</li><li>Material: {material}</li>{care}</ul>"


def _pick(rng: random.Random, values: Sequence[_T]) -> _T:
    """rng.choice, about three times faster: 100k products make well over a million picks."""
    return values[int(rng.random() * len(values))]


def _weighted(rng: random.Random, choices: tuple[tuple[_T, float], ...]) -> _T:
    draw, total = rng.random(), 0.0
    for value, weight in choices:
        total += weight
        if draw < total:
            return value
    return choices[-1][0]
