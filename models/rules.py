"""Tags that follow from facts rather than from a model: pure functions.

- From the image itself: its named dominant colours, a white (or transparent) background,
  its orientation. These are measured, so their confidence is the measurement.
- From the products an image is linked to: an image of a black hoodie gets
  `colour:black` and `category:hoodies` suggested, source `product`.
Names are mapped through the taxonomy, so `gray` in a product export becomes `colour:grey`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from models.suggestions import PRODUCT_MODEL, RULES_MODEL, Suggestion
from models.taxonomy import Taxonomy

SQUARE_TOLERANCE = 0.05  # within 5% of 1:1 reads as square
MIN_COLOUR_SHARE = 0.2
# Product attribute names whose values name a tag of that taxonomy group.
ATTRIBUTE_GROUPS = {"colour": "colour", "color": "colour", "material": "material", "pattern": "pattern"}


def orientation(width: int, height: int) -> str:
    if abs(width - height) <= SQUARE_TOLERANCE * max(width, height):
        return "square"
    return "landscape" if width > height else "portrait"


def rule_tags(
    taxonomy: Taxonomy,
    *,
    colors: Sequence[Mapping[str, Any]] = (),
    background: str | None = None,
    width: int | None = None,
    height: int | None = None,
    min_share: float = MIN_COLOUR_SHARE,
) -> list[Suggestion]:
    """Tags read from image facts: colours covering >= `min_share`, background, orientation."""
    out: list[Suggestion] = []
    plain_background = background in ("white", "transparent")
    if plain_background and "background:white" in taxonomy.tags:
        out.append(Suggestion("background:white", 1.0, "rule", RULES_MODEL, 0.0))
    for colour in colors:
        share = float(colour.get("share", 0.0))
        tag = taxonomy.find("colour", str(colour.get("name", ""))) if "colour" in taxonomy.groups else None
        if tag is None or share < min_share:
            continue
        if plain_background and tag.name == "colour:white":
            continue  # the backdrop, not the product
        out.append(Suggestion(tag.name, round(share, 4), "rule", RULES_MODEL, min_share))
    if width and height and f"orientation:{orientation(width, height)}" in taxonomy.tags:
        out.append(Suggestion(f"orientation:{orientation(width, height)}", 1.0, "rule", RULES_MODEL, 0.0))
    return _unique(out)


def product_tags(
    taxonomy: Taxonomy, *, categories: Iterable[str] = (), attributes: Mapping[str, Any] | None = None
) -> list[Suggestion]:
    """Tags an image inherits from a linked product: its category's type tag, its colour etc."""
    out: list[Suggestion] = []
    for path in categories:
        tag = category_tag(taxonomy, path)
        if tag is not None:
            out.append(Suggestion(tag, 1.0, "product", PRODUCT_MODEL, 0.0))
    for name, value in (attributes or {}).items():
        group = ATTRIBUTE_GROUPS.get(str(name).lower())
        if group is None or group not in taxonomy.groups:
            continue
        for item in value if isinstance(value, list) else [value]:
            found = taxonomy.find(group, str(item)) if isinstance(item, str) else None
            if found is not None:
                out.append(Suggestion(found.name, 1.0, "product", PRODUCT_MODEL, 0.0))
    return _unique(out)


def category_tag(taxonomy: Taxonomy, path: str) -> str | None:
    """The tag of the category at `path`, or of its nearest ancestor that has one."""
    parts = path.strip("/").split("/")
    while parts:
        node = taxonomy.categories.get("/".join(parts))
        if node is not None and node.tag:
            return node.tag
        parts.pop()
    return None


def _unique(suggestions: list[Suggestion]) -> list[Suggestion]:
    seen: dict[str, Suggestion] = {}
    for s in suggestions:
        if s.tag not in seen or s.confidence > seen[s.tag].confidence:
            seen[s.tag] = s
    return list(seen.values())
