"""Errors as application/problem+json (RFC 9457), converted only here at the HTTP edge."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from discovery.errors import DiscoveryError, RejectedInput

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: object) -> JSONResponse:
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def install(app: FastAPI) -> None:
    @app.exception_handler(DiscoveryError)
    async def _domain(_request: Request, exc: DiscoveryError) -> JSONResponse:
        extra: dict[str, object] = {"field": exc.field}
        if isinstance(exc, RejectedInput):
            extra.update(line=exc.line, file=exc.file)
        return problem(exc.status, type(exc).__name__, exc.detail, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
        detail = f"{where}: {first.get('msg', 'invalid request')}" if where else str(first.get("msg", "invalid"))
        return problem(422, "Invalid request", detail, field=where or None, errors=len(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, "HTTP error", str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # Never leak internals: the log has the traceback, the caller gets a plain sentence.
        import logging

        logging.getLogger("discovery.api").exception("unhandled error", exc_info=exc)
        return problem(500, "Internal error", "the server failed to answer this request; it has been logged")
