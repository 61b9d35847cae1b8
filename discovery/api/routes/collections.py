"""Collections: list (a tree with counts), create, rename, delete, add and remove assets,
list a collection's contents a page at a time, download one as a zip."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from discovery.api.deps import Caller, CallerDep, CtxDep, require
from discovery.services import collection_zip
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


class DeletedOut(BaseModel):
    deleted: list[str] = Field(description="paths of the collection and its sub-collections, now gone")
    assets: int = Field(description="how many assets left them (the assets themselves stay)")


@router.delete("/{collection_id}", response_model=DeletedOut)
def delete_collection(
    collection_id: str, ctx: CtxDep, caller: Annotated[Caller, require("editor")]
) -> Mapping[str, object]:
    """Delete a collection and its sub-collections; their assets stay, outside them."""
    return service.delete_collection(ctx, collection_id, actor=caller.actor)


@router.get("/{collection_id}/assets")
def list_contents(
    collection_id: str,
    ctx: CtxDep,
    _caller: Annotated[Caller, require("viewer")],
    # The window an engine pages through (OpenSearch's max_result_window is 10,000).
    offset: Annotated[int, Query(ge=0, le=10_000 - service.MAX_PAGE)] = 0,
    size: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 24,
) -> Mapping[str, object]:
    """The assets a collection holds itself, newest first, `size` at a time from `offset`."""
    return service.collection_contents(ctx, collection_id, offset=offset, size=size)


@router.get(
    "/{collection_id}/download",
    response_class=StreamingResponse,
    responses={200: {"description": "a zip of the files", "content": {"application/zip": {}}}},
)
def download_collection(
    collection_id: str, ctx: CtxDep, caller: CallerDep, channel: str | None = None
) -> StreamingResponse:
    """The collection's files (its sub-collections' in folders) as a zip, streamed. A public
    caller gets only the assets it may see (under `channel`'s rule, as the asset view)."""
    plan = collection_zip.plan_zip(ctx, collection_id, public=caller.public, channel=channel)
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(plan.filename)}",
        "X-Collection-Files": str(len(plan.entries)),
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(collection_zip.stream_zip(plan), media_type="application/zip", headers=headers)
