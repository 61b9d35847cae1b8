"""Variant inheritance: a variant takes its parent's values wherever it has none of its own.

Each variant stays its own product (with `parent_sku`). What it inherited is listed in
`attributes["_inherited"]` (underscore attributes are never indexed as text), so when the
parent changes, `reinherit` drops the old inherited values and takes the new ones: a
variant never keeps a value its parent no longer has.
"""

from __future__ import annotations

from discovery.domain import JSONValue, Product

INHERITED = "_inherited"

# Scalar fields a variant inherits when its own is empty; pairs move together.
_FIELDS: tuple[tuple[str, ...], ...] = (
    ("name",),
    ("description", "description_text"),
    ("brand",),
    ("categories",),
    ("price", "currency"),
    ("channels",),
    ("image_refs",),
)
_EMPTY: dict[str, object] = {
    "name": "",
    "description": "",
    "description_text": "",
    "brand": None,
    "categories": [],
    "price": None,
    "currency": None,
    "channels": [],
    "image_refs": [],
}


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == []


def strip_inherited(variant: Product) -> None:
    """Back to the variant's own values."""
    marks = variant.attributes.pop(INHERITED, None)
    if not isinstance(marks, list):
        return
    for mark in marks:
        path = str(mark)
        if path.startswith("attributes."):
            variant.attributes.pop(path[11:], None)
        elif path.startswith("locales."):
            _, locale, name = path.split(".", 2)
            texts = variant.locales.get(locale)
            if texts is not None:
                texts.pop(name, None)
                if not texts:
                    del variant.locales[locale]
        else:
            for name in next((group for group in _FIELDS if group[0] == path), (path,)):
                if name in _EMPTY:
                    value = _EMPTY[name]
                    setattr(variant, name, list(value) if isinstance(value, list) else value)


def inherit(parent: Product, variant: Product) -> None:
    """Fill the variant's empty fields from the parent, recording what was taken."""
    marks: list[str] = []
    for group in _FIELDS:
        head = group[0]
        if _is_empty(getattr(variant, head)) and not _is_empty(getattr(parent, head)):
            for name in group:
                value = getattr(parent, name)
                setattr(variant, name, list(value) if isinstance(value, list) else value)
            marks.append(head)
    if variant.currency is None and parent.currency and variant.price is not None and "price" not in marks:
        variant.currency = parent.currency
        marks.append("currency")
    for key, value in parent.attributes.items():
        if not key.startswith("_") and key not in variant.attributes:
            variant.attributes[key] = value
            marks.append(f"attributes.{key}")
    for locale, texts in parent.locales.items():
        own = variant.locales.setdefault(locale, {})
        for name, text in texts.items():
            if name not in own:
                own[name] = text
                marks.append(f"locales.{locale}.{name}")
        if not own:
            del variant.locales[locale]
    if marks:
        variant.attributes[INHERITED] = list[JSONValue](sorted(marks))


def reinherit(parent: Product | None, variant: Product) -> None:
    """Drop what the variant inherited before and inherit from `parent` as it is now."""
    strip_inherited(variant)
    if parent is not None:
        inherit(parent, variant)


def merge_parent(into: Product, more: Product) -> None:
    """Add a later row's parent-level values to a group's parent (first value wins)."""
    for group in _FIELDS:
        head = group[0]
        if head in ("categories", "channels", "image_refs"):
            target = getattr(into, head)
            target.extend(v for v in getattr(more, head) if v not in target)
        elif _is_empty(getattr(into, head)) and not _is_empty(getattr(more, head)):
            for name in group:
                setattr(into, name, getattr(more, name))
    if not into.status and more.status:
        into.status = more.status
    for key, value in more.attributes.items():
        into.attributes.setdefault(key, value)
    for locale, texts in more.locales.items():
        held = into.locales.setdefault(locale, {})
        held.update({k: v for k, v in texts.items() if k not in held})
