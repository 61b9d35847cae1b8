"""A real `discovery serve` process on a free loopback port, for the tests that measure
what a request costs the server (time, resident memory) rather than what it answers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import free_port, spawn, stop_group, wait_until_up


def rss_mb(pid: int) -> float:
    """Resident memory of a process now (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    url: str
    admin_key: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def client(self, *, key: str | None = None, timeout: float = 60.0) -> httpx.Client:
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def wait_job(self, job_id: str, *, timeout: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.client(key=self.admin_key) as http:
            while time.monotonic() < deadline:
                job: dict[str, Any] = http.get(f"/api/jobs/{job_id}").json()
                if job.get("state") in ("succeeded", "failed", "cancelled"):
                    return job
                time.sleep(0.2)
        raise TimeoutError(f"job {job_id} did not finish in {timeout} s")


@contextmanager
def live_server(data_dir: Path, **env: str) -> Iterator[LiveServer]:
    """`discovery serve` on the embedded engine with its own data dir; killed on exit."""
    port = free_port()
    admin_key = f"live-{os.urandom(12).hex()}"
    environ = {**os.environ, "DISCOVERY_DATA_DIR": str(data_dir), "DISCOVERY_BACKEND": "embedded",
               "DISCOVERY_ADMIN_KEY": admin_key, **env}  # fmt: skip
    command = [str(Path(sys.executable).with_name("discovery")), "serve", "--host", "127.0.0.1", "--port", str(port)]
    log = data_dir.parent / "server.log"
    process = spawn(command, env=environ, log=log, append=False)
    server = LiveServer(process, f"http://127.0.0.1:{port}", admin_key)

    def ready() -> bool:
        # Ready, not just alive: the models load in the background after start-up, and memory
        # measured while they load would be charged to whatever the test does.
        return httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200

    try:
        wait_until_up(process, ready, log=log, timeout=180, every=0.2)
        yield server
    finally:
        stop_group(process, timeout=15)
