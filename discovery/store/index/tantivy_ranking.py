"""Relevance windows for offset and cursor paging.

Hits with equal scores keep tantivy's own order (by document address: segment, then
document), which is total and the same for every call on one searcher, so offset pages
tile the ranking exactly. Resolving ties by id instead would mean reading an id for
every tied hit, and fuzzy and prefix matches score alike: a typo query ties thousands.

A cursor (score, id) finds its hit's address in the current searcher and continues
after it. Across a refresh, tied hits may change order (merges move documents); if the
cursor's document is gone, its tied neighbours may be repeated but are never skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import tantivy
from tantivy import Query

from discovery.store.index import tantivy_schema as ts


@dataclass(frozen=True, slots=True)
class Window:
    hits: list[tuple[float, tantivy.DocAddress]]
    count: int  # hits of the whole query
    before: int  # hits ranked at or before the cursor


def _address(a: tantivy.DocAddress) -> tuple[int, int]:
    return (a.segment_ord, a.doc)


def ranked_window(
    searcher: tantivy.Searcher,
    query: Query,
    *,
    skip: int,
    size: int,
    after: tuple[float, tantivy.DocAddress | None] | None = None,
) -> Window:
    """Hits `skip .. skip+size` (after the cursor hit, when given) in relevance order."""
    if after is None:
        result = searcher.search(query, limit=max(1, size), offset=skip, count=True)
        return Window([(float(s), a) for s, a in result.hits][:size], ts.result_count(result), 0)
    score, cursor = after
    cursor_key = _address(cursor) if cursor is not None else None
    limit = max(64, 2 * (skip + size))
    while True:
        result = searcher.search(query, limit=limit, count=True)
        hits = [(float(s), a) for s, a in result.hits]
        before = 0
        for s, a in hits:
            if s > score or (s == score and cursor_key is not None and _address(a) <= cursor_key):
                before += 1
            elif s < score:
                break
        complete = len(hits) < limit
        if complete or before + skip + size < len(hits):
            start = before + skip
            return Window(hits[start : start + size], ts.result_count(result), before)
        limit *= 4


def cursor_address(searcher: tantivy.Searcher, id_query: Query) -> tantivy.DocAddress | None:
    """Where the cursor's document is in this searcher, if it still exists."""
    hits = searcher.search(id_query, limit=1, count=False).hits
    return hits[0][1] if hits else None
