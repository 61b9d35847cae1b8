"""Tag review: queue, bulk decisions, audit log, undo."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Annotated, Literal, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from discovery.api.deps import Caller, CtxDep, require
from discovery.errors import InvalidQuery
from discovery.services import actors, review, review_bulk
from discovery.store.tag_records import QueueFilter

router = APIRouter(prefix="/api/review", tags=["review"])
T = TypeVar("T")


# More decisions than this in one request take the bulk lane.
SMALL_WRITE = 20


async def in_write_lane(request: Request, work: Callable[[], T], *, bulk: bool = False) -> T:
    """Run a review write on the threads kept for writes (`app.state.write_lane`), not in the
    queue of searches: a decision is a few records writes (its index document is written
    later, in a batch), and a reviewer's keypress should not wait behind a dozen searches.
    A `bulk` write takes a lane of its own (`app.state.bulk_lane`), so it never holds up one."""
    lane = request.app.state.bulk_lane if bulk else request.app.state.write_lane
    return await anyio.to_thread.run_sync(work, limiter=lane)


class TargetIn(BaseModel):
    type: Literal["asset", "product"]
    id: str = Field(min_length=1, max_length=300)


class DecisionBody(BaseModel):
    target: TargetIn
    tag: str = Field(min_length=1, max_length=200)
    decision: str = Field(description="accept or reject")


class DecisionResult(BaseModel):
    index: int
    ok: bool
    error: str | None


class DecisionsOut(BaseModel):
    results: list[DecisionResult]


class UndoBody(BaseModel):
    entry_id: int | None = Field(None, description="audit entry to undo; default: your last decision")
    entry_ids: list[int] | None = Field(
        None,
        max_length=review_bulk.MAX_BULK,
        description="undo these audit entries in one go (a bulk answer's `entry` ids); answers per item",
    )


class PickIn(BaseModel):
    target: TargetIn
    tag: str = Field(min_length=1, max_length=200)


class FilterIn(BaseModel):
    tag: str | None = None
    source: str | None = None
    target_type: Literal["asset", "product"] | None = None
    min_confidence: float | None = Field(None, ge=0, le=1)
    max_confidence: float | None = Field(None, ge=0, le=1)
    collection: str | None = None


class BulkBody(BaseModel):
    decision: Literal["accept", "reject"]
    items: list[PickIn] | None = Field(None, max_length=review_bulk.MAX_BULK, description="a selection")
    filter: FilterIn | None = Field(None, description="or: the open suggestions this queue filter selects")
    limit: int = Field(
        review_bulk.MAX_BULK, ge=1, le=review_bulk.MAX_BULK, description="with `filter`: at most this many"
    )


@router.get("/queue")
def get_queue(
    ctx: CtxDep,
    _caller: Annotated[Caller, require("reviewer")],
    tag: str | None = None,
    source: str | None = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    collection: str | None = None,
    target_type: Literal["asset", "product"] | None = None,
    group: Annotated[str | None, Query(description="`tag` to also list tags and sources with counts")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    cursor: Annotated[str | None, Query(max_length=2000, description="the previous page's `cursor`")] = None,
) -> Mapping[str, object]:
    """Suggested tags to review, most useful first (uncertain first, then high impact).
    Page with `cursor` (the answer's, null on the last page): it resumes after the last item
    given, so items decided meanwhile never shift or repeat a page. `open_total` counts every
    open suggestion, whatever the filter."""
    where = QueueFilter(tag, source, target_type, min_confidence, max_confidence, collection)
    return review.queue(ctx, where=where, limit=limit, offset=offset, cursor=cursor, group=group == "tag")


@router.post("/decisions", response_model=DecisionsOut)
async def post_decisions(
    body: Annotated[list[DecisionBody], Field(max_length=1000)],
    ctx: CtxDep,
    caller: Annotated[Caller, require("reviewer")],
    request: Request,
) -> dict[str, object]:
    """Accept or reject suggested tags in bulk; each item's outcome is reported."""
    items = [review.DecisionIn(d.target.type, d.target.id, d.tag, d.decision) for d in body]
    work = partial(review.decide, ctx, items, actor=caller.actor)
    return {"results": await in_write_lane(request, work, bulk=len(items) > SMALL_WRITE)}


@router.post("/bulk")
async def post_bulk(
    body: BulkBody, ctx: CtxDep, caller: Annotated[Caller, require("reviewer")], request: Request
) -> Mapping[str, object]:
    """Accept or reject many suggestions in one request: a selection (`items`) or a queue
    `filter`. Each item answers `decided` (with its audit `entry`, for undo), `already_decided`
    (with who decided it; never overwritten) or `not_found`."""
    if (body.items is None) == (body.filter is None):
        raise InvalidQuery("give either items (a selection) or filter", field="items")

    def work() -> Mapping[str, object]:
        if body.items is not None:
            picks = [review_bulk.Pick(i.target.type, i.target.id, i.tag) for i in body.items]
        else:
            assert body.filter is not None
            where = QueueFilter(**body.filter.model_dump())
            picks = review_bulk.picks_for(ctx, where, limit=body.limit)
        return review_bulk.decide_bulk(ctx, picks, body.decision, actor=caller.actor)

    return await in_write_lane(request, work, bulk=True)


@router.get("/log")
def get_log(
    ctx: CtxDep,
    _caller: Annotated[Caller, require("reviewer")],
    target: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Mapping[str, object]:
    """The audit log of decisions, newest first; `actor` is the key's name when it has one
    (`actor_key` then holds `key:<id>`)."""
    entries = ctx.records.audit_entries(target=target, limit=limit)
    actors.name_items(ctx, entries, "actor")
    return {"entries": entries}


@router.post("/undo")
async def post_undo(
    body: UndoBody, ctx: CtxDep, caller: Annotated[Caller, require("reviewer")], request: Request
) -> Mapping[str, object]:
    """Undo a decision: the tag returns to its state before it; the undo is audited too.
    A reviewer undoes only their own decisions; an admin anyone's. With `entry_ids`, many in
    one request, each answering `undone`, `already_undone`, `changed`, `forbidden` or `not_found`."""
    admin = caller.role == "admin"
    if body.entry_ids is not None:
        entry_ids = body.entry_ids
        return await in_write_lane(
            request,
            lambda: review_bulk.undo_bulk(ctx, entry_ids, actor=caller.actor, admin=admin),
            bulk=len(entry_ids) > SMALL_WRITE,
        )
    return await in_write_lane(
        request, lambda: review.undo(ctx, actor=caller.actor, entry_id=body.entry_id, admin=admin)
    )
