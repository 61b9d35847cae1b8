"""Jobs on real Celery workers (separate processes) with Redis as the broker and PostgreSQL
as the records database: a worker killed with SIGKILL mid-job, Redis restarted without
persistence mid-job, retries and dead letters through Celery."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
import redis
from jobs_support import ROOT, RecordsEnv, extra_kinds, product_csv, start_worker

from discovery.config import Settings, TextSettings
from discovery.domain import JSONObject
from discovery.store.index import make_backend
from discovery.store.job_records import JobStore
from indexer.jobs.kinds import default_kinds
from indexer.jobs.model import JobTuning
from indexer.jobs.runner import JobRunner

pytestmark = pytest.mark.slow

# Short leases and a short "waited too long" so recovery happens in seconds, not minutes.
TUNING = JobTuning(chunk_size=250, lease_s=2.0, retry_base_s=0.2, retry_cap_s=1.0, requeue_after_s=15.0)
PRODUCTS = 10_000


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A database of its own, so no other test's reset touches this one's jobs."""
    name = f"jobs_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield postgres_url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Cluster:
    """The client side (a JobRunner sending through Celery) and the worker processes."""

    def __init__(self, tmp_path: Path, redis_url: str, pg_url: str) -> None:
        self.queue = f"test-jobs-{uuid.uuid4().hex[:8]}"
        self.log = tmp_path / "workers.log"
        data_dir = tmp_path / "var"
        self.worker_env = {
            "DISCOVERY_REDIS_URL": redis_url,
            "DISCOVERY_DATABASE_URL": pg_url,
            "DISCOVERY_DATA_DIR": str(data_dir),
            "DISCOVERY_BACKEND": "embedded",
            "DISCOVERY_TEXT_ENABLED": "false",
        }
        self.settings = Settings(
            redis_url=redis_url, database_url=pg_url, data_dir=data_dir, text=TextSettings(enabled=False)
        )
        self.env = RecordsEnv.open(self.settings)
        self.runner = JobRunner(self.env, kinds={**default_kinds(), **extra_kinds()}, queue=self.queue)
        self.store = JobStore(self.env.records.engine)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.redis = redis.Redis.from_url(redis_url)

    def start_worker(self, *, context: bool = False) -> subprocess.Popen[bytes]:
        proc = start_worker(self.worker_env, queue=self.queue, log=self.log, context=context)
        self.workers.append(proc)
        return proc

    def import_products(self, data: bytes, tuning: JobTuning = TUNING) -> str:
        key, size = self.env.blobs.put_bytes(data)
        params: JSONObject = {"file": {"blob": key, "name": "export.csv", "bytes": size}, "mapping": None}
        return self.runner.submit("import_products", params=params, tuning=tuning)

    def indexed_ids(self, n: int) -> int:
        """How many of products P-0..P-(n-1) the search index holds (read-only here)."""
        backend = make_backend(self.settings)
        try:
            backend.ensure_ready()
            assert backend.count() == n, f"the index holds {backend.count()} documents, not {n}"
            return len(backend.get([f"product:P-{i:06d}" for i in range(n)]))
        finally:
            backend.close()

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def wait(self, job_id: str, timeout: float = 90) -> dict:  # type: ignore[type-arg]
        try:
            return self.runner.wait(job_id, timeout=timeout)
        except TimeoutError:
            print(self.log.read_text()[-5000:])
            print(self.store.chunks(job_id))
            raise

    def wait_progress(self, job_id: str, at_least: float, timeout: float = 60) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            progress = float((self.env.records.get_job(job_id) or {}).get("progress") or 0)
            if progress >= at_least:
                return progress
            time.sleep(0.05)
        print(self.log.read_text()[-5000:])
        raise AssertionError(f"job {job_id} did not reach {at_least:.0%} in {timeout}s")

    def wait_mid_chunk(self, job_id: str, at_least: float) -> None:
        """Until the job is past `at_least` and a worker is inside a chunk (a moment in)."""
        self.wait_progress(job_id, at_least)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(c["state"] == "running" for c in self.store.chunks(job_id)):
                time.sleep(0.2)
                return
            time.sleep(0.01)
        raise AssertionError("no chunk started")

    def close(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.runner.close()
        self.redis.delete(self.queue)
        self.env.records.close()


@pytest.fixture
def cluster(tmp_path: Path, redis_url: str, pg_url: str) -> Iterator[Cluster]:
    c = Cluster(tmp_path, redis_url, pg_url)
    yield c
    c.close()


def _skus(env: RecordsEnv) -> list[str]:
    return [p.sku for batch in env.records.iter_products() for p in batch]


def test_a_worker_killed_mid_import_leaves_nothing_lost_or_doubled_once_a_new_worker_starts(
    cluster: Cluster,
) -> None:
    first = cluster.start_worker(context=True)
    job_id = cluster.import_products(product_csv(PRODUCTS), tuning=replace(TUNING, chunk_size=500))
    cluster.wait_mid_chunk(job_id, 0.3)
    cluster.kill(first)
    held = [c["chunk_no"] for c in cluster.store.chunks(job_id) if c["state"] == "running"]
    assert held  # the worker died holding a chunk, with part of its effect applied
    assert (cluster.env.records.get_job(job_id) or {})["state"] == "running"

    cluster.start_worker(context=True)
    job = cluster.wait(job_id)
    assert job["state"] == "succeeded"
    counts = job["counts"]
    assert [counts[k] for k in ("received", "indexed", "rejected", "duplicates")] == [PRODUCTS, PRODUCTS, 0, 0]
    assert _skus(cluster.env) == [f"P-{i:06d}" for i in range(PRODUCTS)]  # each SKU exactly once
    assert cluster.indexed_ids(PRODUCTS) == PRODUCTS  # and each in the index, once
    attempts = {c["chunk_no"]: c["attempts"] for c in cluster.store.chunks(job_id)}
    assert all(attempts[no] >= 2 for no in held)  # what the dead worker held was run again


def test_redis_restarted_without_persistence_mid_import_is_recovered_from_the_records(cluster: Cluster) -> None:
    cluster.start_worker(context=True)
    rows = 2_000
    job_id = cluster.import_products(product_csv(rows), tuning=replace(TUNING, chunk_size=100))
    cluster.wait_progress(job_id, 0.2)
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], check=False)
    subprocess.run([str(ROOT / "scripts" / "services"), "start", "redis"], check=True, capture_output=True)
    assert cluster.redis.llen(cluster.queue) == 0  # whatever was queued is gone

    job = cluster.wait(job_id)
    assert job["state"] == "succeeded"
    counts = job["counts"]
    assert [counts[k] for k in ("received", "indexed", "rejected", "duplicates")] == [rows, rows, 0, 0]
    assert _skus(cluster.env) == [f"P-{i:06d}" for i in range(rows)]
    assert cluster.indexed_ids(rows) == rows


def test_through_celery_a_poison_item_is_dead_lettered_and_a_flaky_chunk_retried(cluster: Cluster) -> None:
    cluster.start_worker()
    params = {"rows": 1_000, "poison": 777, "flaky": [2], "flaky_times": 2}
    job_id = cluster.runner.submit("test_rows", params=params, tuning=TUNING)
    job = cluster.wait(job_id)
    assert job["state"] == "succeeded"
    assert job["counts"]["received"] == 1_000 and job["counts"]["indexed"] == 999
    assert job["dead_letters"] == [
        {"line": 777, "chunk": 4, "attempts": 3, "reason": "ValueError: cannot decode row 777"}
    ]
    assert len(_skus(cluster.env)) == 999
    flaky = next(c for c in cluster.store.chunks(job_id) if c["chunk_no"] == 2)
    assert flaky["attempts"] == 3 and flaky["state"] == "done"


def _outcome(job_or_report: dict, records: object) -> tuple:  # type: ignore[type-arg]
    counts = job_or_report["counts"]
    rejects = sorted((r["line"] or 0, r["field"] or "", r["reason"]) for r in job_or_report["rejects"])
    products = {p.sku: p.name for batch in records.iter_products() for p in batch}  # type: ignore[attr-defined]
    keys = ("received", "indexed", "rejected", "duplicates", "products")
    return tuple(counts[k] for k in keys), rejects, products


def test_the_same_import_through_celery_in_process_and_directly_gives_the_same_result(
    cluster: Cluster, tmp_path: Path
) -> None:
    from discovery.services import jobs
    from discovery.services.context import Context
    from indexer.products.pipeline import import_products

    data = product_csv(800, duplicates=20, bad=5)
    tuning = replace(TUNING, chunk_size=200)
    cluster.start_worker(context=True)
    celery = cluster.wait(cluster.import_products(data, tuning=tuning))

    local = Context.open(Settings(data_dir=tmp_path / "inproc", text=TextSettings(enabled=False)))
    try:
        job_id = jobs.start_product_import(local, source=data, filename="export.csv", tuning=tuning)
        in_process = jobs.wait_for_job(local, job_id, timeout=60)
        in_process_outcome = _outcome(in_process, local.records)
        chunks = jobs.get_job(local, job_id)["chunks"]
        assert chunks["total"] == chunks["done"] >= 4
    finally:
        jobs.close_jobs(local)
        local.close()

    direct_ctx = Context.open(Settings(data_dir=tmp_path / "direct", text=TextSettings(enabled=False)))
    try:
        (tmp_path / "export.csv").write_bytes(data)
        report = import_products(records=direct_ctx.records, backend=direct_ctx.backend,
                                 source=tmp_path / "export.csv", filename="export.csv", chunk_size=200)
        direct = _outcome(report.to_json(), direct_ctx.records)
    finally:
        direct_ctx.close()

    assert celery["state"] == in_process["state"] == "succeeded"
    assert _outcome(celery, cluster.env.records) == in_process_outcome == direct
    assert direct[0] == (825, 800, 5, 20, 800)
    assert direct[2]["P-000003"] == "Product 3 renamed"  # the later row won everywhere
