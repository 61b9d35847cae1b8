"""Image search and similar assets as a match set, on both engines: near-duplicates
collapsed into one hit with a count, filters and disjunctive facets over the k nearest,
paging that reaches exactly `total`, calibrated scores that separate, the shopper view."""

from __future__ import annotations

import statistics
from pathlib import Path

from discovery.services.image_similarity import spread
from discovery.store.index.documents import keyword_value
from tests.api.conftest import Catalog

K = "50"  # more than the demo catalog's 32 assets: the match set is the whole catalog


def _by_name(catalog: Catalog) -> dict[str, str]:
    hits = catalog.client.get("/api/search", params={"type": "asset", "size": 100, "mode": "keyword"}).json()["hits"]
    return {h["filename"]: h["id"] for h in hits}


def _duplicate_pair(catalog: Catalog) -> tuple[str, str]:
    """A near-duplicate's file name and its original's."""
    return next((f, str(t["near_duplicate_of"])) for f, t in sorted(catalog.truth.items()) if t["near_duplicate_of"])


def _search(catalog: Catalog, name: str, headers: dict[str, str] | None = None, **data: str) -> dict[str, object]:
    images = Path(str(catalog.info["catalog_dir"])) / "images"
    with (images / name).open("rb") as fh:
        answer = catalog.client.post(
            "/api/search/image", files={"file": (name, fh, "image/jpeg")}, data={"k": K, **data}, headers=headers or {}
        )
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _assets_of(hits: list[dict[str, object]]) -> list[str]:
    return [str(h["id"]) for h in hits] + [str(c["id"]) for h in hits for c in h["collapsed"]]  # type: ignore[attr-defined]


def test_image_search_collapses_a_near_duplicate_into_one_hit_with_its_count(catalog: Catalog) -> None:
    dup, original = _duplicate_pair(catalog)
    ids = _by_name(catalog)
    body = _search(catalog, dup)
    hits: list[dict[str, object]] = body["hits"]  # type: ignore[assignment]
    group = next(h for h in hits if h["id"] in (ids[dup], ids[original]))
    members = [str(c["id"]) for c in group["collapsed"]]  # type: ignore[attr-defined]
    assert {str(group["id"]), *members} >= {ids[dup], ids[original]}
    assert group["collapsed_count"] == len(members) >= 1
    assert group is hits[0], "the picture itself and its copy are the best hit"
    assets = _assets_of(hits)
    assert len(assets) == len(set(assets)), "an asset is a hit or collapsed into one, never both"
    assert body["total"] == len(hits) < body["total_assets"] == len(assets)
    # collapse=false lists every asset as its own hit.
    flat = _search(catalog, dup, collapse="false")
    flat_ids = [str(h["id"]) for h in flat["hits"]]  # type: ignore[attr-defined]
    assert {ids[dup], ids[original]} <= set(flat_ids)
    assert flat["total"] == flat["total_assets"] == body["total_assets"]
    assert all(h["collapsed_count"] == 0 for h in flat["hits"])  # type: ignore[attr-defined]


def test_image_results_page_through_exactly_total_hits(catalog: Catalog) -> None:
    dup, _ = _duplicate_pair(catalog)
    seen: list[dict[str, object]] = []
    page = 1
    while True:
        body = _search(catalog, dup, size="7", page=str(page))
        if not body["hits"]:
            break
        assert len(body["hits"]) <= 7  # type: ignore[arg-type]
        seen += body["hits"]  # type: ignore[arg-type]
        page += 1
    assert len(seen) == body["total"]
    assets = _assets_of(seen)
    assert len(assets) == len(set(assets)) == body["total_assets"]
    scores = [float(h["score"]) for h in seen]  # type: ignore[arg-type]
    assert scores == sorted(scores, reverse=True), "best first across pages"


def test_image_filters_narrow_and_facets_count_the_match_set(catalog: Catalog) -> None:
    dup, _ = _duplicate_pair(catalog)
    body = _search(catalog, dup, facets="colors,background", collapse="false")
    total = int(body["total_assets"])  # type: ignore[arg-type]
    colours = body["facets"]["colors"]  # type: ignore[index]
    value, count = next((v["value"], v["count"]) for v in colours if 0 < v["count"] < total)
    narrowed = _search(catalog, dup, facets="colors,background", collapse="false", **{"filter.colors": value})
    assert narrowed["total_assets"] == count, "a facet value's count is what ticking it shows"
    chosen = next(v for v in narrowed["facets"]["colors"] if v["value"] == value)  # type: ignore[index]
    assert chosen["selected"] is True and chosen["count"] == count
    # Disjunctive: the colour facet still counts the other colours under no colour filter...
    assert [v["count"] for v in narrowed["facets"]["colors"]] == [v["count"] for v in colours]  # type: ignore[index]
    # ...while the background facet counts only the narrowed assets.
    assert sum(v["count"] for v in narrowed["facets"]["background"]) == count  # type: ignore[index]
    ctx = catalog.client.app.state.ctx  # type: ignore[attr-defined]
    for hit in narrowed["hits"]:  # type: ignore[attr-defined]
        asset = ctx.records.get_asset(hit["id"])
        assert value in [keyword_value("colors", str(c.get("name"))) for c in asset.colors]
    # Ranges narrow as in a search; similar assets take the same filters and facets.
    wide = _search(catalog, dup, collapse="false", **{"range.width": "0..100000"})
    assert wide["total_assets"] == total
    assert _search(catalog, dup, **{"range.width": "0..1"})["total"] == 0
    first = str(body["hits"][0]["id"])  # type: ignore[index]
    similar = catalog.client.get(
        f"/api/assets/{first}/similar", params={"k": K, "facets": "colors", "filter.colors": value, "collapse": "false"}
    ).json()
    assert 0 < similar["total"] <= count and all(h["id"] != first for h in similar["hits"])
    assert next(v for v in similar["facets"]["colors"] if v["value"] == value)["selected"] is True


def test_image_scores_separate_unrelated_pictures(catalog: Catalog) -> None:
    dup, _ = _duplicate_pair(catalog)
    body = _search(catalog, dup, collapse="false")
    scores = [float(h["score"]) for h in body["hits"]]  # type: ignore[attr-defined]
    cosines = [float(h["cosine"]) for h in body["hits"]]  # type: ignore[attr-defined]
    print(f"\n{catalog.settings.backend} image score spread, calibrated {spread(scores)}, raw cosine {spread(cosines)}")
    assert scores[0] >= 0.95, "the picture itself (and its copy) score near 1"
    assert statistics.median(scores) < 0.5, "a typical unrelated picture scores low"
    assert not all(s >= 0.99 for s in scores)
    assert min(cosines) < max(cosines) and body["calibration"]["unrelated_cosine"] is not None  # type: ignore[index]


def test_the_shopper_view_holds_on_image_results(catalog: Catalog) -> None:
    dup, _ = _duplicate_pair(catalog)
    public = {"X-API-Key": catalog.keys["public"]}
    body = _search(catalog, dup, headers=public, facets="colors,tags")
    for hit in body["hits"]:  # type: ignore[attr-defined]
        assert not {"phash", "status", "collections", "asset_ids"} & set(hit)
        assert all("distance" not in c for c in hit["collapsed"])
    assert any(h["collapsed_count"] for h in body["hits"])  # type: ignore[attr-defined]
    images = Path(str(catalog.info["catalog_dir"])) / "images"
    for params in ({"facets": "collections"}, {"filter.status": "approved"}, {"facets": "phash"}):
        with (images / dup).open("rb") as fh:
            answer = catalog.client.post(
                "/api/search/image", files={"file": (dup, fh, "image/jpeg")}, data=params, headers=public
            )
        assert answer.status_code == 400, (params, answer.text)
    first = str(body["hits"][0]["id"])  # type: ignore[index]
    refused = catalog.client.get(f"/api/assets/{first}/similar", params={"facets": "collections"}, headers=public)
    assert refused.status_code == 400
