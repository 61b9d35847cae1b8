"""The first searches through the app's own HTTP stack, at start (see services/warmup).

The first request through a route pays for FastAPI building its response model's
serializer, the dependencies and the middleware: ~20 ms measured, which landed on the
first shopper's search after `/readyz` said ready.
"""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from discovery.services.warmup import WARM_QUERY

# Page 2: analytics counts first pages only, so warm-up queries never show up as searches.
WARM_SEARCHES = [
    {"q": WARM_QUERY, "type": "all", "mode": mode, "page": "2", "facets": "brand,color"}
    for mode in ("keyword", "hybrid", "semantic")
]


def send_warm_searches(app: FastAPI) -> None:
    """GET /api/search once per mode in this (non-server) thread's own event loop."""

    async def send() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://warm-up") as client:
            for params in WARM_SEARCHES:
                (await client.get("/api/search", params=params)).raise_for_status()

    asyncio.run(send())
