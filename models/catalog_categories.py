"""Category suggestions in the catalog's own tree, learned from the products it already files.

A product without a category gets the paths its nearest categorised products carry (cosine of
the text vectors, each neighbour's vote weighted by its similarity), blended with how close it
sits to each category's centroid and with words: a category whose name or taxonomy synonyms
appear in the product's name ("pants" names Trousers) gets a share of the score. Accepting a
suggestion files the product, so it votes for its neighbours from then on: the suggester learns
from reviewers' decisions as the image tagger does.

Confidences are calibrated: the blended score of the top path is mapped to the share of
correct top paths among the catalog's own products at that score (leave-one-out over a sample
of the labelled products, isotonic by pool-adjacent-violators), so 0.8 means "right about four
times in five here".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

NEIGHBOURS = 15
NEIGHBOUR_TEMPERATURE = 0.05  # cosine gaps between near neighbours are hundredths
CENTROID_TEMPERATURE = 0.05
WEIGHTS = (0.55, 0.25, 0.20)  # neighbours, centroid, words
CALIBRATION_SAMPLE = 2000
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Suggested:
    path: str
    confidence: float
    evidence: str  # what the reviewer can check at a glance


def _fold(word: str) -> str:
    """A light English singular: pants->pant, dresses->dress, hoodies->hoodie."""
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words_of(text: str) -> set[str]:
    return {_fold(w) for w in _WORD.findall(text.lower())}


def _leaf_words(path: str) -> set[str]:
    leaf = path.rstrip("/").rsplit("/", 1)[-1]
    return words_of(leaf.replace("_", " ").replace("-", " "))


class CatalogCategories:
    """Suggests among the paths that `labels` carry, from `vectors` (unit rows, one per labelled product)."""

    def __init__(
        self,
        vectors: np.ndarray,
        labels: Sequence[Sequence[str]],
        *,
        texts: Sequence[str] | None = None,
        synonyms: Mapping[str, Sequence[str]] | None = None,
        seed: int = 0,
    ) -> None:
        self.paths = sorted({p for row in labels for p in row})
        index = {p: i for i, p in enumerate(self.paths)}
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._members = np.zeros((len(labels), len(self.paths)), dtype=np.float32)
        for row, paths in enumerate(labels):
            for p in paths:
                self._members[row, index[p]] = 1.0
        sums = self._members.T @ self._vectors
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        self._centroids = sums / np.where(norms == 0, 1, norms)
        self._words = [_leaf_words(p) | self._synonym_words(p, synonyms or {}) for p in self.paths]
        self._names = list(texts) if texts is not None else [""] * len(labels)
        self._calibration = self._calibrate(np.random.default_rng(seed), texts or [""] * len(labels))

    @staticmethod
    def _synonym_words(path: str, synonyms: Mapping[str, Sequence[str]]) -> set[str]:
        found: set[str] = set()
        for word in _leaf_words(path):
            for synonym in synonyms.get(word, ()):
                found |= words_of(synonym)
        return found

    def __len__(self) -> int:
        return len(self._vectors)

    def suggest(
        self, vectors: np.ndarray, texts: Sequence[str], *, top_k: int = 3
    ) -> list[list[Suggested]]:
        """Per product (unit text vector + its name): the `top_k` paths, best first."""
        vectors = np.asarray(vectors, dtype=np.float32)
        scores, evidence = self._scores(vectors, texts, exclude=None)
        near = self._nearest(vectors)
        out: list[list[Suggested]] = []
        for row, why, neighbours in zip(scores, evidence, near, strict=True):
            order = np.argsort(-row)[:top_k]
            out.append([
                Suggested(self.paths[i], self._confidence(float(row[i])),
                          why.get(int(i)) or self._neighbour_evidence(int(i), neighbours))
                for i in order if row[i] > 0
            ])  # fmt: skip
        return out

    def _nearest(self, vectors: np.ndarray) -> np.ndarray:
        """Per product, its filed neighbours, nearest first."""
        sims = vectors @ self._vectors.T
        k = min(NEIGHBOURS, sims.shape[1])
        if k == 0:
            return np.zeros((len(sims), 0), dtype=int)
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        return np.take_along_axis(top, np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1), axis=1)

    def _neighbour_evidence(self, path: int, neighbours: np.ndarray) -> str:
        """Says e.g. 3 of its 10 nearest products are filed here, like “Zeppelin Yoga Pant”."""
        here = [int(j) for j in neighbours if self._members[int(j), path]]
        if not here:
            return "its text reads like the products filed here"
        like = f", like “{self._names[here[0]]}”" if self._names[here[0]] else ""
        return f"{len(here)} of its {len(neighbours)} nearest products are filed here{like}"

    def _scores(
        self, vectors: np.ndarray, texts: Sequence[str], *, exclude: np.ndarray | None
    ) -> tuple[np.ndarray, list[dict[int, str]]]:
        sims = vectors @ self._vectors.T
        if exclude is not None:
            sims[np.arange(len(exclude)), exclude] = -np.inf
        k = min(NEIGHBOURS, sims.shape[1] - (1 if exclude is not None else 0))
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k > 0 else np.zeros((len(sims), 0), dtype=int)
        near = np.take_along_axis(sims, top, axis=1)
        weights = np.exp((near - near.max(axis=1, keepdims=True)) / NEIGHBOUR_TEMPERATURE)
        weights /= weights.sum(axis=1, keepdims=True)
        votes = np.einsum("nk,nkp->np", weights, self._members[top])
        votes /= np.maximum(votes.sum(axis=1, keepdims=True), 1e-9)
        central = vectors @ self._centroids.T / CENTROID_TEMPERATURE
        central = np.exp(central - central.max(axis=1, keepdims=True))
        central /= central.sum(axis=1, keepdims=True)
        named = np.zeros_like(votes)
        evidence: list[dict[int, str]] = []
        for row, text in enumerate(texts):
            words = words_of(text)
            hits = {i: sorted(words & w) for i, w in enumerate(self._words) if words & w}
            for i in hits:
                named[row, i] = 1.0 / len(hits)
            evidence.append({i: f"the name says {', '.join(w)}" for i, w in hits.items()})
        a, b, c = WEIGHTS
        return a * votes + b * central + c * named, evidence

    def _calibrate(self, rng: np.random.Generator, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(score thresholds, accuracy) from leave-one-out top paths of labelled products."""
        n = len(self._vectors)
        if n < 10 or not self.paths:
            return np.array([0.0]), np.array([0.5])
        rows = rng.choice(n, size=min(n, CALIBRATION_SAMPLE), replace=False)
        scores, _ = self._scores(self._vectors[rows], [texts[i] for i in rows], exclude=rows)
        best = scores.argmax(axis=1)
        top = scores[np.arange(len(rows)), best]
        right = self._members[rows, best]
        order = np.argsort(top)
        return top[order], _isotonic(right[order])

    def _confidence(self, score: float) -> float:
        thresholds, accuracy = self._calibration
        at = int(np.searchsorted(thresholds, score, side="right")) - 1
        if at < 0:  # below every score seen among filed products: less sure in proportion
            return float(np.clip(accuracy[0] * score / max(thresholds[0], 1e-9), 0.01, 0.99))
        return float(np.clip(accuracy[at], 0.01, 0.99))


def _isotonic(values: np.ndarray) -> np.ndarray:
    """Non-decreasing fit of `values` (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight]
    for v in values.astype(float):
        blocks.append([v, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2 = blocks.pop()
            m1, w1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2])
    return np.concatenate([np.full(int(w), m) for m, w in blocks])
