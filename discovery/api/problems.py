"""Errors as application/problem+json (RFC 9457), converted only here at the HTTP edge.

The OpenAPI document says so too: every operation's errors are documented as a
`Problem` in `application/problem+json`, in place of FastAPI's default 422 schema, which
no response of this API has (clients and schema fuzzers check answers against it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from discovery.errors import DiscoveryError, RejectedInput, TooManyRequests

PROBLEM = "application/problem+json"
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")


class Problem(BaseModel):
    """An error as RFC 9457 problem details; the optional members say where it happened."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("about:blank", description="always about:blank: the status and title say what it is")
    title: str = Field(description="the kind of error, e.g. InvalidQuery, NotFound, Invalid request")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong, in a sentence meant for the caller")
    field: str | None = Field(None, description="the request field at fault")
    line: int | None = Field(None, description="the line of an uploaded file at fault")
    file: str | None = Field(None, description="the uploaded file at fault")
    errors: int | None = Field(None, description="how many validation errors the request had")


def problem(status: int, title: str, detail: str, **extra: object) -> JSONResponse:
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status, "detail": _text(detail)}
    body.update({k: _text(v) if isinstance(v, str) else v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _text(value: str) -> str:
    # A detail may quote the caller's input; a lone surrogate in it (valid in a JSON escape,
    # not in UTF-8) must not make the error itself fail to encode. It is shown escaped.
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def install(app: FastAPI) -> None:
    _document(app)

    @app.exception_handler(DiscoveryError)
    async def _domain(_request: Request, exc: DiscoveryError) -> JSONResponse:
        extra: dict[str, object] = {"field": exc.field}
        if isinstance(exc, RejectedInput):
            extra.update(line=exc.line, file=exc.file)
        answer = problem(exc.status, type(exc).__name__, exc.detail, **extra)
        if isinstance(exc, TooManyRequests):
            answer.headers["Retry-After"] = str(exc.retry_after)
        return answer

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


def _document(app: FastAPI) -> None:
    """Make the OpenAPI document describe the errors the handlers above really send."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()  # caches itself on app.openapi_schema; completed in place below
        document_problems(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_problems(schema: dict[str, Any]) -> None:
    """Every operation answers errors as problem+json: its 422 says so, and `default`
    covers the 400/401/403/404/409/413/503 the services raise."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses["422"] = _problem_response("the request does not fit this operation's parameters or body")
            responses.setdefault("default", _problem_response("an error, as problem details"))
    for name in _FASTAPI_ERROR_SCHEMAS:
        components.pop(name, None)


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": dict(_PROBLEM_REF)}}}
