"""Relevance order with a total tie-break, for offset and cursor paging.

tantivy returns the top hits by score with ties in index order, which changes as
segments merge. The contract orders by (score desc, id asc), so a page is cut from a
prefix of the ranking that is long enough to hold every hit tied with the last one
kept, and each tie group that touches the page is sorted by id (ids are read only for
those groups).
"""

from __future__ import annotations

from dataclasses import dataclass

import tantivy
from tantivy import Query

from discovery.store.index import tantivy_schema as ts


@dataclass(frozen=True, slots=True)
class Ranked:
    score: float
    address: tantivy.DocAddress
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Window:
    hits: list[Ranked]
    count: int  # hits of the whole query
    before: int  # hits ranked at or before the cursor


class _Ids:
    def __init__(self, searcher: tantivy.Searcher) -> None:
        self._searcher = searcher
        self._cache: dict[tuple[int, int], str] = {}

    def __call__(self, address: tantivy.DocAddress) -> str:
        key = (address.segment_ord, address.doc)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = ts.stored_id(self._searcher, address)
        return found


def ranked_window(
    searcher: tantivy.Searcher,
    query: Query,
    *,
    skip: int,
    size: int,
    after: tuple[float, str] | None = None,
) -> Window:
    """Hits `skip .. skip+size` after the cursor `after` (score, id), in (score desc, id asc)."""
    ids = _Ids(searcher)
    limit = max(1, skip + size + 1)
    while True:
        result = searcher.search(query, limit=limit, count=True)
        hits = [(float(s), a) for s, a in result.hits]
        count = ts.result_count(result)
        complete = len(hits) < limit
        before = _position_after(hits, after, ids) if after else 0
        need = before + skip + size
        if complete or _enough(hits, need, after):
            return Window(_order(hits, before + skip, need, ids), count, before)
        limit = max(limit * 2, need + 1)


def _enough(hits: list[tuple[float, tantivy.DocAddress]], need: int, after: tuple[float, str] | None) -> bool:
    if len(hits) <= need:
        return False
    if after is not None and hits[-1][0] >= after[0]:
        return False  # the cursor's tie group may go on past what was fetched
    return need == 0 or hits[need - 1][0] != hits[-1][0]


def _position_after(hits: list[tuple[float, tantivy.DocAddress]], after: tuple[float, str], ids: _Ids) -> int:
    score, cursor_id = after
    before = 0
    for s, address in hits:
        if s > score or (s == score and ids(address) <= cursor_id):
            before += 1
        elif s < score:
            break
    return before


def _order(hits: list[tuple[float, tantivy.DocAddress]], lo: int, hi: int, ids: _Ids) -> list[Ranked]:
    hi = min(hi, len(hits))
    if lo >= hi:
        return []
    # Widen to whole tie groups at both ends, sort them by id, then cut.
    start, end = lo, hi
    while start > 0 and hits[start - 1][0] == hits[lo][0]:
        start -= 1
    while end < len(hits) and hits[end][0] == hits[hi - 1][0]:
        end += 1
    span = hits[start:end]
    keyed = []
    for i, (score, address) in enumerate(span):
        tied = (i > 0 and span[i - 1][0] == score) or (i + 1 < len(span) and span[i + 1][0] == score)
        keyed.append(Ranked(score, address, ids(address) if tied else None))
    keyed.sort(key=lambda r: (-r.score, r.id or ""))
    return keyed[lo - start : hi - start]
