"""Typo tolerance rules shared by both engines."""

from __future__ import annotations

import pytest

from discovery.store.index.text_rules import edit_distance_within, fuzzy_distance


@pytest.mark.parametrize(
    ("word", "distance"),
    [("tee", 0), ("shoe", 0), ("hoody", 1), ("hoodie", 1), ("cashmere", 1), ("sweatshirt", 2)],
)
def test_typo_distance_grows_with_word_length(word: str, distance: int) -> None:
    assert fuzzy_distance(word) == distance


@pytest.mark.parametrize(
    ("a", "b", "limit", "within"),
    [
        ("hoodie", "hodie", 1, True),
        ("hoodie", "hoodei", 1, True),  # a swap of neighbours is one edit
        ("waterproof", "wterprouf", 2, True),
        ("waterproof", "wterprouf", 1, False),
        ("hood", "hoodie", 1, False),
        ("same", "same", 0, True),
    ],
)
def test_edit_distance_within(a: str, b: str, limit: int, within: bool) -> None:
    assert edit_distance_within(a, b, limit) is within
