"""Tag review: the queue, bulk decisions with per-item outcomes, the audit log and undo.

A decision changes the tag in the target's record (the truth), appends to the audit log,
and stages the target's new index document. A request of decisions (one or many) then makes
them visible once (`make_visible`): OpenSearch refreshes the index now instead of each
decision waiting up to its 1 s refresh interval (`refresh=wait_for`); the embedded engine
waits for its next near-real-time commit, shared by every reviewer. So the reviewer's next
search shows the decision, and a bulk decision costs one refresh.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from discovery.domain import Asset, JSONObject, Product, Tag, TagStatus, utcnow
from discovery.errors import Forbidden, InvalidQuery, NotFound
from discovery.services import webhooks
from discovery.services.context import Context
from discovery.store.derive import family_roots, product_docs
from discovery.store.index.documents import asset_to_doc

Decision = Literal["accept", "reject"]


@dataclass(frozen=True, slots=True)
class DecisionIn:
    target_type: str
    target_id: str
    tag: str
    decision: str


def merge_suggestions(existing: list[Tag], new: list[Tag]) -> list[Tag]:
    """New suggestions merged into a target's tags. Pure.

    Decided tags (accepted or rejected) are kept as decided: a rejected tag is never
    suggested again by the same model. A suggestion of the same tag from a model is replaced
    by the newer one; a stale suggestion the newer model no longer makes is withdrawn.
    """
    decided = {t.name: t for t in existing if t.status != "suggested"}
    new_models = {t.model for t in new}
    kept = [t for t in existing if t.status == "suggested" and t.model not in new_models and t.name not in decided]
    fresh = {t.name: t for t in new if t.name not in decided}
    kept = [t for t in kept if t.name not in fresh]
    return [*decided.values(), *kept, *fresh.values()]


def _load(ctx: Context, target_type: str, target_id: str) -> Product | Asset:
    target: Product | Asset | None
    if target_type == "asset":
        target = ctx.records.get_asset(target_id)
    elif target_type == "product":
        target = ctx.records.get_product(target_id)
    else:
        raise InvalidQuery(f"target.type must be asset or product, not {target_type!r}", field="target.type")
    if target is None:
        raise NotFound(f"no {target_type} {target_id!r}", field="target.id")
    return target


def _reindex(ctx: Context, target: Product | Asset) -> None:
    """Stage the target's new document; `decide` makes the request's decisions visible once."""
    if isinstance(target, Asset):
        vec = ctx.records.get_vectors("image_vector", [f"asset:{target.id}"]).get(f"asset:{target.id}")
        doc = asset_to_doc(target, image_vector=vec[1].tolist() if vec else None, vector_model=vec[0] if vec else None)
        ctx.backend.upsert([doc])
    else:
        docs, gone = product_docs(ctx.records, family_roots([target]))
        ctx.backend.upsert(docs)
        if gone:
            ctx.backend.delete(gone)


def _key(target: Product | Asset) -> str:
    return f"product:{target.sku}" if isinstance(target, Product) else f"asset:{target.id}"


def decide_one(ctx: Context, item: DecisionIn, *, actor: str) -> None:
    """Apply one decision; idempotent (the same decision twice changes nothing the second time)."""
    if item.decision not in ("accept", "reject"):
        raise InvalidQuery("decision must be accept or reject", field="decision")
    if not item.tag.strip():
        raise InvalidQuery("tag is empty", field="tag")
    target = _load(ctx, item.target_type, item.target_id)
    status: TagStatus = "accepted" if item.decision == "accept" else "rejected"
    tags = list(target.tags)
    current = next((t for t in tags if t.name == item.tag), None)
    if current is not None and current.status == status:
        return
    before = current.to_json() if current else None
    if current is None:
        if item.decision == "reject":
            raise NotFound(f"{_key(target)} has no tag {item.tag!r} to reject", field="tag")
        updated = Tag(name=item.tag, source="human", status=status, confidence=1.0)
    else:
        updated = replace(current, status=status)
    updated.decided_by, updated.decided_at = actor, utcnow().isoformat()
    tags = [t for t in tags if t.name != item.tag] + [updated]
    ctx.records.tags.replace_tags(target, tags)
    if isinstance(target, Product) and status == "accepted":
        _apply_to_product(ctx, target, item.tag)
    ctx.records.audit(
        actor=actor,
        action=f"tag.{item.decision}",
        target=_key(target),
        detail={"tag": item.tag, "before": before, "after": updated.to_json()},
    )
    webhooks.emit(ctx, "review.decision", {"target": _key(target), "tag": item.tag, "decision": item.decision})
    _reindex(ctx, target)


def _apply_to_product(ctx: Context, product: Product, tag: str) -> None:
    """An accepted category or attribute suggestion changes the product itself, and so its
    completeness."""
    from discovery.services.links import sync_products
    from discovery.services.product_suggestions import apply_accepted

    if apply_accepted(product, tag):
        ctx.records.upsert_products([product])
        sync_products(ctx, [product.sku], force=True)


def decide(ctx: Context, items: list[DecisionIn], *, actor: str) -> list[JSONObject]:
    """Apply decisions one by one; a bad item is reported and the others still apply. The
    applied ones are visible to the caller's next search when this returns."""
    results: list[JSONObject] = []
    for index, item in enumerate(items):
        try:
            decide_one(ctx, item, actor=actor)
            results.append({"index": index, "ok": True, "error": None})
        except (InvalidQuery, NotFound) as exc:
            results.append({"index": index, "ok": False, "error": exc.detail})
    if any(r["ok"] for r in results):
        ctx.backend.make_visible()
    return results


def undo(ctx: Context, *, actor: str, entry_id: int | None = None, admin: bool = False) -> JSONObject:
    """Restore the tag as it was before a decision (the caller's last one by default); the
    undo is itself audited. Only an admin may undo another caller's decision."""
    entries = [e for e in ctx.records.audit_entries(limit=500) if str(e["action"]).startswith("tag.")]
    if entry_id is not None:
        entries = [e for e in entries if e["id"] == entry_id]
        if entries and entries[0]["actor"] != actor and not admin:
            raise Forbidden(f"decision {entry_id} was made by someone else; only an admin may undo it")
    else:
        undone = {e["detail"].get("undoes") for e in entries if e["action"] == "tag.undo"}  # type: ignore[union-attr]
        entries = [e for e in entries if e["action"] != "tag.undo" and e["actor"] == actor and e["id"] not in undone]
    if not entries:
        raise NotFound("no decision to undo")
    entry = entries[0]
    target_type, _, target_id = str(entry["target"]).partition(":")
    target = _load(ctx, target_type, target_id)
    detail = entry["detail"]
    assert isinstance(detail, dict)
    tag_name = str(detail["tag"])
    tags = [t for t in target.tags if t.name != tag_name]
    if detail.get("before"):
        tags.append(Tag.from_json(detail["before"]))  # type: ignore[arg-type]
    ctx.records.tags.replace_tags(target, tags)
    ctx.records.audit(
        actor=actor,
        action="tag.undo",
        target=str(entry["target"]),
        detail={"tag": tag_name, "undoes": entry["id"], "restored": detail.get("before")},
    )
    _reindex(ctx, target)
    ctx.backend.make_visible()
    return {"undone": entry["id"], "target": entry["target"], "tag": tag_name, "restored": detail.get("before")}


def queue(
    ctx: Context,
    *,
    tag: str | None,
    source: str | None,
    min_confidence: float | None,
    max_confidence: float | None,
    collection: str | None,
    limit: int,
    offset: int,
    group: bool,
) -> JSONObject:
    items, total = ctx.records.tags.queue(
        tag=tag,
        source=source,
        min_confidence=min_confidence,
        max_confidence=max_confidence,
        collection=collection,
        limit=limit,
        offset=offset,
    )
    out: list[JSONObject] = []
    titles = _titles(ctx, [i.target for i in items])
    for item in items:
        target_type, _, target_id = item.target.partition(":")
        out.append(
            {
                "target": {"type": target_type, "id": target_id},
                "tag": item.tag,
                "source": item.source,
                "confidence": round(item.confidence, 4),
                "model": item.model or "",
                "thumbnail": f"/api/assets/{target_id}/renditions/thumbnail" if target_type == "asset" else None,
                "title": titles.get(item.target, target_id),
            }
        )
    body: JSONObject = {"items": out, "total": total}  # type: ignore[dict-item]
    if group:
        body["groups"] = [{"tag": t, "count": n} for t, n in ctx.records.tags.queue_groups()]
    return body


def _titles(ctx: Context, targets: list[str]) -> dict[str, str]:
    """A readable name per queue target: the asset's title or file name, the product's name."""
    out: dict[str, str] = {}
    skus = [t.partition(":")[2] for t in targets if t.startswith("product:")]
    for sku, product in ctx.records.get_products(skus).items():
        out[f"product:{sku}"] = product.name or sku
    for target in dict.fromkeys(t for t in targets if t.startswith("asset:")):
        asset = ctx.records.get_asset(target.partition(":")[2])
        if asset is not None:
            out[target] = asset.title or asset.filename
    return out
