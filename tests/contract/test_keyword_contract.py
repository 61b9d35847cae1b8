"""Keyword matching and keyword values, on both engines: synonyms (the taxonomy's and a
user's file), plural folding, typo tolerance by word length with exact matches first,
filters and facets in one canonical form, and text as a real export writes it."""

from __future__ import annotations

from typing import Any

from contract_catalog import Catalog
from keyword_catalog import SYNONYMS

from discovery.store.index.base import SearchQuery, SearchResult

MANY = 50


def run(cat: Catalog, **kw: Any) -> SearchResult:
    kw.setdefault("size", MANY)
    kw.setdefault("synonyms", SYNONYMS)
    return cat.engine.search(SearchQuery(**kw))


def skus(result: SearchResult) -> list[str]:
    return [h.key for h in result.hits]


def facet(result: SearchResult, name: str) -> dict[str, int]:
    return {v.value: v.count for v in result.facets[name]}


# -- synonyms ----------------------------------------------------------------------------


def test_a_taxonomy_synonym_finds_its_products(keyword_catalog: Catalog) -> None:
    # The taxonomy says t-shirt = tee: the tees, named and filed as tees, are found too.
    assert set(skus(run(keyword_catalog, text="t-shirt"))) == {"TE-1", "TE-2", "TS-3"}
    assert set(skus(run(keyword_catalog, text="tee"))) == {"TE-1", "TE-2", "TS-3"}


def test_without_synonyms_only_the_words_match(keyword_catalog: Catalog) -> None:
    assert skus(run(keyword_catalog, text="t-shirt", synonyms=None)) == ["TS-3"]


def test_a_synonym_inside_a_longer_query_narrows_with_the_other_words(keyword_catalog: Catalog) -> None:
    assert set(skus(run(keyword_catalog, text="summit t-shirt"))) == {"TE-2"}


def test_a_one_way_synonym_widens_only_its_left_side(keyword_catalog: Catalog) -> None:
    assert set(skus(run(keyword_catalog, text="windbreaker"))) == {"WB-14", "AN-13"}
    assert skus(run(keyword_catalog, text="anorak")) == ["AN-13"]


def test_a_synonym_match_is_highlighted(keyword_catalog: Catalog) -> None:
    hit = next(h for h in run(keyword_catalog, text="t-shirt").hits if h.key == "TE-1")
    marked = [h.text[s:e] for h in hit.highlights.get("name", []) for s, e in h.offsets]
    assert marked == ["Tee"]


# -- plurals and typos -------------------------------------------------------------------


def test_a_plural_finds_the_singular_and_back(keyword_catalog: Catalog) -> None:
    assert {"HD-6", "HD-7"} <= set(skus(run(keyword_catalog, text="hoodies")))
    assert skus(run(keyword_catalog, text="dresses")) == ["DR-12"]
    assert set(skus(run(keyword_catalog, text="jacket"))) >= {"JK-9", "JK-10"}


def test_hoody_finds_hoodies_even_when_a_document_says_hoody(keyword_catalog: Catalog) -> None:
    assert {"HD-6", "HD-7", "HD-8"} <= set(skus(run(keyword_catalog, text="hoody")))


def test_a_typo_is_corrected_even_when_some_document_holds_it_as_typed(keyword_catalog: Catalog) -> None:
    found = skus(run(keyword_catalog, text="jaket"))
    assert set(found) == {"JK-9", "JK-10", "JK-11"}
    assert found[0] == "JK-11"  # the exact match ranks above the corrected ones


def test_an_exact_match_ranks_above_a_corrected_one(keyword_catalog: Catalog) -> None:
    found = skus(run(keyword_catalog, text="shirt", synonyms=None))
    assert "SO-5" in found  # `short` is one typo from `shirt` (5 letters allow one)
    assert found.index("SO-5") > max(found.index("SH-4"), found.index("TS-3"))


def test_a_word_under_five_letters_tolerates_no_typo(keyword_catalog: Catalog) -> None:
    assert run(keyword_catalog, text="vast").total == 0  # `vest` is one edit away


# -- filters and facets in canonical form ----------------------------------------------------


def test_filter_values_fold_as_indexed_values_do(keyword_catalog: Catalog) -> None:
    upper = run(keyword_catalog, filters={"size": ("XL",)}, facets=("size",))
    lower = run(keyword_catalog, filters={"size": ("xl",)}, facets=("size",))
    assert set(skus(upper)) == set(skus(lower)) == {"TE-1", "TE-2"}
    assert [(v.value, v.selected) for v in lower.facets["size"] if v.selected] == [("XL", True)]


def test_facet_values_are_shown_in_their_canonical_form(keyword_catalog: Catalog) -> None:
    result = run(keyword_catalog, facets=("size", "color"))
    assert facet(result, "size") == {"XL": 2, "M": 2}


def test_gray_and_grey_are_one_colour_for_products_and_image_palettes(keyword_catalog: Catalog) -> None:
    products = run(keyword_catalog, facets=("color",))
    assert facet(products, "color") == {"Grey": 3, "Black": 1, "Navy": 1}
    assert set(skus(run(keyword_catalog, filters={"color": ("GRAY",)}))) == {"TE-1", "TE-2", "MB-2"}
    assets = run(keyword_catalog, types=("asset",), facets=("colors",))
    assert facet(assets, "colors") == {"Grey": 1}
    assert run(keyword_catalog, types=("asset",), filters={"colors": ("gray",)}).total == 1


# -- text as a real export writes it -----------------------------------------------------


def test_html_entities_in_an_export_are_decoded(keyword_catalog: Catalog) -> None:
    assert [h.stored["title"] for h in run(keyword_catalog, text="duffle").hits] == ["Voyage Duffle ®"]
    backpack = run(keyword_catalog, text="fusion backpack").hits[0]
    assert backpack.stored["title"] == "Fusion Backpack™"
    assert run(keyword_catalog, text="trade").total == 0  # the entity's name is no word


def test_a_multi_select_joined_by_a_bar_is_separate_facet_values(keyword_catalog: Catalog) -> None:
    result = run(keyword_catalog, filters={"sku": ("MB-1", "MB-2")}, facets=("material",))
    assert facet(result, "material") == {"Nylon": 2, "Polyester": 1}
    assert skus(run(keyword_catalog, filters={"material": ("polyester",)})) == ["MB-1"]
