"""Search through HTTP on both engines: the end-to-end slice of products from records to
ranked hits with facet counts."""

from __future__ import annotations

from collections import Counter

from tests.api.conftest import Catalog


def test_a_word_from_a_product_name_returns_ranked_hits_and_brand_counts(catalog: Catalog) -> None:
    word = str(catalog.info["sample_word"])
    params = {"q": word, "facets": "brand", "facet_size": 50, "size": 100, "mode": "keyword"}
    body = catalog.client.get("/api/search", params=params).json()
    assert 0 < body["total"] <= 100
    assert all(h["highlights"] for h in body["hits"])
    counted = Counter(h["brand"] for h in body["hits"])
    assert {f["value"]: f["count"] for f in body["facets"]["brand"]} == dict(counted)
    scores = [h["score"] for h in body["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_response_carries_every_contract_key(catalog: Catalog) -> None:
    body = catalog.client.get("/api/search", params={"q": "", "size": 1}).json()
    assert set(body) >= {"total", "total_is_lower_bound", "hits", "facets", "cursor", "model"}
    hit = body["hits"][0]
    assert set(hit) >= {"type", "id", "score", "title", "thumbnail", "highlights"}


def test_brand_filter_narrows_hits_but_brand_facet_stays_disjunctive(catalog: Catalog) -> None:
    client = catalog.client
    everything = client.get("/api/search", params={"facets": "brand", "size": 1}).json()
    brand = everything["facets"]["brand"][0]["value"]
    narrowed = client.get("/api/search", params={"facets": "brand", "filter.brand": brand, "size": 100}).json()
    assert narrowed["total"] == everything["facets"]["brand"][0]["count"]
    assert {h["brand"] for h in narrowed["hits"]} == {brand}
    assert narrowed["facets"]["brand"] == [
        {**f, "selected": f["value"] == brand} for f in everything["facets"]["brand"]
    ]


def test_cursor_paging_visits_every_product_once(catalog: Catalog) -> None:
    client = catalog.client
    total = client.get("/api/search", params={"size": 1}).json()["total"]
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        params = {"size": 7, "sort": "name", **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/search", params=params).json()
        seen += [h["id"] for h in body["hits"]]
        cursor = body["cursor"]
        if not cursor:
            break
    assert len(seen) == total == len(set(seen))


def test_post_search_answers_like_get(catalog: Catalog) -> None:
    client = catalog.client
    word = str(catalog.info["sample_word"])
    got = client.get("/api/search", params={"q": word, "mode": "keyword", "facets": "brand"}).json()
    posted = client.post("/api/search", json={"q": word, "mode": "keyword", "facets": ["brand"]}).json()
    assert [h["id"] for h in got["hits"]] == [h["id"] for h in posted["hits"]]
    assert got["facets"] == posted["facets"]


def test_unknown_filter_field_is_a_clear_problem(catalog: Catalog) -> None:
    response = catalog.client.get("/api/search", params={"filter.cost": "1"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "cost" in response.json()["detail"]


def test_price_range_and_sort(catalog: Catalog) -> None:
    body = catalog.client.get("/api/search", params={"range.price": "20..60", "sort": "price", "size": 100}).json()
    prices = [h["price"] for h in body["hits"]]
    assert prices == sorted(prices)
    assert body["total"] > 0


def test_default_hybrid_search_puts_keyword_matches_first_and_counts_its_own_hits(catalog: Catalog) -> None:
    word = str(catalog.info["sample_word"])
    keyword = catalog.client.get("/api/search", params={"q": word, "mode": "keyword", "size": 100}).json()
    body = catalog.client.get(
        "/api/search", params={"q": word, "facets": "brand", "facet_size": 50, "size": 100}
    ).json()
    assert body["model"]["text"].startswith("all-MiniLM-L6-v2@")
    assert body["total"] >= keyword["total"]
    assert sum(f["count"] for f in body["facets"]["brand"]) == body["total"]
    top = {h["id"] for h in body["hits"][:3]}
    assert top <= {h["id"] for h in keyword["hits"]}


def test_hybrid_hits_matched_by_words_carry_highlights(catalog: Catalog) -> None:
    word = str(catalog.info["sample_word"])
    body = catalog.client.get("/api/search", params={"q": word, "size": 10}).json()
    assert body["mode"] == "hybrid" and body["hits"]
    keyword = catalog.client.get("/api/search", params={"q": word, "mode": "keyword", "size": 100}).json()
    by_words = {h["id"] for h in keyword["hits"]}
    matched = [h for h in body["hits"] if h["id"] in by_words]
    assert matched and all(h["highlights"] for h in matched)
    assert all(word in text.casefold() for h in matched for hs in h["highlights"].values() for text in
               (x["text"][s:e].casefold() for x in hs for s, e in x["offsets"]))


def test_asset_search_facets_colours_and_background(catalog: Catalog) -> None:
    body = catalog.client.get("/api/search", params={"type": "asset", "facets": "colors,background"}).json()
    assert body["total"] > 0
    assert {f["value"] for f in body["facets"]["background"]} <= {"white", "transparent", "other"}


def test_a_reversed_range_is_a_problem_naming_the_parameter(catalog: Catalog) -> None:
    response = catalog.client.get("/api/search", params={"range.price": "300..10", "facets": "brand"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["field"] == "range.price" and "range.price" in problem["detail"]


def test_a_range_bound_that_is_not_a_number_is_a_problem_naming_the_parameter(catalog: Catalog) -> None:
    for text in ("cheap..10", "10..lots", "10", "nan..1"):
        response = catalog.client.get("/api/search", params={"range.price": text})
        assert response.status_code == 422, text
        assert response.json()["field"] == "range.price"
    dates = catalog.client.post("/api/search", json={"ranges": {"updated_at": "2025-01-01..2024-01-01"}})
    assert (dates.status_code, dates.json()["field"]) == (422, "range.updated_at")


def test_an_open_or_equal_range_is_accepted(catalog: Catalog) -> None:
    for text in ("10..10", "..60", "20..", "2024-01-01..2024-01-01T12:00:00+00:00"):
        name = "range.updated_at" if text.startswith("2024") else "range.price"
        assert catalog.client.get("/api/search", params={name: text}).status_code == 200, text


def test_a_filter_value_matches_whatever_its_case(catalog: Catalog) -> None:
    sizes = catalog.client.get("/api/search", params={"facets": "size", "facet_size": 50}).json()["facets"]["size"]
    shown = sizes[0]["value"]
    assert shown == shown.upper() or not shown.isalpha()  # letter sizes in capitals: M, XL
    for spelled in (shown, shown.lower()):
        body = catalog.client.get("/api/search", params={"filter.size": spelled, "facets": "size"}).json()
        assert body["total"] == sizes[0]["count"], spelled


def test_a_taxonomy_synonym_finds_products_through_the_api(catalog: Catalog) -> None:
    # The sample catalog names its tees "T-Shirt"; the taxonomy says tee = t-shirt.
    shirts = catalog.client.get("/api/search", params={"q": "t-shirt", "mode": "keyword", "size": 100}).json()
    tees = catalog.client.get("/api/search", params={"q": "tee", "mode": "keyword", "size": 100}).json()
    assert tees["total"] == shirts["total"] > 0
    assert all("T-Shirt" in h["title"] for h in tees["hits"])
