"""Answer a `SearchQuery` from one tantivy searcher (see `SearchQuery` for semantics).

The match set is `text OR include_ids` (or everything), narrowed by types, ranges and
filters. Relevance order is text hits by (score, id), then documents matched only
through `include_ids`, in the order given. Other sorts read one precomputed key
(`sortkeys`). Only the page's documents are read back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import tantivy
from tantivy import Occur, Order, Query

from discovery.domain import JSONScalar
from discovery.errors import InvalidQuery
from discovery.store.index import sortkeys
from discovery.store.index import tantivy_schema as ts
from discovery.store.index.base import Hit, IndexDoc, SearchQuery, SearchResult
from discovery.store.index.documents import canonical_filters, check_fields
from discovery.store.index.highlights import WordMatcher, highlight_fields
from discovery.store.index.tantivy_facets import FacetRequest, start_facets
from discovery.store.index.tantivy_query import QueryBuilder, TextQuery, all_of, any_of
from discovery.store.index.tantivy_ranking import cursor_address, ranked_window


@dataclass(frozen=True, slots=True)
class Plan:
    words: list[str]
    text: TextQuery | None  # when text is matched
    ids: Query | None
    everything: bool  # no text, no ids: every document of the types
    scope: list[Query]  # types and ranges
    filters: dict[str, Query]
    selected: dict[str, tuple[str, ...]]  # the filters' values as the index holds them

    @property
    def match(self) -> Query:
        """The match set, unscored (for counts, facets and field sorts)."""
        if self.everything:
            return Query.all_query()
        return any_of([q for q in (self.text.matching if self.text else None, self.ids) if q is not None])

    def narrowed(self, match: Query) -> Query:
        return all_of([match, *self.scope, *self.filters.values()])


@dataclass(slots=True)
class Page:
    docs: list[tuple[IndexDoc, float, tuple[JSONScalar, ...], bool]]  # doc, score, sort values, text matched
    total: int


def plan(builder: QueryBuilder, q: SearchQuery) -> Plan:
    check_fields(q.filters, q.ranges, q.facets)
    has_text = bool(q.text.strip())
    words = builder.words(q.text) if has_text else []
    text = builder.text(words, q.locale, q.types, q.synonyms) if has_text and q.text_match else None
    ids = builder.ids(q.include_ids) if q.include_ids else None
    # The text match is already of the wanted types; only ids and "everything" need the filter.
    typed = builder.types(q.types) if text is None or ids is not None else None
    scope = [typed] if typed is not None else []
    scope += [r for name, rng in q.ranges.items() if (r := builder.range(name, rng)) is not None]
    if q.only_ids is not None:
        scope.append(builder.ids(q.only_ids) if q.only_ids else Query.empty_query())
    # A field given no values constrains nothing.
    selected = {name: values for name, values in canonical_filters(q.filters).items() if values}
    filters = {name: builder.keyword(name, list(values)) for name, values in selected.items()}
    return Plan(words, text, ids, not has_text and not q.include_ids, scope, filters, selected)


Namer = Callable[[Sequence[int]], list[str | None]]  # ids by id hash, None where unknown


def execute(
    searcher: tantivy.Searcher,
    builder: QueryBuilder,
    analyzer: tantivy.TextAnalyzer,
    q: SearchQuery,
    pool: Executor | None = None,
    names: Namer | None = None,
) -> SearchResult:
    """Answer `q`. `names`, when given, names hits by their id hash where it can, so that
    a window of hits without stored fields (`q.stored` false) reads no documents."""
    started = time.perf_counter()
    if q.offset < 0 or q.size < 0 or q.facet_size < 1:
        raise InvalidQuery("offset and size must be >= 0, facet_size >= 1", field="size")
    p = plan(builder, q)
    facets = None
    if q.facets:
        base = all_of([p.match, *p.scope])
        share = _share(searcher, builder, p, q)
        request = FacetRequest(builder.schema, base, p.filters, p.selected, q.facets, q.facet_size, share)
        facets = start_facets(searcher, request, pool)
    if q.sort == "relevance" and not p.everything:
        page = _relevance_page(searcher, builder, p, q, names)
    else:
        spec = sortkeys.spec_for("id" if q.sort == "relevance" else q.sort)
        page = _key_page(searcher, builder, p, q, spec)
    hits = _hits(page, p, q, analyzer)
    counted, errors = facets() if facets is not None else ({}, {})
    limit = q.track_total_limit
    return SearchResult(
        total=min(page.total, limit),
        total_is_lower_bound=page.total > limit,
        hits=hits,
        facets=counted,
        facet_errors=errors,
        took_ms=(time.perf_counter() - started) * 1000,
    )


def _share(searcher: tantivy.Searcher, builder: QueryBuilder, p: Plan, q: SearchQuery) -> float:
    """Roughly which share of the index the facets count over: the text's, plus the
    listed ids (a semantic search's candidates)."""
    share = 0.0
    if p.text is not None or p.everything:
        share = builder.share(p.words if p.text is not None else [], q.types, p.selected)
    if p.ids is not None:
        share += len(q.include_ids) / max(1, searcher.num_docs)
    return share


def _key_page(
    searcher: tantivy.Searcher, builder: QueryBuilder, p: Plan, q: SearchQuery, spec: sortkeys.SortSpec
) -> Page:
    narrowed = p.narrowed(p.match)
    query = narrowed
    if q.search_after is not None:
        query = all_of([narrowed, builder.after(spec, sortkeys.cursor_key(spec, tuple(q.search_after)))])
    result = searcher.search(
        query, limit=max(1, q.size), offset=q.offset, count=True, order_by_field=spec.field, order=Order.Asc
    )
    total = ts.result_count(result)
    if q.search_after is not None:
        total = _count(searcher, narrowed)
    docs = [ts.stored_doc(searcher, a) for _, a in result.hits][: q.size]
    matched = _text_matched(searcher, builder, p, docs)
    score = 1.0 if p.everything else 0.0
    return Page([(d, score, sortkeys.sort_values(spec, d), d.id in matched) for d in docs], total)


def _text_matched(searcher: tantivy.Searcher, builder: QueryBuilder, p: Plan, docs: list[IndexDoc]) -> set[str]:
    if p.everything or (p.text is not None and p.ids is None):
        return {d.id for d in docs}
    if p.text is None or not docs:
        return set()
    query = all_of([p.text.matching, builder.ids([d.id for d in docs])])
    return {ts.stored_id(searcher, a) for _, a in searcher.search(query, limit=len(docs)).hits}


def _relevance_page(
    searcher: tantivy.Searcher, builder: QueryBuilder, p: Plan, q: SearchQuery, names: Namer | None
) -> Page:
    after = _relevance_cursor(q.search_after)
    extra = _include_only(searcher, p, q)
    out: list[tuple[IndexDoc, float, tuple[JSONScalar, ...], bool]] = []
    skip, count_text = q.offset, 0
    if p.text is not None:
        text_query = p.narrowed(p.text.scored)
        if after is not None and after[0] is None:
            count_text = _count(searcher, p.narrowed(p.text.matching))  # the cursor is past every text hit
        else:
            cursor = None
            if after is not None and after[0] is not None:
                cursor = (after[0], cursor_address(searcher, all_of([text_query, builder.ids([after[1]])])))
            window = ranked_window(searcher, text_query, skip=skip, size=q.size, after=cursor)
            count_text = window.count
            docs = _read(searcher, [a for _, a in window.hits], q.stored, names)
            out += [(doc, score, (score, doc.id), True) for doc, (score, _) in zip(docs, window.hits, strict=True)]
            skip = max(0, skip - (count_text - window.before))
    rest = extra
    if after is not None and after[0] is None:
        position = next((i for i, (doc_id, _) in enumerate(extra) if doc_id == after[1]), len(extra))
        rest = extra[position + 1 :]
    room = q.size - len(out)
    for doc_id, address in rest[skip : skip + room] if room > 0 else []:
        doc = ts.stored_doc(searcher, address) if q.stored else _listed(searcher, address, doc_id)
        out.append((doc, 0.0, (None, doc.id), False))
    return Page(out, count_text + len(extra))


def _read(
    searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress], stored: bool, names: Namer | None
) -> list[IndexDoc]:
    """The documents at `addresses`; without `stored`, named from their id hash where
    `names` knows it (reading 200 documents for their ids was 2.4 ms of a hybrid search)."""
    if stored:
        return [ts.stored_doc(searcher, a) for a in addresses]
    hashes = [int(h) if h is not None else 0 for h in searcher.fast_field_values(ts.ID_HASH, addresses)]
    known = names(hashes) if names is not None else [None] * len(addresses)
    return [_listed(searcher, address, doc_id) for doc_id, address in zip(known, addresses, strict=True)]


def _listed(searcher: tantivy.Searcher, address: tantivy.DocAddress, doc_id: str | None) -> IndexDoc:
    """Id, type and key: from the id when it is known and names them, else from the
    document (its stored id, or its body for an id of another form)."""
    if doc_id is None:
        return ts.listed_doc(searcher, address)
    return ts.named_doc(doc_id) or ts.stored_doc(searcher, address)


def _include_only(searcher: tantivy.Searcher, p: Plan, q: SearchQuery) -> list[tuple[str, tantivy.DocAddress]]:
    """Documents matched only through `include_ids`, in the order given."""
    if p.ids is None:
        return []
    query = p.narrowed(p.ids)
    if p.text is not None:
        query = Query.boolean_query([(Occur.Must, query), (Occur.MustNot, p.text.matching)])
    found = [a for _, a in searcher.search(query, limit=max(1, len(q.include_ids))).hits]
    # Found documents are named by their id hash (a fast field) rather than by reading
    # each stored document: kNN passes hundreds of candidates here.
    by_hash = {ts.id_hash(doc_id): doc_id for doc_id in q.include_ids}
    rank = {doc_id: i for i, doc_id in reversed(list(enumerate(q.include_ids)))}
    hashes = [int(h) if h is not None else -1 for h in searcher.fast_field_values(ts.ID_HASH, found)]
    pairs = [(by_hash[h], a) for h, a in zip(hashes, found, strict=True) if h in by_hash]
    return sorted(pairs, key=lambda pair: rank[pair[0]])


def _relevance_cursor(after: tuple[JSONScalar, ...] | None) -> tuple[float | None, str] | None:
    if after is None:
        return None
    if len(after) != 2 or not isinstance(after[1], str) or not (
        after[0] is None or (isinstance(after[0], int | float) and not isinstance(after[0], bool))
    ):
        raise InvalidQuery("search_after does not fit relevance order", field="search_after")
    return (None if after[0] is None else float(after[0]), after[1])


def _count(searcher: tantivy.Searcher, query: Query) -> int:
    return ts.count(searcher, query)


def _hits(page: Page, p: Plan, q: SearchQuery, analyzer: tantivy.TextAnalyzer) -> list[Hit]:
    matcher = None
    if q.highlight and p.words:
        also = [w for g in q.synonyms.groups(p.words) for a in g.alternatives for w in a] if q.synonyms else []
        matcher = WordMatcher(p.words, stem=ts.stem, also=also)
    tokens = ts.AnalyzerTokens(analyzer)
    hits = []
    for doc, score, values, matched in page.docs:
        hit = Hit(doc.id, doc.type, doc.key, score, doc.stored, sort_values=values, text_matched=matched)
        if matcher is not None and matched:
            hit.highlights = highlight_fields(doc.text, matcher, tokens)
            localized = doc.locale_text.get(q.locale) if q.locale else None
            if localized:
                hit.highlights.update(highlight_fields(localized, matcher, tokens))  # the reader's language wins
        hits.append(hit)
    return hits
