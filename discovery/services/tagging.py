"""Tag suggestions for assets, and the tagger that learns from reviewers.

Suggestions come from four places: CLIP zero-shot (or a learned per-tag classifier where
reviewers have decided enough), rules on image facts (colour, white background,
orientation), and the products an image is linked to. They merge into the asset's tags
without ever undoing a decision (`review.merge_suggestions`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from discovery.domain import Asset, Tag
from discovery.services.asset_writes import reindex_assets
from discovery.services.context import Context
from discovery.services.review import merge_suggestions
from discovery.store.index.documents import asset_doc_id

_lock = threading.Lock()


def _learned_path(ctx: Context) -> Path:
    return ctx.settings.data_dir / "tagger" / "learned.json"


def _tagger(ctx: Context):  # type: ignore[no-untyped-def]
    """The context's tagger: zero-shot prototypes are computed once; the learned part is
    reloaded when training wrote a newer revision."""
    from models.learned import LearnedTagger
    from models.tagger import Tagger
    from models.taxonomy import load_taxonomy
    from models.zero_shot import ZeroShotTagger

    with _lock:
        cached = getattr(ctx, "_tagger_cache", None)
        path = _learned_path(ctx)
        stamp = path.stat().st_mtime if path.exists() else None
        if cached is None or cached[1] != stamp:
            zero = cached[0].zero_shot if cached else ZeroShotTagger(ctx.clip(), load_taxonomy())
            learned = LearnedTagger.from_json(json.loads(path.read_text())) if path.exists() else None
            cached = (Tagger(zero, learned), stamp)
            ctx._tagger_cache = cached  # type: ignore[attr-defined]
        return cached[0]


def _suggestions_for(ctx: Context, asset: Asset, vector: np.ndarray | None, tagger) -> list[Tag]:  # type: ignore[no-untyped-def]
    from models.rules import product_tags, rule_tags

    taxonomy = tagger.zero_shot.taxonomy
    found = list(tagger.suggest(vector)[0]) if vector is not None else []
    found += rule_tags(
        taxonomy, colors=asset.colors, background=asset.background, width=asset.width, height=asset.height
    )
    skus = [str(link.get("sku")) for link in asset.product_skus]
    for product in ctx.records.get_products(skus).values():
        found += product_tags(taxonomy, categories=product.categories, attributes=product.attributes)
    best: dict[str, Tag] = {}
    for s in found:
        if s.tag not in best or s.confidence > best[s.tag].confidence:
            best[s.tag] = Tag(name=s.tag, source=s.source, status="suggested", confidence=s.confidence, model=s.model)
    return list(best.values())


def suggest_for_assets(ctx: Context, asset_ids: Iterable[str]) -> int:
    """Suggest tags for these assets, merge them in, and reindex; returns how many changed."""
    ids = list(dict.fromkeys(asset_ids))
    if not ids:
        return 0
    tagger = _tagger(ctx)
    current = tagger.model_ids()
    vectors = ctx.records.get_vectors("image_vector", [asset_doc_id(i) for i in ids])
    assets = ctx.records.get_assets(ids)
    suggested: dict[str, list[Tag]] = {}
    for asset_id in ids:
        if (asset := assets.get(asset_id)) is None:
            continue
        vec = vectors.get(asset_doc_id(asset_id))
        usable = vec[1] if vec is not None and vec[0] in current | {tagger.zero_shot.clip.model_id} else None
        suggested[asset_id] = _suggestions_for(ctx, asset, usable, tagger)

    def merge(stored: Asset) -> bool:
        # On the tags as stored now, in one transaction a batch: a decision a reviewer made
        # while CLIP looked is kept.
        merged = merge_suggestions(stored.tags, suggested[stored.id])
        if [t.to_json() for t in merged] == [t.to_json() for t in stored.tags]:
            return False
        stored.tags = merged
        return True

    saved = ctx.records.edits.assets(list(suggested), merge)
    reindex_assets(ctx, saved, refresh=False)
    return len(saved)


def train_tagger(ctx: Context, *, tags: Iterable[str] | None = None) -> dict[str, object]:
    """Retrain the per-tag classifiers from every accept and reject of machine suggestions on
    images with a vector of the current CLIP model; saves the new revision."""
    from models.learned import Decision, LearnedTagger

    tagger = _tagger(ctx)
    clip_model = tagger.zero_shot.clip.model_id
    decided = ctx.records.tags.decisions()
    targets = [t for t, _, _ in decided if t.startswith("asset:")]
    vectors = ctx.records.get_vectors("image_vector", targets)
    decisions = [
        Decision(tag=tag, vector=vectors[target][1], accepted=status == "accepted")
        for target, tag, status in decided
        if target in vectors and vectors[target][0] == clip_model
    ]
    base = tagger.learned or LearnedTagger(clip_model)
    learned = base.retrain(decisions, tags)
    path = _learned_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(learned.to_json()))
    tmp.replace(path)
    return {"revision": learned.revision, "classifiers": sorted(learned.classifiers), "decisions": len(decisions)}
