"""Plain-text highlights for the embedded engine. Pure.

tantivy's SnippetGenerator only marks exact terms, not the fuzzy and prefix matches a
search also accepts, and its offsets are in bytes. So matches are found here, over the
page's documents only, with the same tokenizer the index uses and the same rules as
the query (`text_rules`). Offsets are character offsets into `Highlight.text`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from discovery.store.index.base import Highlight
from discovery.store.index.text_rules import edit_distance_within, fuzzy_distance

FRAGMENT_CHARS = 200
LEAD_CHARS = 40


class TokenSource(Protocol):
    """The index's tokenizer: folded words of a text, and where given words sit in it."""

    def words(self, text: str) -> list[str]: ...

    def spans(self, text: str, indexes: Sequence[int]) -> list[tuple[int, int]]: ...


@dataclass(slots=True)
class WordMatcher:
    """Decides which indexed tokens a query's words matched; caches across a page."""

    words: Sequence[str]
    stem: Callable[[str], str] | None = None  # the stemmed fields' stemmer: tokens match by stem too
    also: Sequence[str] = ()  # words matched as written or stemmed only (synonyms' words)
    _fuzzy: dict[str, bool] = field(default_factory=dict)
    _stems: frozenset[str] | None = None

    def exact_set(self, tokens: set[str]) -> set[str]:
        """The tokens that are a query word as typed or stemmed, or start with the last
        word (the prefix match search as you type makes)."""
        last = self.words[-1] if self.words else ""
        found = tokens.intersection([*self.words, *self.also])
        if last:
            found.update(t for t in tokens if t.startswith(last))
        stem = self.stem
        if stem is not None:
            if self._stems is None:
                self._stems = frozenset(stem(w) for w in [*self.words, *self.also])
            found.update(t for t in tokens - found if stem(t) in self._stems)
        return found

    def fuzzy(self, token: str, words: Iterable[str]) -> bool:
        key = token + "\x00" + "\x00".join(words)
        hit = self._fuzzy.get(key)
        if hit is None:
            hit = any(edit_distance_within(token, w, fuzzy_distance(w)) for w in words if fuzzy_distance(w))
            self._fuzzy[key] = hit
        return hit

    def unmatched_words(self, tokens: Iterable[str]) -> list[str]:
        """Words no token matched exactly or as prefix: only these are tried fuzzily,
        which keeps highlighting cheap where a word matched as typed."""
        seen = set(tokens)
        last = self.words[-1] if self.words else ""
        stems = {self.stem(t) for t in seen} if self.stem is not None else set()
        out = []
        for w in self.words:
            if w in seen or (w == last and any(t.startswith(last) for t in seen)):
                continue
            if self.stem is not None and self.stem(w) in stems:
                continue
            out.append(w)
        return out


def fragment(text: str, spans: Sequence[tuple[int, int]], max_chars: int = FRAGMENT_CHARS) -> Highlight:
    """The text (or a window of it around the first match) with match offsets into it."""
    if len(text) <= max_chars:
        return Highlight(text=text, offsets=tuple(spans))
    start = max(0, spans[0][0] - LEAD_CHARS)
    if start:
        space = text.find(" ", start, spans[0][0])
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + max_chars)
    if end < len(text):
        space = text.rfind(" ", spans[0][1], end)
        end = space if space > 0 else end
    kept = tuple((s - start, e - start) for s, e in spans if s >= start and e <= end)
    return Highlight(text=text[start:end], offsets=kept)


def highlight_fields(
    fields: Mapping[str, str], matcher: WordMatcher, tokens: TokenSource
) -> dict[str, list[Highlight]]:
    """Highlights per field name for one document; fields without a match are left out.
    Offsets are looked up only for fields that matched (reading them costs more)."""
    words = {name: tokens.words(text) for name, text in fields.items() if text}
    distinct: set[str] = set().union(*words.values())
    fuzzy_words = matcher.unmatched_words(distinct)
    # Decide once per distinct token; the per-position pass is then a set lookup.
    matched = matcher.exact_set(distinct)
    if fuzzy_words:
        matched |= {t for t in distinct - matched if matcher.fuzzy(t, fuzzy_words)}
    out: dict[str, list[Highlight]] = {}
    if not matched:
        return out
    for name, field_words in words.items():
        if matched.isdisjoint(field_words):
            continue
        hits = [i for i, w in enumerate(field_words) if w in matched]
        out[name] = [fragment(fields[name], tokens.spans(fields[name], hits))]
    return out
