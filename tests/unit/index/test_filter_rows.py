"""The per-snapshot store of the rows kNN filters pass: kept on a second use, least
recently used dropped first beyond its byte budget."""

from __future__ import annotations

import numpy as np

from discovery.store.index.filter_rows import FilterRows


def _rows(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.int8)


def test_a_filter_is_seen_before_only_from_its_second_use() -> None:
    kept = FilterRows()
    assert kept.seen_before("red") is False
    assert kept.seen_before("red") is True
    assert kept.seen_before("blue") is False


def test_the_least_recently_used_rows_goes_first_beyond_the_budget() -> None:
    kept = FilterRows(budget=300)
    kept.put("a", _rows(100))
    kept.put("b", _rows(100))
    kept.put("c", _rows(100))
    assert kept.get("a") is not None  # now the most recent
    kept.put("d", _rows(100))
    assert kept.get("b") is None
    assert [k for k in "acd" if kept.get(k) is not None] == ["a", "c", "d"]


def test_a_rows_larger_than_the_whole_budget_is_not_kept() -> None:
    kept = FilterRows(budget=50)
    kept.put("big", _rows(100))
    assert kept.get("big") is None and len(kept) == 0


def test_putting_a_key_again_replaces_its_rows_and_its_bytes() -> None:
    kept = FilterRows(budget=200)
    kept.put("a", _rows(100))
    kept.put("a", _rows(100))
    kept.put("b", _rows(100))
    assert len(kept) == 2
