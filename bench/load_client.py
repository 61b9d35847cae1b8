"""A lean HTTP/1.1 GET client for the load test: keep-alive connections over asyncio streams.

The load generator shares the 2-core box with the server, so its own cost per request
is taken from the server's. httpx's async client spent about a millisecond of CPU per
request and more as connections piled up (its pool is searched per request): at 100
requests a second it used a whole core and fell behind on its own, which the open loop
then reported as server latency. This sends a GET and reads the status and the body
(Content-Length or chunked), and nothing else, as wrk or k6 do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit


class Response:
    __slots__ = ("body", "status")

    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class LeanClient:
    """GETs over at most `max_connections` keep-alive connections to one host."""

    def __init__(self, base: str, *, max_connections: int, timeout: float = 60.0) -> None:
        parts = urlsplit(base)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(max_connections)
        self._timeout = timeout

    async def __aenter__(self) -> LeanClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for _, writer in idle:
            writer.close()

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Response:
        target = f"{path}?{urlencode(params)}" if params else path
        request = f"GET {target} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n\r\n".encode("latin-1")
        async with self._slots:
            reused = bool(self._idle)
            reader, writer = self._idle.pop() if reused else await asyncio.open_connection(self._host, self._port)
            try:
                writer.write(request)
                response, keep = await asyncio.wait_for(_read_response(reader), self._timeout)
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                writer.close()
                if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                    raise
                # The server closed this idle keep-alive connection (uvicorn: after 5 s) as we
                # sent on it: a GET is safe to send again on a fresh one, as browsers do.
                reader, writer = await asyncio.open_connection(self._host, self._port)
                try:
                    writer.write(request)
                    response, keep = await asyncio.wait_for(_read_response(reader), self._timeout)
                except BaseException:
                    writer.close()
                    raise
            except BaseException:
                writer.close()
                raise
            if keep:
                self._idle.append((reader, writer))
            else:
                writer.close()
            return response


async def _read_response(reader: asyncio.StreamReader) -> tuple[Response, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        data = bytes(body)
    else:
        data = await reader.readexactly(int(headers.get("content-length", "0")))
    keep = headers.get("connection", "").lower() != "close"
    return Response(status, data), keep
