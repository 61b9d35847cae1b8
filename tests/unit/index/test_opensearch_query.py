"""Rendering a SearchQuery as OpenSearch DSL (pure; the behaviour on a node is in tests/contract)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from discovery.errors import InvalidQuery
from discovery.store.index.base import SearchQuery
from discovery.store.index.opensearch_query import words
from discovery.store.index.opensearch_search import plan, unmark

PARSED_SYNTAX = ("query_string", "simple_query_string", "regexp", "wildcard", "script_score")


def keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in keys(v)}
    return set()


@pytest.mark.parametrize("text", ["*:*", "name:trail", 'brand:acme OR "x"', "{!}", "a AND (b OR c)~2", "trail*"])
def test_user_text_never_reaches_a_query_parser(text: str) -> None:
    body = plan(SearchQuery(text=text)).body
    assert not keys(body) & set(PARSED_SYNTAX)
    assert "*" not in json.dumps(body["query"]).replace("^", "")  # no wildcard reaches any query value


def test_words_split_on_anything_not_a_letter_or_digit() -> None:
    assert words("trail:hoodie (Crème-brûlée) 3.5") == ["trail", "hoodie", "Crème", "brûlée", "3", "5"]
    assert words("*:* ))") == []


def test_facet_filters_go_to_the_post_filter_and_the_others_to_the_query() -> None:
    body = plan(SearchQuery(filters={"brand": ("Acme",), "color": ("red",)}, facets=("brand",))).body
    assert body["post_filter"] == {"terms": {"keywords.brand": ["Acme"]}}
    assert {"terms": {"keywords.color": ["Red"]}} in body["query"]["bool"]["filter"]  # as the index holds it
    assert body["aggs"]["facet_brand"]["filter"] == {"match_all": {}}
    assert body["aggs"]["facet_brand"]["aggs"]["selected"]["filters"]["filters"] == {
        "Acme": {"term": {"keywords.brand": "Acme"}}
    }


def test_a_cursor_must_fit_the_sort() -> None:
    with pytest.raises(InvalidQuery):
        plan(SearchQuery(sort="price", search_after=("x",)))


def test_unmark_gives_plain_text_and_character_offsets() -> None:
    pre, post = "\ue000a\ue001", "\ue002b\ue003"
    h = unmark(f"Café {pre}Crème{post} <b>x</b> {pre}café{post}", (pre, post))
    assert h.text == "Café Crème <b>x</b> café"
    assert [h.text[s:e] for s, e in h.offsets] == ["Crème", "café"]
