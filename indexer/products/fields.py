"""Setters: how a cell's value lands in a canonical product field or attribute.

`setter(target, column_spec, mapping)` returns the function one mapped column runs per
row. Each normalises on the way in (NFC, whitespace, HTML kept plus stripped, category
paths, prices with currency, typed attributes) and raises `ValueError` with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from discovery.domain import JSONValue, Product
from indexer.products.mapping_spec import ColumnSpec, MappingSpec
from indexer.products.normalize import (
    attribute_name,
    category_path,
    clean_text,
    image_name,
    nfc,
    parse_currency,
    parse_price,
    parse_status,
    strip_html,
)
from indexer.products.typed import STRING, Converter, as_list, as_text, converter
from indexer.text import drop_controls

_ANY_SEPARATOR = re.compile(r"[|,]")


class FieldError(ValueError):
    """A value that fails after all columns are read; `target` names the field."""

    def __init__(self, message: str, target: str) -> None:
        super().__init__(message)
        self.target = target


class Draft:
    """The product (and, in group mode, the parent) being built from one row."""

    __slots__ = ("children", "own", "parent", "price_currency", "product", "row")

    def __init__(self, row: dict[str, JSONValue]) -> None:
        self.row = row
        self.product = Product(sku="", status="")
        self.parent: Product | None = None
        self.price_currency: str | None = None
        self.own = 0  # values the row gave the product itself (not its group's parent)
        self.children: list[str] = []

    def parent_product(self) -> Product:
        if self.parent is None:
            self.parent = Product(sku="", status="")
        return self.parent


Setter = Callable[[JSONValue, Product, Draft], None]


def _split(value: JSONValue, separator: str | None) -> list[str]:
    if isinstance(value, list) or separator:
        return as_list(value, separator)
    text = as_text(value)
    if "|" not in text and "," not in text:  # one value, the common case
        one = clean_text(text)
        return [one] if one else []
    return [v for v in (clean_text(p) for p in _ANY_SEPARATOR.split(text)) if v]


def _add_unique(target: list[str], values: list[str]) -> None:
    for value in values:
        if value and value not in target:
            target.append(value)


def _set_sku(value: JSONValue, product: Product, draft: Draft) -> None:
    product.sku = clean_text(as_text(value))


def _set_parent_sku(value: JSONValue, product: Product, draft: Draft) -> None:
    product.parent_sku = clean_text(as_text(value)) or None


def _set_name(value: JSONValue, product: Product, draft: Draft) -> None:
    product.name = clean_text(as_text(value))


def _set_brand(value: JSONValue, product: Product, draft: Draft) -> None:
    product.brand = clean_text(as_text(value)) or None


def _set_description(value: JSONValue, product: Product, draft: Draft) -> None:
    raw = nfc(drop_controls(as_text(value))).strip()
    product.description = raw
    product.description_text = strip_html(raw)


def _set_price(value: JSONValue, product: Product, draft: Draft) -> None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        product.price = float(value)
        return
    amount, currency = parse_price(as_text(value))
    product.price = amount
    if currency:
        draft.price_currency = currency


def _set_currency(value: JSONValue, product: Product, draft: Draft) -> None:
    product.currency = parse_currency(as_text(value))


def _set_status(value: JSONValue, product: Product, draft: Draft) -> None:
    product.status = parse_status(as_text(value))


_SIMPLE: dict[str, Setter] = {
    "sku": _set_sku,
    "parent_sku": _set_parent_sku,
    "name": _set_name,
    "brand": _set_brand,
    "description": _set_description,
    "price": _set_price,
    "currency": _set_currency,
    "status": _set_status,
}


def setter(target: str, col: ColumnSpec, spec: MappingSpec) -> Setter:
    """The setter for one mapped column (see the module docstring)."""
    if target in _SIMPLE:
        return _SIMPLE[target]
    if target == "categories":
        return _categories(col)
    if target == "channels":
        return lambda value, product, draft: _add_unique(
            product.channels, [c.casefold() for c in _split(value, col.split)]
        )
    if target == "image_refs":
        return lambda value, product, draft: _add_unique(
            product.image_refs, [image_name(v) for v in _split(value, col.split)]
        )
    if target.startswith("locales."):
        _, locale, name = target.split(".", 2)
        return _locale_text(locale, name)
    if target.startswith("attributes."):
        return _attribute(target.removeprefix("attributes."), col, spec)
    if target == "children":
        return _children
    if col.pairs:
        return _pairs(col, spec)
    if col.name_from:
        return _named_attribute(col, spec)
    raise ValueError(f"target {target!r} needs name_from, pairs or children")


def _categories(col: ColumnSpec) -> Setter:
    separator = col.split or "|"

    def set_value(value: JSONValue, product: Product, draft: Draft) -> None:
        paths = [category_path(item, col.delimiter, drop_root=col.drop_root) for item in as_list(value, separator)]
        _add_unique(product.categories, paths)

    return set_value


def _locale_text(locale: str, name: str) -> Setter:
    def set_value(value: JSONValue, product: Product, draft: Draft) -> None:
        texts = product.locales.setdefault(locale, {})
        if name == "description":
            raw = nfc(drop_controls(as_text(value))).strip()
            texts["description"] = strip_html(raw)
            if raw != texts["description"]:
                texts["description_html"] = raw
        else:
            texts[name] = clean_text(as_text(value))

    return set_value


def _attribute(name: str, col: ColumnSpec, spec: MappingSpec) -> Setter:
    if col.split:
        convert = converter(name, spec.attributes.get(name, STRING), split=col.split, unit=col.unit)
    else:
        convert = _multi_valued(name, spec, unit=col.unit)
    unit_from = col.unit_from

    def set_value(value: JSONValue, product: Product, draft: Draft) -> None:
        unit = None
        if unit_from:
            unit = clean_text(as_text(draft.row.get(unit_from) or "")) or None
        product.attributes[name] = convert(value, unit)

    return set_value


def _multi_valued(name: str, spec: MappingSpec, *, unit: str | None) -> Converter:
    """The attribute's converter, splitting a cell on the mapping's `value_separator`
    when the attribute is multi-valued there; one value stays a single value."""
    convert = converter(name, spec.attributes.get(name, STRING), split=spec.value_split(name), unit=unit)
    if spec.value_split(name) is None:
        return convert

    def split(value: JSONValue, row_unit: str | None) -> JSONValue:
        out = convert(value, row_unit)
        return out[0] if isinstance(out, list) and len(out) == 1 else out

    return split


def _converters(col: ColumnSpec, spec: MappingSpec) -> Callable[[str], Converter]:
    cache: dict[str, Converter] = {}

    def get(name: str) -> Converter:
        if name not in cache:
            cache[name] = _multi_valued(name, spec, unit=col.unit)
        return cache[name]

    return get


def _named_attribute(col: ColumnSpec, spec: MappingSpec) -> Setter:
    get = _converters(col, spec)
    source = col.name_from or ""

    def set_value(value: JSONValue, product: Product, draft: Draft) -> None:
        name = attribute_name(as_text(draft.row.get(source) or ""))
        if name == "column":
            raise ValueError(f"no attribute name in column {source!r}")
        product.attributes[name] = get(name)(value, None)

    return set_value


def _pairs(col: ColumnSpec, spec: MappingSpec) -> Setter:
    get = _converters(col, spec)

    def set_value(value: JSONValue, product: Product, draft: Draft) -> None:
        for part in as_text(value).split(col.pair_separator):
            if not part.strip():
                continue
            key, sep, text = part.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"expected key=value, got {part.strip()!r}")
            if text.strip():
                name = attribute_name(key)
                product.attributes[name] = get(name)(text, None)

    return set_value


def _children(value: JSONValue, product: Product, draft: Draft) -> None:
    """`sku=A,size=S|sku=B,size=M` (Magento configurable_variations) or `A|B`."""
    for entry in as_text(value).split("|"):
        if "=" in entry:
            pairs = dict(p.partition("=")[::2] for p in entry.split(","))
            sku = clean_text(pairs.get("sku", ""))
            _add_unique(draft.children, [sku])
        else:
            _add_unique(draft.children, [clean_text(s) for s in entry.split(",")])


def is_empty(product: Product, target: str) -> bool:
    if target.startswith("attributes."):
        return target[11:] not in product.attributes
    if target.startswith("locales."):
        _, locale, name = target.split(".", 2)
        return not product.locales.get(locale, {}).get(name)
    value = getattr(product, target)
    return value is None or value == "" or value == []


def fill_from_locale(product: Product, locale: str) -> None:
    """Plain name/description from the mapping's default locale when the row had none."""
    texts = product.locales.get(locale)
    if not texts:
        return
    if not product.name and texts.get("name"):
        product.name = texts["name"]
    if not product.description and texts.get("description"):
        product.description = texts.get("description_html", texts["description"])
        product.description_text = texts["description"]


def settle_currency(draft: Draft) -> None:
    """The price's own currency, the currency column, and the mapping's default must agree."""
    product = draft.product
    written = draft.price_currency
    if written and product.currency and written != product.currency:
        raise FieldError(f"price is in {written} but the currency says {product.currency}", "price")
    if written and not product.currency:
        product.currency = written
    if product.price is not None and product.price < 0:
        raise FieldError(f"price is negative: {product.price}", "price")


def merge_translation(product: Product, locale: str, texts: dict[str, str]) -> None:
    """Add a translation row's texts to the product, leaving out what merely repeats the
    product's own values (store-view rows repeat unchanged columns)."""
    own = {"name": product.name, "description": product.description_text, "description_html": product.description}
    fresh = {k: v for k, v in texts.items() if own.get(k, product.attributes.get(k)) != v}
    if fresh:
        product.locales.setdefault(locale, {}).update(fresh)


def translation_texts(product: Product) -> dict[str, str]:
    """What a translation row says: its name, description and text attributes."""
    texts: dict[str, str] = {}
    if product.name:
        texts["name"] = product.name
    if product.description:
        texts["description"] = product.description_text
        if product.description != product.description_text:
            texts["description_html"] = product.description
    for key, value in product.attributes.items():
        if isinstance(value, str) and value:
            texts[key] = value
    return texts
