"""The embedded default as a multi-process system, through a real running server: a CLI
import handed to the server, a Celery worker killed mid-import beside the server, imports
while searches run, and the server's job worker process going with the server.

Everything is asked through the server's HTTP API and the `discovery` command line, never
by opening the index or the records from the test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from jobs_support import ROOT, product_csv, start_worker
from server_support import ADMIN_KEY, Server, base_env, eventually, pid_alive, wait_for

from discovery.config import Settings, TextSettings
from discovery.domain import JSONObject
from discovery.store.records import Records
from indexer.jobs.kinds import default_kinds
from indexer.jobs.model import JobTuning
from indexer.jobs.runner import JobRunner
from tests.conftest import TEST_SERVICES

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def server(tmp_path: Path, data_dir: Path) -> Iterator[Server]:
    s = Server(data_dir, tmp_path / "server.log")
    yield s
    s.stop()


def _cli(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "discovery.cli", *args],
        cwd=ROOT,
        env=base_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_import_while_the_server_runs_is_handed_to_it_and_every_row_is_searchable_there(
    server: Server, data_dir: Path, tmp_path: Path
) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(product_csv(400))
    done = _cli(data_dir, "ingest", "products", str(export))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "handing the job to" in " ".join(done.stderr.split())
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert last["state"] == "succeeded"
    assert last["counts"]["received"] == 400 and last["counts"]["indexed"] == 400
    # The job ran in the server's worker process; the server's searches follow its commits.
    skus = wait_for(server.skus, lambda found: len(found) >= 400, timeout=2.0)
    assert sorted(skus) == [f"P-{i:06d}" for i in range(400)]


def test_a_cli_import_the_server_refuses_exits_non_zero_with_the_reason(
    server: Server, data_dir: Path, tmp_path: Path
) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(product_csv(3))
    done = _cli(data_dir, "ingest", "products", str(export), "--mapping", "no-such-mapping")
    assert done.returncode != 0
    assert "no-such-mapping" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_import_without_a_server_runs_itself_even_after_a_server_was_killed(
    server: Server, data_dir: Path, tmp_path: Path
) -> None:
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait(timeout=10)
    assert (data_dir / "server.json").exists()  # left behind, and ignored: its pid is gone
    export = tmp_path / "export.csv"
    export.write_bytes(product_csv(50))
    done = _cli(data_dir, "ingest", "products", str(export))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "handing the job" not in " ".join(done.stderr.split())
    assert json.loads(done.stdout.strip().splitlines()[-1])["counts"]["indexed"] == 50


def test_the_servers_job_worker_goes_when_the_server_is_killed(server: Server) -> None:
    children = eventually(server.children, timeout=10.0)
    assert children, "the server started no job worker process"
    os.kill(server.proc.pid, signal.SIGKILL)  # the server alone, not its process group
    server.proc.wait(timeout=10)
    assert eventually(lambda: not any(pid_alive(p) for p in children), timeout=5.0), "an orphaned job worker"


def test_a_job_worker_that_dies_is_started_again_and_runs_the_next_import(server: Server) -> None:
    first = eventually(server.children, timeout=10.0)
    assert len(first) == 1
    os.kill(first[0], signal.SIGKILL)
    again = wait_for(server.children, lambda found: bool(found) and found != first, timeout=10.0)
    assert again and again != first, "no new job worker"
    response = server.http.post(
        "/api/ingest/products", files={"file": ("e.csv", product_csv(20))}, headers={"X-API-Key": ADMIN_KEY}
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    job = wait_for(
        lambda: server.http.get(f"/api/jobs/{job_id}").json(), lambda j: j["state"] != "queued" and
        j["state"] != "running", timeout=60.0, every=0.2,
    )
    if job["state"] != "succeeded":
        for pid in server.children():
            os.kill(pid, signal.SIGUSR1)  # its stacks, into the server log
        time.sleep(1)
    assert job["state"] == "succeeded", (job, server.log.read_text()[-6000:])
    assert wait_for(server.total, lambda n: n == 20, timeout=2.0) == 20


def test_a_clean_shutdown_withdraws_server_json_and_stops_the_job_worker(server: Server, data_dir: Path) -> None:
    children = eventually(server.children, timeout=10.0)
    assert children and (data_dir / "server.json").exists()
    server.proc.send_signal(signal.SIGTERM)
    server.proc.wait(timeout=60)  # uvicorn shuts down, then re-raises the signal: -15 is a clean end
    assert not (data_dir / "server.json").exists()
    assert not any(pid_alive(p) for p in children)


def test_reimporting_while_a_query_loop_runs_never_shows_an_empty_or_partial_total(
    server: Server, tmp_path: Path
) -> None:
    admin = {"X-API-Key": ADMIN_KEY}
    rows = 400

    def import_(data: bytes) -> JSONObject:
        response = server.http.post(
            "/api/ingest/products", files={"file": ("export.csv", data)}, headers=admin
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        job = wait_for(
            lambda: server.http.get(f"/api/jobs/{job_id}").json(),
            lambda j: j["state"] in ("succeeded", "failed", "cancelled"),
            timeout=90.0,
            every=0.2,
        )
        assert job["state"] == "succeeded", job
        return job

    import_(product_csv(rows))
    assert eventually(lambda: server.total() == rows, timeout=2.0)
    seen: list[int] = []
    errors: list[str] = []
    stop = threading.Event()

    def query_loop() -> None:
        with httpx.Client(base_url=server.url, timeout=30.0) as client:
            while not stop.is_set():
                try:
                    response = client.get("/api/search", params={"type": "product", "q": "product", "size": 5})
                    if response.status_code != 200:
                        errors.append(f"{response.status_code}: {response.text[:200]}")
                    else:
                        seen.append(int(response.json()["total"]))
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                time.sleep(0.01)

    loop = threading.Thread(target=query_loop)
    loop.start()
    try:
        # Every product again with a new name: each commit replaces documents, never
        # shows fewer (the same SKUs, duplicates = rows renames them all).
        renamed = product_csv(rows, duplicates=rows).decode().splitlines()
        import_(("\n".join([renamed[0], *renamed[rows + 1 :]]) + "\n").encode())
    finally:
        stop.set()
        loop.join()
    assert not errors, errors[:5]
    assert len(seen) > 10
    assert set(seen) == {rows}, sorted(set(seen))
    hits = server.http.get("/api/search", params={"type": "product", "q": "renamed", "size": 1}).json()
    assert eventually(lambda: server.total(q="renamed") == rows, timeout=2.0), hits


# -- beside a real Celery worker -------------------------------------------------------------

# 10,000 (40 chunks): ~25 s an engine on a quiet 2-core box, minutes on a loaded one, where
# DISCOVERY_TEST_KILL_ROWS=3000 (still 12 chunks) keeps the suite in its time.
KILL_ROWS = TEST_SERVICES.kill_rows
TUNING = JobTuning(chunk_size=250, lease_s=2.0, retry_base_s=0.2, retry_cap_s=1.0, requeue_after_s=15.0)


@pytest.mark.parametrize("engine", [pytest.param("embedded"), pytest.param("opensearch", marks=pytest.mark.opensearch)])
def test_a_celery_worker_killed_mid_import_leaves_each_sku_exactly_once_in_the_running_servers_search(
    tmp_path: Path, data_dir: Path, redis_url: str, engine: str, request: pytest.FixtureRequest
) -> None:
    queue = f"test-server-{uuid.uuid4().hex[:8]}"
    env = {"DISCOVERY_REDIS_URL": redis_url, "DISCOVERY_BACKEND": engine}
    opensearch_url = request.getfixturevalue("opensearch_url") if engine == "opensearch" else ""
    if opensearch_url:
        env |= {"DISCOVERY_OPENSEARCH_URL": opensearch_url, "DISCOVERY_INDEX_PREFIX": f"kill-{queue}"}
    server = Server(data_dir, tmp_path / "server.log", **env)
    worker_env = {k: v for k, v in base_env(data_dir, **env).items() if k.startswith("DISCOVERY_")}
    log = tmp_path / "workers.log"
    workers = [start_worker(worker_env, queue=queue, log=log, context=True)]
    on_opensearch = {"opensearch_url": opensearch_url, "index_prefix": f"kill-{queue}"} if opensearch_url else {}
    settings = Settings(
        redis_url=redis_url, data_dir=data_dir, text=TextSettings(enabled=False), backend=engine, **on_opensearch
    )
    # The test submits the job itself (to its own queue, with short leases so recovery takes
    # seconds, not the default minute); the server only searches.
    from jobs_support import RecordsEnv

    env_ = RecordsEnv.open(settings)
    runner = JobRunner(env_, kinds=default_kinds(), queue=queue)
    try:
        key, size = env_.blobs.put_bytes(product_csv(KILL_ROWS))
        job_id = runner.submit(
            "import_products",
            params={"file": {"blob": key, "name": "export.csv", "bytes": size}, "mapping": None},
            tuning=TUNING,
        )
        progress = wait_for(
            lambda: float(str((env_.records.get_job(job_id) or {}).get("progress") or 0)),
            lambda p: p >= 0.3,
            timeout=90.0,
            every=0.05,
        )
        assert progress >= 0.3, log.read_text()[-3000:]
        os.killpg(workers[0].pid, signal.SIGKILL)
        workers[0].wait(timeout=10)
        assert 0 < server.total() < KILL_ROWS  # the server already follows the dead worker's commits
        workers.append(start_worker(worker_env, queue=queue, log=log, context=True))
        job = runner.wait(job_id, timeout=120)
        assert job["state"] == "succeeded", job
        skus = wait_for(server.skus, lambda found: len(found) >= KILL_ROWS, timeout=2.0)
        assert sorted(skus) == [f"P-{i:06d}" for i in range(KILL_ROWS)]  # each once
    finally:
        for proc in workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        runner.close()
        env_.records.close()
        server.stop()
        import redis

        redis.Redis.from_url(redis_url).delete(queue)
        if opensearch_url:
            httpx.delete(f"{opensearch_url}/kill-{queue}*", timeout=60)


def test_local_key_is_private_and_reused_while_the_records_know_it(server: Server, data_dir: Path) -> None:
    key_file = data_dir / "local.key"
    assert key_file.stat().st_mode & 0o077 == 0
    key = key_file.read_text().strip()
    response = server.http.get("/api/jobs", headers={"X-API-Key": key})
    assert response.status_code == 200
    records = Records.open(Settings(data_dir=data_dir).records_url)
    try:
        from discovery.api.local_link import local_key

        assert local_key(records, data_dir) == key
    finally:
        records.close()
