"""Request bodies over the upload limit are refused as they arrive, never after.

FastAPI parses a multipart body (spooling it to disk) before a route runs, so a check
inside the route comes after the whole upload was received. This middleware sits in
front: a declared `Content-Length` over the limit is answered 413 before a byte of the
body is read, and a body without one (chunked) is cut off with a 413 as soon as what
arrived passes the limit. Memory and disk stay bounded by the limit either way.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from discovery.api.problems import problem


class BodyLimit:
    """ASGI middleware: at most `max_bytes` of request body per request."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen, exceeded, started = 0, False, False

        async def limited() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # To the app the client has gone: it stops reading and parsing.
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # what the app says about a body it never got whole is replaced by the 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is larger than {self.max_bytes // (1024 * 1024)} MB (DISCOVERY_MAX_UPLOAD_MB)"
        await problem(413, "TooLarge", detail, field="body")(scope, receive, send)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
