"""Assets: the asset (read and edit), its file and renditions, similar assets, near-duplicates,
image search."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from discovery.api.deps import Caller, CallerDep, CtxDep, FileCallerDep, require, usage_actor
from discovery.api.params import parse_range, prefixed
from discovery.errors import InvalidQuery
from discovery.services import analytics, asset_edit
from discovery.services import assets as service
from discovery.services.image_results import ImageQuery

router = APIRouter(prefix="/api", tags=["assets"])
IMAGE_SEARCH_MAX = 20 * 1024 * 1024
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"})


@router.get("/assets/{asset_id}")
def get_asset(
    asset_id: str, request: Request, ctx: CtxDep, caller: CallerDep, channel: str | None = None
) -> Mapping[str, object]:
    """An asset with its tags, rights, links and versions."""
    body = service.asset_view(ctx, asset_id, public=caller.public, channel=channel)
    analytics.record_view(ctx, asset_id, channel=channel, actor=usage_actor(caller, request))
    return body


class RightsIn(BaseModel):
    """Rights members to change; one left out is kept, null or empty clears it."""

    model_config = ConfigDict(extra="forbid")
    license: str | None = Field(None, max_length=500)
    credit: str | None = Field(None, max_length=500)
    expires_at: str | None = Field(None, max_length=40, description="ISO date or date-time; null: never expires")
    channels: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        None, max_length=50, description="channels the asset may be shown in; null or []: every channel"
    )


class AssetPatch(BaseModel):
    """Fields to change; one left out is kept."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, max_length=asset_edit.MAX_TITLE)
    description: str | None = Field(None, max_length=asset_edit.MAX_DESCRIPTION)
    rights: RightsIn | None = None


@router.patch("/assets/{asset_id}")
def patch_asset(
    asset_id: str, body: AssetPatch, ctx: CtxDep, caller: Annotated[Caller, require("editor")]
) -> Mapping[str, object]:
    """Edit an asset's title, description and rights (editor). Validated (a 422 names the
    field), audited, and in search at once; answers the asset as `GET` shows it."""
    changes = body.model_dump(exclude_unset=True)
    if body.rights is not None:
        changes["rights"] = body.rights.model_dump(exclude_unset=True)
    asset_edit.edit_asset(ctx, asset_id, changes=changes, actor=caller.actor)
    return service.asset_view(ctx, asset_id, public=False)


def _file_response(request: Request, path: str, *, etag: str, media_type: str, filename: str) -> Response:
    from indexer.assets.sniff import serve_headers

    quoted = f'"{etag}"'
    headers = serve_headers(media_type)
    headers.pop("Content-Type", None)
    headers["ETag"] = quoted
    headers["Cache-Control"] = "private, max-age=3600"
    if request.headers.get("if-none-match") in (quoted, etag, "*"):
        return Response(status_code=304, headers=headers)
    # Only plain raster images are shown inline; a PDF or anything else is a download.
    disposition = "inline" if media_type in INLINE_TYPES else "attachment"
    return FileResponse(
        path, media_type=media_type, headers=headers, filename=filename, content_disposition_type=disposition
    )


# The bytes as stored, under the media type sniffed from them (never JSON).
_FILE_TYPES = {t: {"schema": {"type": "string", "format": "binary"}} for t in sorted(INLINE_TYPES)} | {
    "image/tiff": {"schema": {"type": "string", "format": "binary"}},
    "image/heif": {"schema": {"type": "string", "format": "binary"}},
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
}
_FILE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "the file", "content": _FILE_TYPES},
    206: {"description": "the requested byte range", "content": _FILE_TYPES},
    304: {"description": "unchanged since the ETag given in If-None-Match"},
}


@router.get("/assets/{asset_id}/file", response_class=FileResponse, responses=_FILE_RESPONSES)
def get_file(
    asset_id: str, request: Request, ctx: CtxDep, caller: FileCallerDep, channel: str | None = None
) -> Response:
    """The original file (current version). Supports Range and If-None-Match. A public
    caller gets it under the same channel rule as the asset's view."""
    asset = service.load_asset(ctx, asset_id, public=caller.public, channel=channel)
    path = ctx.blobs.path(asset.sha256)
    analytics.record_download(ctx, asset.id, channel=channel, actor=usage_actor(caller, request))
    return _file_response(request, str(path), etag=asset.sha256, media_type=asset.media_type, filename=asset.filename)


@router.get("/assets/{asset_id}/renditions/{name}", response_class=FileResponse, responses=_FILE_RESPONSES)
def get_rendition(
    asset_id: str, name: str, request: Request, ctx: CtxDep, caller: FileCallerDep, channel: str | None = None
) -> Response:
    """A rendition from a named preset, made on first request and kept (a public caller:
    under the same channel rule as the asset's view)."""
    from discovery.services import cutouts
    from indexer.assets.renditions import cutout_state, get_or_make_rendition, keep_renditions, load_presets

    asset = service.load_asset(ctx, asset_id, public=caller.public, channel=channel)
    presets = load_presets()
    before = dict(asset.renditions)
    cut_before = cutout_state(asset, name)
    key = get_or_make_rendition(asset, name, ctx.blobs, presets)
    if asset.renditions != before:
        made = {k: v for k, v in asset.renditions.items() if before.get(k) != v}
        saved = ctx.records.edits.asset(asset.id, lambda stored: keep_renditions(stored, asset.sha256, made))
        cutouts.after_rendition(ctx, saved or asset, name, cut_before)
    preset = presets[name]
    stem = asset.filename.rsplit(".", 1)[0] or asset.id
    analytics.record_download(ctx, asset.id, channel=channel, rendition=name, actor=usage_actor(caller, request))
    return _file_response(
        request,
        str(ctx.blobs.path(key)),
        etag=key,
        media_type=preset.media_type,
        filename=f"{stem}-{name}.{preset.format}",
    )


_RESULTS_DOC = (
    " The match set is the `k` nearest assets under the caller's view (not under the filters), above the "
    "similarity floor. `filter.<field>=value` (repeatable; OR within a field, AND across fields) and "
    "`range.<field>=lo..hi` narrow it as they narrow a search; `facets=a,b` are counted over it, "
    "disjunctively. Near-duplicates (perceptual hash) collapse into the best of them: `collapsed_count` "
    "and `collapsed` name them (`collapse=false` lists every asset). `total` counts the hits that "
    "`page`/`size` page through (size defaults to k); `total_assets` the assets they hold, which is what "
    "facets count. `score` is the calibrated similarity (0: as close as a typical unrelated picture, 1: "
    "the same), `cosine` the model's raw cosine."
)


def _image_query(
    items: Sequence[tuple[str, object]],
    *,
    k: int,
    facets: str,
    facet_size: int,
    page: int,
    size: int | None,
    collapse: bool,
    group: bool,
    channel: str | None,
) -> ImageQuery:
    ranges = {name: values[-1] for name, values in prefixed(items, "range.").items()}  # the last one counts
    return ImageQuery(
        k=k,
        filters=prefixed(items, "filter."),
        ranges={name: parse_range(name, text) for name, text in ranges.items()},
        facets=tuple(f.strip() for f in facets.split(",") if f.strip()),
        facet_size=facet_size,
        page=page,
        size=size,
        collapse=collapse,
        group_by_product=group,
        channel=channel,
    )


@router.get(
    "/assets/{asset_id}/similar",
    description="Near neighbours of a stored asset by image vector (itself left out)." + _RESULTS_DOC,
)
def get_similar(
    asset_id: str,
    request: Request,
    ctx: CtxDep,
    caller: CallerDep,
    k: Annotated[int, Query(ge=1, le=200)] = 20,
    channel: Annotated[str | None, Query(max_length=100)] = None,
    group: bool = False,
    facets: Annotated[str, Query(max_length=1000, description="comma-separated facet fields")] = "",
    facet_size: Annotated[int, Query(ge=1, le=500)] = 10,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int | None, Query(ge=1, le=200)] = None,
    collapse: bool = True,
) -> Mapping[str, object]:
    query = _image_query(
        request.query_params.multi_items(), k=k, facets=facets, facet_size=facet_size, page=page, size=size,
        collapse=collapse, group=group, channel=channel,
    )  # fmt: skip
    return service.similar(ctx, asset_id, query=query, public=caller.public)


@router.get("/assets/{asset_id}/duplicates")
def get_duplicates(asset_id: str, ctx: CtxDep, caller: CallerDep) -> Mapping[str, object]:
    """Near-duplicates of an asset by perceptual hash."""
    return service.duplicates(ctx, asset_id, public=caller.public)


@router.post(
    "/search/image",
    description="Assets (and their products, `products`) that look like an uploaded image." + _RESULTS_DOC,
)
async def search_image(
    request: Request,
    ctx: CtxDep,
    caller: CallerDep,
    file: Annotated[UploadFile, File(description="the image to match")],
    k: Annotated[int, Form(ge=1, le=200)] = 24,
    channel: Annotated[str | None, Form(max_length=100)] = None,
    facets: Annotated[str, Form(max_length=1000, description="comma-separated facet fields")] = "",
    facet_size: Annotated[int, Form(ge=1, le=500)] = 10,
    page: Annotated[int, Form(ge=1)] = 1,
    size: Annotated[int | None, Form(ge=1, le=200)] = None,
    collapse: Annotated[bool, Form()] = True,
    group: Annotated[bool, Form()] = True,
) -> Mapping[str, object]:
    data = await file.read(IMAGE_SEARCH_MAX + 1)
    if len(data) > IMAGE_SEARCH_MAX:
        raise InvalidQuery("image is larger than 20 MB", field="file")
    query = _image_query(
        list((await request.form()).multi_items()), k=k, facets=facets, facet_size=facet_size, page=page,
        size=size, collapse=collapse, group=group, channel=channel,
    )  # fmt: skip
    # Decoding and inference run on the context's bounded pool, never on the event loop.
    job = partial(service.search_by_image, ctx, data, query=query, public=caller.public)
    return await asyncio.get_running_loop().run_in_executor(ctx.pool, job)
