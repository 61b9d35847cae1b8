"""Order-preserving sort keys for the embedded engine. Pure.

tantivy orders hits by one fast field and breaks ties arbitrarily, but the contract
orders by (field, global id) and pages with `search_after`. So every sort is stored as
one ascending string: a missing flag (missing values last, in both directions), the
value encoded so that byte order is value order (inverted for descending sorts), then
the id. Hex keeps the key to `[0-9a-f]`, which makes it safe to put in a range query
and preserves byte order exactly.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from discovery.domain import JSONScalar
from discovery.errors import InvalidQuery
from discovery.store.index.base import IndexDoc, SortKey

Source = Literal["number", "date", "name", "id"]


@dataclass(frozen=True, slots=True)
class SortSpec:
    field: str  # tantivy fast field holding the key
    source: Source
    name: str  # the IndexDoc number/date name the value comes from
    descending: bool = False


SORTS: Mapping[str, SortSpec] = {
    "id": SortSpec("s_id", "id", "id"),
    "price": SortSpec("s_price", "number", "price"),
    "-price": SortSpec("s_price_desc", "number", "price", descending=True),
    "newest": SortSpec("s_newest", "date", "updated_at", descending=True),
    "name": SortSpec("s_name", "name", "sort_name"),
    "popular": SortSpec("s_popular", "number", "popularity", descending=True),
}


def spec_for(sort: SortKey | str) -> SortSpec:
    try:
        return SORTS[sort]
    except KeyError:
        raise InvalidQuery(f"unknown sort {sort!r}", field="sort") from None


def iso_to_epoch(text: str) -> float:
    """Seconds since the epoch of an ISO-8601 date or datetime (naive means UTC)."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _number_bytes(value: float, descending: bool) -> bytes:
    bits = struct.unpack(">Q", struct.pack(">d", float(value)))[0]
    # IEEE-754 as an unsigned int orders positives; flipping makes negatives order too.
    bits = bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | (1 << 63)
    if descending:
        bits ^= 0xFFFFFFFFFFFFFFFF
    return struct.pack(">Q", bits)


def _value_bytes(spec: SortSpec, value: JSONScalar) -> bytes | None:
    if value is None:
        return None
    if spec.source == "name":
        text = str(value).replace("\x00", "")
        # NUL ends the name so that a prefix sorts before its extensions.
        return text.encode() + b"\x00"
    if spec.source == "date":
        return _number_bytes(iso_to_epoch(str(value)), spec.descending)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"sort value {value!r} is not a number")
    return _number_bytes(float(value), spec.descending)


def encode(spec: SortSpec, value: JSONScalar, doc_id: str) -> str:
    """The hex key ordering (value, id) ascending, missing values last."""
    if spec.source == "id":
        return doc_id.encode().hex()
    body = _value_bytes(spec, value)
    flagged = b"\x01" if body is None else b"\x00" + body
    return (flagged + doc_id.encode()).hex()


def natural_value(spec: SortSpec, doc: IndexDoc) -> JSONScalar:
    """The value a document sorts by, as it appears in `Hit.sort_values`."""
    if spec.source == "id":
        return doc.id
    if spec.source == "name":
        return doc.sort_name
    if spec.source == "date":
        return doc.dates.get(spec.name)
    return doc.numbers.get(spec.name)


def doc_keys(doc: IndexDoc) -> dict[str, str]:
    """Every sort key of a document, by tantivy field."""
    keys: dict[str, str] = {}
    for spec in SORTS.values():
        try:
            keys[spec.field] = encode(spec, natural_value(spec, doc), doc.id)
        except ValueError:
            keys[spec.field] = encode(spec, None, doc.id)
    return keys


def sort_values(spec: SortSpec, doc: IndexDoc) -> tuple[JSONScalar, ...]:
    if spec.source == "id":
        return (doc.id,)
    return (natural_value(spec, doc), doc.id)


def cursor_key(spec: SortSpec, after: tuple[JSONScalar, ...]) -> str:
    """The key of the hit a `search_after` cursor names; refuses a malformed cursor."""
    try:
        if spec.source == "id":
            (doc_id,) = after
            value: JSONScalar = None
        else:
            value, doc_id = after
        if not isinstance(doc_id, str):
            raise ValueError("id is not a string")
        return encode(spec, value, doc_id)
    except (ValueError, TypeError) as exc:
        raise InvalidQuery(f"search_after does not fit sort: {exc}", field="search_after") from None
