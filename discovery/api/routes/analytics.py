"""Usage analytics: click events in; top queries, zero-result queries and asset usage out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from discovery.api.deps import Caller, CallerDep, CtxDep, require
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


@router.post("/events", status_code=202)
def post_event(body: EventIn, ctx: CtxDep, _caller: CallerDep) -> Mapping[str, object]:
    """Report a click on a search hit. Buffered: reports show it within a few seconds."""
    service.record_click(ctx, target=body.target, query=body.query, channel=body.channel)
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
