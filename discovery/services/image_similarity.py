"""Pure helpers of image results: a similarity score people can read, and near-duplicates
collapsed into one hit.

Scores. An image model's cosines between unrelated pictures are not near 0: CLIP puts
any two product photos at 0.5-0.7, and the random-weight tiny test model puts every pair
of the sample catalog above 0.81 (median 0.96), so raw cosines of a result list all read
0.99x. The display score is the cosine rescaled against what an unrelated picture scores
for *this* query: the median of the query's cosines to a sample of the catalog's vectors
(most pictures in a catalog are unrelated to any one query). 0 is "as close as a typical
unrelated picture", 1 the same vector; below the median clamps to 0. Per query rather than
one figure per model, because some images sit close to everything (hubs) and some to
nothing.

Collapse. Greedy, best first: an asset within `threshold` pHash bits of a group's leader
(the best-scoring asset of the group) joins that group; otherwise it leads a new one.
Only leaders are compared, so a chain of small changes never merges two different
pictures, and the leader is always the best hit of its group. The pHash alone over-merges
simple drawings (two products' silhouettes on white 4 bits apart in the sample catalog), so
the caller can ask the image vectors too (`agree`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


def unrelated_cosine(query: NDArray[np.floating], sample: NDArray[np.floating]) -> float | None:
    """The query's median cosine to a sample of the catalog's (unit) vectors: what an
    unrelated picture scores for it. None without a sample to measure on."""
    if sample.ndim != 2 or sample.shape[0] < 2 or sample.shape[1] != query.shape[-1]:
        return None
    return float(np.median(sample @ query.astype(sample.dtype, copy=False)))


def calibrated(cosine: float, baseline: float | None) -> float:
    """The display score of a cosine, given the query's unrelated-picture cosine (see the
    module docstring): (cosine - baseline) / (1 - baseline), clamped to 0..1. Without a
    baseline the cosine itself, clamped."""
    if baseline is None or baseline >= 1.0:
        return min(1.0, max(0.0, cosine))
    return min(1.0, max(0.0, (cosine - baseline) / (1.0 - baseline)))


def raw_calibrated(cosine: float, baseline: float | None) -> float:
    """The same rescaling, not clamped: negative below the baseline (the match-set floor
    compares this, so a floor of 0 means "closer than a typical unrelated picture")."""
    if baseline is None or baseline >= 1.0:
        return cosine
    return (cosine - baseline) / (1.0 - baseline)


def hamming(a: str, b: str) -> int | None:
    """Differing bits of two hex pHashes; None when either is not a hex hash."""
    try:
        return (int(a, 16) ^ int(b, 16)).bit_count()
    except ValueError:
        return None


@dataclass(slots=True)
class Group:
    """A hit and the near-duplicates collapsed into it (best first), with their pHash
    distance to the leader."""

    leader: str
    members: list[tuple[str, int]] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [self.leader, *(m for m, _ in self.members)]


def collapse(
    ranked: Sequence[tuple[str, str | None]],
    *,
    threshold: int,
    enabled: bool = True,
    agree: Callable[[str, str], bool] | None = None,
) -> list[Group]:
    """Group `(id, phash)` pairs given best first (see the module docstring). An asset
    without a hash (a PDF) is a group of its own; with `enabled` False every asset is.
    `agree(member, leader)`, when given, must also hold: a second opinion (the image
    vectors), since two different products drawn as the same silhouette on white can
    hash a few bits apart."""
    groups: list[Group] = []
    leaders: list[tuple[Group, str]] = []  # groups whose leader has a hash, with that hash
    for doc_id, phash in ranked:
        home = None
        if enabled and phash:
            for group, leader_hash in leaders:
                distance = hamming(phash, leader_hash)
                if distance is not None and distance <= threshold and (agree is None or agree(doc_id, group.leader)):
                    home = group
                    group.members.append((doc_id, distance))
                    break
        if home is None:
            group = Group(doc_id)
            groups.append(group)
            if phash:
                leaders.append((group, phash))
    return groups


def spread(scores: Sequence[float]) -> dict[str, float]:
    """Best, 10th and median of a result list's scores (best first): how far they separate."""
    if not scores:
        return {}
    ordered = sorted(scores, reverse=True)
    return {
        "best": round(ordered[0], 4),
        "tenth": round(ordered[min(9, len(ordered) - 1)], 4),
        "median": round(float(np.median(ordered)), 4),
    }
