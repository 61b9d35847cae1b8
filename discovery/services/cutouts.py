"""Cut-out renditions and their review: a doubtful cut-out waits for a reviewer, with the
picture before and after, and an accepted one makes the asset fit its channel.

The rendition itself is made in `indexer.assets.renditions` (on its first request); this
module does what follows from its verdict. A cut-out below its preset's `min_confidence`
becomes a suggested tag `cutout:<preset>` on the asset, so it is an item of the existing
review queue (whose item carries `before` and `after` image URLs); accepting it marks the
cut-out `accepted`, rejecting it leaves it out of the channel. Either way, the products
linked to the asset get their channel completeness recomputed.
"""

from __future__ import annotations

from discovery.domain import Asset, Tag
from discovery.services.context import Context

PREFIX = "cutout:"
MODEL = "cutout-border-model-v1"


def tag_name(preset: str) -> str:
    return PREFIX + preset


def is_cutout_tag(name: str) -> bool:
    return name.startswith(PREFIX)


def review_urls(asset_id: str, tag: str) -> dict[str, str]:
    """The review item's pictures: the asset as it is (its preview) and the cut-out."""
    preset = tag.removeprefix(PREFIX)
    return {
        "before": f"/api/assets/{asset_id}/renditions/preview",
        "after": f"/api/assets/{asset_id}/renditions/{preset}",
    }


def after_rendition(ctx: Context, asset: Asset, preset: str, before: tuple[str, float] | None) -> None:
    """Follow up a (re)made cut-out: queue a doubtful one for review, and recompute the
    linked products' completeness when whether the asset fits its channel changed.
    The caller has saved the cut-out's state; `asset` is the record as saved."""
    from indexer.assets.renditions import cutout_state

    state = cutout_state(asset, preset)
    if state is None or state == before:
        return
    name, confidence = tag_name(preset), state[1]

    def suggest(stored: Asset) -> bool:
        if any(t.name == name and t.status != "suggested" for t in stored.tags):
            return False  # a reviewer's word stands
        stored.tags = [t for t in stored.tags if t.name != name]
        stored.tags.append(Tag(name=name, source="cutout", status="suggested", confidence=confidence, model=MODEL))
        return True

    if state[0] == "review":
        asset = ctx.records.edits.asset(asset.id, suggest) or asset
    _resync(ctx, asset)


def decided(ctx: Context, asset: Asset, tag: str, *, accepted: bool) -> None:
    """A reviewer's decision on a cut-out: accepted, it stands for the channel."""
    from indexer.assets.renditions import cutout_state, record_cutout

    preset = tag.removeprefix(PREFIX)

    def note(stored: Asset) -> bool:
        state = cutout_state(stored, preset)
        record_cutout(stored, preset, "accepted" if accepted else "review", state[1] if state else 0.0)
        return True

    _resync(ctx, ctx.records.edits.asset(asset.id, note) or asset)


def _resync(ctx: Context, asset: Asset) -> None:
    from discovery.services.links import sync_products

    skus = [str(link.get("sku")) for link in asset.product_skus if link.get("sku")]
    if skus:
        sync_products(ctx, skus, force=True)
