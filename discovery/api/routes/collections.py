"""Collections: list (a tree with counts), create, rename, add and remove assets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from discovery.api.deps import Caller, CtxDep, require
from discovery.services import collections as service

router = APIRouter(prefix="/api/collections", tags=["collections"])

MAX_ITEMS = 1000


class CollectionIn(BaseModel):
    name: str = Field(min_length=1, max_length=service.MAX_NAME)
    parent: str | None = Field(None, description="id of the collection to nest this one in")


class RenameIn(BaseModel):
    name: str = Field(min_length=1, max_length=service.MAX_NAME)


class MembersIn(BaseModel):
    add: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list, max_length=MAX_ITEMS)
    remove: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list, max_length=MAX_ITEMS)


class CollectionOut(BaseModel):
    id: str
    name: str
    path: str
    parent: str | None
    count: int
    created_at: str


class MemberResult(BaseModel):
    asset: str
    action: str
    ok: bool
    changed: bool
    error: str | None


class MembersOut(BaseModel):
    collection: CollectionOut
    results: list[MemberResult]


@router.get("")
def list_collections(ctx: CtxDep, _caller: Annotated[Caller, require("viewer")]) -> Mapping[str, object]:
    """Every collection as a tree (`children`), with the number of assets each holds itself."""
    return service.list_collections(ctx)


@router.post("", status_code=201, response_model=CollectionOut)
def create_collection(
    body: CollectionIn, ctx: CtxDep, caller: Annotated[Caller, require("editor")]
) -> Mapping[str, object]:
    """Create a collection, at the top or inside `parent`; a taken name is a 409."""
    return service.create_collection(ctx, name=body.name, parent_id=body.parent, actor=caller.actor)


@router.patch("/{collection_id}", response_model=CollectionOut)
def rename_collection(
    collection_id: str, body: RenameIn, ctx: CtxDep, caller: Annotated[Caller, require("editor")]
) -> Mapping[str, object]:
    """Rename a collection; its sub-collections and member assets keep their membership."""
    return service.rename_collection(ctx, collection_id, name=body.name, actor=caller.actor)


@router.post("/{collection_id}/assets", response_model=MembersOut)
def change_members(
    collection_id: str, body: MembersIn, ctx: CtxDep, caller: Annotated[Caller, require("editor")]
) -> Mapping[str, object]:
    """Add and remove assets; each item's outcome is reported, an unknown asset does not stop the rest."""
    return service.change_members(ctx, collection_id, add=body.add, remove=body.remove, actor=caller.actor)
