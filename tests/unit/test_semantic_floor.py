"""The floor a semantic match must reach to join a match set (discovery.services.fusion)."""

from __future__ import annotations

import pytest

from discovery.services.fusion import above_floor, semantic_floor


def test_the_floor_is_a_share_of_the_best_hit() -> None:
    assert semantic_floor(0.6, floor=0.25, ratio=0.8) == pytest.approx(0.48)


def test_the_floor_never_sinks_below_the_models_own() -> None:
    assert semantic_floor(0.28, floor=0.25, ratio=0.8) == 0.25
    assert semantic_floor(None, floor=0.25, ratio=0.8) == 0.25


def test_only_neighbours_near_the_best_are_kept() -> None:
    scored = [("a", 0.62), ("b", 0.55), ("c", 0.47), ("d", 0.3)]
    assert [d for d, _ in above_floor(scored, floor=0.25, ratio=0.8)] == ["a", "b"]


def test_a_query_with_no_good_neighbour_keeps_none() -> None:
    assert above_floor([("a", 0.21), ("b", 0.2)], floor=0.25, ratio=0.8) == []
    assert above_floor([], floor=0.25, ratio=0.8) == []
