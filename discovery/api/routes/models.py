"""The models behind the vectors: which generation searches use, and switching the CLIP model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from discovery.api.deps import Caller, CtxDep, require
from discovery.services import jobs
from discovery.services.model_switch import model_overview, start_clip_switch

router = APIRouter(prefix="/api/models", tags=["models"])
EditorDep = Annotated[Caller, require("editor")]


class ClipSwitchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=200, description="open_clip architecture, or tiny / tiny-b")
    pretrained: str = Field("", max_length=500, description="pretrained tag or checkpoint file; empty: random")


@router.get("")
def models(ctx: CtxDep, _caller: EditorDep) -> Mapping[str, object]:
    """Each vector field's active generation (and the one a switch is filling), and how many
    vectors the records hold per model."""
    return model_overview(ctx)


@router.post("/clip", status_code=202)
def use_clip(body: ClipSwitchIn, ctx: CtxDep, caller: EditorDep) -> JSONResponse:
    """Switch the CLIP image model: re-embeds every asset into a new vector generation in the
    background while searches use the old one, then swaps atomically. Answers 202 with the job
    (`GET /api/jobs/{id}` follows it)."""
    job_id = start_clip_switch(ctx, model=body.model, pretrained=body.pretrained, created_by=caller.actor)
    job = jobs.get_job(ctx, job_id)
    return JSONResponse(dict(job), status_code=202, headers={"Location": f"/api/jobs/{job_id}"})
