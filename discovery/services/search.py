"""The search service: one function behind GET/POST /api/search, the UI and the CLI.

It turns a request into backend-neutral queries: keyword goes straight to the engine;
semantic and hybrid first ask the engine for vector neighbours above a relevance floor,
then query the engine once more with those ids as part of the match set, so facets and
totals are computed over exactly the hits' own set. Hybrid relevance is a reciprocal rank
fusion of the text ranking and the vector ranking.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

import numpy as np

from discovery.domain import DocType, JSONObject
from discovery.errors import InvalidQuery
from discovery.services.context import Context
from discovery.services.fusion import rrf
from discovery.store.index.base import Hit, Range, ScoredId, SearchQuery, SearchResult, SortKey
from discovery.store.index.documents import DATE_FIELDS, KEYWORD_FIELDS, NUMBER_FIELDS

Mode = Literal["keyword", "semantic", "hybrid"]
Body = dict[str, object]  # a response body, serialised by the HTTP edge
TypeParam = Literal["product", "asset", "all"]
SORTS: tuple[SortKey, ...] = ("relevance", "price", "-price", "newest", "name", "popular")
# Fields a shopper-facing (public) caller may never filter or facet on.
INTERNAL_FIELDS = frozenset({"tags_suggested", "phash", "status"})
HYBRID_WINDOW = 200  # how deep the text and vector rankings are fused
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


def parse_range(field_name: str, text: str) -> Range:
    """`lo..hi` with either end optional; numbers for numeric fields, ISO dates for dates."""
    if ".." not in text:
        raise InvalidQuery(f"range.{field_name} must look like lo..hi, got {text!r}", field=field_name)
    lo_text, hi_text = text.split("..", 1)
    if field_name in NUMBER_FIELDS:
        try:
            lo = float(lo_text) if lo_text.strip() else None
            hi = float(hi_text) if hi_text.strip() else None
        except ValueError as exc:
            raise InvalidQuery(f"range.{field_name} needs numbers, got {text!r}", field=field_name) from exc
        # `nan`, `inf` and `1e999` parse as floats but bound nothing an engine can compare.
        if any(bound is not None and not math.isfinite(bound) for bound in (lo, hi)):
            raise InvalidQuery(f"range.{field_name} needs finite numbers, got {text!r}", field=field_name)
        return Range(lo, hi)
    if field_name in DATE_FIELDS:
        for part in (lo_text, hi_text):
            if part.strip():
                try:
                    datetime.fromisoformat(part.strip())
                except ValueError as exc:
                    raise InvalidQuery(f"range.{field_name} needs ISO dates, got {part!r}", field=field_name) from exc
        return Range(lo_text.strip() or None, hi_text.strip() or None)
    raise InvalidQuery(f"unknown range field {field_name!r}", field=field_name)


def _types(type_param: str) -> tuple[DocType, ...]:
    if type_param == "all":
        return ("product", "asset")
    if type_param in ("product", "asset"):
        return (type_param,)  # type: ignore[return-value]
    raise InvalidQuery(f"type must be product, asset or all, not {type_param!r}", field="type")


def _validate(req: SearchRequest, *, public: bool, max_size: int) -> None:
    if req.sort not in SORTS:
        raise InvalidQuery(f"sort must be one of {', '.join(SORTS)}", field="sort")
    if req.mode not in ("keyword", "semantic", "hybrid"):
        raise InvalidQuery("mode must be keyword, semantic or hybrid", field="mode")
    if not 1 <= req.size <= max_size:
        raise InvalidQuery(f"size must be between 1 and {max_size}", field="size")
    if req.page < 1 or req.page * req.size > MAX_PAGE_WINDOW:
        raise InvalidQuery(
            f"page * size must stay within the first {MAX_PAGE_WINDOW} hits; use the cursor to go deeper", field="page"
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
    """The caller's filters plus what the view demands: a public caller sees only assets
    whose rights have not expired (checked against the clock now, not at index time) and
    allow its channel."""
    filters = {k: tuple(v) for k, v in req.filters.items() if v}
    ranges = dict(req.ranges)
    if public:
        now = datetime.now(UTC).isoformat()
        ranges["rights_expires_at"] = Range(now, None)
        filters.pop("rights_status", None)
        if req.channel:
            filters["rights_channels"] = ("*", req.channel)
    return filters, ranges


def _vector_candidates(
    ctx: Context,
    req: SearchRequest,
    types: tuple[DocType, ...],
    filters: dict[str, tuple[str, ...]],
    ranges: dict[str, Range],
) -> tuple[list[str], dict[str, str]]:
    """Ids of vector neighbours above the relevance floor (fused across types), and the
    models used. Products use the text model, assets the CLIP text tower."""
    floor = ctx.settings.search.semantic_floor
    rankings: list[list[str]] = []
    used: dict[str, str] = {}
    if "product" in types:
        text_model = ctx.text()
        if text_model is not None:
            vec = text_model.encode([req.q])[0]
            model = f"{text_model.name}@{text_model.version}"
            hits = ctx.backend.knn(
                vec.tolist(),
                field="text_vector",
                model=model,
                k=HYBRID_WINDOW,
                types=("product",),
                filters=filters,
                ranges=ranges,
                min_score=floor,
            )
            rankings.append([h.id for h in hits])
            used["text"] = model
    # The tiny random-weight CLIP ranks noise: in hybrid mode it would pad every asset
    # search with unrelated images, so only an explicit semantic request uses it.
    if "asset" in types and (req.mode == "semantic" or not getattr(ctx.clip(), "is_tiny", False)):
        clip = ctx.clip()
        vec = clip.encode_texts([req.q])[0]
        model = f"{clip.name}@{clip.version}"
        hits = ctx.backend.knn(
            vec.tolist(),
            field="image_vector",
            model=model,
            k=HYBRID_WINDOW,
            types=("asset",),
            filters=filters,
            ranges=ranges,
            min_score=_clip_floor(ctx, floor),
        )
        rankings.append([h.id for h in hits])
        used["clip"] = model
    if len(rankings) == 1:
        return rankings[0], used
    return [doc_id for doc_id, _ in rrf(rankings, k=ctx.settings.search.rrf_k)], used


def _clip_floor(ctx: Context, floor: float) -> float:
    # Text-to-image cosines of CLIP sit far lower than text-to-text ones (0.2-0.35 for a
    # good match), so the floor is scaled; a random-weight tiny model gets no floor at all
    # because its cosines carry no meaning.
    clip = ctx.clip()
    return -1.0 if getattr(clip, "is_tiny", False) else floor * 0.8


def search(ctx: Context, req: SearchRequest, *, public: bool = False) -> Body:
    """Run a search request and shape the public response (DESIGN.md "search")."""
    started = time.perf_counter()
    _validate(req, public=public, max_size=ctx.settings.search.max_size)
    types = _types(req.type)
    filters, ranges = _view_filters(req, public=public)
    text = req.q.strip()
    mode: Mode = req.mode if text else "keyword"
    models_used: dict[str, str] = {}
    vector_ids: list[str] = []
    if mode != "keyword":
        vector_ids, models_used = _vector_candidates(ctx, req, types, filters, ranges)

    base = SearchQuery(
        text=text,
        types=types,
        text_match=mode != "semantic",
        include_ids=tuple(vector_ids),
        filters=filters,
        ranges=ranges,
        facets=req.facets,
        facet_size=req.facet_size or ctx.settings.search.facet_size,
        sort=req.sort,
        size=req.size,
        locale=req.locale,
        track_total_limit=ctx.settings.search.track_total_limit,
    )
    cursor = decode_cursor(req.cursor) if req.cursor else None
    if mode == "hybrid" and req.sort == "relevance" and vector_ids:
        result, hits, next_cursor = _hybrid_page(ctx, base, req, vector_ids, cursor)
    else:
        result, hits, next_cursor = _plain_page(ctx, base, req, cursor)
    return _response(ctx, req, result, hits, next_cursor, models_used, mode, public, started)


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
    """Fuse the engine's text ranking with the vector ranking, then cut the page."""
    offset = _cursor_offset(cursor) if cursor else (req.page - 1) * req.size
    # The window is ranked, not shown: only ids come back for it (reading 200 stored
    # documents and marking them up cost more than the rest of the search on the
    # embedded engine); the page's documents are read by a second, narrow search.
    window = replace(base, offset=0, size=HYBRID_WINDOW, highlight=False, stored=False)
    result = ctx.backend.search(window)
    in_window = {h.id: h for h in result.hits}
    text_ranking = [h.id for h in result.hits if h.text_matched]
    fused = [(i, s) for i, s in rrf([text_ranking, vector_ids], k=ctx.settings.search.rrf_k) if i in in_window]
    page = fused[offset : offset + req.size]
    shown = _page_hits(ctx, base, [doc_id for doc_id, _ in page])
    hits = []
    for doc_id, score in page:
        hit = shown.get(doc_id)
        if hit is None:  # deleted between the two searches
            continue
        hit.score, hit.text_matched = score, in_window[doc_id].text_matched
        hits.append(hit)
    more = offset + len(page) < min(len(fused), result.total)
    next_cursor = encode_cursor({"offset": offset + len(page)}) if more else None
    return result, hits, next_cursor


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


def similar_assets(
    ctx: Context,
    vector: np.ndarray,
    *,
    model: str,
    k: int = 20,
    exclude: Sequence[str] = (),
    filters: Mapping[str, tuple[str, ...]] | None = None,
    public: bool = False,
    channel: str | None = None,
) -> list[ScoredId]:
    """Nearest assets to an image vector, under the same view rules as search."""
    req = SearchRequest(filters=dict(filters or {}), channel=channel)
    view_filters, ranges = _view_filters(req, public=public)
    return ctx.backend.knn(
        vector.tolist(),
        field="image_vector",
        model=model,
        k=k,
        types=("asset",),
        filters=view_filters,
        ranges=ranges,
        exclude_ids=list(exclude),
    )
