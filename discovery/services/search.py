"""The search service: one function behind GET/POST /api/search, the UI and the CLI.

It turns a request into backend-neutral queries: keyword goes straight to the engine;
semantic and hybrid first ask the engine for vector neighbours above their model's floor
(`fusion.semantic_floor`), among what the caller's view may see but under none of the
caller's filters, then query the engine once more with those ids as part of the match
set, narrowed by the filters there. One match set per request: total, hits, facets and
the cursor are all computed over it. Hybrid relevance is a reciprocal rank fusion of the
text ranking and the vector ranking; semantic hits carry their cosine.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import numpy as np

from discovery.domain import DocType, JSONObject
from discovery.errors import GenerationMoved, InvalidQuery
from discovery.services.asset_titles import title_asset_hits
from discovery.services.catalog import hide_unlisted
from discovery.services.clip_generation import moved_or_nothing, with_clip
from discovery.services.context import Context
from discovery.services.fusion import above_floor, rrf
from discovery.store.index.base import Hit, Range, SearchQuery, SearchResult, SortKey, VectorField
from discovery.store.index.documents import KEYWORD_FIELDS

if TYPE_CHECKING:
    from models.clip import ClipModel

Mode = Literal["keyword", "semantic", "hybrid"]
Body = dict[str, object]  # a response body, serialised by the HTTP edge
TypeParam = Literal["product", "asset", "all"]
SORTS: tuple[SortKey, ...] = ("relevance", "price", "-price", "newest", "name", "popular")
# Fields a shopper-facing (public) caller may never filter or facet on.
INTERNAL_FIELDS = frozenset({"tags_suggested", "phash", "status", "listed", "collections"})
HYBRID_WINDOW = 200  # how deep the text ranking is fused with the vector ranking
SEMANTIC_SET_CAP = 500  # the most semantic matches one model adds to a match set
# How deep page/size may reach; beyond it the cursor pages on. OpenSearch refuses a
# from + size over its max_result_window (10,000), so both engines stop here alike.
MAX_PAGE_WINDOW = 10_000


@dataclass(frozen=True, slots=True)
class SearchRequest:
    q: str = ""
    type: TypeParam = "product"
    mode: Mode = "hybrid"
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ranges: Mapping[str, Range] = field(default_factory=dict)
    facets: tuple[str, ...] = ()
    facet_size: int | None = None
    sort: SortKey = "relevance"
    page: int = 1
    size: int = 20
    cursor: str | None = None
    channel: str | None = None
    locale: str | None = None


def _types(type_param: str) -> tuple[DocType, ...]:
    if type_param == "all":
        return ("product", "asset")
    if type_param in ("product", "asset"):
        return (type_param,)  # type: ignore[return-value]
    raise InvalidQuery(f"type must be product, asset or all, not {type_param!r}", field="type")


def _validate(req: SearchRequest, *, public: bool, max_size: int, max_window: int) -> None:
    if req.sort not in SORTS:
        raise InvalidQuery(f"sort must be one of {', '.join(SORTS)}", field="sort")
    if req.mode not in ("keyword", "semantic", "hybrid"):
        raise InvalidQuery("mode must be keyword, semantic or hybrid", field="mode")
    if not 1 <= req.size <= max_size:
        raise InvalidQuery(f"size must be between 1 and {max_size}", field="size")
    if req.page < 1 or (req.page > 1 and req.page * req.size > max_window):
        # Offset paging costs the engine every hit before the page; the cursor does not.
        raise InvalidQuery(
            f"page * size may reach the first {max_window} hits only (page {req.page} of size {req.size} reaches "
            f"{req.page * req.size}); to go deeper, follow the `cursor` each page answers with",
            field="page",
        )
    if len(req.q) > 1000:
        raise InvalidQuery("q is longer than 1000 characters", field="q")
    for name in (*req.filters, *req.facets):
        if name not in KEYWORD_FIELDS or (public and name in INTERNAL_FIELDS):
            raise InvalidQuery(f"unknown filter or facet field {name!r}", field=name)


def encode_cursor(data: JSONObject) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


# A cursor this service issues is a flat object of a few sort values: far under these.
MAX_CURSOR_CHARS = 4096
MAX_CURSOR_DEPTH = 8


def _nesting(text: bytes) -> int:
    """How deep the brackets of a JSON text go (strings skipped), without parsing it:
    json recurses per level and a few thousand levels end in RecursionError."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def decode_cursor(cursor: str) -> JSONObject:
    """The cursor's values; InvalidQuery (400) for anything this service did not issue,
    checked for size and nesting before it is parsed."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidQuery(
            f"cursor is longer than {MAX_CURSOR_CHARS} characters: not one this service issued", field="cursor"
        )
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode())
        if _nesting(raw) > MAX_CURSOR_DEPTH:
            raise ValueError("nested too deep")
        data = json.loads(raw)
    except (ValueError, binascii.Error, RecursionError) as exc:
        raise InvalidQuery("cursor is not one this service issued", field="cursor") from exc
    if not isinstance(data, dict):
        raise InvalidQuery("cursor is not one this service issued", field="cursor")
    return data


def _view_filters(req: SearchRequest, *, public: bool) -> tuple[dict[str, tuple[str, ...]], dict[str, Range]]:
    """The caller's filters plus what the public view demands (the rule `catalog` applies
    to single records): only listed products (approved), only assets whose rights have not
    expired (checked against the clock now, not at index time) and allow the caller's
    channel; without a channel, only assets no channel restricts."""
    filters = {k: tuple(v) for k, v in req.filters.items() if v}
    ranges = dict(req.ranges)
    if public:
        now = datetime.now(UTC).isoformat()
        ranges["rights_expires_at"] = Range(now, None)
        filters.pop("rights_status", None)
        filters["listed"] = ("true",)
        filters["rights_channels"] = ("*", req.channel) if req.channel else ("*",)
    return filters, ranges


@dataclass(slots=True)
class Semantic:
    """A request's semantic matches: ids best first (fused across models when a request
    spans products and assets), each one's cosine under its own model, the models used."""

    ids: list[str] = field(default_factory=list)
    cosine: dict[str, float] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)


def _semantic_matches(ctx: Context, req: SearchRequest, types: tuple[DocType, ...], *, public: bool) -> Semantic:
    """The vector neighbours that join the match set: those above their model's floor
    (`fusion.semantic_floor`), among the documents the caller's view may see.

    The caller's own filters are not applied here but by the engine, to text and vector
    matches alike: the match set is then the same whatever is ticked, so each facet's
    disjunctive count (under the other selections) is what ticking the value would show."""
    view_filters, view_ranges = _view_filters(replace(req, filters={}, ranges={}), public=public)
    s = ctx.settings.search
    found = Semantic()
    rankings: list[list[str]] = []

    def neighbours(
        vec: np.ndarray, field_name: VectorField, model: str, doc_type: DocType, floor: float, ratio: float
    ) -> None:
        try:
            hits = ctx.backend.knn(
                vec.tolist(),
                field=field_name,
                model=model,
                k=SEMANTIC_SET_CAP,
                types=(doc_type,),
                filters=view_filters,
                ranges=view_ranges,
                min_score=floor,
                strict_model=field_name == "image_vector",  # image generations follow a switch
            )
        except GenerationMoved as moved:
            moved_or_nothing(ctx, moved)
            hits = []  # the index holds other models' vectors only: nothing of this model is near
        kept = above_floor([(h.id, h.score) for h in hits], floor=floor, ratio=ratio)
        rankings.append([doc_id for doc_id, _ in kept])
        found.cosine.update(kept)

    if "product" in types:
        text_model = ctx.text()
        if text_model is not None:
            model = f"{text_model.name}@{text_model.version}"
            neighbours(
                text_model.encode([req.q])[0], "text_vector", model, "product", s.semantic_floor, s.semantic_ratio
            )
            found.models["text"] = model
    # The tiny random-weight CLIP ranks noise: in hybrid mode it would pad every asset
    # search with unrelated images, so only an explicit semantic request uses it, and
    # with no floor, since its cosines carry no meaning.
    clip_tiny = "asset" in types and getattr(ctx.clip(), "is_tiny", False)
    if "asset" in types and (req.mode == "semantic" or not clip_tiny):
        floor, ratio = (-1.0, 0.0) if clip_tiny else (s.clip_floor, s.clip_ratio)

        def image_neighbours(clip: ClipModel) -> None:
            # Appends only once the engine answered: a retry after a generation swap adds one ranking.
            neighbours(clip.encode_texts([req.q])[0], "image_vector", clip.model_id, "asset", floor, ratio)
            found.models["clip"] = clip.model_id

        with_clip(ctx, image_neighbours)
    if len(rankings) == 1:
        found.ids = rankings[0]
    elif rankings:
        found.ids = [doc_id for doc_id, _ in rrf(rankings, k=s.rrf_k)]
    return found


def search(ctx: Context, req: SearchRequest, *, public: bool = False) -> Body:
    """Run a search request and shape the public response (DESIGN.md "search")."""
    started = time.perf_counter()
    limits = ctx.settings.search
    _validate(req, public=public, max_size=limits.max_size, max_window=limits.max_offset)
    types = _types(req.type)
    filters, ranges = _view_filters(req, public=public)
    text = req.q.strip()
    mode: Mode = req.mode if text else "keyword"
    semantic = _semantic_matches(ctx, req, types, public=public) if mode != "keyword" else Semantic()

    base = SearchQuery(
        text=text,
        types=types,
        text_match=mode != "semantic",
        include_ids=tuple(semantic.ids),
        filters=filters,
        ranges=ranges,
        facets=req.facets,
        facet_size=req.facet_size or ctx.settings.search.facet_size,
        sort=req.sort,
        size=req.size,
        locale=req.locale,
        track_total_limit=ctx.settings.search.track_total_limit,
        synonyms=ctx.synonyms,
    )
    cursor = decode_cursor(req.cursor) if req.cursor else None
    if mode == "hybrid" and req.sort == "relevance" and semantic.ids:
        result, hits, next_cursor = _hybrid_page(ctx, base, req, semantic.ids, cursor)
    else:
        result, hits, next_cursor = _plain_page(ctx, base, req, cursor)
        if mode == "semantic":
            for hit in hits:  # the engine ranks include-only documents without a score
                hit.score = semantic.cosine.get(hit.id, 0.0)
    body = _response(ctx, req, result, hits, next_cursor, semantic.models, mode, public, started)
    if public:
        hide_unlisted(ctx, body["hits"])  # type: ignore[arg-type]
    title_asset_hits(ctx, body["hits"])  # type: ignore[arg-type]
    return body


def _plain_page(
    ctx: Context, base: SearchQuery, req: SearchRequest, cursor: JSONObject | None
) -> tuple[SearchResult, list[Hit], str | None]:
    if cursor and cursor.get("after") is not None:
        after = cursor["after"]
        if not isinstance(after, list):
            raise InvalidQuery("cursor is not one this service issued", field="cursor")
        query = replace(base, search_after=tuple(after), offset=0)  # type: ignore[arg-type]
    else:
        query = replace(base, offset=(req.page - 1) * req.size)
    result = ctx.backend.search(query)
    next_cursor = None
    if len(result.hits) == req.size and result.hits[-1].sort_values:
        consumed = query.offset + len(result.hits)
        if cursor or consumed < result.total or result.total_is_lower_bound:
            next_cursor = encode_cursor({"after": list(result.hits[-1].sort_values)})
    return result, result.hits, next_cursor


def _hybrid_page(
    ctx: Context, base: SearchQuery, req: SearchRequest, vector_ids: list[str], cursor: JSONObject | None
) -> tuple[SearchResult, list[Hit], str | None]:
    """Rank the whole match set (text matches OR semantic matches, narrowed by the
    filters), then cut the page.

    The order: first the reciprocal rank fusion of the best HYBRID_WINDOW text matches
    with the semantic matches that pass the filters; then the remaining text matches in
    text order. Every fused document scores at least 1 / (k + HYBRID_WINDOW), more than
    any text match beyond the window, so the order is the same from every page, and it
    lists every document that `total` and the facets count."""
    offset = _cursor_offset(cursor) if cursor else (req.page - 1) * req.size
    # Deep enough for the page even when every fused document comes first. Only ids
    # come back (no stored fields, no highlights): the page's documents are read after.
    depth = min(MAX_PAGE_WINDOW, HYBRID_WINDOW + offset + req.size + len(vector_ids))
    result = ctx.backend.search(replace(base, offset=0, size=depth, highlight=False, stored=False))
    text_ranking = [h.id for h in result.hits if h.text_matched]
    passing = _passing(ctx, base, vector_ids)
    fused = rrf([text_ranking[:HYBRID_WINDOW], [i for i in vector_ids if i in passing]], k=ctx.settings.search.rrf_k)
    seen = {doc_id for doc_id, _ in fused}
    order = fused + [(doc_id, 0.0) for doc_id in text_ranking[HYBRID_WINDOW:] if doc_id not in seen]
    # A text match beyond the window scores what fusion would give its text rank alone.
    k = ctx.settings.search.rrf_k
    rank = {doc_id: r for r, doc_id in enumerate(text_ranking, start=1)}
    order = [(d, s if s else 1.0 / (k + rank[d])) for d, s in order]
    page = order[offset : offset + req.size]
    shown = _page_hits(ctx, base, [doc_id for doc_id, _ in page])
    matched = set(text_ranking)
    hits = []
    for doc_id, score in page:
        hit = shown.get(doc_id)
        if hit is None:  # deleted between the searches
            continue
        hit.score, hit.text_matched = score, doc_id in matched
        hits.append(hit)
    more = offset + len(page) < min(len(order), result.total)
    next_cursor = encode_cursor({"offset": offset + len(page)}) if more else None
    return result, hits, next_cursor


def _passing(ctx: Context, base: SearchQuery, ids: list[str]) -> set[str]:
    """Which of these documents pass the request's filters (ids only, no facets)."""
    if not ids:
        return set()
    narrowed = replace(
        base, text_match=False, include_ids=tuple(ids), only_ids=tuple(ids), offset=0, size=len(ids),
        facets=(), highlight=False, stored=False, sort="relevance", search_after=None,
    )  # fmt: skip
    return {h.id for h in ctx.backend.search(narrowed).hits}


def _page_hits(ctx: Context, base: SearchQuery, ids: list[str]) -> dict[str, Hit]:
    """The page's documents, with highlights for their text matches, from one search
    narrowed to them."""
    if not ids:
        return {}
    narrowed = replace(base, offset=0, size=len(ids), include_ids=tuple(ids), only_ids=tuple(ids), facets=())
    return {h.id: h for h in ctx.backend.search(narrowed).hits}


def _cursor_offset(cursor: JSONObject) -> int:
    # A cursor comes back from the caller: anything but the offset we issued is refused.
    offset = cursor.get("offset", 0)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidQuery("cursor is not one this service issued", field="cursor")
    return offset


def _response(
    ctx: Context,
    req: SearchRequest,
    result: SearchResult,
    hits: list[Hit],
    next_cursor: str | None,
    models_used: dict[str, str],
    mode: Mode,
    public: bool,
    started: float,
) -> Body:
    out_hits: list[Body] = []
    for hit in hits:
        item: Body = dict(hit.stored)
        item.update(
            {
                "type": hit.type,
                "id": hit.key,
                "score": round(float(hit.score), 6),
                "title": str(hit.stored.get("title") or hit.key),
                "thumbnail": hit.stored.get("thumbnail"),
                "highlights": {
                    f: [{"text": h.text, "offsets": [list(o) for o in h.offsets]} for h in hs]
                    for f, hs in hit.highlights.items()
                },
            }
        )
        out_hits.append(item)
    facets: Body = {
        name: [{"value": v.value, "count": v.count, "selected": v.selected} for v in values]
        for name, values in result.facets.items()
    }
    body: Body = {
        "total": result.total,
        "total_is_lower_bound": result.total_is_lower_bound,
        "hits": out_hits,
        "facets": facets,
        "cursor": next_cursor,
        "mode": mode,
        "model": models_used,
        "took_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    if result.facet_errors:
        body["facet_errors"] = dict(result.facet_errors)
    return body


def view_filters(
    filters: Mapping[str, tuple[str, ...]], ranges: Mapping[str, Range], *, public: bool, channel: str | None
) -> tuple[dict[str, tuple[str, ...]], dict[str, Range]]:
    """The caller's filters and ranges plus what the public view demands (as a search
    applies them); image results use it for their kNN and their facet query."""
    return _view_filters(SearchRequest(filters=filters, ranges=ranges, channel=channel), public=public)
