"""Turn product and asset records into the neutral documents both engines hold. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from discovery.colors import color_label
from discovery.domain import Asset, DocType, JSONObject, JSONValue, Product
from discovery.errors import InvalidQuery
from discovery.store.index.base import IndexDoc, Range

# BM25 weights per text field; both engines apply the same boosts.
TEXT_WEIGHTS: dict[str, float] = {
    "name": 4.0,
    "title": 4.0,
    "brand": 3.0,
    "tags": 2.5,
    "categories": 2.0,
    "attributes": 1.5,
    "filename": 1.5,
    "alt": 1.5,
    "description": 1.0,
    "metadata": 0.8,
    "sku": 5.0,
    # An asset's linked products' words (names, categories, colours, materials, tags):
    # below the asset's own title, tags and file name, so an asset that says "sneaker"
    # itself ranks above one that only belongs to a sneaker.
    "products": 1.0,
}

# Exact-match fields: filters and facets. Anything else in a query is refused.
KEYWORD_FIELDS: tuple[str, ...] = (
    "type",
    "sku",
    "parent_sku",
    "brand",
    "category",
    "color",
    "size",
    "material",
    "tags",
    "tags_suggested",
    "channels",
    "status",
    "listed",
    "ready_for",
    "currency",
    "media_type",
    "background",
    "orientation",
    "resolution",
    "colors",
    "collections",
    "rights_status",
    "rights_channels",
    "product_skus",
    "phash",
    # What an asset inherits from its linked (listed) products: facets of asset search.
    "inherited_category",
    "inherited_color",
    "inherited_material",
)
NUMBER_FIELDS: tuple[str, ...] = ("price", "width", "height", "bytes", "popularity", "completeness")
DATE_FIELDS: tuple[str, ...] = ("updated_at", "rights_expires_at")

# Documents with no expiry carry this date, so "not expired" is one range filter that
# every document can pass (products have no rights of their own).
NEVER_EXPIRES = "9999-12-31T00:00:00+00:00"

# Attributes that become facets of their own (variants contribute theirs to the parent).
FACET_ATTRIBUTES: tuple[str, ...] = ("color", "size", "material")


# Keyword fields whose values are spelled many ways by catalogs (`XL`, `xl`, `Gray`,
# `grey`): the index holds one canonical form of each, which is also what a filter on the
# field is turned into and what its facet shows.
CANONICAL_FIELDS: tuple[str, ...] = ("color", "colors", "size", "material", "inherited_color", "inherited_material")
_COLOR_FIELDS = frozenset({"color", "colors", "inherited_color"})
_LETTER_SIZE = re.compile(r"^(?:\d*x{0,4}[sl]|m|\d*xl)$")  # s, m, l, xs, xl, xxl, 3xl, xxxs


def keyword_value(name: str, value: str) -> str:
    """The form the index holds for `value` of keyword field `name`, depending only on
    the value folded (case, spaces): colours by the colour vocabulary (`gray` -> `Grey`),
    letter sizes in capitals (`xl` -> `XL`), other words capitalised (`organic cotton`
    -> `Organic Cotton`). Fields not in `CANONICAL_FIELDS` keep their value."""
    if name not in CANONICAL_FIELDS:
        return value
    if name in _COLOR_FIELDS:
        return color_label(value)
    words = value.casefold().split()
    if name == "size" and len(words) == 1 and _LETTER_SIZE.match(words[0]):
        return words[0].upper()
    return " ".join(w[:1].upper() + w[1:] if w.isalpha() and len(w) > 2 else w for w in words)


def canonical_filters(filters: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """The filters with every value in the form the index holds (`XL` and `xl` filter
    alike); both engines narrow by these, and the selected facet values are these."""
    return {name: tuple(dict.fromkeys(keyword_value(name, v) for v in values)) for name, values in filters.items()}


def check_fields(filters: Mapping[str, Sequence[str]], ranges: Mapping[str, Range], facets: Sequence[str]) -> None:
    """Refuse any field the index doesn't hold for that use (both engines share this grammar)."""
    for name in filters:
        if name not in KEYWORD_FIELDS:
            raise InvalidQuery(f"unknown filter field {name!r}", field=name)
    for name in facets:
        if name not in KEYWORD_FIELDS:
            raise InvalidQuery(f"unknown facet field {name!r}", field=name)
    for name in ranges:
        if name not in NUMBER_FIELDS and name not in DATE_FIELDS:
            raise InvalidQuery(f"unknown range field {name!r}", field=name)


def product_doc_id(sku: str) -> str:
    return f"product:{sku}"


def asset_doc_id(asset_id: str) -> str:
    return f"asset:{asset_id}"


def split_doc_id(doc_id: str) -> tuple[DocType, str] | None:
    """The type and key a global id names (`product:<sku>`, `asset:<id>`), or None when
    it is not of that form."""
    kind, sep, key = doc_id.partition(":")
    if not sep or not key:
        return None
    if kind == "product":
        return "product", key
    if kind == "asset":
        return "asset", key
    return None


def category_prefixes(paths: Iterable[str]) -> list[str]:
    """Every ancestor path of every category, so a filter on `Men/Tops` matches
    `Men/Tops/Hoodies` by exact term."""
    seen: dict[str, None] = {}
    for path in paths:
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts) + 1):
            seen["/".join(parts[:i])] = None
    return list(seen)


def _flatten_text(value: JSONValue) -> list[str]:
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, dict):
        out: list[str] = []
        for key in ("original", "value", "label"):
            if key in value:
                return _flatten_text(value[key])
        for item in value.values():
            out.extend(_flatten_text(item))
        return out
    if isinstance(value, list):
        return [s for item in value for s in _flatten_text(item)]
    return [str(value)]


def _attr_values(attributes: JSONObject, name: str) -> list[str]:
    return [keyword_value(name, v) for v in _flatten_text(attributes.get(name)) if v.strip()]


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def product_to_doc(
    product: Product,
    *,
    variants: Iterable[Product] = (),
    text_vector: list[float] | None = None,
    vector_model: str | None = None,
    thumbnail: str | None = None,
) -> IndexDoc:
    """The document for one product; a parent's facets include its variants' values so a
    search for a red hoodie finds the hoodie whose red variant exists."""
    variants = list(variants)
    accepted = [t.name for t in product.tags if t.status == "accepted"]
    suggested = [t.name for t in product.tags if t.status == "suggested"]
    attr_text = " ".join(
        f"{' '.join(_flatten_text(v))}" for k, v in product.attributes.items() if not k.startswith("_")
    )
    keywords: dict[str, list[str]] = {
        "type": ["product"],
        "sku": [product.sku, *(v.sku for v in variants)],
        "brand": [product.brand] if product.brand else [],
        "category": category_prefixes(product.categories),
        "tags": _unique(accepted),
        "tags_suggested": _unique(suggested),
        "channels": list(product.channels),
        "status": [product.status] if product.status else [],
        # The public view filters on this one field (`listed=true`): an asset is always
        # listed, its rights are checked at query time by the clock and the channel.
        "listed": ["true" if product.listed else "false"],
        "currency": [product.currency] if product.currency else [],
        "ready_for": sorted(ch for ch, c in product.completeness.items() if isinstance(c, dict) and c.get("ready")),
        "rights_channels": ["*"],
    }
    if product.parent_sku:
        keywords["parent_sku"] = [product.parent_sku]
    for name in FACET_ATTRIBUTES:
        values = _attr_values(product.attributes, name)
        for variant in variants:
            values.extend(_attr_values(variant.attributes, name))
        if values:
            keywords[name] = _unique(values)
    numbers: dict[str, float] = {}
    prices = [p.price for p in (product, *variants) if p.price is not None]
    if prices:
        numbers["price"] = float(min(prices))
    stored: JSONObject = {
        "title": product.name,
        "sku": product.sku,
        "brand": product.brand,
        "price": product.price if product.price is not None else (min(prices) if prices else None),
        "currency": product.currency,
        "categories": list(product.categories),
        "thumbnail": thumbnail,
        "parent_sku": product.parent_sku,
        "variants": [
            {
                "sku": v.sku,
                "name": v.name,
                "attributes": {a: v.attributes.get(a) for a in FACET_ATTRIBUTES if a in v.attributes},
            }
            for v in variants
        ],
    }
    text = {
        "sku": " ".join(keywords["sku"]),
        "name": product.name,
        "brand": product.brand or "",
        "categories": " ".join(c.replace("/", " ") for c in product.categories),
        "tags": " ".join(accepted),
        "description": product.description_text,
        "attributes": " ".join([attr_text, *(" ".join(_flatten_text(v.attributes)) for v in variants)]),
    }
    return IndexDoc(
        id=product_doc_id(product.sku),
        type="product",
        key=product.sku,
        text={k: v for k, v in text.items() if v},
        locale_text={
            loc: {k: v for k, v in fields.items() if not k.endswith("_html")} for loc, fields in product.locales.items()
        },
        keywords={k: v for k, v in keywords.items() if v},
        numbers=numbers,
        dates={
            "rights_expires_at": NEVER_EXPIRES,
            **({"updated_at": product.updated_at} if product.updated_at else {}),
        },
        sort_name=product.name.casefold(),
        text_vector=text_vector,
        vector_model=vector_model,
        stored=stored,
    )


@dataclass(frozen=True, slots=True)
class InheritedProduct:
    """What an asset inherits from one linked product: the words its document is also found
    by (`products` text) and the values of its `inherited_*` facets."""

    sku: str
    name: str
    categories: tuple[str, ...] = ()
    colors: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def to_json(self) -> JSONObject:
        return {
            "sku": self.sku,
            "name": self.name,
            "categories": list(self.categories),
            "colors": list(self.colors),
            "materials": list(self.materials),
            "tags": list(self.tags),
        }


def inherited_from(product: Product, parent: Product | None = None) -> InheritedProduct:
    """The values an asset linked to `product` inherits. A variant's own values first; what
    it leaves empty (categories, colour, material, tags: a variant row often names only its
    colour and size) comes from its `parent`. Only accepted tags: a suggestion is nobody's
    word yet."""

    def own_or_parent(values: Sequence[str], of_parent: Sequence[str]) -> tuple[str, ...]:
        return tuple(_unique(values or (of_parent if parent is not None else ())))

    def attribute(p: Product | None, name: str) -> list[str]:
        return _attr_values(p.attributes, name) if p is not None else []

    def accepted(p: Product | None) -> list[str]:
        return [t.name for t in p.tags if t.status == "accepted"] if p is not None else []

    return InheritedProduct(
        sku=product.sku,
        name=product.name or (parent.name if parent is not None else ""),
        categories=own_or_parent(product.categories, parent.categories if parent is not None else []),
        colors=own_or_parent(attribute(product, "color"), attribute(parent, "color")),
        materials=own_or_parent(attribute(product, "material"), attribute(parent, "material")),
        tags=own_or_parent(accepted(product), accepted(parent)),
    )


def inherited_text(inherited: Iterable[InheritedProduct]) -> str:
    """The `products` text of an asset document: every inherited word, category paths as
    words (`Shoes/Sneakers` -> `Shoes Sneakers`)."""
    parts: list[str] = []
    for item in inherited:
        parts.append(item.name)
        parts.extend(c.replace("/", " ") for c in item.categories)
        parts.extend((*item.colors, *item.materials, *item.tags))
    return " ".join(p for p in parts if p)


INHERITED_KEYWORDS: tuple[str, ...] = ("inherited_category", "inherited_color", "inherited_material")


def inherited_part(doc: IndexDoc) -> tuple[str, tuple[tuple[str, ...], ...]]:
    """What an asset document holds from its products, in a form that compares equal
    whichever engine gave the document back (keywords as the index holds them)."""
    keywords = tuple(
        tuple(sorted({keyword_value(name, v) for v in doc.keywords.get(name, ())})) for name in INHERITED_KEYWORDS
    )
    return doc.text.get("products", ""), keywords


def resolution_class(width: int | None, height: int | None) -> str | None:
    """By the longest side: `small` (< 800 px), `medium`, `large` (>= 2000 px)."""
    if not width or not height:
        return None
    longest = max(width, height)
    if longest < 800:
        return "small"
    return "large" if longest >= 2000 else "medium"


def rights_status(rights: JSONObject, *, now: datetime | None = None, expiring_days: int = 30) -> str:
    """`valid`, `expiring` (within `expiring_days`) or `expired` for a rights record."""
    expires = rights.get("expires_at")
    if not expires:
        return "valid"
    now = now or datetime.now(UTC)
    when = _parse_when(str(expires))
    if when <= now:
        return "expired"
    if (when - now).days < expiring_days:
        return "expiring"
    return "valid"


def _parse_when(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        when = datetime.combine(date.fromisoformat(text[:10]), datetime.min.time())
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def asset_to_doc(
    asset: Asset,
    *,
    image_vector: list[float] | None = None,
    vector_model: str | None = None,
    now: datetime | None = None,
    inherited: Sequence[InheritedProduct] = (),
) -> IndexDoc:
    """The document for one asset (current version). `inherited` are its linked products'
    values (`inherited_from`; the caller chooses which products may lend them): they become
    the `products` text field and the `inherited_*` keyword fields, apart from the asset's
    own title, tags and colours."""
    # A cut-out's review (`cutout:<preset>`) is about a rendition, not what the asset shows.
    shown = [t for t in asset.tags if not t.name.startswith("cutout:")]
    accepted = [t.name for t in shown if t.status == "accepted"]
    suggested = [t.name for t in shown if t.status == "suggested"]
    meta_text = " ".join(s for k, v in asset.metadata.items() if not k.startswith("gps") for s in _flatten_text(v))
    dates: dict[str, str] = {"rights_expires_at": NEVER_EXPIRES}
    if asset.updated_at:
        dates["updated_at"] = asset.updated_at
    if asset.rights.get("expires_at"):
        dates["rights_expires_at"] = _parse_when(str(asset.rights["expires_at"])).isoformat()
    numbers: dict[str, float] = {"bytes": float(asset.bytes)}
    if asset.width:
        numbers["width"] = float(asset.width)
    if asset.height:
        numbers["height"] = float(asset.height)
    numbers["popularity"] = float(sum(asset.usage.values()))
    rights_channels = asset.rights.get("channels")
    keywords: dict[str, list[str]] = {
        "type": ["asset"],
        "media_type": [asset.media_type],
        "background": [asset.background] if asset.background else [],
        "orientation": [asset.orientation] if asset.orientation else [],
        "resolution": [r] if (r := resolution_class(asset.width, asset.height)) else [],
        "colors": _unique(
            keyword_value("colors", str(c.get("name"))) for c in asset.colors if isinstance(c, dict) and c.get("name")
        ),
        "tags": _unique(accepted),
        "tags_suggested": _unique(suggested),
        "collections": list(asset.collections),
        "rights_status": [rights_status(asset.rights, now=now)],
        "rights_channels": [str(c) for c in rights_channels] if isinstance(rights_channels, list) else ["*"],
        "product_skus": _unique(str(link.get("sku")) for link in asset.product_skus if isinstance(link, dict)),
        "phash": [asset.phash] if asset.phash else [],
        "listed": ["true"],
        "inherited_category": category_prefixes(c for i in inherited for c in i.categories),
        "inherited_color": _unique(c for i in inherited for c in i.colors),
        "inherited_material": _unique(m for i in inherited for m in i.materials),
    }
    title = asset.title or asset.filename
    stored: JSONObject = {
        "title": title,
        "filename": asset.filename,
        "media_type": asset.media_type,
        "width": asset.width,
        "height": asset.height,
        "thumbnail": f"/api/assets/{asset.id}/renditions/thumbnail" if asset.media_type.startswith("image/") else None,
        "product_skus": list[JSONValue](keywords["product_skus"]),
        "background": asset.background,
    }
    text = {
        "title": asset.title,
        "filename": asset.filename.rsplit(".", 1)[0].replace("_", " ").replace("-", " "),
        "alt": asset.alt,
        "tags": " ".join(accepted),
        "description": "\n".join(t for t in (asset.description, asset.text) if t),
        "metadata": meta_text,
        "products": inherited_text(inherited),
    }
    return IndexDoc(
        id=asset_doc_id(asset.id),
        type="asset",
        key=asset.id,
        text={k: v for k, v in text.items() if v},
        keywords={k: v for k, v in keywords.items() if v},
        numbers=numbers,
        dates=dates,
        sort_name=title.casefold(),
        image_vector=image_vector,
        vector_model=vector_model,
        stored=stored,
    )
