"""A real `discovery serve` for the multi-process tests: a subprocess on a free port over a
temporary data dir (embedded engine, SQLite records), asked only through its HTTP API."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import ROOT, children, free_port, pid_alive, spawn, stop_group, wait_until_up

__all__ = ["ADMIN_KEY", "ROOT", "Server", "base_env", "eventually", "free_port", "pid_alive", "wait_for"]

ADMIN_KEY = "dk_test_multiprocess-admin-key-0123456789"


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
        self.proc = spawn(
            [sys.executable, "-m", "discovery.cli", "serve", "--port", str(self.port)], env=self.env, log=log
        )
        # The admin key: job endpoints need an editor's.
        self.http = httpx.Client(base_url=self.url, timeout=30.0, headers={"X-API-Key": ADMIN_KEY})
        wait_until_up(self.proc, lambda: self.http.get("/healthz").status_code == 200, log=log)

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
        return children(self.proc.pid)

    def stop(self) -> None:
        self.http.close()
        stop_group(self.proc, timeout=40)


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
