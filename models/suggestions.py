"""What every suggester returns: a tag (or category, or attribute value) with its evidence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

RULES_MODEL = "rules@1"
PRODUCT_MODEL = "product-links@1"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A suggested tag: `source` is clip, learned, rule or product; `model` is name@version.

    `threshold` is the bar the confidence had to clear; how far above it the confidence
    sits says how sure the suggester is, and orders the review queue.
    """

    tag: str
    confidence: float
    source: str
    model: str
    threshold: float = 0.0

    @property
    def margin(self) -> float:
        return self.confidence - self.threshold


def review_order(suggestions: Iterable[Suggestion]) -> list[Suggestion]:
    """Most uncertain first: a reviewer's decision teaches most where the model hesitates."""
    return sorted(suggestions, key=lambda s: (abs(s.margin), s.tag))
