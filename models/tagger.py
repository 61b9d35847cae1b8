"""The tagger: learned classifiers where reviewers have spoken, zero-shot CLIP elsewhere.

A tag with a trained classifier is suggested by it (source `learned`) at the threshold
its measured precision set; every other tag keeps zero-shot behaviour (source `clip`),
at thresholds calibrated from reviewers' decisions where there are enough of them.
When a better model no longer agrees with a pending suggestion of an older one,
`withdraw_stale` says so: pending suggestions are never silently kept forever.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from models.learned import LearnedTagger
from models.suggestions import Suggestion
from models.zero_shot import ZeroShotTagger

MACHINE_SOURCES = frozenset({"clip", "learned"})


@dataclass(frozen=True, slots=True)
class Pending:
    """A suggestion already stored on a target and not yet decided."""

    tag: str
    source: str
    model: str


@dataclass(slots=True)
class Tagger:
    zero_shot: ZeroShotTagger
    learned: LearnedTagger | None = None
    zero_shot_thresholds: Mapping[str, float] = field(default_factory=dict)
    top_k: int = 5

    def __post_init__(self) -> None:
        if self.learned is not None and self.learned.clip_model != self.zero_shot.clip.model_id:
            # Classifiers trained on another model's vectors would score garbage here.
            self.learned = None

    def model_ids(self) -> set[str]:
        """The models this tagger's suggestions carry: what is current, for `withdraw_stale`."""
        ids = {self.zero_shot.clip.model_id}
        if self.learned is not None:
            ids.add(self.learned.model_id)
        return ids

    def suggest(self, image_vectors: np.ndarray) -> list[list[Suggestion]]:
        """Per image: learned and zero-shot suggestions, best first, at most `top_k`."""
        vectors = np.atleast_2d(image_vectors)
        learned = self.learned.classifiers if self.learned is not None else {}
        zero = self.zero_shot.suggest(
            vectors, thresholds=self.zero_shot_thresholds, top_k=self.top_k, exclude=set(learned)
        )
        by_image: list[list[Suggestion]] = [list(row) for row in zero]
        if self.learned is not None:
            model_id = self.learned.model_id
            for classifier in learned.values():
                probs = classifier.probabilities(vectors)
                for i in np.flatnonzero(probs >= classifier.threshold):
                    by_image[i].append(
                        Suggestion(classifier.tag, float(probs[i]), "learned", model_id, classifier.threshold)
                    )
        return [sorted(row, key=lambda s: -s.confidence)[: self.top_k] for row in by_image]


def withdraw_stale(
    pending: Sequence[Pending], fresh: Sequence[Suggestion], *, current_models: Collection[str]
) -> list[Pending]:
    """Pending machine suggestions to withdraw now that the current models spoke (`fresh`).

    A pending `clip`/`learned` suggestion made by a model not in `current_models`
    (e.g. `Tagger.model_ids()`) is stale; it is withdrawn when the current models do
    not suggest its tag: they disagree. Where they agree, the caller replaces it with
    the fresh suggestion. Rule, product and human tags are never withdrawn here.
    """
    fresh_tags = {s.tag for s in fresh}
    return [
        p for p in pending if p.source in MACHINE_SOURCES and p.model not in current_models and p.tag not in fresh_tags
    ]
