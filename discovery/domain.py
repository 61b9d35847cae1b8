"""Domain types: the product and asset records both engines index, and the tags on them.

Plain dataclasses: they are built by the million during imports, so they carry no
validation cost. Validation happens where untrusted input enters (indexer) and at the
HTTP edge (pydantic schemas).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Literal, TypeAlias, cast

JSONScalar: TypeAlias = str | int | float | bool | None
JSONValue: TypeAlias = JSONScalar | list["JSONValue"] | dict[str, "JSONValue"]
JSONObject: TypeAlias = dict[str, JSONValue]

DocType = Literal["product", "asset"]
TagSource = Literal["clip", "learned", "rule", "product", "text", "catalog", "human", "cutout"]
TagStatus = Literal["suggested", "accepted", "rejected"]
ProductStatus = Literal["draft", "in_review", "approved", "withdrawn"]
# The workflow half of the shopper (public) view: only these statuses are ever shown to a
# public caller, in search, product views, channel feeds and similar-image results alike.
LISTED_STATUSES = frozenset({"approved"})


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Tag:
    """A tag on a product or an asset, with where it came from and who decided it."""

    name: str
    source: TagSource = "human"
    status: TagStatus = "suggested"
    confidence: float = 1.0
    model: str | None = None
    decided_by: str | None = None
    decided_at: str | None = None
    evidence: str | None = None  # for a suggestion: what it rests on, in a reviewer's words

    def to_json(self) -> JSONObject:
        out = _plain_fields(self)
        if out["evidence"] is None:
            del out["evidence"]  # stored tags without evidence stay as they were
        return out

    @classmethod
    def from_json(cls, data: JSONObject) -> Tag:
        return cls(**data)  # type: ignore[arg-type]


@dataclass(slots=True)
class Product:
    """A product record as the records database keeps it (the source of truth)."""

    sku: str
    name: str = ""
    parent_sku: str | None = None
    description: str = ""  # raw HTML, for display
    description_text: str = ""  # plain text, for search
    brand: str | None = None
    categories: list[str] = field(default_factory=list)  # paths like "Men/Tops/Hoodies"
    attributes: JSONObject = field(default_factory=dict)
    price: float | None = None
    currency: str | None = None
    channels: list[str] = field(default_factory=list)
    status: str = "draft"
    locales: dict[str, dict[str, str]] = field(default_factory=dict)  # locale -> field -> text
    completeness: JSONObject = field(default_factory=dict)  # channel -> {ratio, missing, ready}
    asset_ids: list[str] = field(default_factory=list)
    image_refs: list[str] = field(default_factory=list)  # filenames named by the source row
    # The primary image a person chose: channel ("" for every channel) -> linked asset id.
    primary_images: dict[str, str] = field(default_factory=dict)
    tags: list[Tag] = field(default_factory=list)
    source: JSONObject = field(default_factory=dict)  # file, line, job
    updated_at: str = ""

    @property
    def listed(self) -> bool:
        """Whether the workflow lets shoppers see it (approved; never draft, in review or withdrawn)."""
        return self.status in LISTED_STATUSES

    def to_json(self) -> JSONObject:
        return _plain_fields(self)

    @classmethod
    def from_json(cls, data: JSONObject) -> Product:
        values = dict(data)
        tags = values.pop("tags", None) or []
        product = cls(**values)  # type: ignore[arg-type]
        product.tags = [Tag.from_json(t) for t in cast(list[JSONObject], tags)]
        return product


@dataclass(slots=True)
class Asset:
    """An image or document with everything learned about it."""

    id: str
    sha256: str
    filename: str
    media_type: str
    bytes: int = 0
    width: int | None = None
    height: int | None = None
    orientation: str | None = None
    metadata: JSONObject = field(default_factory=dict)
    title: str = ""
    alt: str = ""
    description: str = ""  # written by an editor (PATCH /api/assets/{id})
    text: str = ""  # extracted document text (PDF)
    versions: list[JSONObject] = field(default_factory=list)
    renditions: dict[str, str] = field(default_factory=dict)
    phash: str | None = None
    colors: list[JSONObject] = field(default_factory=list)  # [{"name": "red", "share": 0.4}]
    background: str | None = None
    rights: JSONObject = field(default_factory=dict)  # license, credit, expires_at, channels
    product_skus: list[JSONObject] = field(default_factory=list)  # [{"sku": ..., "how": ...}]
    tags: list[Tag] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    vector_model: str | None = None
    updated_at: str = ""

    def to_json(self) -> JSONObject:
        return _plain_fields(self)

    @classmethod
    def from_json(cls, data: JSONObject) -> Asset:
        values = dict(data)
        tags = values.pop("tags", None) or []
        asset = cls(**values)  # type: ignore[arg-type]
        asset.tags = [Tag.from_json(t) for t in cast(list[JSONObject], tags)]
        return asset


def _plain_fields(record: Tag | Product | Asset) -> JSONObject:
    """The record as JSON-ready data, containers copied. `dataclasses.asdict` did the same
    through `copy.deepcopy` of every leaf: a millisecond per product, a sixth of an
    import's CPU."""
    return {f.name: _plain(getattr(record, f.name)) for f in fields(record)}


def _plain(value: object) -> JSONValue:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)  # type: ignore[return-value]
    if isinstance(value, Tag):
        return _plain_fields(value)
    return value  # type: ignore[return-value]
