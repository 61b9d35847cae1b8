"""Answer a `SearchQuery` with one OpenSearch search request (see `SearchQuery`).

Request shape (the standard disjunctive faceting of opensearch-py's faceted_search):
`query` holds the match set (`text OR include_ids`, or everything) with types, ranges and
filters on fields that are not facets; filters on facet fields go to `post_filter`, so
they narrow the hits but not the aggregations; facet F is a `filter` aggregation of every
other selected facet field wrapping a `terms` aggregation, plus a `filters` aggregation
counting F's selected values so they are listed even when outside the top N or at 0.

Relevance orders text hits by score, then documents matched only through `include_ids`
(scored 0) in the order given (a sort script reads their rank), with the id as the last
tie-break; the other sorts order by one field, missing values last, then the id.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from discovery.domain import JSONScalar
from discovery.errors import InvalidQuery
from discovery.store.index import opensearch_mapping as om
from discovery.store.index import opensearch_query as oq
from discovery.store.index.base import FacetValue, Highlight, Hit, SearchQuery
from discovery.store.index.documents import TEXT_WEIGHTS, canonical_filters, check_fields
from discovery.store.index.highlights import fragment

Clause = dict[str, Any]

SORT_FIELDS: Mapping[str, tuple[str, str]] = {
    "price": ("numbers.price", "asc"),
    "-price": ("numbers.price", "desc"),
    "newest": ("dates.updated_at", "desc"),
    "name": ("sort_name", "asc"),
    "popular": ("numbers.popularity", "desc"),
}
ID_ORDER: Clause = {"id": {"order": "asc"}}
# The position of an include-only document in `include_ids` (painless, compiled once).
RANK_SCRIPT = "String id = doc['id'].value; return params.rank.containsKey(id) ? params.rank[id] : params.n;"
HIT_SOURCE = ["type", "key", "stored"]
LISTED_SOURCE = ["type", "key"]  # a ranking window: no stored fields
_LOCALE = re.compile(r"^[A-Za-z0-9_-]{1,35}$")
_NUMERIC_SORT_KEYS = ("numbers.", "dates.", "_score", "_script")


@dataclass(frozen=True, slots=True)
class Plan:
    """A query rendered: the request body, and what reading its answer needs."""

    body: dict[str, Any]
    words: list[str]
    highlighted: dict[str, str]  # OpenSearch field -> highlight key
    selected: Mapping[str, tuple[str, ...]]
    facets: tuple[str, ...]
    key_sort: bool
    everything: bool
    skip: int  # hits to drop from the answer (an offset together with a cursor)
    markers: tuple[str, str]


def plan(q: SearchQuery) -> Plan:
    check_fields(q.filters, q.ranges, q.facets)
    _check_locale(q.locale)
    if q.offset < 0 or q.size < 0 or q.facet_size < 1:
        raise InvalidQuery("offset and size must be >= 0, facet_size >= 1", field="size")
    has_text = bool(q.text.strip())
    ws = oq.words(q.text) if has_text else []
    text = oq.text_query(ws, q.locale, q.synonyms) if has_text and q.text_match else None
    everything = not has_text and not q.include_ids
    # As the index holds them (`XL` for `xl`); no values: no constraint.
    filters = {name: values for name, values in canonical_filters(q.filters).items() if values}
    facet_fields = set(q.facets)
    query_filters = oq.scope(q.types, q.ranges)
    query_filters += [oq.keyword(n, v) for n, v in filters.items() if n not in facet_fields]
    if q.only_ids is not None:
        query_filters.append(oq.ids(q.only_ids))
    post = {n: oq.keyword(n, v) for n, v in filters.items() if n in facet_fields}
    body: dict[str, Any] = {
        "query": _match(text, q.include_ids, everything, query_filters),
        "track_total_hits": q.track_total_limit,
        "_source": HIT_SOURCE if q.stored else LISTED_SOURCE,
    }
    if post:
        body["post_filter"] = oq.all_of(list(post.values()))
    if q.facets:
        body["aggs"] = facet_aggs(q.facets, post, filters, q.facet_size)
    key_sort = q.sort != "relevance" or everything
    body["sort"] = _sort(q, everything)
    skip = _page(body, q)
    markers = (f"\ue000{secrets.token_hex(4)}\ue001", f"\ue002{secrets.token_hex(4)}\ue003")
    highlighted: dict[str, str] = {}
    if q.highlight and text is not None and ws:
        highlighted = _highlight(body, ws, q, markers)
    return Plan(body, ws, highlighted, filters, tuple(dict.fromkeys(q.facets)), key_sort, everything, skip, markers)


def _check_locale(locale: str | None) -> None:
    # The locale becomes part of field names: letters, digits, '-' and '_' only.
    if locale is not None and not _LOCALE.match(locale):
        raise InvalidQuery(f"malformed locale {locale!r}", field="locale")


def _match(text: Clause | None, include_ids: Sequence[str], everything: bool, filters: list[Clause]) -> Clause:
    if everything:
        return oq.all_of(filters) if filters else {"match_all": {}}
    options: list[Clause] = [text] if text is not None else []
    if include_ids:
        # Score 0: documents matched only through include_ids rank after every text hit.
        options.append({"constant_score": {"filter": oq.ids(include_ids), "boost": 0.0}})
    if not options:
        return {"match_none": {}}
    return {"bool": {"should": options, "minimum_should_match": 1, "filter": filters}}


def _sort(q: SearchQuery, everything: bool) -> list[Any]:
    if q.sort == "relevance":
        if everything:
            return [ID_ORDER]
        order: list[Any] = [{"_score": {"order": "desc"}}]
        if q.include_ids:
            rank = {doc_id: i for i, doc_id in reversed(list(enumerate(q.include_ids)))}
            script = {"source": RANK_SCRIPT, "params": {"rank": rank, "n": len(rank)}}
            order.append({"_script": {"type": "number", "order": "asc", "script": script}})
        return [*order, ID_ORDER]
    try:
        field, direction = SORT_FIELDS[q.sort]
    except KeyError:
        raise InvalidQuery(f"unknown sort {q.sort!r}", field="sort") from None
    return [{field: {"order": direction, "missing": "_last"}}, ID_ORDER]


def _page(body: dict[str, Any], q: SearchQuery) -> int:
    """Sets from/size/search_after; OpenSearch refuses `from` beside a cursor, so an
    offset after a cursor is fetched and dropped here."""
    if q.search_after is None:
        body["from"], body["size"] = q.offset, q.size
        return 0
    after = list(q.search_after)
    if not _after_fits(after, body["sort"]):
        raise InvalidQuery("search_after does not fit this sort", field="search_after")
    body["search_after"], body["size"] = after, q.offset + q.size
    return q.offset


def _after_fits(after: Sequence[object], sort: Sequence[Any]) -> bool:
    """Whether search_after (it comes back from a caller inside a cursor) has one value of
    the right kind per sort key. OpenSearch answers a wrong kind with a 400 and a null on a
    numeric key with a 500, so neither is sent. Numeric keys carry numbers, or the
    `Infinity`/`-Infinity` OpenSearch itself gives a missing value; keyword keys a string
    or null (missing)."""
    if len(after) != len(sort):
        return False
    for value, key in zip(after, sort, strict=True):
        name = next(iter(key)) if isinstance(key, dict) else str(key)
        if name.startswith(_NUMERIC_SORT_KEYS):
            number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            if not (number or value in ("Infinity", "-Infinity")):
                return False
        elif value is not None and not isinstance(value, str):
            return False
    return True


def _highlight(body: dict[str, Any], ws: Sequence[str], q: SearchQuery, markers: tuple[str, str]) -> dict[str, str]:
    highlighted = {f"text.{name}": name for name in TEXT_WEIGHTS}
    locale = q.locale
    if locale:  # the reader's language wins over the default text of the same field
        highlighted |= {f"{om.LOCALE_TEXT}.{locale}.{name}": name for name in TEXT_WEIGHTS}
    body["highlight"] = {
        "pre_tags": [markers[0]],
        "post_tags": [markers[1]],
        "number_of_fragments": 0,  # the whole value, verbatim: offsets are computed here
        "require_field_match": True,
        "fields": {field: {"highlight_query": oq.highlight_query(field, ws, q.synonyms)} for field in highlighted},
    }
    return highlighted


def facet_aggs(facets: Sequence[str], post: Mapping[str, Clause], selected: Mapping[str, Sequence[str]], size: int
               ) -> dict[str, Any]:
    """Facet F counted under every selected filter but its own."""
    aggs: dict[str, Any] = {}
    for name in dict.fromkeys(facets):
        others = [clause for field, clause in post.items() if field != name]
        inner: dict[str, Any] = {
            "top": {
                "terms": {"field": om.keyword_path(name), "size": size, "order": [{"_count": "desc"}, {"_key": "asc"}]}
            }
        }
        chosen = list(dict.fromkeys(selected.get(name, ())))
        if chosen:
            inner["selected"] = {
                "filters": {"filters": {v: {"term": {om.keyword_path(name): v}} for v in chosen}}
            }
        aggs[facet_agg_name(name)] = {"filter": oq.all_of(others), "aggs": inner}
    return aggs


def facet_agg_name(name: str) -> str:
    return f"facet_{name}"


def read_facet(agg: Mapping[str, Any], selected: Sequence[str]) -> list[FacetValue]:
    """The top values, then any selected value that did not make the cut (with its count,
    possibly 0), so a shopper always sees what they ticked."""
    counted = [(str(b["key"]), int(b["doc_count"])) for b in agg["top"]["buckets"]]
    listed = {value for value, _ in counted}
    buckets = agg.get("selected", {}).get("buckets", {})
    extra = [(v, int(buckets.get(v, {}).get("doc_count", 0))) for v in dict.fromkeys(selected) if v not in listed]
    extra.sort(key=lambda vc: (-vc[1], vc[0]))
    chosen = set(selected)
    return [FacetValue(v, c, v in chosen) for v, c in counted + extra]


def read_hits(p: Plan, response: Mapping[str, Any]) -> list[Hit]:
    hits = []
    for raw in response["hits"]["hits"][p.skip :]:
        source = raw.get("_source", {})
        matched = p.everything or oq.TEXT_QUERY_NAME in raw.get("matched_queries", ())
        # Field sorts compute no score; the embedded engine's convention fills it.
        score = (1.0 if p.everything else 0.0) if p.key_sort else float(raw.get("_score") or 0.0)
        hit = Hit(
            id=raw["_id"],
            type=source["type"],
            key=source["key"],
            score=score,
            stored=source.get("stored", {}),
            sort_values=tuple(_scalar(v) for v in raw.get("sort", ())),
            text_matched=matched,
        )
        if matched and p.highlighted:
            hit.highlights = _read_highlights(p, raw.get("highlight", {}))
        hits.append(hit)
    return hits


def _scalar(value: Any) -> JSONScalar:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _read_highlights(p: Plan, found: Mapping[str, Sequence[str]]) -> dict[str, list[Highlight]]:
    out: dict[str, list[Highlight]] = {}
    for field, key in p.highlighted.items():  # locale fields come last and replace
        values = found.get(field)
        if values:
            marked = [h for h in (unmark(v, p.markers) for v in values) if h.offsets]
            if marked:
                out[key] = marked
    return out


def unmark(marked: str, markers: tuple[str, str]) -> Highlight:
    """The text without the markers, and where they were (character offsets), cut to a
    window around the first match when long, as the embedded engine does."""
    pre, post = markers
    text: list[str] = []
    spans: list[tuple[int, int]] = []
    length, pos = 0, 0
    while True:
        start = marked.find(pre, pos)
        if start < 0:
            text.append(marked[pos:])
            break
        end = marked.find(post, start + len(pre))
        if end < 0:  # cannot happen with the markers we send; keep the text whole
            text.append(marked[pos:])
            break
        before, inside = marked[pos:start], marked[start + len(pre) : end]
        text += [before, inside]
        length += len(before)
        spans.append((length, length + len(inside)))
        length += len(inside)
        pos = end + len(post)
    plain = "".join(text)
    return fragment(plain, spans) if spans else Highlight(plain, ())
