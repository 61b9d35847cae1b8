"""Editing an asset's own words and rights: title, description and usage rights.

A change is validated (a refused value names its field, nothing is saved), saved, written
to the index with refresh (the next search finds the new title and applies the new rights
on either engine), audited with each field's before and after, and announced by webhook.
"""

from __future__ import annotations

from collections.abc import Mapping

from discovery.domain import Asset, JSONObject, JSONValue
from discovery.errors import InvalidParameter, NotFound
from discovery.services import webhooks
from discovery.services.asset_writes import reindex_assets
from discovery.services.context import Context

MAX_TITLE = 300
MAX_DESCRIPTION = 5000
EDITABLE = ("title", "description", "rights")


def _text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidParameter(f"{field} must be text", field=field)
    text = " ".join(value.split()) if field == "title" else value.strip()
    if len(text) > limit:
        raise InvalidParameter(f"{field} is longer than {limit} characters", field=field)
    return text


def _known_channels(ctx: Context) -> set[str]:
    from indexer.products.completeness import load_channels

    return set(load_channels(data_dir=ctx.settings.data_dir))


def merged_rights(ctx: Context, current: JSONObject, change: Mapping[str, object]) -> JSONObject:
    """`current` rights with the members of `change` replaced (null or empty clears one),
    validated as a manifest's are; channels named must be known channels."""
    from indexer.assets.rights import InvalidRights, parse_channels, parse_rights

    merged: dict[str, object] = {**current, **change}
    try:
        rights = parse_rights({k: v for k, v in merged.items() if v not in (None, "", [])})
    except InvalidRights as exc:
        raise InvalidParameter(f"rights.{exc.field}: {exc}", field=f"rights.{exc.field}") from exc
    if change.get("channels"):
        known = _known_channels(ctx)
        unknown = [c for c in parse_channels(change["channels"]) if c not in known]
        if unknown:
            detail = f"rights.channels: unknown channel {unknown[0]!r}; known: {', '.join(sorted(known))}"
            raise InvalidParameter(detail, field="rights.channels")
    return rights


def edit_asset(ctx: Context, asset_id: str, *, changes: Mapping[str, object], actor: str) -> Asset:
    """Apply `changes` (any of title, description, rights) to an asset; returns it saved.
    Unchanged values are not rewritten; a change that alters nothing is not audited. The
    change lands on the asset as stored when it is written: a decision or a link committed
    while the edit was on its way is kept."""
    before: JSONObject = {}
    after: JSONObject = {}

    def change(asset: Asset) -> bool:
        before.clear()
        after.clear()
        if "title" in changes and (title := _text(changes["title"], "title", MAX_TITLE)) != asset.title:
            before["title"], after["title"] = asset.title, title
            asset.title = title
        if "description" in changes:
            description = _text(changes["description"], "description", MAX_DESCRIPTION)
            if description != asset.description:
                before["description"], after["description"] = asset.description, description
                asset.description = description
        if isinstance(rights_change := changes.get("rights"), Mapping):
            rights = merged_rights(ctx, asset.rights, rights_change)
            if rights != asset.rights:
                before["rights"], after["rights"] = dict(asset.rights), dict(rights)
                asset.rights = rights
        return bool(after)

    saved = ctx.records.edits.asset(asset_id, change)
    if saved is None:
        unchanged = ctx.records.get_asset(asset_id)
        if unchanged is None:
            raise NotFound(f"no asset {asset_id!r}")
        return unchanged
    reindex_assets(ctx, [saved])
    detail: JSONObject = {"before": before, "after": after}
    ctx.records.audit(actor=actor, action="asset.edit", target=f"asset:{saved.id}", detail=detail)
    webhooks.emit(ctx, "asset.changed", {"ids": list[JSONValue]([saved.id]), "reason": "asset.edit"})
    return saved
