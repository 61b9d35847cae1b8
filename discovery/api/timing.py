"""Security headers, request timing and the count of requests in flight, as plain ASGI.

Starlette's `BaseHTTPMiddleware` (what `@app.middleware("http")` makes) runs the app in
a separate task and streams its response back through a queue: about a third of a
millisecond per request on a 2-core box, more than the search itself at times. This
does the same work inside the one `send` call.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from discovery.api.metrics import Metrics


class HeadersAndTiming:
    """Adds `headers` to every HTTP response (unless the app set them), observes
    `discovery_request_seconds` by route template and method, and counts the request on
    the context's `Foreground` while it runs (in-process jobs step aside meanwhile)."""

    def __init__(self, app: ASGIApp, *, headers: Mapping[str, str], metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        ctx = getattr(scope["app"].state, "ctx", None) if "app" in scope else None
        gate = ctx.foreground if ctx is not None else None
        if gate is not None:
            gate.started()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                extra = [(name, value) for name, value in self._headers if name not in present]
                if extra:
                    message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if gate is not None:
                gate.finished()
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(
                "discovery_request_seconds", time.perf_counter() - started, route=path, method=scope["method"]
            )
