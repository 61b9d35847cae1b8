"""Text-matching rules both engines follow. Pure.

Every query word must match some weighted field (AND across words); each word
tolerates typos by its length; the last word also matches as a prefix, so results
follow the user as they type. The embedded engine skips typo matching for a word some
document holds as typed (`tantivy_query`); OpenSearch applies it to every word.
"""

from __future__ import annotations

# Longer queries are cut: past this, more words only narrow the result and cost time.
MAX_QUERY_WORDS = 16


def fuzzy_distance(word: str) -> int:
    """Edits a query word may be away from an indexed word (OpenSearch `AUTO:4,8`)."""
    if len(word) < 4:
        return 0
    return 1 if len(word) < 8 else 2


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
