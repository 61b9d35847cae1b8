"""Uploads: markup (SVG, HTML, script posing as an image) never becomes an asset and no
stored file is ever served as something a browser would run; bodies over the upload limit
are refused as they arrive, before the app has read them, with a clear problem."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Scope

from discovery.api.app import create_app
from discovery.api.auth import create_key
from discovery.api.body_limit import BodyLimit
from discovery.config import Settings
from discovery.services.context import Context
from tests.security import hostile_files as hf
from tests.security.security_support import SecuredCatalog, job_rejects

RASTER = {"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"}
SERVABLE = RASTER | {"image/tiff", "image/heif", "application/pdf"}
CHUNK = 64 * 1024
LIMIT_MB = 1


def test_svg_and_html_are_rejected_at_intake_with_a_reason(secured: SecuredCatalog) -> None:
    job = secured.hostile.markup_job
    reasons = job_rejects(job)
    for name in hf.MARKUP_FILES:
        for where in (name, f"markup.zip!{name}"):
            assert "markup" in reasons[where], (where, reasons.get(where))
    counts = job["counts"]
    assert isinstance(counts, dict) and counts["indexed"] == 0
    ctx = secured.client.app.state.ctx  # type: ignore[attr-defined]
    names = {a.filename for batch in ctx.records.iter_assets() for a in batch}
    assert not names & set(hf.MARKUP_FILES)


def test_image_search_refuses_markup(secured: SecuredCatalog) -> None:
    for name, data in hf.MARKUP_FILES.items():
        response = secured.client.post("/api/search/image", files={"file": (name, data, "image/svg+xml")})
        assert response.status_code == 400, name
        assert response.headers["content-type"].startswith("application/problem+json")


def test_no_stored_file_is_served_as_markup_and_only_raster_images_inline(secured: SecuredCatalog) -> None:
    ctx = secured.client.app.state.ctx  # type: ignore[attr-defined]
    assets = [a for batch in ctx.records.iter_assets() for a in batch]
    assert len(assets) > 10
    for asset in assets:
        response = secured.client.get(f"/api/assets/{asset.id}/file")
        assert response.status_code == 200, asset.filename
        kind = response.headers["content-type"].split(";")[0]
        assert kind in SERVABLE, (asset.filename, kind)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in response.headers["content-security-policy"]
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("inline" if kind in RASTER else "attachment"), (asset.filename, disposition)


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    """An app whose uploads are limited to 1 MB, driven at the ASGI level below."""
    root = tmp_path_factory.mktemp("limited")
    ctx = Context.open(Settings(data_dir=root / "var", backend="embedded", max_upload_mb=LIMIT_MB))
    try:
        yield create_app(ctx=ctx), create_key(ctx.records, role="editor")
    finally:
        from discovery.services import jobs

        jobs.close_jobs(ctx, wait=True)
        ctx.close()


def _multipart(field: str, size: int) -> list[bytes]:
    head = (
        f'--XyZ\r\nContent-Disposition: form-data; name="{field}"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n'
    ).encode()
    return [head, *(b"a" * CHUNK for _ in range(size // CHUNK)), b"\r\n--XyZ--\r\n"]


Answer = tuple[int, dict[str, str], bytes, int]


def _post(app: ASGIApp, path: str, parts: list[bytes], headers: dict[str, str], *, stall_after: int = -1) -> Answer:
    """POST `parts` as separate body messages, the way a server hands them over; returns
    the status, headers, body and how many body bytes the app took before it answered."""
    taken = 0
    queue = list(parts)
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal taken
        if not queue or len(parts) - len(queue) == stall_after:
            await asyncio.sleep(3600)  # a client that sent everything (or stalls) waits for the answer
        part = queue.pop(0)
        taken += len(part)
        return {"type": "http.request", "body": part, "more_body": bool(queue)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "state": {},
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }  # fmt: skip
    _run_in_own_loop(asyncio.wait_for(app(scope, receive, send), timeout=60))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return int(start["status"]), response_headers, body, taken


def _run_in_own_loop(coro: Coroutine[Any, Any, Any]) -> None:
    """asyncio.run on a fresh thread: the session's browser tests keep an event loop
    running in the main thread, where asyncio.run refuses to start another."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:  # re-raised in the test's thread
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


UPLOADS = [("/api/ingest/products", "file"), ("/api/ingest/assets", "files"), ("/api/search/image", "file")]


@pytest.mark.parametrize(("path", "field"), UPLOADS)
def test_a_declared_oversized_body_is_refused_before_a_byte_is_read(
    limited: tuple[FastAPI, str], path: str, field: str
) -> None:
    app, key = limited
    parts = _multipart(field, 4 * 1024 * 1024)
    headers = {"Content-Type": "multipart/form-data; boundary=XyZ", "Content-Length": str(sum(map(len, parts))),
               "X-API-Key": key}  # fmt: skip
    status, response_headers, body, taken = _post(app, path, parts, headers)
    assert status == 413
    assert response_headers["content-type"] == "application/problem+json"
    assert b"1 MB" in body and b"DISCOVERY_MAX_UPLOAD_MB" in body
    assert taken == 0


@pytest.mark.parametrize(("path", "field"), UPLOADS)
def test_a_chunked_oversized_body_is_cut_off_once_past_the_limit(
    limited: tuple[FastAPI, str], path: str, field: str
) -> None:
    app, key = limited
    parts = _multipart(field, 8 * 1024 * 1024)
    status, response_headers, body, taken = _post(
        app, path, parts, {"Content-Type": "multipart/form-data; boundary=XyZ", "X-API-Key": key}
    )
    assert status == 413, body
    assert response_headers["content-type"] == "application/problem+json"
    # Memory and disk stay bounded: the app stopped taking the body one message past the limit.
    assert taken <= LIMIT_MB * 1024 * 1024 + 2 * CHUNK


def test_a_body_under_the_limit_is_accepted(limited: tuple[FastAPI, str], tmp_path: Path) -> None:
    app, key = limited
    rows = b"sku,name\nSMALL-1,Small upload\n"
    parts = [
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="p.csv"\r\nContent-Type: text/csv\r\n\r\n',
        rows,
        b"\r\n--XyZ--\r\n",
    ]
    status, _headers, body, _taken = _post(
        app, "/api/ingest/products", parts, {"Content-Type": "multipart/form-data; boundary=XyZ", "X-API-Key": key}
    )
    assert status == 202, body


def test_a_stalled_upload_is_answered_408_instead_of_holding_the_server(limited: tuple[FastAPI, str]) -> None:
    app, key = limited
    parts = _multipart("file", 512 * 1024)
    guarded = BodyLimit(app, max_bytes=LIMIT_MB * 1024 * 1024, idle_seconds=0.5)
    started = time.perf_counter()
    status, response_headers, body, taken = _post(
        guarded, "/api/ingest/products", parts, {"Content-Type": "multipart/form-data; boundary=XyZ", "X-API-Key": key},
        stall_after=3,
    )  # fmt: skip
    assert status == 408, body
    assert response_headers["content-type"] == "application/problem+json" and b"stalled" in body
    assert time.perf_counter() - started < 10
    assert taken < 4 * CHUNK
