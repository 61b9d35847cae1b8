"""One match set per search request, in every mode, on both engines: total, hits, facets
and the cursor count the same documents; semantic matches join it only above their
model's floor; every hit carries its real score.

These run the search service (discovery.services.search) over the sample catalog,
imported and embedded by the real import job with the real text model."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
from service_catalog import Service

import discovery.services.search as search_service
from discovery.domain import Asset
from discovery.services.search import SearchRequest, search
from discovery.store.index.documents import asset_to_doc, product_doc_id
from indexer.sample.products import iter_groups


def ask(service: Service, **kw: Any) -> dict[str, Any]:
    return search(service.ctx, SearchRequest(**kw))


def every_hit(service: Service, **kw: Any) -> list[dict[str, Any]]:
    """All hits of a request, page by page (size 7, so several pages)."""
    hits: list[dict[str, Any]] = []
    cursor = None
    while True:
        body = ask(service, size=7, cursor=cursor, **kw)
        hits += body["hits"]
        cursor = body["cursor"]
        if cursor is None:
            return hits


def types_of(service: Service) -> dict[str, str]:
    """Each product family's type word, from the generator's truth."""
    return {g.sku: g.product_type.word for g in iter_groups(service.seed, service.products)}


def test_hybrid_facet_counts_equal_the_hybrid_hits_counted_by_hand(service: Service) -> None:
    everything = every_hit(service, q="jacket", mode="hybrid")
    by_brand = Counter(str(h["brand"]) for h in everything)
    ticked = by_brand.most_common(1)[0][0]
    body = ask(service, q="jacket", mode="hybrid", filters={"brand": (ticked,)}, facets=("brand",))
    shown = {v["value"]: v["count"] for v in body["facets"]["brand"]}
    assert shown == dict(by_brand)
    assert body["total"] == by_brand[ticked]
    for brand, count in by_brand.items():  # ticking a value adds what its count said
        both = ask(service, q="jacket", mode="hybrid", filters={"brand": (ticked, brand)})
        assert both["total"] == by_brand[ticked] + (count if brand != ticked else 0)


def test_hybrid_total_is_the_number_of_hits_paging_reaches(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    # A fusion window smaller than the match sets, so the text matches beyond it are paged too.
    monkeypatch.setattr(search_service, "HYBRID_WINDOW", 6)
    for q in ("jacket", "wool", "blue"):
        body = ask(service, q=q, mode="hybrid", size=5)
        hits = every_hit(service, q=q, mode="hybrid")
        assert len(hits) == body["total"] == len({h["id"] for h in hits})
        by_page = [h["id"] for p in range(1, body["total"] // 5 + 2) for h in ask(service, q=q, size=5, page=p)["hits"]]
        assert by_page == [h["id"] for h in hits]


def test_semantic_hits_carry_their_cosine(service: Service) -> None:
    body = ask(service, q="hoodie", mode="semantic", size=20)
    scores = [h["score"] for h in body["hits"]]
    assert scores and all(0 < s <= 1 for s in scores)
    assert scores == sorted(scores, reverse=True)
    model = service.ctx.text()
    assert model is not None
    query = model.encode(["hoodie"])[0]
    top = body["hits"][0]
    stored = service.ctx.records.get_vectors("text_vector", [product_doc_id(top["id"])])
    vector = next(iter(stored.values()))[1]
    assert abs(float(np.dot(query, vector)) - top["score"]) < 1e-3


def test_hybrid_hits_carry_the_fused_score(service: Service) -> None:
    body = ask(service, q="jacket", mode="hybrid", size=20)
    scores = [h["score"] for h in body["hits"]]
    k = service.ctx.settings.search.rrf_k
    # A document first in both rankings scores 2 / (k + 1); nothing scores more.
    assert 0 < scores[-1] <= scores[0] <= 2 / (k + 1) + 1e-6
    assert scores == sorted(scores, reverse=True)


def test_a_query_with_no_good_neighbours_is_not_padded(service: Service) -> None:
    for mode in ("semantic", "hybrid"):
        assert ask(service, q="zqxv wrplk", mode=mode)["total"] == 0


def test_a_one_word_category_query_is_not_padded_with_other_products(service: Service) -> None:
    kinds = types_of(service)
    hits = every_hit(service, q="hoodie", mode="hybrid")
    others = [h["id"] for h in hits if kinds[h["id"]] != "Hoodie"]
    assert len(others) <= len(hits) // 10, others


def test_semantic_matches_are_the_same_set_whatever_is_ticked(service: Service) -> None:
    everything = every_hit(service, q="winter coat", mode="semantic")
    brands = Counter(str(h["brand"]) for h in everything)
    body = ask(
        service, q="winter coat", mode="semantic", filters={"brand": (brands.most_common(1)[0][0],)}, facets=("brand",)
    )
    assert {v["value"]: v["count"] for v in body["facets"]["brand"]} == dict(brands)


def test_semantic_asset_hits_carry_their_clip_cosine(service: Service) -> None:
    clip = service.ctx.clip()
    model = f"{clip.name}@{clip.version}"
    titles = ["red hoodie on white", "blue running shoe", "green canvas backpack"]
    vectors = clip.encode_texts(titles)  # stand-ins for image vectors: any vector of the model's space
    docs = [
        asset_to_doc(
            Asset(id=f"m{i}", sha256=f"{i}" * 64, filename=f"m{i}.jpg", media_type="image/jpeg", title=t),
            image_vector=[float(x) for x in v],
            vector_model=model,
        )
        for i, (t, v) in enumerate(zip(titles, vectors, strict=True))
    ]
    assert not service.ctx.backend.upsert(docs, refresh=True).failed
    body = ask(service, q="hoodie", type="asset", mode="semantic", size=10)
    query = clip.encode_texts(["hoodie"])[0]
    by_id = {f"m{i}": v for i, v in enumerate(vectors)}
    assert {h["id"] for h in body["hits"]} <= set(by_id) and body["hits"]
    for hit in body["hits"]:
        cosine = float(np.dot(query, by_id[hit["id"]]) / np.linalg.norm(query) / np.linalg.norm(by_id[hit["id"]]))
        assert hit["score"] != 0.0
        assert abs(hit["score"] - cosine) < 1e-3
