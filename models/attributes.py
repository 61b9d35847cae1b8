"""Attribute value suggestions restricted to an attribute's allowed options.

For an enum attribute a product lacks (colour, material, pattern, gender), the value is
chosen only among the allowed options, from the strongest evidence available:
1. the product's own text names exactly one option (or one of its taxonomy synonyms):
   the name first, then the description, then its category paths ("Women/Tops");
2. for colour, the images' measured dominant colour is one of the options;
3. CLIP, for what a picture shows (colour, pattern) and never for what it cannot
   (material, gender): the image vectors against each option's prompts, softmax over the
   options only.
Every suggestion carries its evidence in words a reviewer checks at a glance: which word
of which field, what share of the picture, or what CLIP compared.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.rules import ATTRIBUTE_GROUPS
from models.suggestions import RULES_MODEL
from models.taxonomy import TagDef, Taxonomy
from models.zero_shot import TextTower, ensemble, softmax

TEXT_MATCH_MODEL = "text-match@1"
TEXT_MATCH_CONFIDENCE = 0.95
MIN_CLIP_CONFIDENCE = 0.3
# Product attributes suggested from a taxonomy group. Gender is a product fact only: an
# image never gets a gender tag from the product it shows (rules.ATTRIBUTE_GROUPS).
PRODUCT_ATTRIBUTE_GROUPS = {**ATTRIBUTE_GROUPS, "gender": "gender"}
# Groups a picture can speak for; the others are read from words alone.
VISUAL_GROUPS = frozenset({"colour", "pattern"})
_FALLBACK_PROMPTS = ("a photo of a product with {attribute} {option}.", "a {option} product.")


@dataclass(frozen=True, slots=True)
class AttributeSuggestion:
    attribute: str
    value: str  # always one of the allowed options, spelled as given
    confidence: float
    source: str  # text, rule or clip
    model: str
    evidence: str = ""  # which words, which pixels, what CLIP compared


class AttributeSuggester:
    def __init__(self, clip: TextTower, taxonomy: Taxonomy) -> None:
        self.clip = clip
        self.taxonomy = taxonomy
        self._lock = threading.Lock()
        self._prototypes: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}
        # (attribute, option) -> one pattern for all its words: an import asks for every
        # product, and finding the tag and compiling each word's pattern cost more than matching.
        self._patterns: dict[tuple[str, str], re.Pattern[str]] = {}

    def suggest(
        self,
        attribute: str,
        options: Sequence[str],
        *,
        text: str = "",
        image_vectors: np.ndarray | None = None,
        colors: Sequence[Mapping[str, Any]] = (),
        fields: Sequence[tuple[str, str]] = (),
    ) -> AttributeSuggestion | None:
        """The best allowed value for `attribute`, or None when nothing is convincing.

        `fields` are (label, text) pairs read in order ("the name", "the description",
        "its category"); `text` alone reads as "the text"."""
        if not options:
            return None
        sources = [*fields, *([("the text", text)] if text else [])]
        found = None
        for label, words in sources:
            hits = self._text_hits(attribute, options, words)
            if len(hits) == 1:
                ((option, word),) = hits.items()
                found = AttributeSuggestion(
                    attribute, option, TEXT_MATCH_CONFIDENCE, "text", TEXT_MATCH_MODEL, f"{label} says “{word}”"
                )
            if hits:
                break  # a field naming two options ("black and white") is not outvoted by a quieter one
        found = found or self._from_colours(attribute, options, colors)
        if found is not None:
            return found
        if image_vectors is None or len(np.atleast_2d(image_vectors)) == 0:
            return None
        if PRODUCT_ATTRIBUTE_GROUPS.get(attribute.lower(), attribute.lower()) not in VISUAL_GROUPS:
            return None
        return self._from_images(attribute, options, np.atleast_2d(image_vectors))

    def _words(self, attribute: str, option: str) -> set[str]:
        tag = self._tag(attribute, option)
        words = {option} if tag is None else {option, tag.label, *tag.synonyms}
        return {w.lower() for w in words}

    def _text_hits(self, attribute: str, options: Sequence[str], text: str) -> dict[str, str]:
        """Option -> the word of `text` that names it (its own name or a synonym)."""
        lowered = text.lower()
        hits: dict[str, str] = {}
        for option in options:
            found = self._pattern(attribute, option).search(lowered)
            if found is not None:
                hits[option] = found.group(0)
        return hits

    def _pattern(self, attribute: str, option: str) -> re.Pattern[str]:
        """Any of the option's words, standing alone (longest first, so the evidence quotes
        "navy blue" rather than "navy")."""
        key = (attribute, option)
        found = self._patterns.get(key)
        if found is None:
            words = sorted(self._words(attribute, option), key=lambda w: (-len(w), w))
            found = re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, words))})(?!\w)")
            self._patterns[key] = found
        return found

    def _from_colours(
        self, attribute: str, options: Sequence[str], colors: Sequence[Mapping[str, Any]]
    ) -> AttributeSuggestion | None:
        if PRODUCT_ATTRIBUTE_GROUPS.get(attribute.lower()) != "colour" or not colors:
            return None
        for colour in sorted(colors, key=lambda c: -float(c.get("share", 0.0))):
            measured = self.taxonomy.find("colour", str(colour.get("name", "")))
            for option in options:
                tag = self._tag(attribute, option)
                if measured is not None and tag is not None and tag.name == measured.name:
                    share = float(colour.get("share", 0.0))
                    return AttributeSuggestion(
                        attribute,
                        option,
                        round(share, 4),
                        "rule",
                        RULES_MODEL,
                        f"{share:.0%} of the picture measures {colour.get('name')}",
                    )
        return None

    def _from_images(self, attribute: str, options: Sequence[str], vectors: np.ndarray) -> AttributeSuggestion | None:
        protos = self._option_prototypes(attribute, tuple(options))
        conf = softmax(self.clip.logit_scale * (vectors @ protos.T)).mean(axis=0)
        order = np.argsort(-conf)
        best = int(order[0])
        if conf[best] < MIN_CLIP_CONFIDENCE:
            return None
        runner_up = f", then “{options[int(order[1])]}” {conf[int(order[1])]:.2f}" if len(options) > 1 else ""
        evidence = (
            f"{'the picture' if len(vectors) == 1 else f'{len(vectors)} pictures'} look most like "
            f"“{options[best]}” ({conf[best]:.2f} among {len(options)} options{runner_up})"
        )
        return AttributeSuggestion(
            attribute, options[best], float(conf[best]), "clip", self.clip.model_id, evidence
        )

    def _option_prototypes(self, attribute: str, options: tuple[str, ...]) -> np.ndarray:
        key = (attribute, options)
        with self._lock:
            if key not in self._prototypes:
                rows = []
                for option in options:
                    tag = self._tag(attribute, option)
                    prompts = (
                        list(tag.prompts)
                        if tag is not None and tag.prompts
                        else [p.format(attribute=attribute, option=option) for p in _FALLBACK_PROMPTS]
                    )
                    rows.append(ensemble(self.clip.encode_texts(prompts)))
                self._prototypes[key] = np.stack(rows)
            return self._prototypes[key]

    def _tag(self, attribute: str, option: str) -> TagDef | None:
        group = PRODUCT_ATTRIBUTE_GROUPS.get(attribute.lower(), attribute.lower())
        return self.taxonomy.find(group, option) if group in self.taxonomy.groups else None
