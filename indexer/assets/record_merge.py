"""An ingest's changes to an asset it read, laid onto the asset as stored when written.

An upload that touches a stored asset (a new version, the same bytes again adding a
collection or a link) reads it, works on it for a while (probing, renditions, CLIP), and
writes it at the end of its batch. Meanwhile a reviewer may have decided one of its tags, a
person edited its title or linked it, a usage flush counted a view. A three-way merge keeps
both: a field the ingest changed from what it read takes the ingest's value; every other
field stays as stored now. Tags, collections and links merge item by item (by tag name,
path, SKU): what the ingest added, changed or removed is applied, the rest stays as stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields

from discovery.domain import Asset, JSONObject, JSONValue

_BY_ITEM: dict[str, Callable[[JSONValue], str]] = {
    "tags": lambda item: str(item.get("name")) if isinstance(item, dict) else str(item),
    "collections": str,
    "product_skus": lambda item: str(item.get("sku")) if isinstance(item, dict) else str(item),
}


def _items(value: JSONValue | None, key: Callable[[JSONValue], str]) -> dict[str, JSONValue]:
    return {key(item): item for item in value} if isinstance(value, list) else {}


def _merge_items(
    stored: JSONValue | None, read: JSONValue | None, ours: JSONValue | None, key: Callable[[JSONValue], str]
) -> list[JSONValue]:
    before, mine = _items(read, key), _items(ours, key)
    out = _items(stored, key)
    for name in before.keys() - mine.keys():
        out.pop(name, None)  # the ingest took it away
    for name, item in mine.items():
        if before.get(name) != item:
            out[name] = item  # the ingest added or changed it
    return list(out.values())


def merged_json(stored: JSONObject, read: JSONObject, ours: JSONObject) -> JSONObject:
    """`stored` with the changes `ours` made to `read` (all three an asset's JSON)."""
    out = dict(stored)
    for name in read.keys() | ours.keys():
        if name in _BY_ITEM:
            out[name] = _merge_items(stored.get(name), read.get(name), ours.get(name), _BY_ITEM[name])
        elif ours.get(name) != read.get(name):
            if name in ours:
                out[name] = ours[name]
            else:
                out.pop(name, None)
    return out


def lay_onto(stored: Asset, read: JSONObject, ours: Asset) -> bool:
    """Give `stored` the changes `ours` made to the record read as `read` (a change for
    `Records.edits`); True when that changed `stored`."""
    merged = Asset.from_json(merged_json(stored.to_json(), read, ours.to_json()))
    changed = merged.to_json() != stored.to_json()
    for f in fields(Asset):
        setattr(stored, f.name, getattr(merged, f.name))
    return changed
