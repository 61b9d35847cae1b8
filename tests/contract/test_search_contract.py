"""The SearchBackend contract: every behaviour here holds on both engines.

Orders are asserted only where the weights make them certain; counts, sets and sort
orders are compared with what `Oracle` computes by hand from the fixture catalog.
"""

from __future__ import annotations

from typing import Any

import pytest
from contract_catalog import CLIP, OTHER_CLIP, TEXT, Catalog, Oracle, has, make_product, unit

from discovery.errors import InvalidQuery
from discovery.store.index.base import IndexDoc, Range, SearchBackend, SearchQuery, SearchResult
from discovery.store.index.documents import product_to_doc
from discovery.store.index.sortkeys import iso_to_epoch

MANY = 50  # larger than the catalog


def run(cat: Catalog, **kw: Any) -> SearchResult:
    kw.setdefault("size", MANY)
    return cat.engine.search(SearchQuery(**kw))


def ids(result: SearchResult) -> list[str]:
    return [h.id for h in result.hits]


def facet(result: SearchResult, name: str) -> dict[str, int]:
    return {v.value: v.count for v in result.facets[name]}


# -- text ---------------------------------------------------------------------------------


def test_exact_name_match_ranks_first(catalog: Catalog) -> None:
    result = run(catalog, text="Trail Hoodie")
    assert ids(result)[0] == "product:HD-100"
    assert {"product:HD-100-BL", "product:HD-200"} <= set(ids(result))


def test_every_word_must_match(catalog: Catalog) -> None:
    assert set(ids(run(catalog, text="running shoe"))) == {"product:SH-600", "product:SH-700"}


def test_last_word_matches_as_a_prefix(catalog: Catalog) -> None:
    expected = {"product:HD-100", "product:HD-100-BL", "product:HD-200"}
    assert set(ids(run(catalog, text="trail hood"))) == expected


def test_only_the_last_word_is_a_prefix(catalog: Catalog) -> None:
    assert run(catalog, text="hood trail").total == 0


def test_a_typo_is_tolerated(catalog: Catalog) -> None:
    expected = {"product:HD-100", "product:HD-100-BL", "product:HD-200"}
    assert set(ids(run(catalog, text="hodie"))) == expected


def test_a_long_word_tolerates_two_typos(catalog: Catalog) -> None:
    assert ids(run(catalog, text="wterprouf")) == ["product:HD-200"]


def test_short_words_are_not_fuzzy(catalog: Catalog) -> None:
    assert run(catalog, text="tea").total == 0


def test_accents_and_case_are_folded(catalog: Catalog) -> None:
    assert ids(run(catalog, text="CAFE creme")) == ["product:SW-300"]
    assert ids(run(catalog, text="café")) == ["product:SW-300"]


@pytest.mark.parametrize("text", ['"trail', "(trail", "trail)", "trail~", "trail*", "+trail", "trail!"])
def test_query_syntax_in_text_is_just_punctuation(catalog: Catalog, text: str) -> None:
    assert set(ids(run(catalog, text=text))) == set(ids(run(catalog, text="trail")))


HOSTILE = ["*:*", "name:trail", "brand:acme OR 1", "script", "<script>alert(1)</script>", "\\", "{!}", "))"]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_gives_ordinary_results(catalog: Catalog, text: str) -> None:
    result = run(catalog, text=text)
    assert result.total < len(catalog.oracle.ids())


def test_field_syntax_is_not_interpreted(catalog: Catalog) -> None:
    fielded = ids(run(catalog, text="trail:hoodie"))
    assert fielded and fielded == ids(run(catalog, text="trail hoodie"))
    assert run(catalog, text="*:*").total == 0


def test_types_choose_products_assets_or_both(catalog: Catalog) -> None:
    oracle = catalog.oracle
    assert set(ids(run(catalog, types=("asset",)))) == oracle.ids(type="asset")
    assert set(ids(run(catalog))) == oracle.ids(type="product")
    both = run(catalog, types=("product", "asset"))
    assert set(ids(both)) == oracle.ids(type=None)
    assert {h.type for h in both.hits} == {"product", "asset"}


def test_locale_text_is_searched_in_the_requested_locale(catalog: Catalog) -> None:
    assert ids(run(catalog, text="regenjacke", locale="de")) == ["product:JK-800"]


def test_locale_search_falls_back_to_default_fields(catalog: Catalog) -> None:
    assert ids(run(catalog, text="rain jacket", locale="de")) == ["product:JK-800"]


# -- filters and ranges --------------------------------------------------------------------


def test_a_filter_is_exact(catalog: Catalog) -> None:
    result = run(catalog, filters={"brand": ("Acme",)})
    assert set(ids(result)) == catalog.oracle.ids(has("brand", "Acme"))
    assert run(catalog, filters={"brand": ("acme",)}).total == 0


def test_values_within_a_field_are_ored(catalog: Catalog) -> None:
    result = run(catalog, filters={"brand": ("Acme", "Nordic")})
    assert set(ids(result)) == catalog.oracle.ids(has("brand", "Acme", "Nordic"))


def test_fields_are_anded(catalog: Catalog) -> None:
    result = run(catalog, filters={"brand": ("Acme",), "color": ("red",)})
    assert set(ids(result)) == {"product:HD-100", "product:SH-600"}


def test_variant_values_count_for_the_parent(catalog: Catalog) -> None:
    result = run(catalog, filters={"color": ("blue",)})
    assert set(ids(result)) == {"product:HD-100", "product:HD-100-BL"}
    assert ids(run(catalog, filters={"parent_sku": ("HD-100",)})) == ["product:HD-100-BL"]


def test_category_filter_matches_by_path_prefix(catalog: Catalog) -> None:
    result = run(catalog, filters={"category": ("Men/Tops",)})
    assert set(ids(result)) == {"product:HD-100", "product:HD-100-BL", "product:HD-200", "product:TE-400"}


def test_numeric_range_is_inclusive(catalog: Catalog) -> None:
    result = run(catalog, ranges={"price": Range(45, 59)})
    expected = catalog.oracle.ids(lambda d: 45 <= d.numbers.get("price", -1) <= 59)
    assert set(ids(result)) == expected == {"product:HD-100", "product:HD-100-BL", "product:SW-300"}


def test_open_ended_range(catalog: Catalog) -> None:
    result = run(catalog, ranges={"price": Range(lo=100)})
    assert set(ids(result)) == catalog.oracle.ids(lambda d: d.numbers.get("price", -1) >= 100)


def test_date_range(catalog: Catalog) -> None:
    lo, hi = "2024-02-01T00:00:00+00:00", "2024-03-31T23:59:59+00:00"
    result = run(catalog, ranges={"updated_at": Range(lo, hi)})
    inside = catalog.oracle.ids(lambda d: iso_to_epoch(lo) <= iso_to_epoch(d.dates["updated_at"]) <= iso_to_epoch(hi))
    assert set(ids(result)) == inside == {"product:HD-200", "product:SW-300", "product:SH-700"}


def test_filters_and_text_combine(catalog: Catalog) -> None:
    result = run(catalog, text="running", filters={"brand": ("Bolt",)}, ranges={"price": Range(hi=100)})
    assert ids(result) == ["product:TE-400"]


@pytest.mark.parametrize(
    ("kind", "query"),
    [
        ("filter", SearchQuery(filters={"nope": ("x",)})),
        ("facet", SearchQuery(facets=("nope",))),
        ("range", SearchQuery(ranges={"nope": Range(1, 2)})),
    ],
)
def test_an_unknown_field_is_refused(catalog: Catalog, kind: str, query: SearchQuery) -> None:
    with pytest.raises(InvalidQuery) as caught:
        catalog.engine.search(query)
    assert caught.value.field == "nope"


# -- facets --------------------------------------------------------------------------------


def test_facet_counts_equal_hand_counts(catalog: Catalog) -> None:
    oracle = catalog.oracle
    result = run(catalog, facets=("brand", "color", "size", "category"), facet_size=50)
    for name in ("brand", "color", "size", "category"):
        assert facet(result, name) == oracle.facet(name, oracle.select()), name


def test_facets_follow_the_text_query(catalog: Catalog) -> None:
    result = run(catalog, text="hoodie", facets=("brand", "color"))
    assert facet(result, "brand") == {"Acme": 3}
    assert facet(result, "color") == {"Red": 1, "Blue": 2, "Black": 1}


def test_facets_are_disjunctive(catalog: Catalog) -> None:
    oracle = catalog.oracle
    result = run(catalog, filters={"brand": ("Acme",)}, facets=("brand", "color"), facet_size=50)
    assert facet(result, "brand") == oracle.facet("brand", oracle.select())
    assert facet(result, "color") == oracle.facet("color", oracle.select(has("brand", "Acme")))
    assert set(ids(result)) == oracle.ids(has("brand", "Acme"))


def test_selected_values_are_listed_as_selected_even_at_zero(catalog: Catalog) -> None:
    result = run(catalog, filters={"brand": ("Acme",), "color": ("yellow",)}, facets=("brand", "color"))
    assert result.total == 0
    brands = {v.value: v for v in result.facets["brand"]}
    assert (brands["Acme"].count, brands["Acme"].selected) == (0, True)
    assert (brands["Nordic"].count, brands["Nordic"].selected) == (1, False)
    colors = {v.value: v for v in result.facets["color"]}
    assert (colors["Yellow"].count, colors["Yellow"].selected) == (0, True)
    assert colors["Red"].count == 2 and not colors["Red"].selected


def test_facet_size_keeps_the_most_frequent_ties_by_value(catalog: Catalog) -> None:
    result = run(catalog, facets=("color",), facet_size=2)
    assert [(v.value, v.count) for v in result.facets["color"]] == [("Red", 3), ("Blue", 2)]


def test_a_selected_value_beyond_facet_size_is_still_listed(catalog: Catalog) -> None:
    result = run(catalog, filters={"color": ("white",)}, facets=("color",), facet_size=1)
    listed = {v.value: (v.count, v.selected) for v in result.facets["color"]}
    assert listed["Red"] == (3, False)
    assert listed["White"] == (1, True)


# -- sorting and paging --------------------------------------------------------------------


def _expected_order(oracle: Oracle, key: Any, *, type: str = "product") -> list[str]:
    return [d.id for d in sorted(oracle.select(type=type), key=key)]


def _price(d: IndexDoc, sign: float = 1.0) -> tuple[bool, float, str]:
    price = d.numbers.get("price")
    return (price is None, sign * (price or 0.0), d.id)


def test_sort_by_price_ascending_puts_missing_last(catalog: Catalog) -> None:
    order = ids(run(catalog, sort="price"))
    assert order == _expected_order(catalog.oracle, _price)
    assert order[-1] == "product:BP-900"
    assert order.index("product:HD-100") < order.index("product:HD-100-BL")  # same price: id decides


def test_sort_by_price_descending(catalog: Catalog) -> None:
    assert ids(run(catalog, sort="-price")) == _expected_order(catalog.oracle, lambda d: _price(d, -1.0))


def test_sort_newest_first(catalog: Catalog) -> None:
    expected = _expected_order(catalog.oracle, lambda d: (-iso_to_epoch(d.dates["updated_at"]), d.id))
    assert ids(run(catalog, sort="newest")) == expected


def test_sort_by_name(catalog: Catalog) -> None:
    assert ids(run(catalog, sort="name")) == _expected_order(catalog.oracle, lambda d: (d.sort_name, d.id))


def test_sort_popular_first(catalog: Catalog) -> None:
    expected = _expected_order(catalog.oracle, lambda d: (-d.numbers["popularity"], d.id), type="asset")
    assert ids(run(catalog, types=("asset",), sort="popular")) == expected


def test_totals_are_exact(catalog: Catalog) -> None:
    result = run(catalog, size=2)
    assert (result.total, result.total_is_lower_bound) == (len(catalog.oracle.ids()), False)
    assert len(result.hits) == 2


def test_total_is_a_lower_bound_beyond_the_tracking_limit(catalog: Catalog) -> None:
    result = run(catalog, size=2, track_total_limit=3)
    assert result.total_is_lower_bound
    assert result.total == 3


def test_offset_paging_matches_one_big_page(catalog: Catalog) -> None:
    everything = ids(run(catalog, sort="name"))
    pages = [ids(run(catalog, sort="name", offset=o, size=3)) for o in range(0, len(everything) + 3, 3)]
    assert [i for page in pages for i in page] == everything


@pytest.mark.parametrize(
    ("sort", "text"),
    [("price", ""), ("-price", ""), ("newest", ""), ("name", ""), ("relevance", ""), ("relevance", "trail"),
     ("relevance", "running"), ("price", "shoe")],
)
def test_cursor_paging_visits_every_hit_exactly_once(catalog: Catalog, sort: str, text: str) -> None:
    everything = ids(run(catalog, sort=sort, text=text))
    seen: list[str] = []
    after = None
    for _ in range(len(everything) + 2):
        page = run(catalog, sort=sort, text=text, size=2, search_after=after)
        if not page.hits:
            break
        seen += ids(page)
        after = page.hits[-1].sort_values
    assert seen == everything
    assert len(set(seen)) == len(seen)


# -- highlights ----------------------------------------------------------------------------


def test_highlights_are_plain_text_with_offsets_on_the_matched_word(catalog: Catalog) -> None:
    hit = run(catalog, text="fleece").hits[0]
    assert hit.id == "product:HD-100"
    assert hit.highlights
    for highlights in hit.highlights.values():
        for h in highlights:
            assert "<em>" not in h.text and "<b>" not in h.text
            assert h.offsets
            assert all(h.text[s:e].casefold() == "fleece" for s, e in h.offsets)


def test_markup_in_a_document_comes_back_verbatim(catalog: Catalog) -> None:
    hit = run(catalog, text="carefully").hits[0]
    (h,) = hit.highlights["description"]
    assert "<b>carefully</b>" in h.text
    assert [h.text[s:e] for s, e in h.offsets] == ["carefully"]


def test_a_typo_match_is_highlighted_where_it_matched(catalog: Catalog) -> None:
    hit = next(h for h in run(catalog, text="sweatr").hits)
    (h,) = hit.highlights["name"]
    assert [h.text[s:e] for s, e in h.offsets] == ["Sweater"]


def test_no_highlights_when_not_asked(catalog: Catalog) -> None:
    assert all(not h.highlights for h in run(catalog, text="hoodie", highlight=False).hits)


def test_only_ids_narrows_the_match_set_and_keeps_highlights(catalog: Catalog) -> None:
    everything = [h.id for h in run(catalog, text="hoodie", size=50).hits]
    chosen = tuple(everything[1:3])
    narrowed = run(catalog, text="hoodie", only_ids=(*chosen, "product:NOT-THERE"))
    assert sorted(h.id for h in narrowed.hits) == sorted(chosen) and narrowed.total == 2
    assert all(h.highlights for h in narrowed.hits)
    assert run(catalog, text="hoodie", only_ids=()).total == 0


def test_a_window_without_stored_fields_ranks_the_same_hits(catalog: Catalog) -> None:
    # Text hits, then candidates matched only by id: what a hybrid ranking window reads.
    query = {"text": "hoodie", "include_ids": ("product:TE-500", "product:BP-900"), "facets": ("brand",)}
    full, listed = run(catalog, **query), run(catalog, **query, stored=False)

    def seen(result: SearchResult) -> list[tuple[str, str, str, bool]]:
        return [(h.id, h.type, h.key, h.text_matched) for h in result.hits]

    assert seen(listed) == seen(full) and len(full.hits) >= 5
    assert [h.score for h in listed.hits] == pytest.approx([h.score for h in full.hits])
    assert (listed.total, listed.facets) == (full.total, full.facets)
    assert all(h.stored for h in full.hits) and not any(h.stored for h in listed.hits)


# -- include_ids (vector candidates chosen by the service) ----------------------------------


def test_include_ids_without_text_match_are_exactly_the_match_set(catalog: Catalog) -> None:
    chosen = ("product:HD-200", "product:TE-500", "product:BP-900")
    result = run(catalog, text="anything", text_match=False, include_ids=chosen, facets=("brand",))
    assert ids(result) == list(chosen)  # relevance keeps the order given
    assert result.total == 3
    assert facet(result, "brand") == {"Acme": 1, "Nordic": 2}
    assert not any(h.text_matched for h in result.hits)


def test_include_ids_facets_stay_disjunctive(catalog: Catalog) -> None:
    chosen = ("product:HD-200", "product:TE-500", "product:BP-900")
    result = run(catalog, text_match=False, include_ids=chosen, filters={"brand": ("Nordic",)}, facets=("brand",))
    assert set(ids(result)) == {"product:TE-500", "product:BP-900"}
    assert facet(result, "brand") == {"Acme": 1, "Nordic": 2}


def test_include_ids_follow_text_hits_in_the_order_given(catalog: Catalog) -> None:
    result = run(catalog, text="hoodie", include_ids=("product:BP-900", "product:SW-300", "product:HD-200"))
    order = ids(result)
    assert set(order[:3]) == {"product:HD-100", "product:HD-100-BL", "product:HD-200"}
    assert order[3:] == ["product:BP-900", "product:SW-300"]
    assert [h.text_matched for h in result.hits] == [True, True, True, False, False]
    assert result.total == 5


def test_include_ids_are_narrowed_by_filters(catalog: Catalog) -> None:
    result = run(catalog, text="hoodie", include_ids=("product:BP-900",), filters={"brand": ("Acme",)})
    assert "product:BP-900" not in ids(result)


# -- kNN -----------------------------------------------------------------------------------


def _knn(cat: Catalog, vector: list[float], **kw: Any) -> list[str]:
    kw.setdefault("field", "image_vector")
    kw.setdefault("model", CLIP)
    kw.setdefault("k", 10)
    return [s.id for s in cat.engine.knn(vector, **kw)]


def test_a_near_duplicate_is_the_first_neighbour(catalog: Catalog) -> None:
    found = catalog.engine.knn(unit(1.0), field="image_vector", model=CLIP, k=3)
    assert [s.id for s in found[:2]] == ["asset:a1", "asset:a2"]
    assert found[0].score == pytest.approx(1.0, abs=1e-3)
    assert found[0].score >= found[1].score >= found[2].score


def test_knn_excludes_ids(catalog: Catalog) -> None:
    assert _knn(catalog, unit(1.0), exclude_ids=["asset:a1"])[0] == "asset:a2"


def test_filtered_knn_honours_filters(catalog: Catalog) -> None:
    found = _knn(catalog, unit(1.0), filters={"background": ("white",)})
    assert found == ["asset:a1", "asset:a7", "asset:a5"]


def test_filtered_knn_honours_ranges(catalog: Catalog) -> None:
    found = _knn(catalog, unit(1.0), ranges={"rights_expires_at": Range("2025-01-01T00:00:00+00:00", None)})
    assert "asset:a5" not in found and found[:2] == ["asset:a1", "asset:a2"]
    assert set(_knn(catalog, unit(1.0), ranges={"width": Range(hi=1500)})) == {"asset:a3", "asset:a5"}


def test_knn_min_score_drops_weaker_neighbours(catalog: Catalog) -> None:
    assert _knn(catalog, unit(1.0), min_score=0.9) == ["asset:a1", "asset:a2"]


def test_vectors_of_two_models_are_never_compared(catalog: Catalog) -> None:
    assert _knn(catalog, unit(1.0), model=OTHER_CLIP) == ["asset:a6"]
    assert "asset:a6" not in _knn(catalog, unit(1.0))
    assert _knn(catalog, unit(1.0), model="never-indexed@0") == []


def test_knn_respects_types(catalog: Catalog) -> None:
    found = _knn(catalog, unit(1.0), field="text_vector", model=TEXT, types=("product",))
    assert found == ["product:HD-100", "product:HD-200", "product:SW-300"]
    assert _knn(catalog, unit(1.0), field="text_vector", model=TEXT, types=("asset",)) == []


# -- writes --------------------------------------------------------------------------------


def _doc(sku: str, brand: str = "Acme", name: str = "Plain Shirt") -> IndexDoc:
    return product_to_doc(make_product(sku, name, brand, "Men/Tops", 10.0, "2024-01-01"))


def test_upsert_twice_keeps_one_document(backend: SearchBackend) -> None:
    backend.upsert([_doc("X-1")], refresh=True)
    backend.upsert([_doc("X-1")], refresh=True)
    assert backend.count() == 1
    assert ids(backend.search(SearchQuery(text="shirt"))) == ["product:X-1"]


def test_upsert_replaces_the_whole_document(backend: SearchBackend) -> None:
    backend.upsert([_doc("X-1", brand="Acme")], refresh=True)
    backend.upsert([_doc("X-1", brand="Bolt")], refresh=True)
    assert backend.search(SearchQuery(filters={"brand": ("Acme",)})).total == 0
    assert ids(backend.search(SearchQuery(filters={"brand": ("Bolt",)}))) == ["product:X-1"]


def test_upsert_reports_every_document(backend: SearchBackend) -> None:
    report = backend.upsert([_doc("X-1"), _doc("X-2"), _doc("X-3")], refresh=True)
    assert report.indexed == 3 and not report.failed
    assert [o.id for o in report.outcomes] == ["product:X-1", "product:X-2", "product:X-3"]


def test_refresh_makes_writes_visible(backend: SearchBackend) -> None:
    backend.upsert([_doc("X-1")])
    backend.refresh()
    assert backend.count() == 1


def test_delete_removes_and_a_missing_id_is_not_an_error(backend: SearchBackend) -> None:
    backend.upsert([_doc("X-1"), _doc("X-2")], refresh=True)
    report = backend.delete(["product:X-1", "product:nope"], refresh=True)
    assert not report.failed
    assert backend.count() == 1
    assert ids(backend.search(SearchQuery())) == ["product:X-2"]


def test_get_returns_stored_documents_and_skips_missing_ids(backend: SearchBackend) -> None:
    doc = _doc("X-1")
    backend.upsert([doc], refresh=True)
    found = backend.get(["product:X-1", "product:nope"])
    assert list(found) == ["product:X-1"]
    got = found["product:X-1"]
    assert (got.type, got.key, got.stored, got.keywords["brand"]) == ("product", "X-1", doc.stored, ["Acme"])


def test_rebuild_swaps_in_the_new_documents(backend: SearchBackend) -> None:
    backend.upsert([_doc("OLD-1"), _doc("OLD-2")], refresh=True)
    report = backend.rebuild([_doc("NEW-1", name="Fresh Shirt")])
    assert report.indexed == 1
    assert backend.count() == 1
    assert backend.get(["product:OLD-1"]) == {}
    assert ids(backend.search(SearchQuery(text="fresh"))) == ["product:NEW-1"]


def test_writes_after_a_rebuild_land_in_the_new_version(backend: SearchBackend) -> None:
    backend.rebuild([_doc("NEW-1")])
    backend.upsert([_doc("NEW-2")], refresh=True)
    assert backend.count() == 2


def test_ping_answers(backend: SearchBackend) -> None:
    assert backend.ping() is None
