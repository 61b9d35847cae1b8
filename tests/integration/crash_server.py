"""A real `discovery serve` process for crash tests: started on a free loopback port in its
own process group (so `kill -9` takes all of it), restarted on the same data, and spoken to
only through its HTTP API."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from indexer.sample.images import ImageSpec, draw_product_image
from tests.support.processes import free_port, kill_group, log_tail, spawn, stop_group, wait_until_up

DISCOVERY = Path(sys.executable).with_name("discovery")


def image_zip(count: int, *, size: int = 48) -> tuple[bytes, list[str]]:
    """A zip of `count` small, distinct PNG pictures (sample generator) and their names."""
    out = io.BytesIO()
    names = [f"pic-{i:04d}.png" for i in range(count)]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for i, name in enumerate(names):
            picture = draw_product_image(ImageSpec("red", "shoe", "white", size, seed=1000 + i))
            buf = io.BytesIO()
            picture.save(buf, format="PNG")
            zf.writestr(name, buf.getvalue())
    return out.getvalue(), names


def multipart(field: str, filename: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = f"----discovery{time.time_ns()}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Server:
    """`discovery serve` on `data_dir` with `env` (DISCOVERY_* settings); `key` is its admin key."""

    def __init__(self, data_dir: Path, log: Path, *, key: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.log = log
        self.key = key
        self.env = {
            **os.environ, **(env or {}), "DISCOVERY_DATA_DIR": str(data_dir), "DISCOVERY_ADMIN_KEY": key,
            "DISCOVERY_TEXT_ENABLED": "false", "DISCOVERY_REDIS_URL": "",
        }  # fmt: skip
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 120) -> Server:
        self.port = free_port()
        self.proc = spawn(
            [str(DISCOVERY), "serve", "--host", "127.0.0.1", "--port", str(self.port)], env=self.env, log=self.log
        )
        wait_until_up(
            self.proc, lambda: self.request("GET", "/healthz", timeout=2)[0] == 200, log=self.log, timeout=timeout,
            every=0.2,
        )  # fmt: skip
        return self

    def kill9(self) -> None:
        """SIGKILL, as an unlucky operator's machine would: nothing gets to clean up."""
        if self.proc is not None:
            kill_group(self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            stop_group(self.proc, timeout=20)

    def tail(self, chars: int = 4000) -> str:
        return log_tail(self.log, chars)

    def request(
        self, method: str, path: str, *, body: bytes | None = None, content_type: str | None = None,
        timeout: float = 60,
    ) -> tuple[int, Any]:
        headers = {"X-API-Key": self.key}
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback test server
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def get(self, path: str) -> Any:
        status, body = self.request("GET", path)
        assert status == 200, (path, status, body)
        return body

    def upload(self, path: str, field: str, filename: str, data: bytes, content_type: str) -> Any:
        body, ctype = multipart(field, filename, data, content_type)
        status, answer = self.request("POST", path, body=body, content_type=ctype, timeout=300)
        assert status == 202, (status, answer)
        return answer

    def wait_job(self, job_id: str, *, timeout: float = 300) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(f"/api/jobs/{job_id}")
            if job["state"] in ("succeeded", "failed", "cancelled"):
                return job
            time.sleep(0.5)
        raise AssertionError(f"job {job_id} did not finish in {timeout}s: {self.tail()}")

    def asset_titles(self) -> list[str]:
        """Every asset the search index holds (its filename), paged with the cursor."""
        titles: list[str] = []
        cursor = ""
        while True:
            page = self.get(f"/api/search?type=asset&mode=keyword&size=100&sort=name{cursor}")
            titles += [str(h.get("filename") or h.get("title")) for h in page["hits"]]
            if not page.get("cursor") or not page["hits"]:
                return titles
            cursor = f"&cursor={urllib.parse.quote(page['cursor'])}"
