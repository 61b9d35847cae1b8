"""GET/POST /api/search: parse, authorise, call the search service."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from discovery.api.deps import CallerDep, CtxDep
from discovery.api.params import parse_range, prefixed
from discovery.errors import InvalidQuery
from discovery.services import analytics
from discovery.services import search as service
from discovery.services.context import Context
from discovery.services.search import SearchRequest
from discovery.store.index.base import SortKey

router = APIRouter(prefix="/api", tags=["search"])
MAX_NAME = 100  # a field, channel or locale name
MAX_VALUE = 1000  # a filter value, a range, a facet list
MAX_CURSOR = 4096


class FacetValueOut(BaseModel):
    value: str
    count: int
    selected: bool


class HitOut(BaseModel, extra="allow"):
    type: Literal["product", "asset"]
    id: str
    score: float
    title: str
    thumbnail: str | None = None
    highlights: dict[str, list[dict[str, object]]] = Field(default_factory=dict)


class SearchOut(BaseModel):
    total: int
    total_is_lower_bound: bool
    hits: list[HitOut]
    facets: dict[str, list[FacetValueOut]]
    cursor: str | None
    model: dict[str, str]
    mode: str
    took_ms: float
    facet_errors: dict[str, str] | None = None


# Every string of a search is bounded. A bound also makes pydantic check that the string is
# real text: a JSON body may carry a lone UTF-16 surrogate (`"\ud800"`), which no engine,
# database or JSON response can encode, and an unchecked one answered 500.
FieldName = Annotated[str, Field(max_length=MAX_NAME)]
Value = Annotated[str, Field(max_length=MAX_VALUE)]


class SearchBody(BaseModel):
    """The POST form of a search: the same fields as the query string."""

    q: str = Field("", max_length=1000)
    type: Literal["product", "asset", "all"] = "product"
    mode: Literal["keyword", "semantic", "hybrid"] = "hybrid"
    filters: dict[FieldName, list[Value]] = Field(
        default_factory=dict, description="field -> values (OR within, AND across)"
    )
    ranges: dict[FieldName, Value] = Field(default_factory=dict, description="field -> 'lo..hi'")
    facets: list[Value] = Field(default_factory=list)
    facet_size: int | None = Field(None, ge=1, le=500)
    sort: SortKey = "relevance"
    page: int = Field(1, ge=1)
    size: int = Field(20, ge=1)
    cursor: str | None = Field(None, max_length=MAX_CURSOR)
    channel: str | None = Field(None, max_length=MAX_NAME)
    locale: str | None = Field(None, max_length=MAX_NAME)


def _split(values: list[str]) -> tuple[str, ...]:
    return tuple(v.strip() for raw in values for v in raw.split(",") if v.strip())


def _dynamic_params(request: Request) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    items = request.query_params.multi_items()
    ranges = {name: values[-1] for name, values in prefixed(items, "range.").items()}  # the last one counts
    return prefixed(items, "filter."), ranges


def _to_request(body: SearchBody, filters: dict[str, tuple[str, ...]], ranges: dict[str, str]) -> SearchRequest:
    return SearchRequest(
        q=body.q,
        type=body.type,
        mode=body.mode,
        filters=filters,
        ranges={name: parse_range(name, text) for name, text in ranges.items()},
        facets=(body.facets and _split(body.facets)) or (),
        facet_size=body.facet_size,
        sort=body.sort,
        page=body.page,
        size=body.size,
        cursor=body.cursor,
        channel=body.channel,
        locale=body.locale,
    )


@router.get("/search", response_model=SearchOut)
async def search_get(
    request: Request,
    ctx: CtxDep,
    caller: CallerDep,
    q: Annotated[str, Query(max_length=1000)] = "",
    type: Literal["product", "asset", "all"] = "product",
    mode: Literal["keyword", "semantic", "hybrid"] = "hybrid",
    facets: Annotated[str, Query(max_length=MAX_VALUE, description="comma-separated facet fields")] = "",
    facet_size: Annotated[int | None, Query(ge=1, le=500)] = None,
    sort: SortKey = "relevance",
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1)] = 20,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR)] = None,
    channel: Annotated[str | None, Query(max_length=MAX_NAME)] = None,
    locale: Annotated[str | None, Query(max_length=MAX_NAME)] = None,
) -> dict[str, object]:
    """Search products and assets. Filters: `filter.<field>=value` (repeatable; OR within a field,
    AND across fields); ranges: `range.<field>=lo..hi`; facets are disjunctive."""
    filters, ranges = _dynamic_params(request)
    body = SearchBody(
        q=q,
        type=type,
        mode=mode,
        facets=[facets] if facets else [],
        facet_size=facet_size,
        sort=sort,
        page=page,
        size=size,
        cursor=cursor,
        channel=channel,
        locale=locale,
    )
    return await run_in_threadpool(_run, request, ctx, _to_request(body, filters, ranges), caller.public)


@router.post("/search", response_model=SearchOut)
async def search_post(request: Request, body: SearchBody, ctx: CtxDep, caller: CallerDep) -> dict[str, object]:
    """The same search with a JSON body."""
    filters = {k: tuple(v) for k, v in body.filters.items()}
    if any(not isinstance(v, str) for vs in filters.values() for v in vs):
        raise InvalidQuery("filter values must be strings", field="filters")
    return await run_in_threadpool(_run, request, ctx, _to_request(body, filters, body.ranges), caller.public)


@router.get("/suggest")
def suggest_get(
    ctx: CtxDep,
    caller: CallerDep,
    q: Annotated[str, Query(max_length=200)] = "",
    channel: Annotated[str | None, Query(max_length=MAX_NAME)] = None,
) -> dict[str, object]:
    """Completions of what is typed: product titles, then categories and brands, all under the
    caller's view; each leads to at least one result."""
    from discovery.services.suggest import suggest

    return dict(suggest(ctx, q, public=caller.public, channel=channel))


def _run(request: Request, ctx: Context, req: SearchRequest, public: bool) -> dict[str, object]:
    """The search itself, on a worker thread. The endpoints are `async` so that FastAPI
    checks the response against `SearchOut` on the event loop (a fraction of a
    millisecond) instead of taking a second worker-thread turn for it, which under load
    meant queueing twice for the same request."""
    started = time.perf_counter()
    body = service.search(ctx, req, public=public)
    request.app.state.metrics.observe(
        "discovery_search_seconds", time.perf_counter() - started, engine=ctx.backend.name, mode=str(body["mode"])
    )
    analytics.record_search(ctx, req, body)
    return body
