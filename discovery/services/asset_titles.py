"""Titles for assets that have none of their own: a file name is not a title.

An asset's `title` comes from its embedded metadata or an editor; most have none, and
`mn-tsh-0001-red_main.jpg` or `IMG_0042.JPG` read badly as a heading. The shown title is,
in order: the asset's own title, the linked product's name (with what the file name adds
after the SKU, e.g. "red, main"), a cleaned file stem when it has words, else the file name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from discovery.services.context import Context

# Stems that carry no words a person would call a title: camera counters, hashes, UUIDs.
_MEANINGLESS = re.compile(r"^(img|dsc|dscn|dscf|pxl|photo|image|scan|screenshot)?[\s\d_-]*$|^[0-9a-f-]{16,}$", re.I)
_SEPARATORS = re.compile(r"[\s_.+-]+")


def clean_stem(filename: str) -> str | None:
    """`summer-lookbook_beach.jpg` -> `Summer lookbook beach`; None when the stem has no words."""
    stem = filename.rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem.lstrip(".") else stem
    words = _SEPARATORS.sub(" ", stem).strip()
    if not words or _MEANINGLESS.match(stem) or not re.search(r"[^\W\d_]{2,}", words):
        return None
    return words[0].upper() + words[1:]


def _rest_after_sku(filename: str, sku: str) -> str:
    """What a file name says beyond its SKU: `mn-tsh-0001-red_main.jpg` -> `red, main`."""
    stem = filename.rsplit(".", 1)[0]
    if not stem.lower().startswith(sku.lower()):
        return ""
    parts = [p for p in _SEPARATORS.split(stem[len(sku) :]) if p]
    return ", ".join(parts)


def display_title(*, title: str, filename: str, products: Sequence[tuple[str, str]] = ()) -> str:
    """The title to show for an asset; `products` are (sku, name) of its linked products
    that the caller may see, best first."""
    if title.strip() and title.strip() != filename:
        return title.strip()
    named = [(sku, name.strip()) for sku, name in products if name.strip()]
    # The product whose SKU the file is named after (a parent, not its variant) comes first.
    named.sort(key=lambda p: not filename.lower().startswith(p[0].lower()))
    if named:
        sku, name = named[0]
        rest = _rest_after_sku(filename, sku)
        return f"{name} ({rest})" if rest else name
    return clean_stem(filename) or filename


def title_asset_hits(ctx: Context, hits: list[dict[str, object]]) -> None:
    """Give asset hits without a title of their own a readable one (one lookup of the page's
    linked SKUs). A public caller's hits must have had `hide_unlisted` first, so that only
    products it may see lend their names."""
    assets = [h for h in hits if h.get("type") == "asset" and isinstance(h.get("filename"), str)]
    skus = [str(s) for h in assets for s in _list(h.get("product_skus"))]
    names: Mapping[str, str] = {s: p.name for s, p in ctx.records.get_products(skus).items()} if skus else {}
    for hit in assets:
        filename = str(hit["filename"])
        title = hit.get("title")
        linked = [(str(s), names[str(s)]) for s in _list(hit.get("product_skus")) if str(s) in names]
        hit["title"] = display_title(title=title if isinstance(title, str) else "", filename=filename, products=linked)


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []
