"""Image results' pure parts: the calibrated score and the collapse of near-duplicates."""

from __future__ import annotations

import numpy as np

from discovery.services.image_similarity import calibrated, collapse, hamming, spread, unrelated_cosine


def _unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float32)
    return a / np.linalg.norm(a)


def test_an_unrelated_picture_scores_zero_and_the_same_vector_one() -> None:
    # A model whose unrelated pairs sit at 0.96 (the tiny test model's catalog median).
    assert calibrated(0.96, 0.96) == 0.0
    assert calibrated(0.90, 0.96) == 0.0  # below a typical unrelated picture: clamped
    assert calibrated(1.0, 0.96) == 1.0
    assert abs(calibrated(0.98, 0.96) - 0.5) < 1e-9
    assert calibrated(0.7, None) == 0.7  # no sample to measure on: the cosine itself


def test_the_unrelated_cosine_is_the_query_median_over_the_sample() -> None:
    sample = np.stack([_unit([1, 0, 0]), _unit([0, 1, 0]), _unit([0, 0, 1]), _unit([1, 1, 0])])
    query = _unit([1, 0, 0])
    assert unrelated_cosine(query, sample) == float(np.median(sample @ query))
    assert unrelated_cosine(query, sample[:1]) is None  # one vector is no sample
    assert unrelated_cosine(query, np.zeros((0, 0), dtype=np.float32)) is None


def test_near_duplicates_collapse_into_the_best_of_them() -> None:
    ranked = [("a", "ffff0000ffff0000"), ("b", "0000ffff0000ffff"), ("a-copy", "ffff0000ffff0001"), ("pdf", None)]
    groups = collapse(ranked, threshold=6)
    assert [g.leader for g in groups] == ["a", "b", "pdf"]
    assert groups[0].members == [("a-copy", 1)]
    assert groups[0].ids == ["a", "a-copy"]


def test_only_leaders_are_compared_so_a_chain_of_small_changes_does_not_merge() -> None:
    # b is 4 bits from a, c 4 bits from b but 8 from a: c leads its own group.
    ranked = [("a", "0000000000000000"), ("b", "000000000000000f"), ("c", "00000000000000ff")]
    groups = collapse(ranked, threshold=6)
    assert [g.ids for g in groups] == [["a", "b"], ["c"]]


def test_the_vectors_can_veto_a_hash_match_and_collapse_can_be_switched_off() -> None:
    ranked = [("hoodie", "0000000000000000"), ("other-product", "0000000000000003")]
    assert len(collapse(ranked, threshold=6, agree=lambda member, leader: False)) == 2
    assert len(collapse(ranked, threshold=6, agree=lambda member, leader: True)) == 1
    assert len(collapse(ranked, threshold=6, enabled=False)) == 2


def test_hamming_of_a_malformed_hash_is_none_not_an_error() -> None:
    assert hamming("00ff", "00fe") == 1
    assert hamming("zz", "00") is None


def test_spread_reports_best_tenth_and_median() -> None:
    scores = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]
    assert spread(scores) == {"best": 1.0, "tenth": 0.1, "median": 0.5}
    assert spread([]) == {}
