"""A real `discovery serve` for the multi-process tests: a subprocess on a free port over a
temporary data dir (embedded engine, SQLite records), asked only through its HTTP API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = "dk_test_multiprocess-admin-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DISCOVERY_DATA_DIR": str(data_dir),
        "DISCOVERY_BACKEND": "embedded",
        "DISCOVERY_TEXT_ENABLED": "false",
        "DISCOVERY_ADMIN_KEY": ADMIN_KEY,
        **extra,
    }


class Server:
    """`python -m discovery.cli serve` in its own process group (its job worker with it)."""

    def __init__(self, data_dir: Path, log: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = base_env(data_dir, **env)
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "discovery.cli", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # The admin key: job endpoints need an editor's.
        self.http = httpx.Client(base_url=self.url, timeout=30.0, headers={"X-API-Key": ADMIN_KEY})
        self._wait_up()

    def _wait_up(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited: {self.log.read_text()[-3000:]}")
            try:
                if self.http.get("/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server did not come up: {self.log.read_text()[-3000:]}")

    def total(self, **params: Any) -> int:
        response = self.http.get("/api/search", params={"type": "product", "size": 1, **params})
        response.raise_for_status()
        return int(response.json()["total"])

    def skus(self) -> list[str]:
        """Every product id the server's search returns, following the cursor."""
        out: list[str] = []
        params: dict[str, Any] = {"type": "product", "size": 100, "sort": "name"}
        while True:
            response = self.http.get("/api/search", params=params)
            response.raise_for_status()
            body = response.json()
            out += [h["id"] for h in body["hits"]]
            if not body["hits"] or not body.get("cursor"):
                return out
            params["cursor"] = body["cursor"]

    def children(self) -> list[int]:
        """Pids of processes whose parent is the server."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(stat[1]) == self.proc.pid:
                    found.append(int(entry.name))
        return found

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def eventually(check: Any, timeout: float, every: float = 0.1) -> Any:
    """`check()`'s first truthy value within `timeout` seconds, else its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def wait_for(get: Any, ok: Any, timeout: float, every: float = 0.1) -> Any:
    """`get()` until `ok(value)` or `timeout` seconds; the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(every)


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
