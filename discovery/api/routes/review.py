"""Tag review: queue, bulk decisions, audit log, undo."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from discovery.api.deps import Caller, CtxDep, require
from discovery.services import actors, review

router = APIRouter(prefix="/api/review", tags=["review"])


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


@router.get("/queue")
def get_queue(
    ctx: CtxDep,
    _caller: Annotated[Caller, require("reviewer")],
    tag: str | None = None,
    source: str | None = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    collection: str | None = None,
    group: Annotated[str | None, Query(description="`tag` to also list tags with counts")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Mapping[str, object]:
    """Suggested tags to review, most useful first (uncertain first, then high impact)."""
    return review.queue(
        ctx,
        tag=tag,
        source=source,
        min_confidence=min_confidence,
        max_confidence=max_confidence,
        collection=collection,
        limit=limit,
        offset=offset,
        group=group == "tag",
    )


@router.post("/decisions", response_model=DecisionsOut)
def post_decisions(
    body: Annotated[list[DecisionBody], Field(max_length=1000)],
    ctx: CtxDep,
    caller: Annotated[Caller, require("reviewer")],
) -> dict[str, object]:
    """Accept or reject suggested tags in bulk; each item's outcome is reported."""
    items = [review.DecisionIn(d.target.type, d.target.id, d.tag, d.decision) for d in body]
    return {"results": review.decide(ctx, items, actor=caller.actor)}


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
def post_undo(body: UndoBody, ctx: CtxDep, caller: Annotated[Caller, require("reviewer")]) -> Mapping[str, object]:
    """Undo a decision: the tag returns to its state before it; the undo is audited too.
    A reviewer undoes only their own decisions; an admin anyone's."""
    return review.undo(ctx, actor=caller.actor, entry_id=body.entry_id, admin=caller.role == "admin")
