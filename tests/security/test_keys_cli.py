"""`discovery keys create|list|revoke` against a running server, as an operator uses them:
real processes, the public HTTP API. A key revoked from the CLI answers 401 at the server's
very next request (the server looks every key up; it caches none)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import ROOT, free_port, spawn, stop_group, wait_until_up


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DISCOVERY_DATA_DIR": str(tmp_path / "var"),
        "DISCOVERY_TEXT_ENABLED": "false",
        "DISCOVERY_ANONYMOUS_ROLE": "public",
    }


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "discovery.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = tmp_path / "server.log"
    proc = spawn([sys.executable, "-m", "discovery.cli", "serve", "--port", str(port)], env=env, log=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(proc, lambda: httpx.get(f"{url}/healthz", timeout=2).status_code == 200, log=log, timeout=120)
        yield url
    finally:
        stop_group(proc)


def test_keys_revoked_from_the_cli_answer_401_at_once_in_a_running_server(env: dict[str, str], server: str) -> None:
    made = _cli(env, "keys", "create", "--role", "viewer", "--name", "alice")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    key_id = key.split("_")[1]
    listed = _cli(env, "keys", "list")
    assert listed.returncode == 0, listed.stderr
    line = next(row for row in listed.stdout.splitlines() if row.startswith(key_id))
    assert "alice" in line and "viewer" in line and "False" in line
    assert key not in listed.stdout
    headers = {"X-API-Key": key}
    assert httpx.get(f"{server}/api/analytics/queries", headers=headers, timeout=30).status_code == 200

    revoked = _cli(env, "keys", "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    assert httpx.get(f"{server}/api/analytics/queries", headers=headers, timeout=30).status_code == 401
    assert key_id not in _cli(env, "keys", "list").stdout
    assert "True" in next(r for r in _cli(env, "keys", "list", "--all").stdout.splitlines() if r.startswith(key_id))
    missing = _cli(env, "keys", "revoke", "nosuchkey")
    assert missing.returncode == 1 and "no API key" in missing.stderr
