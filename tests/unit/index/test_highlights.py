"""Plain-text highlights: character offsets into the returned text, fuzzy and prefix matches
marked where they matched."""

from __future__ import annotations

from discovery.store.index.highlights import WordMatcher, fragment, highlight_fields
from discovery.store.index.tantivy_schema import AnalyzerTokens, folding_analyzer


def _highlight(text: str, words: list[str]) -> list[str]:
    found = highlight_fields({"f": text}, WordMatcher(words), AnalyzerTokens(folding_analyzer()))
    if not found:
        return []
    (h,) = found["f"]
    return [h.text[s:e] for s, e in h.offsets]


def test_exact_prefix_and_fuzzy_matches_are_marked() -> None:
    assert _highlight("Trail Hoodie", ["trail", "hoo"]) == ["Trail", "Hoodie"]
    assert _highlight("Café Crème Sweater", ["sweatr"]) == ["Sweater"]


def test_offsets_count_characters_not_bytes() -> None:
    assert _highlight("Crème brûlée hoodie", ["hoodie"]) == ["hoodie"]


def test_only_the_last_word_matches_as_prefix() -> None:
    assert _highlight("Trail Hoodie", ["hoo", "trail"]) == ["Trail"]


def test_a_word_matched_as_typed_is_not_also_matched_fuzzily() -> None:
    assert _highlight("hoodie hoodia", ["hoodie"]) == ["hoodie"]


def test_no_match_gives_no_highlight() -> None:
    assert _highlight("Rain jacket", ["hoodie"]) == []


def test_a_long_text_is_cut_around_the_first_match_with_offsets_shifted() -> None:
    text = "filler " * 60 + "the warm hoodie " + "tail " * 60
    h = fragment(text, [(text.index("hoodie"), text.index("hoodie") + 6)], max_chars=80)
    assert len(h.text) <= 80
    assert [h.text[s:e] for s, e in h.offsets] == ["hoodie"]
