"""The first searches through the app's own HTTP stack, at start (see services/warmup).

The first request through a route pays for FastAPI building its response model's
serializer, the dependencies and the middleware, and the first request on each of the
server's worker threads for that thread's own set-up (its torch and BLAS thread state):
together ~25 ms measured, which landed on the first shopper's searches after `/readyz`
said ready. So the requests go through the server's own event loop, as many at once as
it has worker threads.
"""

from __future__ import annotations

import asyncio
import secrets

import httpx
from fastapi import FastAPI

from discovery.api.deps import WARM_UP_HEADER
from discovery.services.warmup import WARM_QUERY

# Page 2: analytics counts first pages only, so warm-up queries never show up as searches.
WARM_SEARCHES = [
    {"q": WARM_QUERY, "type": "all", "mode": mode, "page": "2", "facets": "brand,color"}
    for mode in ("keyword", "hybrid", "semantic")
]


def send_warm_searches(app: FastAPI, loop: asyncio.AbstractEventLoop, threads: int) -> None:
    """GET /api/search per mode, `threads` at once, on the server's loop (called from
    another thread; waits for the answers)."""

    token = secrets.token_urlsafe(32)

    async def send() -> None:
        transport = httpx.ASGITransport(app=app)
        headers = {WARM_UP_HEADER: token}
        async with httpx.AsyncClient(transport=transport, base_url="http://warm-up", headers=headers) as client:
            for params in WARM_SEARCHES:
                answers = await asyncio.gather(*(client.get("/api/search", params=params) for _ in range(threads)))
                for answer in answers:
                    answer.raise_for_status()

    app.state.warm_up_token = token  # answered even where reads need a key (`api/deps`)
    try:
        asyncio.run_coroutine_threadsafe(send(), loop).result(timeout=300)
    finally:
        app.state.warm_up_token = None
