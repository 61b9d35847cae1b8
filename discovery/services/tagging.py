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
from discovery.services.context import Context
from discovery.services.review import merge_suggestions
from discovery.store.derive import inherited_for_assets
from discovery.store.index.documents import asset_doc_id, asset_to_doc

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
    changed = 0
    docs = []
    assets = ctx.records.get_assets(ids)
    inherited = inherited_for_assets(ctx.records, list(assets.values()))
    for asset_id in ids:
        asset = assets.get(asset_id)
        if asset is None:
            continue
        vec = vectors.get(asset_doc_id(asset_id))
        usable = vec[1] if vec is not None and vec[0] in current | {tagger.zero_shot.clip.model_id} else None
        merged = merge_suggestions(asset.tags, _suggestions_for(ctx, asset, usable, tagger))
        if [t.to_json() for t in merged] == [t.to_json() for t in asset.tags]:
            continue
        ctx.records.tags.replace_tags(asset, merged)
        docs.append(
            asset_to_doc(
                asset,
                image_vector=vec[1].tolist() if vec else None,
                vector_model=vec[0] if vec else None,
                inherited=inherited.get(asset.id, ()),
            )
        )
        changed += 1
    if docs:
        ctx.backend.upsert(docs)
    return changed


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
