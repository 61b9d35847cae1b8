"""`discovery worker-ping`, the compose worker's healthcheck: it fails while no worker runs
and succeeds, naming the worker, once a real `discovery worker` answers through Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "discovery.cli"]


def _env(redis_url: str, tmp: Path) -> dict[str, str]:
    # A Redis database of its own (Celery's broadcast channels carry the database number), so
    # the job tests' workers on the test database do not answer this test's pings.
    own_db = redis_url.rsplit("/", 1)[0] + "/14"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCOVERY_")}
    env.update(DISCOVERY_REDIS_URL=own_db, DISCOVERY_DATA_DIR=str(tmp / "var"), DISCOVERY_WORKERS="1")
    return env


def _ping(env: dict[str, str], timeout: float = 1.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "worker-ping", "--timeout", str(timeout)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_worker_ping_fails_without_a_worker_and_names_a_running_one(redis_url: str, tmp_path: Path) -> None:
    env = _env(redis_url, tmp_path)
    before = _ping(env)
    assert before.returncode == 1, before.stdout + before.stderr
    assert "no worker answered" in before.stderr
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen([*CLI, "worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while (answer := _ping(env)).returncode != 0:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(0.5)
        assert answer.stdout.strip() == f"discovery-{worker.pid}@{socket.gethostname()}"
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
