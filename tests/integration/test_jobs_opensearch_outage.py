"""OpenSearch away for 30 s in the middle of an import: chunks fail with `BackendUnavailable`,
wait with backoff and retry, and the import completes with nothing lost. The outage is made
by a forwarder between the job and the shared OpenSearch node (the node keeps serving the
other tests); the job runs in-process, on the same executor a Celery worker runs."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from jobs_support import Outage, product_csv

from discovery.config import Settings, TextSettings
from discovery.services import jobs
from discovery.services.context import Context
from discovery.store.job_records import JobStore
from indexer.jobs.model import JobTuning

pytestmark = pytest.mark.slow

OUTAGE_S = 30.0
ROWS = 3_000


@pytest.fixture
def outage(opensearch_url: str) -> Iterator[Outage]:
    target = urlparse(opensearch_url)
    proxy = Outage(target.hostname or "127.0.0.1", target.port or 9200).start()
    yield proxy
    proxy.cut()


@pytest.fixture
def ctx(tmp_path: Path, outage: Outage, unique_prefix: str) -> Iterator[Context]:
    settings = Settings(
        data_dir=tmp_path / "var", backend="opensearch", opensearch_url=outage.url, index_prefix=unique_prefix,
        text=TextSettings(enabled=False),
    )
    ctx = Context.open(settings)
    yield ctx
    jobs.close_jobs(ctx)
    drop = getattr(ctx.backend, "drop", None)
    if drop is not None:
        drop()
    ctx.close()


def test_an_import_waits_out_a_30s_opensearch_outage_and_completes_with_nothing_lost(
    ctx: Context, outage: Outage
) -> None:
    # Retries 0.5, 1, 2, 4, then every 8 s (half to all of it, jittered): at least 47 s of
    # waiting over 16 attempts, so the outage is outlasted with room to spare, and the job
    # resumes within 8 s of OpenSearch's return. (The defaults wait at least 61 s over 8.)
    tuning = JobTuning(chunk_size=100, retry_base_s=0.5, retry_cap_s=8.0, max_attempts=16)
    job_id = jobs.start_product_import(ctx, source=product_csv(ROWS), filename="export.csv", tuning=tuning)
    deadline = time.monotonic() + 60
    while float(jobs.get_job(ctx, job_id)["progress"]) < 0.2:
        assert time.monotonic() < deadline, "the import did not start"
        time.sleep(0.05)
    outage.cut()
    time.sleep(OUTAGE_S)
    during = jobs.get_job(ctx, job_id)
    outage.restore()
    with urllib.request.urlopen(outage.url, timeout=10) as answer:  # noqa: S310 - loopback test service
        assert answer.status == 200

    assert during["state"] == "running" and during["progress"] < 1.0
    job = jobs.wait_for_job(ctx, job_id, timeout=180)
    assert job["state"] == "succeeded", job.get("error")
    counts = job["counts"]
    assert [counts[k] for k in ("received", "indexed", "rejected", "duplicates")] == [ROWS, ROWS, 0, 0]
    assert job["dead_letters"] == []
    retried = [c for c in JobStore(ctx.records.engine).chunks(job_id) if c["attempts"] > 1]
    assert retried and all("BackendUnavailable" in (c["error"] or "") or c["error"] is None for c in retried)
    ctx.backend.refresh()
    assert ctx.backend.count() == ROWS
    assert len(ctx.backend.get([f"product:P-{i:06d}" for i in range(ROWS)])) == ROWS
