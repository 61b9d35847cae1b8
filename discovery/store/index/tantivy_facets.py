"""Disjunctive facet counts over tantivy's keyword term dictionaries.

Facet F is counted over the match set narrowed by every filter except F's own. Counts
come from `Searcher.terms_with_prefix(field, "", filter_query=...)`: it walks the
field's terms and counts each one's live documents inside the query, summed over
segments, so counts are exact (no per-segment cut as in a terms aggregation), values
with no document are left out, and the order is the contract's: count descending, then
value. It was also 5-10x faster than `aggregate` on multi-valued fields here. Each facet
is one call; they release the GIL, so facets run in parallel, and beside the hits
search, when given a pool.
A facet that fails is reported in `errors`, never failing the search.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import tantivy
from tantivy import Query

from discovery.store.index import tantivy_schema as ts
from discovery.store.index.base import FacetValue
from discovery.store.index.tantivy_query import all_of

FacetValues = tuple[list[FacetValue], str | None]


@dataclass(frozen=True, slots=True)
class FacetRequest:
    schema: tantivy.Schema
    base: Query  # the match set with ranges and types, before keyword filters
    filters: Mapping[str, Query]  # one narrowing query per filtered keyword field
    selected: Mapping[str, Sequence[str]]
    facets: Sequence[str]
    size: int


def start_facets(
    searcher: tantivy.Searcher, req: FacetRequest, pool: Executor | None = None
) -> Callable[[], tuple[dict[str, list[FacetValue]], dict[str, str]]]:
    """Start counting (on `pool`, when given, while the caller fetches hits); the returned
    function waits for the counts."""
    names = list(dict.fromkeys(req.facets))
    if pool is None:
        done = [_one_facet(searcher, req, name) for name in names]
        return lambda: _collect(names, done)
    futures = [pool.submit(_one_facet, searcher, req, name) for name in names]
    return lambda: _collect(names, [f.result() for f in futures])


def _collect(
    names: list[str], counted: list[FacetValues]
) -> tuple[dict[str, list[FacetValue]], dict[str, str]]:
    out: dict[str, list[FacetValue]] = {}
    errors: dict[str, str] = {}
    for name, (values, error) in zip(names, counted, strict=True):
        if error is None:
            out[name] = values
        else:
            errors[name] = error
    return out, errors


def _one_facet(searcher: tantivy.Searcher, req: FacetRequest, name: str) -> FacetValues:
    try:
        query = all_of([req.base, *(q for f, q in req.filters.items() if f != name)])
        top = searcher.terms_with_prefix(ts.keyword_field(name), "", filter_query=query, limit=req.size)
        counted = [(str(value), int(count)) for value, count in top]
        return _with_selected(searcher, query, name, counted, req), None
    except Exception as exc:  # noqa: BLE001 - one failing facet must not fail the search
        return [], f"{type(exc).__name__}: {exc}"


def _with_selected(
    searcher: tantivy.Searcher, query: Query, name: str, counted: list[tuple[str, int]], req: FacetRequest
) -> list[FacetValue]:
    """The top values, then any selected value that did not make the cut (with its count,
    possibly 0), so a shopper always sees what they ticked."""
    selected = list(dict.fromkeys(req.selected.get(name, ())))
    listed = {value for value, _ in counted}
    extra = []
    for value in selected:
        if value not in listed:
            term = Query.term_query(req.schema, ts.keyword_field(name), value)
            extra.append((value, ts.count(searcher, all_of([query, term]))))
    extra.sort(key=lambda vc: (-vc[1], vc[0]))
    chosen = set(selected)
    return [FacetValue(v, c, v in chosen) for v, c in counted + extra]
