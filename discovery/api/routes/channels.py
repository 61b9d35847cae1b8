"""Channels: a product as a channel gets it, and the channel's streamed feed; the taxonomy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from discovery.api.deps import CallerDep, CtxDep
from discovery.errors import Forbidden
from discovery.services import channels as service

router = APIRouter(prefix="/api", tags=["channels"])


@router.get("/channels/{channel}/products/{sku:path}")
def channel_product(
    channel: str, sku: str, ctx: CtxDep, caller: CallerDep, locale: str | None = None
) -> Mapping[str, object]:
    """The product in the channel's locale and fields, with only the images that fit the
    channel's rules and whose rights allow it, as rendition URLs."""
    return service.channel_product(ctx, channel, sku, locale=locale, public=caller.public)


_FEED_TYPES = {"application/x-ndjson": {"schema": {"type": "string"}}, "text/csv": {"schema": {"type": "string"}}}


@router.get(
    "/channels/{channel}/feed",
    response_class=StreamingResponse,
    responses={200: {"description": "one product per JSON line, or CSV rows", "content": _FEED_TYPES}},
)
def channel_feed(
    channel: str,
    ctx: CtxDep,
    caller: CallerDep,
    format: Annotated[Literal["jsonl", "csv"], Query(description="jsonl or csv")] = "jsonl",
    report: Annotated[bool, Query(description="the products NOT ready, with what they miss")] = False,
) -> StreamingResponse:
    """Stream the channel's ready products (or, with `report=true`, those not ready and why;
    not for public keys: it names unlisted products)."""
    if report and caller.public:
        raise Forbidden("the not-ready report needs a viewer key; yours is public")
    service.feed_check(ctx, channel)
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    name = f"{channel}-{'not-ready' if report else 'feed'}.{format}"
    return StreamingResponse(
        service.feed(ctx, channel, fmt=format, ready=not report, public=caller.public),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/taxonomy")
def taxonomy(locale: str | None = None) -> Mapping[str, object]:
    """Categories and the tag vocabulary, with labels in `locale` when known."""
    from models.taxonomy import load_taxonomy

    tax = load_taxonomy()
    tags = [
        {
            "name": tag.name,
            "label": tag.label_in(locale),
            "group": tag.group,
            "synonyms": list(tag.synonyms),
            "parents": list(tag.parents),
        }
        for tag in tax.tags.values()
    ]
    categories = [
        {"path": node.path, "name": node.labels.get(locale or "", node.name), "tag": node.tag, "leaf": node.is_leaf}
        for node in tax.categories.values()
    ]
    return {"tags": tags, "categories": categories, "groups": sorted(tax.groups)}
