"""Tag review: the queue, bulk decisions with per-item outcomes, the audit log and undo.

A decision changes the tag in the target's record (the truth), appends to the audit log and
owes the target a new index document, all in one records transaction (`owed_docs`). A
request of decisions (one or many) then settles what it owes once: on OpenSearch it writes
the documents and refreshes the index now (`make_visible`) instead of each decision waiting
up to its 1 s refresh interval (`refresh=wait_for`), so the reviewer's next search shows them
and a bulk decision costs one refresh; on the embedded engine it answers at once and the
writer thread rebuilds and commits the documents in batches, visible within about 0.3 s.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from discovery.domain import Asset, JSONObject, Product, Tag, TagStatus, utcnow
from discovery.errors import Forbidden, InvalidQuery, NotFound
from discovery.services import cutouts, webhooks
from discovery.services.asset_titles import display_title
from discovery.services.context import Context
from discovery.services.owed_docs import settle
from discovery.store.tag_records import ChangedMeanwhile, QueueFilter, QueueKey
from indexer.assets.links import LINK_TAG

Decision = Literal["accept", "reject"]
T = TypeVar("T")
ATTEMPTS = 10  # writes of one decision while others keep changing its target


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


def load_target(ctx: Context, target_type: str, target_id: str) -> Product | Asset:
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


def target_key(target: Product | Asset) -> str:
    return f"product:{target.sku}" if isinstance(target, Product) else f"asset:{target.id}"


def retrying(write: Callable[[], T]) -> T:
    """`write()`, again (it reads afresh) while another decision changed its target between
    its read and its write (`ChangedMeanwhile`); the last attempt's conflict is raised."""
    for _ in range(ATTEMPTS - 1):
        try:
            return write()
        except ChangedMeanwhile:
            continue
    return write()


def decide_one(ctx: Context, item: DecisionIn, *, actor: str) -> str | None:
    """Apply one decision; idempotent (the same decision twice changes nothing the second time).
    Returns the target (`product:SKU`) when its document is owed (see `owed_docs.settle`)."""
    return retrying(lambda: _decide_once(ctx, item, actor=actor))


def _decide_once(ctx: Context, item: DecisionIn, *, actor: str) -> str | None:
    if item.decision not in ("accept", "reject"):
        raise InvalidQuery("decision must be accept or reject", field="decision")
    if not item.tag.strip():
        raise InvalidQuery("tag is empty", field="tag")
    target = load_target(ctx, item.target_type, item.target_id)
    status: TagStatus = "accepted" if item.decision == "accept" else "rejected"
    if isinstance(target, Asset) and item.tag.startswith(LINK_TAG):
        _decide_link(ctx, target, item, status, actor=actor)
        return None
    tags = list(target.tags)
    current = next((t for t in tags if t.name == item.tag), None)
    if current is not None and current.status == status:
        return None
    before = current.to_json() if current else None
    if current is None:
        if item.decision == "reject":
            raise NotFound(f"{target_key(target)} has no tag {item.tag!r} to reject", field="tag")
        updated = Tag(name=item.tag, source="human", status=status, confidence=1.0)
    else:
        updated = replace(current, status=status)
    updated.decided_by, updated.decided_at = actor, utcnow().isoformat()
    tags = [t for t in tags if t.name != item.tag] + [updated]
    # The tag, its audit entry and the document it owes the index: one transaction.
    detail: JSONObject = {"tag": item.tag, "before": before, "after": updated.to_json()}
    ctx.records.tags.apply([(target, tags)], [(actor, f"tag.{item.decision}", target_key(target), detail)])
    if isinstance(target, Product) and status == "accepted":
        apply_to_product(ctx, target, item.tag)
    if isinstance(target, Asset) and cutouts.is_cutout_tag(item.tag):
        cutouts.decided(ctx, target, item.tag, accepted=status == "accepted")
    webhooks.emit(ctx, "review.decision", {"target": target_key(target), "tag": item.tag, "decision": item.decision})
    return target_key(target)


def _decide_link(ctx: Context, asset: Asset, item: DecisionIn, status: TagStatus, *, actor: str) -> None:
    """A suggested link (`link:<SKU>`): accepting it links the asset, rejecting it keeps the
    file-name rule from suggesting it again (`link_edits` writes, audits and reindexes)."""
    from discovery.services.link_edits import decide_suggested_link

    current = next((t for t in asset.tags if t.name == item.tag), None)
    linked = any(x.get("sku") == item.tag[len(LINK_TAG) :] for x in asset.product_skus)
    if (status == "accepted" and linked and current is None) or (current is not None and current.status == status):
        return
    if current is None and status == "rejected" and not linked:
        raise NotFound(f"asset:{asset.id} has no tag {item.tag!r} to reject", field="tag")
    decide_suggested_link(ctx, asset, item.tag, status, actor=actor)
    webhooks.emit(ctx, "review.decision", {"target": target_key(asset), "tag": item.tag, "decision": item.decision})


def apply_to_product(ctx: Context, product: Product, tag: str) -> None:
    """An accepted category or attribute suggestion changes the product itself, and so its
    completeness."""
    from discovery.services.links import sync_products
    from discovery.services.product_suggestions import apply_accepted

    if ctx.records.edits.product(product.sku, lambda stored: apply_accepted(stored, tag)) is not None:
        sync_products(ctx, [product.sku], force=True)


def decide(ctx: Context, items: list[DecisionIn], *, actor: str) -> list[JSONObject]:
    """Apply decisions one by one; a bad item is reported and the others still apply. The
    applied ones are visible to the caller's next search when this returns."""
    results: list[JSONObject] = []
    owed: list[str] = []
    for index, item in enumerate(items):
        try:
            if (key := decide_one(ctx, item, actor=actor)) is not None:
                owed.append(key)
            results.append({"index": index, "ok": True, "error": None})
        except (InvalidQuery, NotFound, ChangedMeanwhile) as exc:
            results.append({"index": index, "ok": False, "error": exc.detail})
    settle(ctx, owed)
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
    target = load_target(ctx, target_type, target_id)
    detail = entry["detail"]
    assert isinstance(detail, dict)
    tag_name = str(detail["tag"])
    if isinstance(target, Asset) and detail.get("link") and entry["action"] == "tag.accept":
        from discovery.services.link_edits import unlink

        # An accepted suggested link: the link goes, and the suggestion comes back below.
        unlink(ctx, target.id, tag_name[len(LINK_TAG) :], actor=actor)
        target = load_target(ctx, target_type, target_id)
    tags = [t for t in target.tags if t.name != tag_name]
    if detail.get("before"):
        tags.append(Tag.from_json(detail["before"]))  # type: ignore[arg-type]
    undo_detail: JSONObject = {"tag": tag_name, "undoes": entry["id"], "restored": detail.get("before")}
    ctx.records.tags.apply([(target, tags)], [(actor, "tag.undo", str(entry["target"]), undo_detail)])
    settle(ctx, [target_key(target)])
    ctx.backend.make_visible()
    return {"undone": entry["id"], "target": entry["target"], "tag": tag_name, "restored": detail.get("before")}


def encode_cursor(key: QueueKey) -> str:
    """An opaque cursor for the queue: the last item's place in the queue's order. Pure."""
    raw = json.dumps([key.uncertainty, key.impact, key.tag, key.target], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> QueueKey:
    """The queue place a cursor names; a cursor not made by `encode_cursor` is refused. Pure."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        uncertainty, impact, tag, target = raw
        return QueueKey(float(uncertainty), int(impact), str(tag), str(target))
    except (ValueError, TypeError) as exc:
        raise InvalidQuery("cursor is not one this queue gave out", field="cursor") from exc


def queue(
    ctx: Context,
    *,
    where: QueueFilter,
    limit: int,
    offset: int = 0,
    cursor: str | None = None,
    group: bool = False,
) -> JSONObject:
    """A page of the queue. `cursor` (from the previous page's answer) resumes after the
    last item given, so decisions made meanwhile neither skip nor repeat items; `cursor` in
    the answer is null at the end. `open_total` counts every open suggestion, filtered or not."""
    items, total = ctx.records.tags.queue(
        where,
        limit=limit + 1,  # one more tells whether another page follows
        offset=offset,
        after=decode_cursor(cursor) if cursor else None,
    )
    more, items = len(items) > limit, items[:limit]
    out: list[JSONObject] = []
    titles, evidence = _titles(ctx, [i.target for i in items])
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
                "evidence": evidence.get((item.target, item.tag)),
                # A suggested link (`link:<SKU>`): accepting it links the asset to the product.
                **({"kind": "link", "sku": item.tag[len(LINK_TAG) :]} if item.tag.startswith(LINK_TAG) else {}),
            }
        )
        if target_type == "asset" and cutouts.is_cutout_tag(item.tag):
            out[-1].update(cutouts.review_urls(target_id, item.tag))  # the cut-out, before and after
    last = items[-1].key if items and more else None
    body: JSONObject = {
        "items": out,  # type: ignore[dict-item]
        "total": total,
        "open_total": ctx.records.tags.open_count() if where != QueueFilter() else total,
        "cursor": encode_cursor(last) if last is not None else None,
    }
    if group:
        body["groups"] = [{"tag": t, "count": n} for t, n in ctx.records.tags.queue_groups(limit=500)]
        body["sources"] = [{"source": t, "count": n} for t, n in ctx.records.tags.queue_groups(by="source")]
    return body


def _titles(ctx: Context, targets: list[str]) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """A readable name per queue target (the asset's display title, the product's name),
    and what each of its suggestions rests on, by (target, tag)."""
    out: dict[str, str] = {}
    evidence: dict[tuple[str, str], str] = {}
    skus = [t.partition(":")[2] for t in targets if t.startswith("product:")]
    products = ctx.records.get_products(skus)
    loaded: list[tuple[str, Product | Asset]] = [(f"product:{sku}", p) for sku, p in products.items()]
    for target in dict.fromkeys(t for t in targets if t.startswith("asset:")):
        asset = ctx.records.get_asset(target.partition(":")[2])
        if asset is not None:
            loaded.append((target, asset))
    linked = [str(x.get("sku")) for _, r in loaded if isinstance(r, Asset) for x in r.product_skus if x.get("sku")]
    names = {sku: p.name for sku, p in ctx.records.get_products(linked).items()} if linked else {}
    for target, record in loaded:
        if isinstance(record, Product):
            out[target] = record.name or record.sku
        else:  # as search shows it: named after its product where the file name says which
            named = [(s, names[s]) for x in record.product_skus if (s := str(x.get("sku"))) in names]
            out[target] = display_title(title=record.title, filename=record.filename, products=named)
        evidence.update({(target, t.name): t.evidence for t in record.tags if t.evidence})
    return out, evidence
