"""Links a person manages: link and unlink an asset and a product, choose the primary image.

Every route needs an editor key; each change is audited and searchable at once. SKUs may
hold any character, so they travel as `path` parameters (see `routes/products.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from discovery.api.deps import Caller, CtxDep, require
from discovery.services import link_edits

router = APIRouter(prefix="/api", tags=["links"])
EditorDep = Annotated[Caller, require("editor")]


class LinkBody(BaseModel):
    sku: str = Field(min_length=1, max_length=255, description="the product to link the asset to")


class PrimaryBody(BaseModel):
    asset_id: str = Field(min_length=1, max_length=64, description="an asset linked to the product")
    channel: str | None = Field(None, max_length=100, description="only for this channel; default: every channel")


@router.post("/assets/{asset_id}/links")
def add_link(asset_id: str, body: LinkBody, ctx: CtxDep, caller: EditorDep) -> Mapping[str, object]:
    """Link the asset to a product (how `manual`, outranking every rule); audited."""
    return link_edits.link(ctx, asset_id, body.sku, actor=caller.actor)


@router.delete("/assets/{asset_id}/links/{sku:path}")
def remove_link(asset_id: str, sku: str, ctx: CtxDep, caller: EditorDep) -> Mapping[str, object]:
    """Unlink the asset from a product, however the link was made; no rule links them again."""
    return link_edits.unlink(ctx, asset_id, sku, actor=caller.actor)


@router.put("/products/{sku:path}/primary-image")
def put_primary_image(sku: str, body: PrimaryBody, ctx: CtxDep, caller: EditorDep) -> Mapping[str, object]:
    """Make a linked asset the product's primary image (its thumbnail), for every channel or one."""
    return link_edits.set_primary_image(ctx, sku, body.asset_id, channel=body.channel, actor=caller.actor)
