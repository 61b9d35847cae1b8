"""Webhooks (admin): subscribe a URL and a secret to events, list, unsubscribe, read deliveries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from discovery.api.deps import Caller, CtxDep, require
from discovery.services import webhooks as service

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


class WebhookIn(BaseModel):
    url: str = Field(min_length=1, max_length=2000, description="http(s) URL that receives the events")
    secret: str = Field(
        min_length=service.MIN_SECRET, max_length=200, description="key of the HMAC-SHA256 body signature"
    )
    events: list[str] = Field(min_length=1, max_length=len(service.EVENTS), description=", ".join(service.EVENTS))


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    created_at: str
    created_by: str | None


@router.post("", status_code=201, response_model=WebhookOut)
def subscribe(body: WebhookIn, ctx: CtxDep, caller: Annotated[Caller, require("admin")]) -> Mapping[str, object]:
    """Subscribe a URL to events. Deliveries are POSTs of JSON signed in `X-Discovery-Signature`
    (`sha256=` + hex HMAC-SHA256 of the body under the secret), with `X-Discovery-Timestamp`;
    loopback, link-local and private targets are refused unless their host is allow-listed."""
    return service.subscribe(ctx, url=body.url, secret=body.secret, events=body.events, actor=caller.actor)


@router.get("")
def list_webhooks(ctx: CtxDep, _caller: Annotated[Caller, require("admin")]) -> Mapping[str, object]:
    """Every subscription (secrets are never shown)."""
    return service.list_subscriptions(ctx)


@router.delete("/{webhook_id}", status_code=204)
def unsubscribe(webhook_id: str, ctx: CtxDep, caller: Annotated[Caller, require("admin")]) -> Response:
    """Remove a subscription and its delivery log; queued deliveries to it are dropped."""
    service.unsubscribe(ctx, webhook_id, actor=caller.actor)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries")
def deliveries(
    webhook_id: str,
    ctx: CtxDep,
    _caller: Annotated[Caller, require("admin")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Mapping[str, object]:
    """The delivery log, newest first: state, attempts, last status code and error."""
    return service.deliveries(ctx, webhook_id, limit=limit)
