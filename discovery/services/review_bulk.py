"""Bulk review: one request decides, or undoes, many suggestions and reports every item's outcome.

A selection (target + tag pairs) or a queue filter names the suggestions. Only open
suggestions are decided: one already accepted or rejected (by anyone, perhaps a moment ago
in another tab) is reported `already_decided` with who decided it, never overwritten; a
missing target or tag is `not_found`. All the changes are written in ONE records transaction
together with their audit entries, and the targets' documents are staged in one index upsert,
so deciding 22 items costs about what deciding one does.

An undo names the audit entries to take back (a bulk answer carries each item's `entry`):
each is `undone`, `already_undone`, `changed` (decided again since: left alone),
`forbidden` (someone else's, for a non-admin) or `not_found`. A suggested link (`link:<SKU>`
on an asset) is decided and undone as the single decision and undo do it: accepting links the
asset, undoing that takes the link back and the suggestion returns.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from discovery.domain import Asset, JSONObject, JSONValue, Product, Tag, TagStatus, utcnow
from discovery.errors import InvalidQuery
from discovery.services import cutouts, webhooks
from discovery.services.actors import name_items
from discovery.services.context import Context
from discovery.services.link_edits import decide_suggested_link, unlink
from discovery.services.owed_docs import settle
from discovery.services.review import apply_to_product, retrying
from discovery.store.tag_records import QueueFilter
from indexer.assets.links import LINK_TAG

MAX_BULK = 1000
DECIDE_OUTCOMES = ("decided", "already_decided", "not_found")
UNDO_OUTCOMES = ("undone", "already_undone", "changed", "forbidden", "not_found")
Target = Product | Asset


@dataclass(frozen=True, slots=True)
class Pick:
    """One suggestion named by its target and tag."""

    target_type: str
    target_id: str
    tag: str

    @property
    def key(self) -> str:
        return f"{self.target_type}:{self.target_id}"


def picks_for(ctx: Context, where: QueueFilter, *, limit: int = MAX_BULK) -> list[Pick]:
    """The open suggestions a filter selects, in the queue's order (at most `limit`)."""
    items, _ = ctx.records.tags.queue(where, limit=limit)
    return [Pick(item.target.partition(":")[0], item.target.partition(":")[2], item.tag) for item in items]


def _load_many(ctx: Context, keys: Sequence[str]) -> dict[str, Target]:
    """The targets that exist among `type:id` keys (products in one query)."""
    wanted = list(dict.fromkeys(keys))
    skus = [k.partition(":")[2] for k in wanted if k.startswith("product:")]
    found: dict[str, Target] = {f"product:{sku}": p for sku, p in ctx.records.get_products(skus).items()}
    for key in wanted:
        if key.startswith("asset:") and (asset := ctx.records.get_asset(key.partition(":")[2])) is not None:
            found[key] = asset
    return found


def _counts(results: list[JSONObject], outcomes: tuple[str, ...]) -> dict[str, int]:
    seen = Counter(str(r["outcome"]) for r in results)
    return {outcome: seen.get(outcome, 0) for outcome in outcomes}


def decide_bulk(ctx: Context, picks: Sequence[Pick], decision: str, *, actor: str) -> JSONObject:
    """Accept or reject the open suggestions among `picks`; see the module docstring."""
    return retrying(lambda: _decide_bulk_once(ctx, picks, decision, actor=actor))


def _decide_bulk_once(ctx: Context, picks: Sequence[Pick], decision: str, *, actor: str) -> JSONObject:
    if decision not in ("accept", "reject"):
        raise InvalidQuery("decision must be accept or reject", field="decision")
    if len(picks) > MAX_BULK:
        raise InvalidQuery(f"at most {MAX_BULK} items in one bulk decision, not {len(picks)}", field="items")
    status: TagStatus = "accepted" if decision == "accept" else "rejected"
    targets = _load_many(ctx, [p.key for p in picks])
    batch, now = uuid.uuid4().hex, utcnow().isoformat()
    tags_of: dict[str, list[Tag]] = {}
    audits: list[tuple[str, str, str, JSONObject]] = []
    audited: list[int] = []  # the result index of each audit row
    results: list[JSONObject] = []
    links: list[tuple[int, Pick]] = []
    linking: set[Pick] = set()
    for index, pick in enumerate(picks):
        result: JSONObject = {
            "index": index,
            "target": {"type": pick.target_type, "id": pick.target_id},
            "tag": pick.tag,
        }
        results.append(result)
        target = targets.get(pick.key)
        tags = tags_of.get(pick.key, list(target.tags)) if target is not None else []
        current = next((t for t in tags if t.name == pick.tag), None)
        if target is None or current is None:
            what = (
                f"no {pick.target_type} {pick.target_id!r}" if target is None else f"{pick.key} has no tag {pick.tag!r}"
            )
            result.update(outcome="not_found", error=what)
        elif current.status != "suggested":
            result.update(outcome="already_decided", status=current.status, decided_by=current.decided_by)
        elif isinstance(target, Asset) and pick.tag.startswith(LINK_TAG):
            if pick in linking:  # the same link picked twice: the first pick decides it
                result.update(outcome="already_decided", status=status, decided_by=actor)
                continue
            linking.add(pick)
            links.append((index, pick))  # a suggested link makes (or refuses) a link: decided one by one below
            result.update(outcome="decided", status=status, decided_by=actor)
        else:
            updated = replace(current, status=status, decided_by=actor, decided_at=now)
            tags_of[pick.key] = [t for t in tags if t.name != pick.tag] + [updated]
            detail: JSONObject = {
                "tag": pick.tag,
                "before": current.to_json(),
                "after": updated.to_json(),
                "batch": batch,
            }
            audits.append((actor, f"tag.{decision}", pick.key, detail))
            audited.append(index)
            result.update(outcome="decided", status=status, decided_by=actor)
    entries = ctx.records.tags.apply([(targets[k], tags) for k, tags in tags_of.items()], audits)
    for index, entry_id in zip(audited, entries, strict=True):
        results[index]["entry"] = entry_id
        pick = picks[index]
        target = targets[pick.key]
        if isinstance(target, Product) and status == "accepted":
            apply_to_product(ctx, target, pick.tag)
        webhooks.emit(ctx, "review.decision", {"target": pick.key, "tag": pick.tag, "decision": decision})
    settle(ctx, list(tags_of))
    for index in audited:  # a decided cut-out stands for its channel (or goes back to waiting)
        pick = picks[index]
        if pick.target_type == "asset" and cutouts.is_cutout_tag(pick.tag):
            asset = ctx.records.get_asset(pick.target_id)  # read again, with the decision on it
            if asset is not None:
                cutouts.decided(ctx, asset, pick.tag, accepted=status == "accepted")
    for index, pick in links:
        asset = ctx.records.get_asset(pick.target_id)  # read again: the tags above may have changed it
        if asset is not None:
            entry = decide_suggested_link(ctx, asset, pick.tag, status, actor=actor)
            if entry is not None:  # so the bulk undo takes the link back, as the single undo does
                results[index]["entry"] = entry
            webhooks.emit(ctx, "review.decision", {"target": pick.key, "tag": pick.tag, "decision": decision})
    if audited or links:
        ctx.backend.make_visible()  # one refresh for the whole batch
    name_items(ctx, results, "decided_by")
    return {"batch": batch, "decision": decision, "results": results, "counts": _counts(results, DECIDE_OUTCOMES)}  # type: ignore[dict-item]


def undo_bulk(ctx: Context, entry_ids: Sequence[int], *, actor: str, admin: bool = False) -> JSONObject:
    """Take back these decisions (audit entry ids) in one transaction; see the module docstring.
    Only an admin may undo another caller's decision."""
    return retrying(lambda: _undo_bulk_once(ctx, entry_ids, actor=actor, admin=admin))


def _undo_bulk_once(ctx: Context, entry_ids: Sequence[int], *, actor: str, admin: bool) -> JSONObject:
    if len(entry_ids) > MAX_BULK:
        raise InvalidQuery(f"at most {MAX_BULK} entries in one undo, not {len(entry_ids)}", field="entry_ids")
    entries = ctx.records.tags.audit_by_ids(entry_ids)
    decisions = {i: e for i, e in entries.items() if e["action"] in ("tag.accept", "tag.reject")}
    targets = _load_many(ctx, [str(e["target"]) for e in decisions.values()])
    batch = uuid.uuid4().hex
    tags_of: dict[str, list[Tag]] = {}
    audits: list[tuple[str, str, str, JSONObject]] = []
    results: list[JSONObject] = []
    link_undos: list[tuple[int, str, str, JSONValue]] = []  # (entry, target, tag, the tag before)
    unlinking: set[tuple[str, str]] = set()
    for index, entry_id in enumerate(entry_ids):
        result: JSONObject = {"index": index, "entry": entry_id}
        results.append(result)
        entry = decisions.get(entry_id)
        key = str(entry["target"]) if entry else ""
        if entry is None or key not in targets:
            result.update(outcome="not_found", error=f"no decision {entry_id} to undo")
            continue
        detail = entry["detail"]
        assert isinstance(detail, dict)
        tag, before, after = str(detail["tag"]), detail.get("before"), detail.get("after")
        result.update(target=key, tag=tag)
        tags = tags_of.get(key, list(targets[key].tags))
        current = next((t.to_json() for t in tags if t.name == tag), None)
        if entry["actor"] != actor and not admin:
            result.update(
                outcome="forbidden", error=f"decision {entry_id} was made by someone else; only an admin may undo it"
            )
        elif current == before or (key, tag) in unlinking:
            result.update(outcome="already_undone")
        elif current != after:
            result.update(outcome="changed", error=f"{key} tag {tag!r} was decided again since; left as it is")
        elif entry["action"] == "tag.accept" and detail.get("link"):
            if not _linked(targets[key], tag):
                result.update(outcome="changed", error=f"{key} is no longer linked by {tag!r}; left as it is")
                continue
            unlinking.add((key, tag))  # the link goes and the suggestion returns: one by one below
            link_undos.append((entry_id, key, tag, before))
            result.update(outcome="undone", restored=before)
        else:
            restored = [t for t in tags if t.name != tag]
            if isinstance(before, dict):
                restored.append(Tag.from_json(before))
            tags_of[key] = restored
            audits.append(
                (actor, "tag.undo", key, {"tag": tag, "undoes": entry_id, "restored": before, "batch": batch})
            )
            result.update(outcome="undone", restored=before)
    ctx.records.tags.apply([(targets[k], tags) for k, tags in tags_of.items()], audits)
    settle(ctx, list(tags_of))
    for entry_id, key, tag, before in link_undos:  # after the batch: each reads its asset again
        _undo_link(ctx, entry_id, key, tag, before, actor=actor, batch=batch)
    if tags_of or link_undos:
        ctx.backend.make_visible()
    return {"batch": batch, "results": results, "counts": _counts(results, UNDO_OUTCOMES)}  # type: ignore[dict-item]


def _linked(target: Target, tag: str) -> bool:
    sku = tag[len(LINK_TAG) :]
    return isinstance(target, Asset) and any(x.get("sku") == sku for x in target.product_skus)


def _undo_link(ctx: Context, entry_id: int, key: str, tag: str, before: JSONValue, *, actor: str, batch: str) -> None:
    """Take back an accepted suggested link as the single undo does: the link goes (audited
    as `link.remove`) and the suggestion returns, with its own `tag.undo` entry."""
    asset_id = key.partition(":")[2]
    unlink(ctx, asset_id, tag[len(LINK_TAG) :], actor=actor)
    detail: JSONObject = {"tag": tag, "undoes": entry_id, "restored": before, "batch": batch}

    def restore() -> bool:  # reads the asset afresh on each attempt
        asset = ctx.records.get_asset(asset_id)
        if asset is None:
            return False
        tags = [t for t in asset.tags if t.name != tag] + ([Tag.from_json(before)] if isinstance(before, dict) else [])
        ctx.records.tags.apply([(asset, tags)], [(actor, "tag.undo", key, detail)])
        return True

    if retrying(restore):
        settle(ctx, [key])
