"""Ingest uploads as jobs, and the jobs themselves."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from discovery.api.deps import Caller, CtxDep, require
from discovery.errors import DiscoveryError, InvalidQuery
from discovery.services import jobs

router = APIRouter(prefix="/api", tags=["ingest"])
LINK_RULE_HELP = (
    "filename (default): files link to products by SKUs in their names (only suggested for "
    "products whose export names their images); none: no file-name links"
)
LINK_PATTERN_HELP = "a regular expression with a (?P<sku>...) group, matched against the lower-cased file name"


class TooLarge(DiscoveryError):
    status = 413


def _check_length(request: Request, limit_mb: int) -> None:
    """Refuse an oversized body from its declared length, before reading any of it."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit_mb * 1024 * 1024:
        raise TooLarge(f"the upload is larger than {limit_mb} MB (DISCOVERY_MAX_UPLOAD_MB)")


def _accepted(job: Mapping[str, object]) -> JSONResponse:
    return JSONResponse(dict(job), status_code=202, headers={"Location": f"/api/jobs/{job['id']}"})


@router.post("/ingest/products", status_code=202)
def ingest_products(
    request: Request,
    ctx: CtxDep,
    caller: Annotated[Caller, require("editor")],
    file: Annotated[UploadFile, File(description="CSV, TSV, JSONL, JSON or XLSX export")],
    mapping: Annotated[str | None, Form(description="mapping name, e.g. shopify")] = None,
    mode: Annotated[str, Form(description="partial (default) or full")] = "partial",
    link_rule: Annotated[str | None, Form(description=LINK_RULE_HELP)] = None,
    link_pattern: Annotated[str | None, Form(description=LINK_PATTERN_HELP)] = None,
) -> JSONResponse:
    """Upload a product export; answers 202 with the job at once."""
    _check_length(request, ctx.settings.max_upload_mb)
    if not file.filename:
        raise InvalidQuery("the upload has no file name", field="file")
    job_id = jobs.start_product_import(
        ctx, source=file.file, filename=file.filename, mapping=mapping or None, mode=mode, created_by=caller.actor,
        link_rule=link_rule or None, link_pattern=link_pattern or None,
    )  # fmt: skip
    return _accepted(jobs.get_job(ctx, job_id))


@router.post("/ingest/assets", status_code=202)
def ingest_assets(
    request: Request,
    ctx: CtxDep,
    caller: Annotated[Caller, require("editor")],
    files: Annotated[list[UploadFile], File(description="images, PDFs or zips (repeatable)")],
    manifest: Annotated[UploadFile | None, File(description="CSV of sku,file[,license,...]")] = None,
    collection: Annotated[str | None, Form()] = None,
    link_rule: Annotated[str | None, Form(description=LINK_RULE_HELP)] = None,
    link_pattern: Annotated[str | None, Form(description=LINK_PATTERN_HELP)] = None,
) -> JSONResponse:
    """Upload files (a zip is expanded); answers 202 with the job at once."""
    _check_length(request, ctx.settings.max_upload_mb)
    if not files:
        raise InvalidQuery("no files uploaded", field="files")
    named = [(f.filename or f"upload-{i}", f.file) for i, f in enumerate(files)]
    job_id = jobs.start_asset_ingest(
        ctx,
        files=named,
        manifest=manifest.file if manifest is not None else None,
        collection=collection,
        created_by=caller.actor,
        link_rule=link_rule or None,
        link_pattern=link_pattern or None,
    )
    return _accepted(jobs.get_job(ctx, job_id))


# A job shows its parameters and its rejected rows' contents, which only those who may
# start jobs see: every job endpoint needs an editor key, as the uploads do.
EditorDep = Annotated[Caller, require("editor")]


@router.get("/jobs/{job_id}")
def get_job(job_id: str, ctx: CtxDep, _caller: EditorDep) -> Mapping[str, object]:
    """Status, progress, counts and every reject with its line, file, field and reason; an
    import's or ingest's `links`: links made (by how), suggested and ambiguous, with file and candidates."""
    return jobs.get_job(ctx, job_id)


@router.get("/jobs")
def list_jobs(ctx: CtxDep, _caller: EditorDep, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Mapping[str, object]:
    """The most recent jobs first."""
    return {"items": jobs.list_jobs(ctx, limit=limit)}


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: str, ctx: CtxDep, _caller: EditorDep) -> Mapping[str, object]:
    """Stop a queued or running job cleanly; finished chunks stay done."""
    return jobs.cancel_job(ctx, job_id)


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run: text starting like a formula is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get(
    "/jobs/{job_id}/rejects.csv",
    response_class=Response,
    responses={200: {"description": "the rejects as CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def job_rejects_csv(job_id: str, ctx: CtxDep, _caller: EditorDep) -> Response:
    """The job's rejects as CSV (line, file, field, reason)."""
    job = jobs.get_job(ctx, job_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "file", "field", "reason"])
    rejects = job.get("rejects")
    for reject in rejects if isinstance(rejects, list) else []:
        if isinstance(reject, dict):
            writer.writerow([_cell(reject.get(k)) for k in ("line", "file", "field", "reason")])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="job-{job_id}-rejects.csv"'},
    )
