"""Category suggestions from product text: the text model ranks the category tree's paths.

Each category is embedded once as its path plus synonyms ("Men > Tops > Hoodies
(hooded sweatshirts)"); a product's name and description are embedded and compared.
Confidence is a softmax over the candidate paths at a fixed temperature, so it says
how much one path stands out from the others; suggestions go to review like tags.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from models.taxonomy import Taxonomy
from models.zero_shot import softmax

# Cosine differences between sibling paths are a few hundredths; 1/0.05 spreads them.
TEMPERATURE = 0.05


class TextEncoder(Protocol):
    """What category ranking needs from a text model (models.text.TextModel satisfies it)."""

    @property
    def model_id(self) -> str: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class CategorySuggestion:
    path: str
    confidence: float
    source: str
    model: str
    evidence: str = ""


class CategorySuggester:
    def __init__(self, text: TextEncoder, taxonomy: Taxonomy, *, leaves_only: bool = True) -> None:
        self.text = text
        self.paths = [c.path for c in taxonomy.categories.values() if c.is_leaf or not leaves_only]
        self._descriptions = [taxonomy.categories[p].describe() for p in self.paths]
        self._lock = threading.Lock()
        self._vectors: np.ndarray | None = None

    def _category_vectors(self) -> np.ndarray:
        if self._vectors is None:
            with self._lock:
                if self._vectors is None:
                    self._vectors = self.text.encode(self._descriptions)
        return self._vectors

    def suggest(self, name: str, description: str = "", *, top_k: int = 3) -> list[CategorySuggestion]:
        """The `top_k` category paths for one product, best first."""
        return self.suggest_many([(name, description)], top_k=top_k)[0]

    def suggest_many(self, products: Sequence[tuple[str, str]], *, top_k: int = 3) -> list[list[CategorySuggestion]]:
        """Per (name, description): the `top_k` category paths, best first."""
        if not products or not self.paths:
            return [[] for _ in products]
        texts = [f"{name}. {description}".strip() for name, description in products]
        conf = softmax((self.text.encode(texts) @ self._category_vectors().T) / TEMPERATURE)
        model = self.text.model_id
        return [
            [
                CategorySuggestion(self.paths[i], float(row[i]), "text", model, self._evidence(i, float(row[i])))
                for i in np.argsort(-row)[:top_k]
            ]
            for row in conf
        ]

    def _evidence(self, i: int, confidence: float) -> str:
        return f"its name and description read closest to “{self._descriptions[i]}” ({confidence:.2f})"
