"""Products: one product with its variants and linked assets.

SKUs come from outside and may hold any character: the routes take the SKU as a `path`
parameter, so one sent percent-encoded (`A%2FB`, which the server decodes to `A/B` before
routing) still reaches its product."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from discovery.api.deps import Caller, CallerDep, CtxDep, require
from discovery.services import catalog, workflow

router = APIRouter(prefix="/api", tags=["products"])


@router.get("/products/{sku:path}")
def get_product(sku: str, ctx: CtxDep, caller: CallerDep, channel: str | None = None) -> Mapping[str, object]:
    """A product with its variants and linked assets (public callers get the shopper view:
    listed products only, and the assets whose rights allow `channel`)."""
    return catalog.product_view(ctx, sku, public=caller.public, channel=channel)


class StatusBody(BaseModel):
    status: str = Field(description="draft, in_review or approved")
    note: str | None = Field(None, max_length=2000)


@router.post("/products/{sku:path}/status")
def set_status(
    sku: str, body: StatusBody, ctx: CtxDep, caller: Annotated[Caller, require("editor")]
) -> Mapping[str, object]:
    """Move a product through the workflow (draft -> in_review -> approved); audited."""
    return workflow.set_status(ctx, sku, body.status, actor=caller.actor, note=body.note)
