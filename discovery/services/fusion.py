"""Pure ranking helpers: reciprocal rank fusion, and the floor a semantic match must
reach to join a search's match set."""

from __future__ import annotations

from collections.abc import Sequence


def rrf(rankings: Sequence[Sequence[str]], *, k: int = 60) -> list[tuple[str, float]]:
    """Fuse rankings (best first) by reciprocal rank: score(d) = sum 1 / (k + rank).

    Ties keep the order of first appearance, scanning rankings in the order given, so the
    result is deterministic.
    """
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    order = {doc_id: i for i, doc_id in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))


def semantic_floor(best: float | None, *, floor: float, ratio: float) -> float:
    """The cosine a neighbour needs to join the match set: at least `floor` (the model's
    own noise level: below it nothing is related, so a query with no good neighbour
    gets none) and at least `ratio` of the best neighbour's cosine (each query's cosines
    sit in a band of their own: with all-MiniLM-L6-v2, "hoodie" reaches 0.61 on hoodies,
    whose worst is 0.54, and 0.45 at most elsewhere, while "gold" reaches only 0.38, so a
    fixed cosine either pads the first or starves the second).

    `best` is the highest cosine among the visible documents (None: no neighbour)."""
    if best is None:
        return floor
    return max(floor, ratio * best)


def above_floor(scored: Sequence[tuple[str, float]], *, floor: float, ratio: float) -> list[tuple[str, float]]:
    """The neighbours (best first) that reach `semantic_floor` of the first one."""
    cut = semantic_floor(scored[0][1] if scored else None, floor=floor, ratio=ratio)
    return [(doc_id, s) for doc_id, s in scored if s >= cut]
