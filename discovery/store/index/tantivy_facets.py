"""Disjunctive facet counts over tantivy's keyword fields, exact either way.

Facet F is counted over the match set narrowed by every filter except F's own, so the
facets without a filter of their own share one query. Two ways to count, chosen by how
many documents the query is estimated to match (`share`, from term frequencies):

- Few (a search with words or selective filters): `Searcher.aggregate` with terms
  aggregations reads the column values of the matching documents only, and counts every
  facet that shares the query in one pass. Each segment lists all its values
  (`segment_size` above any facet's cardinality), so the counts are exact; a facet whose
  values outnumber that bound is counted the other way.
- Many (a very common word, browsing): `Searcher.terms_with_prefix(field, "",
  filter_query=...)` walks the field's terms and counts each one's documents inside the
  query. Its cost follows the field's postings, not the match set: at a million documents
  it took 2.4 ms per facet where an aggregation over 3,000 matches took 1.0 ms for three,
  and at 1,000,000 matches it was 5-10x faster than the aggregation on multi-valued
  fields.

Either way values with no document are left out and the order is the contract's: count
descending, then value. Calls release the GIL, so they run in parallel, and beside the
hits search, when given a pool. A facet that fails is reported in `errors`, never
failing the search.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from typing import Any

import tantivy
from tantivy import Query

from discovery.store.index import tantivy_schema as ts
from discovery.store.index.base import FacetValue
from discovery.store.index.tantivy_query import all_of

FacetValues = tuple[list[FacetValue], str | None]
AGGREGATE_BELOW = 0.05  # estimated share of all documents under which aggregations count
MAX_BUCKETS = 65_000  # values per segment an aggregation lists; beyond, terms_with_prefix


@dataclass(frozen=True, slots=True)
class FacetRequest:
    schema: tantivy.Schema
    base: Query  # the match set with ranges and types, before keyword filters
    filters: Mapping[str, Query]  # one narrowing query per filtered keyword field
    selected: Mapping[str, Sequence[str]]
    facets: Sequence[str]
    size: int
    share: float = 1.0  # estimated share of all documents the base and filters match

    def query_for(self, name: str) -> Query:
        return all_of([self.base, *(q for f, q in self.filters.items() if f != name)])


Counted = dict[str, FacetValues]


def start_facets(
    searcher: tantivy.Searcher, req: FacetRequest, pool: Executor | None = None
) -> Callable[[], tuple[dict[str, list[FacetValue]], dict[str, str]]]:
    """Start counting (on `pool`, when given, while the caller fetches hits); the returned
    function waits for the counts."""
    names = list(dict.fromkeys(req.facets))
    tasks: list[Callable[[], Counted]]
    if req.share < AGGREGATE_BELOW:
        own = [n for n in names if n in req.filters]
        shared = [n for n in names if n not in req.filters]
        groups = [[n] for n in own] + ([shared] if shared else [])
        tasks = [partial(_aggregated, searcher, req, group) for group in groups]
    else:
        tasks = [partial(_walked, searcher, req, name) for name in names]
    if pool is None:
        done = [task() for task in tasks]
        return lambda: _collect(names, done)
    futures = [pool.submit(task) for task in tasks]
    return lambda: _collect(names, [f.result() for f in futures])


def _collect(names: list[str], parts: list[Counted]) -> tuple[dict[str, list[FacetValue]], dict[str, str]]:
    counted: Counted = {}
    for part in parts:
        counted.update(part)
    out: dict[str, list[FacetValue]] = {}
    errors: dict[str, str] = {}
    for name in names:
        values, error = counted[name]
        if error is None:
            out[name] = values
        else:
            errors[name] = error
    return out, errors


def _aggregated(searcher: tantivy.Searcher, req: FacetRequest, names: list[str]) -> Counted:
    """The facets `names`, which share one query, from one aggregation request."""
    query = req.query_for(names[0])
    try:
        spec = {
            name: {"terms": {"field": ts.keyword_field(name), "size": MAX_BUCKETS, "segment_size": MAX_BUCKETS}}
            for name in names
        }
        result: dict[str, Any] = searcher.aggregate(query, spec)
    except Exception as exc:  # noqa: BLE001 - one failing facet must not fail the search
        return {name: ([], f"{type(exc).__name__}: {exc}") for name in names}
    out: Counted = {}
    for name in names:
        agg = result.get(name) or {}
        buckets = agg.get("buckets", [])
        if agg.get("sum_other_doc_count", 0) or len(buckets) >= MAX_BUCKETS:
            out[name] = _one_facet(searcher, req, name)  # more values than one pass lists
            continue
        counts: dict[str, int] = {str(b["key"]): int(b["doc_count"]) for b in buckets if int(b["doc_count"]) > 0}
        top = sorted(counts.items(), key=lambda vc: (-vc[1], vc[0]))[: req.size]
        out[name] = (_with_selected(name, top, req, lambda value: counts.get(value, 0)), None)  # noqa: B023
    return out


def _walked(searcher: tantivy.Searcher, req: FacetRequest, name: str) -> Counted:
    return {name: _one_facet(searcher, req, name)}


def _one_facet(searcher: tantivy.Searcher, req: FacetRequest, name: str) -> FacetValues:
    try:
        query = req.query_for(name)
        top = searcher.terms_with_prefix(ts.keyword_field(name), "", filter_query=query, limit=req.size)
        counted = [(str(value), int(count)) for value, count in top]

        def count_of(value: str) -> int:
            term = Query.term_query(req.schema, ts.keyword_field(name), value)
            return ts.count(searcher, all_of([query, term]))

        return _with_selected(name, counted, req, count_of), None
    except Exception as exc:  # noqa: BLE001 - one failing facet must not fail the search
        return [], f"{type(exc).__name__}: {exc}"


def _with_selected(
    name: str, counted: list[tuple[str, int]], req: FacetRequest, count_of: Callable[[str], int]
) -> list[FacetValue]:
    """The top values, then any selected value that did not make the cut (with its count,
    possibly 0), so a shopper always sees what they ticked."""
    selected = list(dict.fromkeys(req.selected.get(name, ())))
    listed = {value for value, _ in counted}
    extra = [(value, count_of(value)) for value in selected if value not in listed]
    extra.sort(key=lambda vc: (-vc[1], vc[0]))
    chosen = set(selected)
    return [FacetValue(v, c, v in chosen) for v, c in counted + extra]
