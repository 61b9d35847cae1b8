"""Assets: the asset, its file and renditions, similar assets, near-duplicates, image search."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from functools import partial
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response

from discovery.api.deps import CallerDep, CtxDep, usage_actor
from discovery.api.params import prefixed
from discovery.errors import InvalidQuery
from discovery.services import analytics
from discovery.services import assets as service

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
def get_file(asset_id: str, request: Request, ctx: CtxDep, caller: CallerDep, channel: str | None = None) -> Response:
    """The original file (current version). Supports Range and If-None-Match. A public
    caller gets it under the same channel rule as the asset's view."""
    asset = service.load_asset(ctx, asset_id, public=caller.public, channel=channel)
    path = ctx.blobs.path(asset.sha256)
    analytics.record_download(ctx, asset.id, channel=channel, actor=usage_actor(caller, request))
    return _file_response(request, str(path), etag=asset.sha256, media_type=asset.media_type, filename=asset.filename)


@router.get("/assets/{asset_id}/renditions/{name}", response_class=FileResponse, responses=_FILE_RESPONSES)
def get_rendition(
    asset_id: str, name: str, request: Request, ctx: CtxDep, caller: CallerDep, channel: str | None = None
) -> Response:
    """A rendition from a named preset, made on first request and kept (a public caller:
    under the same channel rule as the asset's view)."""
    from discovery.services import cutouts
    from indexer.assets.renditions import cutout_state, get_or_make_rendition, load_presets

    asset = service.load_asset(ctx, asset_id, public=caller.public, channel=channel)
    presets = load_presets()
    before = dict(asset.renditions)
    cut_before = cutout_state(asset, name)
    key = get_or_make_rendition(asset, name, ctx.blobs, presets)
    if asset.renditions != before:
        ctx.records.upsert_assets([asset])
        cutouts.after_rendition(ctx, asset, name, cut_before)
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


@router.get("/assets/{asset_id}/similar")
def get_similar(
    asset_id: str,
    request: Request,
    ctx: CtxDep,
    caller: CallerDep,
    k: Annotated[int, Query(ge=1, le=200)] = 20,
    channel: str | None = None,
    group: bool = False,
) -> Mapping[str, object]:
    """Near neighbours of a stored asset by image vector. `filter.<field>=value` (repeatable;
    OR within a field, AND across fields) narrows them as it narrows a search."""
    filters = prefixed(request.query_params.multi_items(), "filter.")
    return service.similar(
        ctx, asset_id, k=k, public=caller.public, channel=channel, filters=filters, group_by_product=group
    )


@router.get("/assets/{asset_id}/duplicates")
def get_duplicates(asset_id: str, ctx: CtxDep, caller: CallerDep) -> Mapping[str, object]:
    """Near-duplicates of an asset by perceptual hash."""
    return service.duplicates(ctx, asset_id, public=caller.public)


@router.post("/search/image")
async def search_image(
    request: Request,
    ctx: CtxDep,
    caller: CallerDep,
    file: Annotated[UploadFile, File(description="the image to match")],
    k: Annotated[int, Form(ge=1, le=200)] = 24,
    channel: Annotated[str | None, Form()] = None,
) -> Mapping[str, object]:
    """Assets (and their products) that look like an uploaded image."""
    data = await file.read(IMAGE_SEARCH_MAX + 1)
    if len(data) > IMAGE_SEARCH_MAX:
        raise InvalidQuery("image is larger than 20 MB", field="file")
    filters = prefixed((await request.form()).multi_items(), "filter.")
    # Decoding and inference run on the context's bounded pool, never on the event loop.
    job = partial(service.search_by_image, ctx, data, k=k, public=caller.public, channel=channel, filters=filters)
    return await asyncio.get_running_loop().run_in_executor(ctx.pool, job)
