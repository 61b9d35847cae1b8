"""Collections: nestable, named folders of assets; an asset may sit in several at once.

Membership is the asset record's `collections` (paths like ``Campaigns/Summer 2026``) and
the index's `collections` facet; the registry (`collection_records`) gives each path an id
so it can be renamed. A change rewrites the member records, then their index documents
with refresh, so the very next search filters by the new state. Every change is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from discovery.domain import Asset, JSONObject, JSONValue
from discovery.errors import Conflict, InvalidQuery, NotFound
from discovery.services import webhooks
from discovery.services.asset_titles import title_asset_hits
from discovery.services.asset_writes import edit_and_reindex
from discovery.services.context import Context
from discovery.store.collection_records import SEPARATOR, CollectionRecords, CollectionRow
from discovery.store.index.base import SearchQuery

MAX_NAME = 200
MAX_PAGE = 100  # contents listed per page at most
FACET_LIMIT = 10_000  # counts are shown for this many collections at most


@dataclass(frozen=True, slots=True)
class MemberChange:
    asset_id: str
    action: str  # add | remove
    ok: bool
    changed: bool
    error: str | None = None


def _registry(ctx: Context) -> CollectionRecords:
    return CollectionRecords(ctx.records.engine)


def clean_name(name: str) -> str:
    """A collection's own name: trimmed, not empty, no path separator."""
    name = " ".join(name.split())
    if not name:
        raise InvalidQuery("name is empty", field="name")
    if SEPARATOR in name:
        raise InvalidQuery(f"name may not contain {SEPARATOR!r}; nest with `parent`", field="name")
    if len(name) > MAX_NAME:
        raise InvalidQuery(f"name is longer than {MAX_NAME} characters", field="name")
    return name


def _get(ctx: Context, collection_id: str) -> CollectionRow:
    row = _registry(ctx).get(collection_id)
    if row is None:
        raise NotFound(f"no collection {collection_id!r}")
    return row


def _json(row: CollectionRow, count: int = 0) -> JSONObject:
    return {
        "id": row.id,
        "name": row.name,
        "path": row.path,
        "parent": row.parent_id,
        "count": count,
        "created_at": row.created_at.isoformat(),
    }


def _counts(ctx: Context) -> dict[str, int]:
    """Assets per collection path, from the index's facet (the same counts a search shows)."""
    query = SearchQuery(types=("asset",), facets=("collections",), facet_size=FACET_LIMIT, size=1, highlight=False)
    return {f.value: f.count for f in ctx.backend.search(query).facets.get("collections", [])}


def list_collections(ctx: Context) -> JSONObject:
    """Every collection as a tree (`children`), each with how many assets it holds itself.
    Paths that assets carry but nobody registered (folders from an upload) are registered."""
    registry = _registry(ctx)
    counts = _counts(ctx)
    rows = registry.all()
    known = {r.path for r in rows}
    if any(path not in known for path in counts):
        registry.ensure_paths([p for p in counts if p not in known], actor="system:collections")
        rows = registry.all()
    nodes = {r.id: {**_json(r, counts.get(r.path, 0)), "children": []} for r in rows}
    roots: list[JSONValue] = []
    for row in rows:  # ordered by path, so a parent is always placed before its children
        node = nodes[row.id]
        parent = nodes.get(row.parent_id) if row.parent_id else None
        (parent["children"] if parent else roots).append(node)  # type: ignore[union-attr]
    return {"collections": roots, "total": len(rows)}


def create_collection(ctx: Context, *, name: str, parent_id: str | None, actor: str) -> JSONObject:
    name = clean_name(name)
    parent = _get(ctx, parent_id) if parent_id else None
    row = _registry(ctx).create(name=name, parent=parent, actor=actor)
    if row is None:
        where = f" in {parent.path!r}" if parent else ""
        raise Conflict(f"a collection named {name!r} already exists{where}", field="name")
    ctx.records.audit(actor=actor, action="collection.create", target=f"collection:{row.id}", detail={"path": row.path})
    return _json(row)


def _rewrite(collections: list[str], old: str, new: str) -> list[str]:
    out: list[str] = []
    for path in collections:
        if path == old:
            path = new
        elif path.startswith(old + SEPARATOR):
            path = new + path.removeprefix(old)
        if path not in out:
            out.append(path)
    return out


def rename_collection(ctx: Context, collection_id: str, *, name: str, actor: str) -> JSONObject:
    """Rename a collection; its sub-collections and every member asset (records and index)
    follow, so membership is kept under the new path."""
    row = _get(ctx, collection_id)
    name = clean_name(name)
    if name == row.name:
        return _json(row)
    new_path = _registry(ctx).rename(row, name)
    if new_path is None:
        raise Conflict(f"a collection named {name!r} already exists there", field="name")
    moved: list[str] = []
    def move(asset: Asset) -> bool:
        rewritten = _rewrite(asset.collections, row.path, new_path)
        if rewritten == asset.collections:
            return False
        asset.collections = rewritten
        return True

    for batch in _registry(ctx).assets_in(row.path):
        moved.extend(a.id for a in edit_and_reindex(ctx, [a.id for a in batch], move))
    detail: JSONObject = {"from": row.path, "to": new_path, "assets": len(moved)}
    ctx.records.audit(actor=actor, action="collection.rename", target=f"collection:{row.id}", detail=detail)
    if moved:
        webhooks.emit(ctx, "asset.changed", {"ids": list[JSONValue](moved), "reason": "collection.rename"})
    renamed = _registry(ctx).get(row.id)
    return _json(renamed or row)


def _apply(asset: Asset, path: str, action: str) -> bool:
    if action == "add" and path not in asset.collections:
        asset.collections = [*asset.collections, path]
        return True
    if action == "remove" and path in asset.collections:
        asset.collections = [p for p in asset.collections if p != path]
        return True
    return False


def change_members(
    ctx: Context, collection_id: str, *, add: Sequence[str], remove: Sequence[str], actor: str
) -> JSONObject:
    """Add and remove assets, each item reported on its own: an unknown asset is refused and
    the rest still apply; adding a member or removing a non-member changes nothing."""
    row = _get(ctx, collection_id)
    asked = [(action, asset_id) for action, ids in (("add", add), ("remove", remove)) for asset_id in ids]
    positions: dict[str, list[int]] = {}
    for i, (_, asset_id) in enumerate(asked):
        positions.setdefault(asset_id, []).append(i)
    did: dict[int, bool] = {}  # asked item -> whether it changed its asset (absent: no such asset)

    def apply(asset: Asset) -> bool:
        # One asset may be named more than once: its items apply in the order asked.
        for i in positions.get(asset.id, []):
            did[i] = _apply(asset, row.path, asked[i][0])
        return any(did[i] for i in positions.get(asset.id, []))

    changed = {a.id: a for a in edit_and_reindex(ctx, list(positions), apply)}
    results: list[MemberChange] = []
    for i, (action, asset_id) in enumerate(asked):
        if i in did:
            results.append(MemberChange(asset_id, action, ok=True, changed=did[i]))
        else:
            results.append(MemberChange(asset_id, action, ok=False, changed=False, error=f"no asset {asset_id!r}"))
    added = [r.asset_id for r in results if r.changed and r.action == "add"]
    removed = [r.asset_id for r in results if r.changed and r.action == "remove"]
    if changed:
        detail: JSONObject = {"path": row.path, "added": list[JSONValue](added), "removed": list[JSONValue](removed)}
        ctx.records.audit(actor=actor, action="collection.assets", target=f"collection:{row.id}", detail=detail)
        webhooks.emit(ctx, "asset.changed", {"ids": list[JSONValue](changed), "reason": "collection.assets"})
    return {
        "collection": _json(row),
        "results": [
            {"asset": r.asset_id, "action": r.action, "ok": r.ok, "changed": r.changed, "error": r.error}
            for r in results
        ],
    }


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root + SEPARATOR)


def delete_collection(ctx: Context, collection_id: str, *, actor: str) -> JSONObject:
    """Delete a collection and its sub-collections. Their assets stay (in any other
    collections they belong to) and leave these, in records and index."""
    row = _get(ctx, collection_id)
    removed_paths = _registry(ctx).delete(row)
    released: list[str] = []
    def release(asset: Asset) -> bool:
        kept = [p for p in asset.collections if not _under(p, row.path)]
        if kept == asset.collections:
            return False
        asset.collections = kept
        return True

    for batch in _registry(ctx).assets_in(row.path):
        released.extend(a.id for a in edit_and_reindex(ctx, [a.id for a in batch], release))
    detail: JSONObject = {"path": row.path, "collections": list[JSONValue](removed_paths), "assets": len(released)}
    ctx.records.audit(actor=actor, action="collection.delete", target=f"collection:{row.id}", detail=detail)
    if released:
        webhooks.emit(ctx, "asset.changed", {"ids": list[JSONValue](released), "reason": "collection.delete"})
    return {"deleted": list[JSONValue](removed_paths), "assets": len(released)}


def collection_contents(ctx: Context, collection_id: str, *, offset: int, size: int) -> JSONObject:
    """One page of the assets a collection holds itself (newest first), as search hits."""
    if not 1 <= size <= MAX_PAGE:
        raise InvalidQuery(f"size must be between 1 and {MAX_PAGE}", field="size")
    if offset < 0:
        raise InvalidQuery("offset may not be negative", field="offset")
    row = _get(ctx, collection_id)
    query = SearchQuery(
        types=("asset",), filters={"collections": (row.path,)}, sort="newest", offset=offset, size=size, highlight=False
    )
    result = ctx.backend.search(query)
    hits: list[dict[str, object]] = [{**h.stored, "type": "asset", "id": h.key} for h in result.hits]
    title_asset_hits(ctx, hits)
    return {
        "collection": _json(row, result.total),
        "total": result.total,
        "offset": offset,
        "size": size,
        "items": list[JSONValue](hits),  # type: ignore[arg-type]
    }


def members_below(ctx: Context, collection_id: str) -> tuple[CollectionRow, list[tuple[str, Asset]]]:
    """A collection and the assets in it or below it, each with its folder relative to the
    collection (`""` for its own members; an asset in two sub-collections is listed twice)."""
    row = _get(ctx, collection_id)
    out: list[tuple[str, Asset]] = []
    for batch in _registry(ctx).assets_in(row.path):
        for asset in batch:
            for path in sorted(p for p in asset.collections if _under(p, row.path)):
                out.append((path[len(row.path) :].lstrip(SEPARATOR), asset))
    return row, out
