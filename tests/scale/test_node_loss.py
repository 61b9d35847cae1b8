"""Losing a node in the middle of an import, on the scale-out stack run as real processes
(`discovery serve`, a `discovery worker` on Redis, PostgreSQL records, a 3-node OpenSearch
cluster with one replica), while a search loop runs. Run by `make test-scale`, not `make test`.

Expected: no acknowledged write lost (every SKU of the import in the index exactly once, read
through the server's public search API), searches keep answering (errors counted, and
bounded), the job ends succeeded (its chunks retried what failed), never silently partial.

Scaled to this machine: DISCOVERY_TEST_SCALE_ROWS rows (default 5,000; the issue asks 100,000,
which a 2-core box shared with other work cannot import through a replicated 3-node cluster in
the time of a test run). The node is still killed in the middle of the import, with writes in
flight: a quarter of the job done, chunks of 500 rows."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from discovery.config import SearchSettings
from tests.conftest import TEST_SERVICES
from tests.scale.scale_support import (
    SearchLoop,
    Stack,
    ThrowawayPostgres,
    cluster_health,
    node_pid,
    primary_node,
    product_csv,
    restart_cluster,
)

pytestmark = [pytest.mark.scale, pytest.mark.slow]

ROWS = TEST_SERVICES.scale_rows
NODES = 3
KILL_AT = 0.25  # job progress at which the node dies: writes are in flight
TRACK_TOTAL_LIMIT = SearchSettings().track_total_limit


@pytest.fixture
def prefix(opensearch_cluster: list[str]) -> Iterator[str]:
    name = f"scale{uuid.uuid4().hex[:10]}"
    yield name
    httpx.delete(f"{opensearch_cluster[0]}/{name}-v*", timeout=60)


def stack_env(urls: list[str], prefix: str, redis_url: str, database_url: str) -> dict[str, str]:
    return {
        "DISCOVERY_BACKEND": "opensearch",
        "DISCOVERY_OPENSEARCH_URL": ",".join(urls),
        "DISCOVERY_OPENSEARCH_SHARDS": "1",
        "DISCOVERY_OPENSEARCH_REPLICAS": "1",
        "DISCOVERY_INDEX_PREFIX": prefix,
        "DISCOVERY_REDIS_URL": redis_url,
        "DISCOVERY_DATABASE_URL": database_url,
        "DISCOVERY_JOB_LEASE_SECONDS": "15",
    }


def assert_every_sku_once(stack: Stack, job: dict[str, object]) -> None:
    assert job["state"] == "succeeded", job
    counts = job["counts"]
    assert isinstance(counts, dict)
    assert [counts.get(k, 0) for k in ("received", "indexed", "rejected")] == [ROWS, ROWS, 0], counts
    skus = stack.all_skus()
    assert len(skus) == len(set(skus)) == ROWS
    assert set(skus) == {f"P-{i:07d}" for i in range(ROWS)}  # a product hit's id is its SKU


def report(what: str, loop: SearchLoop, since: float, took: float) -> None:
    after = sum(1 for t in loop.ok if t >= since)
    print(f"\n[scale] {what}: {ROWS} rows in {took:.0f}s; searches {len(loop.ok)} ok "
          f"({after} after the kill), {len(loop.errors)} errors {[e for _, e in loop.errors[:3]]}")


def test_a_data_node_killed_mid_import_loses_no_acknowledged_write(
    tmp_path: Path, opensearch_cluster: list[str], prefix: str, scale_redis_url: str, scale_db: str
) -> None:
    stack = Stack(tmp_path / "var", stack_env(opensearch_cluster, prefix, scale_redis_url, scale_db), tmp_path / "log")
    stack.start(workers=1, concurrency=2)
    try:
        with SearchLoop(stack.http.base_url.__str__()) as loop:
            started = time.monotonic()
            job_id = stack.import_products(product_csv(ROWS))
            stack.wait_job(job_id, timeout=600, progress=KILL_AT)
            victim = primary_node(opensearch_cluster[0], prefix)
            node_pid_before = node_pid(victim)
            os.kill(node_pid_before, signal.SIGKILL)
            killed = time.monotonic()
            job = stack.wait_job(job_id, timeout=900)
            took = time.monotonic() - started
            restart_cluster(NODES)
            health = cluster_health(opensearch_cluster[0], wait_for_status="green", timeout="120s")
        report(f"node-{victim} (primary) killed -9", loop, killed, took)
        assert health["status"] == "green" and health["number_of_nodes"] == NODES
        assert_every_sku_once(stack, job)
        assert [t for t in loop.ok if t > killed], "searches stopped answering after the node was lost"
        assert len(loop.errors) <= max(5, len(loop.ok) // 20), loop.errors[:10]
    finally:
        stack.stop()
        restart_cluster(NODES)  # a failure may have left the node down


@pytest.fixture
def throwaway_pg() -> Iterator[ThrowawayPostgres]:
    try:
        pg = ThrowawayPostgres()
    except (FileNotFoundError, OSError) as exc:
        pytest.skip(f"no PostgreSQL binaries to start a throwaway server: {exc}")
    pg.start()
    yield pg
    pg.destroy()


def test_the_records_primary_killed_mid_import_pauses_the_job_and_it_resumes_without_duplicates(
    tmp_path: Path, opensearch_cluster: list[str], prefix: str, scale_redis_url: str,
    throwaway_pg: ThrowawayPostgres,
) -> None:
    env = stack_env(opensearch_cluster, prefix, scale_redis_url, throwaway_pg.url)
    stack = Stack(tmp_path / "var", env, tmp_path / "log")
    stack.start(workers=1, concurrency=2)
    try:
        with SearchLoop(stack.http.base_url.__str__()) as loop:
            started = time.monotonic()
            job_id = stack.import_products(product_csv(ROWS))
            stack.wait_job(job_id, timeout=600, progress=KILL_AT)
            throwaway_pg.kill_9()
            killed = time.monotonic()
            time.sleep(10)  # the job finds its database gone
            throwaway_pg.start()  # crash recovery, then the same data
            job = stack.wait_job(job_id, timeout=900)
            took = time.monotonic() - started
        report("PostgreSQL primary killed -9 for 10 s", loop, killed, took)
        assert_every_sku_once(stack, job)
        assert [t for t in loop.ok if t > killed], "searches stopped answering after the database came back"
        body = stack.http.get("/api/search", params={"type": "product", "size": 1}).json()
        # Totals are exact up to the track-total limit (10,000 by default) and a lower bound
        # beyond it; every SKU once was checked above, through paging.
        assert (body["total"], body["total_is_lower_bound"]) == (
            (ROWS, False) if ROWS <= TRACK_TOTAL_LIMIT else (TRACK_TOTAL_LIMIT, True)
        )
    finally:
        stack.stop()
