"""Text-matching rules both engines follow. Pure.

Every query word must match some weighted field (AND across words): as typed, as its
other number (the default fields are stemmed: `hoodies` finds `hoodie`), within its
typo distance (decided by its length alone, on both engines, whatever the catalog
holds), or, for the last word, as a prefix, so results follow the user as they type.
A word matched as typed or stemmed scores by BM25 in the field it is in; a corrected or
prefix match scores a small constant, so exact matches rank above corrected ones. A
phrase with synonyms (`synonyms`) matches as itself or as any of its alternatives.
"""

from __future__ import annotations

# Longer queries are cut: past this, more words only narrow the result and cost time.
MAX_QUERY_WORDS = 16


# Typos a word tolerates by its length, as Meilisearch's defaults: none under 5
# characters (`shirt` is 5: `short` is one edit away, `tee` would match `tea`, `toe`...),
# one from 5, two from 9.
ONE_TYPO_FROM = 5
TWO_TYPOS_FROM = 9


def fuzzy_distance(word: str) -> int:
    """Edits a query word (as typed, folded) may be away from an indexed word."""
    if len(word) < ONE_TYPO_FROM:
        return 0
    return 1 if len(word) < TWO_TYPOS_FROM else 2


def edit_distance_within(a: str, b: str, limit: int) -> bool:
    """Whether `a` and `b` are at most `limit` edits apart, a swap of neighbours
    counting as one edit (optimal string alignment, as tantivy and Lucene count)."""
    if abs(len(a) - len(b)) > limit:
        return False
    if a == b:
        return True
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return False
        prev2, prev = prev, cur
    return prev[len(b)] <= limit
