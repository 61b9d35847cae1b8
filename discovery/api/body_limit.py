"""Request bodies over the upload limit are refused as they arrive, never after.

FastAPI parses a multipart body (spooling it to disk) before a route runs, so a check
inside the route comes after the whole upload was received. This middleware sits in
front: a declared `Content-Length` over the limit is answered 413 before a byte of the
body is read, and a body without one (chunked) is cut off with a 413 as soon as what
arrived passes the limit. Memory and disk stay bounded by the limit either way.

A body that stalls (a slow-upload attack holds a worker and a spool file open for as long
as it likes) is answered 408 once no piece of it has arrived for `idle_seconds`; the
pause is only timed while the body is incomplete, never while a response streams.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from discovery.api.problems import problem

BODY_IDLE_SECONDS = 30.0


class BodyLimit:
    """ASGI middleware: at most `max_bytes` of request body per request."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, idle_seconds: float = BODY_IDLE_SECONDS) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.idle_seconds = idle_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send, 413, self._too_large())
            return
        seen, complete, started = 0, False, False
        refusal: tuple[int, str] | None = None

        async def limited() -> Message:
            nonlocal seen, complete, refusal
            if refusal is not None:
                return {"type": "http.disconnect"}
            if complete:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.idle_seconds)
            except TimeoutError:
                refusal = (408, f"the request body stalled: nothing arrived for {self.idle_seconds:g} s")
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if seen > self.max_bytes:
                    refusal = (413, self._too_large())
                    # To the app the client has gone: it stops reading and parsing.
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if refusal is not None and not started:
                return  # what the app says about a body it never got whole is replaced below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if refusal is None or started:
                raise
        if refusal is not None and not started:
            await self._refuse(scope, receive, send, *refusal)

    def _too_large(self) -> str:
        return f"the request body is larger than {self.max_bytes // (1024 * 1024)} MB (DISCOVERY_MAX_UPLOAD_MB)"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
        title = "TooLarge" if status == 413 else "Timeout"
        await problem(status, title, detail, field="body")(scope, receive, send)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
