"""Learning from reviewers: a per-tag logistic regression on CLIP image vectors.

Every accept is a positive and every reject a negative for that tag on that image.
A tag with enough of both gets a classifier; its threshold is the lowest confidence at
which out-of-fold predictions (each decision scored by a model that did not see it)
reach the target precision, and that precision is reported. A tag nobody reviewed
has no classifier and keeps zero-shot behaviour. Plain numpy (Newton's method on a
few hundred dimensions), so training a tag takes milliseconds and needs no extra package.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MIN_PER_CLASS = 3
TARGET_PRECISION = 0.8
L2 = 1.0


@dataclass(frozen=True, slots=True)
class Decision:
    """A reviewer's accept (True) or reject (False) of `tag` on the image with `vector`.

    `confidence` and `source` describe the suggestion that was decided, when there was
    one: they measure how precise each suggester has been.
    """

    tag: str
    vector: np.ndarray
    accepted: bool
    confidence: float | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class TagClassifier:
    tag: str
    weights: np.ndarray  # (dim,), applied to raw unit vectors
    bias: float
    threshold: float
    precision: float | None  # out-of-fold precision at `threshold`; None if not measurable
    positives: int
    negatives: int

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        return _sigmoid(np.atleast_2d(vectors) @ self.weights + self.bias)


@dataclass(frozen=True, slots=True)
class LearnedTagger:
    """Classifiers for the tags reviewers have decided, trained on one CLIP model's vectors."""

    clip_model: str  # name@version of the vectors it was trained on
    classifiers: dict[str, TagClassifier] = field(default_factory=dict)
    revision: int = 0

    @property
    def model_id(self) -> str:
        return f"learned@r{self.revision}+{self.clip_model}"

    def retrain(
        self,
        decisions: Sequence[Decision],
        tags: Iterable[str] | None = None,
        *,
        target_precision: float = TARGET_PRECISION,
    ) -> LearnedTagger:
        """A new tagger with `tags` (default: every tag in `decisions`) refit on `decisions`.

        Pass all decisions for those tags, old and new; other tags keep their classifier.
        A tag whose decisions no longer make a classifier (too few of one kind) loses it
        and falls back to zero-shot.
        """
        by_tag: dict[str, list[Decision]] = defaultdict(list)
        for decision in decisions:
            by_tag[decision.tag].append(decision)
        classifiers = dict(self.classifiers)
        for tag in set(by_tag) if tags is None else set(tags):
            fitted = fit_tag(tag, by_tag.get(tag, []), target_precision=target_precision)
            if fitted is None:
                classifiers.pop(tag, None)
            else:
                classifiers[tag] = fitted
        return LearnedTagger(self.clip_model, classifiers, self.revision + 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "clip_model": self.clip_model,
            "revision": self.revision,
            "classifiers": [
                {
                    "tag": c.tag,
                    "weights": c.weights.tolist(),
                    "bias": c.bias,
                    "threshold": c.threshold,
                    "precision": c.precision,
                    "positives": c.positives,
                    "negatives": c.negatives,
                }
                for c in self.classifiers.values()
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LearnedTagger:
        classifiers = {
            c["tag"]: TagClassifier(
                c["tag"],
                np.asarray(c["weights"], dtype=np.float32),
                float(c["bias"]),
                float(c["threshold"]),
                c["precision"],
                int(c["positives"]),
                int(c["negatives"]),
            )
            for c in data.get("classifiers", [])
        }
        return cls(str(data["clip_model"]), classifiers, int(data.get("revision", 0)))


def fit_tag(
    tag: str, decisions: Sequence[Decision], *, target_precision: float = TARGET_PRECISION
) -> TagClassifier | None:
    """A classifier for one tag, or None with fewer than MIN_PER_CLASS accepts or rejects."""
    labels = np.array([d.accepted for d in decisions], dtype=bool)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives < MIN_PER_CLASS or negatives < MIN_PER_CLASS:
        return None
    vectors = np.stack([np.asarray(d.vector, dtype=np.float64) for d in decisions])
    weights, bias = fit_logistic(vectors, labels)
    held_out = out_of_fold(vectors, labels)
    threshold = threshold_for_precision(held_out, labels, target_precision)
    precision = precision_at(held_out, labels, threshold) if threshold is not None else None
    return TagClassifier(
        tag, weights.astype(np.float32), bias, 0.5 if threshold is None else threshold, precision, positives, negatives
    )


def fit_logistic(vectors: np.ndarray, labels: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float]:
    """L2-regularised, class-balanced logistic regression; returns weights on raw vectors.

    Features are standardised first (CLIP vectors of similar images differ in small
    components), then the scaling is folded back into the weights.
    """
    mean = vectors.mean(axis=0)
    scale = vectors.std(axis=0) + 1e-6
    x = np.hstack([(vectors - mean) / scale, np.ones((len(vectors), 1))])
    y = labels.astype(np.float64)
    sample = np.where(labels, len(y) / (2 * y.sum()), len(y) / (2 * (len(y) - y.sum())))
    ridge = np.full(x.shape[1], l2)
    ridge[-1] = 0.0  # the bias is not shrunk
    w = np.zeros(x.shape[1])
    for _ in range(50):
        p = _sigmoid(x @ w)
        gradient = x.T @ (sample * (p - y)) + ridge * w
        hessian = (x.T * (sample * p * (1 - p))) @ x + np.diag(ridge + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-7:
            break
    weights = w[:-1] / scale
    return weights, float(w[-1] - weights @ mean)


def out_of_fold(vectors: np.ndarray, labels: np.ndarray, folds: int = 5) -> np.ndarray:
    """Each example's probability from a model trained without it (stratified folds)."""
    k = max(2, min(folds, int(labels.sum()), int((~labels).sum())))
    assignment = np.empty(len(labels), dtype=int)
    rng = np.random.default_rng(0)
    for cls in (True, False):
        members = np.flatnonzero(labels == cls)
        assignment[rng.permutation(members)] = np.arange(len(members)) % k
    out = np.zeros(len(labels))
    for fold in range(k):
        test = assignment == fold
        train = ~test
        if labels[train].all() or not labels[train].any():
            out[test] = 0.5
            continue
        w, b = fit_logistic(vectors[train], labels[train])
        out[test] = _sigmoid(vectors[test] @ w + b)
    return out


def threshold_for_precision(confidences: np.ndarray, accepted: np.ndarray, target: float) -> float | None:
    """The lowest confidence at which suggestions reach `target` precision (None: never)."""
    order = np.argsort(-confidences, kind="stable")
    hits = np.cumsum(accepted[order])
    precision = hits / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(precision >= target)
    if len(ok) == 0:
        return None
    return float(confidences[order][ok[-1]])


def precision_at(confidences: np.ndarray, accepted: np.ndarray, threshold: float) -> float | None:
    chosen = confidences >= threshold
    return float(accepted[chosen].mean()) if chosen.any() else None


def zero_shot_thresholds(
    decisions: Sequence[Decision], *, target_precision: float = TARGET_PRECISION, minimum: int = 10
) -> dict[str, float]:
    """Per-tag thresholds for zero-shot suggestions, from how reviewers judged them."""
    by_tag: dict[str, list[Decision]] = defaultdict(list)
    for d in decisions:
        if d.source == "clip" and d.confidence is not None:
            by_tag[d.tag].append(d)
    thresholds: dict[str, float] = {}
    for tag, items in by_tag.items():
        if len(items) >= minimum:
            conf = np.array([d.confidence for d in items], dtype=np.float64)
            found = threshold_for_precision(conf, np.array([d.accepted for d in items]), target_precision)
            # No cut reaches the target: ask for more than the best it ever gave.
            thresholds[tag] = found if found is not None else float(conf.max()) + 1e-6
    return thresholds


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))
