"""Zero-shot tag suggestions: CLIP image vectors against the taxonomy's prompts.

Each tag's prompts are embedded and averaged (prompt ensembling: the mean of the
normalised prompt vectors, renormalised), so no single wording decides. Confidence is
a softmax at the model's own logit scale over the tags of one group (colours compete
with colours, materials with materials), which makes it comparable across images and
lets one threshold per tag mean something.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from models.suggestions import Suggestion
from models.taxonomy import Taxonomy


class TextTower(Protocol):
    """What zero-shot needs from a CLIP model (models.clip.ClipModel satisfies it)."""

    @property
    def model_id(self) -> str: ...

    @property
    def logit_scale(self) -> float: ...

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray: ...


def ensemble(prompt_vectors: np.ndarray) -> np.ndarray:
    """One unit vector from several unit prompt vectors: normalised mean."""
    mean = prompt_vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 0 else mean).astype(np.float32)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


class ZeroShotTagger:
    """Suggests taxonomy tags for CLIP image vectors; prototypes are built once, lazily."""

    def __init__(self, clip: TextTower, taxonomy: Taxonomy, *, top_k: int = 5) -> None:
        self.clip = clip
        self.taxonomy = taxonomy
        self.top_k = top_k
        self._lock = threading.Lock()
        self._prototypes: tuple[list[str], np.ndarray] | None = None

    def prototypes(self) -> tuple[list[str], np.ndarray]:
        """Tag names and their ensembled prompt vectors (T, dim), in taxonomy order."""
        if self._prototypes is None:
            with self._lock:
                if self._prototypes is None:
                    tags = self.taxonomy.zero_shot_tags()
                    prompts = [p for tag in tags for p in tag.prompts]
                    vectors = self.clip.encode_texts(prompts)
                    rows, start = [], 0
                    for tag in tags:
                        rows.append(ensemble(vectors[start : start + len(tag.prompts)]))
                        start += len(tag.prompts)
                    self._prototypes = ([t.name for t in tags], np.stack(rows))
        return self._prototypes

    def confidences(self, image_vectors: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Calibrated confidence (n, T): softmax of scaled similarities within each group."""
        names, protos = self.prototypes()
        logits = self.clip.logit_scale * (np.atleast_2d(image_vectors) @ protos.T)
        out = np.zeros_like(logits)
        for group in self.taxonomy.groups:
            cols = [i for i, name in enumerate(names) if self.taxonomy.tags[name].group == group]
            if cols:
                out[:, cols] = softmax(logits[:, cols])
        return names, out

    def suggest(
        self,
        image_vectors: np.ndarray,
        *,
        thresholds: Mapping[str, float] | None = None,
        top_k: int | None = None,
        exclude: set[str] | frozenset[str] = frozenset(),
    ) -> list[list[Suggestion]]:
        """Per image, tags whose confidence clears their threshold, best first, at most top_k.

        `thresholds` overrides the taxonomy's per-tag thresholds (e.g. calibrated from
        reviewers' decisions); tags in `exclude` are left to another suggester. In an
        exclusive group only the best tag may be suggested.
        """
        names, conf = self.confidences(image_vectors)
        limit = self.top_k if top_k is None else top_k
        overrides = thresholds or {}
        results: list[list[Suggestion]] = []
        for row in conf:
            picked: list[Suggestion] = []
            taken_groups: set[str] = set()
            for i in np.argsort(-row):
                tag = self.taxonomy.tags[names[i]]
                threshold = overrides.get(tag.name, tag.threshold)
                if tag.name in exclude or row[i] < threshold:
                    continue
                if self.taxonomy.groups[tag.group].exclusive and tag.group in taken_groups:
                    continue
                taken_groups.add(tag.group)
                picked.append(Suggestion(tag.name, float(row[i]), "clip", self.clip.model_id, threshold))
            results.append(picked[:limit])
        return results

    def rank(self, image_vectors: np.ndarray, tag: str) -> np.ndarray:
        """Confidence of one tag for each image (to rank a collection by it)."""
        names, conf = self.confidences(image_vectors)
        return conf[:, names.index(tag)]
