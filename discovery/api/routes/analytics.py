"""Usage analytics: click events in; top queries, zero-result queries and asset usage out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from discovery.api.deps import Caller, CallerDep, CtxDep, require, usage_actor
from discovery.api.rate_limit import RateLimiter, retry_after
from discovery.errors import TooManyRequests
from discovery.services import analytics as service

router = APIRouter(prefix="/api/analytics", tags=["analytics"])

Days = Annotated[int, Query(ge=1, le=3650, description="look back this many days")]
Limit = Annotated[int, Query(ge=1, le=1000)]


class EventIn(BaseModel):
    type: Literal["click"] = Field(description="what happened; views and downloads are recorded by the server")
    target: str = Field(
        min_length=7, max_length=300, pattern=r"^(asset|product):.+", description="`asset:ID` or `product:SKU`"
    )
    query: str | None = Field(None, max_length=1000, description="the search the click came from")
    channel: str | None = Field(None, max_length=64)
    session: str | None = Field(
        None,
        max_length=64,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="the shopper's session as the key holder knows it: clicks count once per session a day",
    )


@router.post("/events", status_code=202, responses={429: {"description": "too many events from this caller"}})
def post_event(body: EventIn, request: Request, ctx: CtxDep, caller: CallerDep) -> Mapping[str, object]:
    """Report a click on a search hit. Buffered: reports show it within a few seconds.
    Limited per caller (key and session, or address); popularity counts a caller once a
    day per hit, and callers without a key not at all unless configured."""
    actor = usage_actor(caller, request, body.session)
    limiter: RateLimiter = request.app.state.event_limiter
    wait = limiter.allow(actor)
    if wait:
        seconds = retry_after(wait)
        raise TooManyRequests(
            f"more than {limiter.per_minute} events a minute from this caller; retry in {seconds} s",
            retry_after=seconds,
        )
    service.record_click(ctx, target=body.target, query=body.query, channel=body.channel, actor=actor)
    return {"accepted": True}


@router.get("/queries")
def get_queries(
    ctx: CtxDep,
    _caller: Annotated[Caller, require("viewer")],
    days: Days = 30,
    channel: str | None = None,
    limit: Limit = 50,
) -> Mapping[str, object]:
    """The most searched queries, with how many of those searches found nothing."""
    return service.top_queries(ctx, days=days, channel=channel, limit=limit)


@router.get("/zero-results")
def get_zero_results(
    ctx: CtxDep,
    _caller: Annotated[Caller, require("viewer")],
    days: Days = 30,
    channel: str | None = None,
    limit: Limit = 50,
) -> Mapping[str, object]:
    """Queries that found nothing, the most frequent first."""
    return service.zero_results(ctx, days=days, channel=channel, limit=limit)


@router.get("/assets")
def get_assets(
    ctx: CtxDep,
    _caller: Annotated[Caller, require("viewer")],
    days: Days = 30,
    channel: str | None = None,
    limit: Limit = 100,
) -> Mapping[str, object]:
    """Views, downloads and clicks per asset and channel, the most used first."""
    return service.asset_usage(ctx, days=days, channel=channel, limit=limit)
