"""Suggestions while typing: titles, categories and brands that complete the text, under the
caller's view, each leading to at least one result (both engines)."""

from __future__ import annotations

from tests.api.conftest import Catalog


def _suggest(catalog: Catalog, q: str, key: str | None = None) -> list[dict[str, object]]:
    headers = {"X-API-Key": key} if key else {}
    answer = catalog.client.get("/api/suggest", params={"q": q}, headers=headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["suggestions"])


def test_a_prefix_of_a_product_word_suggests_titles_that_complete_it(catalog: Catalog) -> None:
    word = str(catalog.info.get("sample_word", "hoodie"))
    found = _suggest(catalog, word[:4])
    titles = [s for s in found if s["kind"] == "product"]
    assert titles and all(word[:4].lower() in str(s["text"]).lower() for s in titles)
    assert len(titles) <= 5


def test_a_brand_prefix_suggests_the_brand(catalog: Catalog) -> None:
    brands = catalog.client.get("/api/search", params={"facets": "brand", "size": 1}).json()["facets"]["brand"]
    brand = str(brands[0]["value"])
    found = _suggest(catalog, brand[:3].lower())
    assert {"kind": "brand", "text": brand} in [{"kind": s["kind"], "text": s["text"]} for s in found]


def test_every_suggestion_finds_something(catalog: Catalog) -> None:
    for s in _suggest(catalog, "sh"):
        field = {"category": "filter.category", "brand": "filter.brand"}.get(str(s["kind"]))
        params = {field: s["text"]} if field else {"q": s["text"], "mode": "keyword"}
        assert catalog.client.get("/api/search", params=params).json()["total"] >= 1, s


def test_nothing_typed_suggests_nothing(catalog: Catalog) -> None:
    assert _suggest(catalog, "  ") == []


def test_a_shopper_is_not_offered_what_the_shopper_view_hides(catalog: Catalog) -> None:
    public = catalog.keys["public"]
    headers = {"X-API-Key": public}
    everything = catalog.client.get("/api/search", params={"size": 100, "mode": "keyword"}, headers=headers)
    shown = {str(h["id"]) for h in everything.json()["hits"]}
    for s in _suggest(catalog, "s", public) + _suggest(catalog, "h", public):
        if s["kind"] == "product":
            assert s["id"] in shown
