"""Disjunctive facet counts over tantivy fast fields.

Facet F is counted over the match set narrowed by every filter except F's own. Facets
that share the same set of applied filters (all unfiltered facets do) are counted in
one aggregation pass. Counts are exact: tantivy reports a per-facet error bound, and a
pass whose bound is not zero, or whose cut-off might hide a tied value, is redone wider.
A facet that fails is reported in `errors`, never failing the search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import tantivy
from tantivy import Query

from discovery.store.index import tantivy_schema as ts
from discovery.store.index.base import FacetValue
from discovery.store.index.tantivy_query import all_of

# Values each segment reports before merging; widened when tantivy says it was too few.
SEGMENT_VALUES = 1_000
MAX_VALUES = 1 << 30


@dataclass(frozen=True, slots=True)
class FacetRequest:
    schema: tantivy.Schema
    base: Query  # the match set with ranges and types, before keyword filters
    filters: Mapping[str, Query]  # one narrowing query per filtered keyword field
    selected: Mapping[str, Sequence[str]]
    facets: Sequence[str]
    size: int


def facet_counts(
    searcher: tantivy.Searcher, req: FacetRequest
) -> tuple[dict[str, list[FacetValue]], dict[str, str]]:
    groups: dict[tuple[str, ...], list[str]] = {}
    for name in dict.fromkeys(req.facets):
        applied = tuple(f for f in req.filters if f != name)
        groups.setdefault(applied, []).append(name)
    out: dict[str, list[FacetValue]] = {}
    errors: dict[str, str] = {}
    for applied, names in groups.items():
        query = all_of([req.base, *(req.filters[f] for f in applied)])
        try:
            counted = _count_exactly(searcher, query, names, req.size)
        except Exception as exc:  # one failing pass must not fail the search
            for name in names:
                errors[name] = f"{type(exc).__name__}: {exc}"
            continue
        for name in names:
            try:
                out[name] = _with_selected(searcher, query, name, counted[name], req)
            except Exception as exc:  # noqa: BLE001 - reported beside the results
                errors[name] = f"{type(exc).__name__}: {exc}"
    return {name: out[name] for name in req.facets if name in out}, errors


def _count_exactly(
    searcher: tantivy.Searcher, query: Query, names: Sequence[str], size: int
) -> dict[str, list[tuple[str, int]]]:
    pending = list(names)
    ask = {name: size * 2 + 10 for name in names}
    segment = dict.fromkeys(names, SEGMENT_VALUES)
    done: dict[str, list[tuple[str, int]]] = {}
    while pending:
        spec = {
            name: {"terms": {"field": ts.keyword_field(name), "size": ask[name], "segment_size": segment[name]}}
            for name in pending
        }
        result = searcher.aggregate(query, spec)
        retry = []
        for name in pending:
            agg = result[name]
            buckets = sorted(((str(b["key"]), int(b["doc_count"])) for b in agg["buckets"]), key=_order)
            if agg.get("doc_count_error_upper_bound", 0) and segment[name] < MAX_VALUES:
                segment[name] = MAX_VALUES
                retry.append(name)
            elif _cut_may_hide_a_tie(buckets, agg, size) and ask[name] < MAX_VALUES:
                ask[name] *= 8
                segment[name] = max(segment[name], ask[name])
                retry.append(name)
            else:
                done[name] = buckets[:size]
        pending = retry
    return done


def _order(bucket: tuple[str, int]) -> tuple[int, str]:
    return (-bucket[1], bucket[0])


def _cut_may_hide_a_tie(buckets: list[tuple[str, int]], agg: Mapping[str, object], size: int) -> bool:
    """True when values were left out that could tie the last one kept (a value left
    out counts at most as many documents as the least one returned)."""
    if not agg.get("sum_other_doc_count"):
        return False
    if len(buckets) < size:
        return True
    return buckets[-1][1] >= buckets[size - 1][1]


def _with_selected(
    searcher: tantivy.Searcher,
    query: Query,
    name: str,
    counted: list[tuple[str, int]],
    req: FacetRequest,
) -> list[FacetValue]:
    selected = list(dict.fromkeys(req.selected.get(name, ())))
    listed = {value for value, _ in counted}
    extra = []
    for value in selected:
        if value not in listed:
            term = Query.term_query(req.schema, ts.keyword_field(name), value)
            extra.append((value, ts.count(searcher, all_of([query, term]))))
    chosen = set(selected)
    return [FacetValue(v, c, v in chosen) for v, c in counted + sorted(extra, key=_order)]

