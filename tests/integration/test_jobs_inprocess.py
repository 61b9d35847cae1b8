"""Jobs run in-process (no Redis): chunked work, counts once per chunk, retries, dead letters,
cancel, and recovery of chunks whose holder died. Records on SQLite under a temp dir."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from jobs_support import GoneProcess, RecordsEnv, RowsKind, extra_kinds

from discovery.config import Settings
from discovery.store.job_records import JobStore
from indexer.jobs.executor import execute_chunk
from indexer.jobs.model import JobTuning
from indexer.jobs.reconcile import reconcile_once
from indexer.jobs.runner import JobRunner

FAST = JobTuning(chunk_size=25, lease_s=1.0, retry_base_s=0.05, retry_cap_s=0.2, max_item_attempts=3)


@pytest.fixture
def env(settings: Settings) -> Iterator[RecordsEnv]:
    env = RecordsEnv.open(settings)
    yield env
    env.records.close()


@pytest.fixture
def runner(env: RecordsEnv) -> Iterator[JobRunner]:
    runner = JobRunner(env, kinds=extra_kinds(), reconcile_every=0.2)
    yield runner
    runner.close()


def test_rows_are_split_into_chunks_and_the_job_ends_with_summed_counts(runner: JobRunner, env: RecordsEnv) -> None:
    job_id = runner.submit("test_rows", params={"rows": 230}, created_by="tester", tuning=FAST)
    job = runner.wait(job_id, timeout=30)
    assert job["state"] == "succeeded"
    assert job["counts"] == {"received": 230, "indexed": 230, "rejected": 0, "duplicates": 0}
    assert job["progress"] == 1.0
    assert job["created_by"] == "tester" and job["started_at"] and job["finished_at"]
    assert env.records.count_products() == 230
    chunks = runner.store.chunks(job_id)
    assert len(chunks) == 1 + 10  # the plan, then ceil(230 / 25) work chunks
    assert all(c["state"] == "done" for c in chunks)
    _wait_for(lambda: bool(env.ended))  # told just after the job row is written
    time.sleep(0.2)
    assert env.ended == [(job_id, "succeeded")]  # once, by whichever chunk finished last


def test_a_chunk_delivered_twice_changes_nothing_and_is_counted_once(runner: JobRunner, env: RecordsEnv) -> None:
    job_id = runner.submit("test_rows", params={"rows": 100}, tuning=FAST)
    before = runner.wait(job_id, timeout=30)
    for chunk_no in (0, 1, 2):
        assert execute_chunk(env, extra_kinds(), runner.dispatcher, job_id, chunk_no).state == "skipped"
    after = env.records.get_job(job_id)
    assert after is not None
    assert after["counts"] == before["counts"] == {"received": 100, "indexed": 100, "rejected": 0, "duplicates": 0}
    assert env.records.count_products() == 100


def test_work_left_by_a_dead_process_is_run_by_the_next_runner_and_counted_once(env: RecordsEnv) -> None:
    store = JobStore(env.records.engine)
    params = {"rows": 100, "tuning": FAST.to_json()}
    job_id = store.create_job("test_rows", params=params, created_by=None, plan={"label": "plan"})
    gone = GoneProcess()
    assert execute_chunk(env, extra_kinds(), gone, job_id, 0).state == "done"  # planned, sent into the void
    # The dead process also held chunk 2 and had applied its effect, but never recorded it.
    claim = store.claim(job_id, 2, owner="dead-worker", lease_s=FAST.lease_s)
    assert claim is not None
    RowsKind().run(env, _ctx(job_id, 2, claim.payload))

    runner = JobRunner(env, kinds=extra_kinds(), reconcile_every=0.2)
    try:
        job = runner.wait(job_id, timeout=30)
    finally:
        runner.close()
    assert job["state"] == "succeeded"
    assert job["counts"] == {"received": 100, "indexed": 100, "rejected": 0, "duplicates": 0}
    assert env.records.count_products() == 100
    assert {c["chunk_no"]: c["attempts"] for c in store.chunks(job_id)} == {0: 1, 1: 1, 2: 2, 3: 1, 4: 1}


def test_a_poison_item_is_dead_lettered_after_n_attempts_and_the_rest_ingested(
    runner: JobRunner, env: RecordsEnv
) -> None:
    job_id = runner.submit("test_rows", params={"rows": 60, "poison": 33}, tuning=FAST)
    job = runner.wait(job_id, timeout=30)
    assert job["state"] == "succeeded"
    assert job["counts"]["received"] == 60 and job["counts"]["indexed"] == 59
    assert job["dead_letters"] == [
        {"line": 33, "chunk": 2, "attempts": 3, "reason": "ValueError: cannot decode row 33"}
    ]
    assert env.records.count_products() == 59
    assert env.records.get_product("R-000033") is None


def test_a_transient_failure_is_retried_with_backoff_then_completes(runner: JobRunner, env: RecordsEnv) -> None:
    job_id = runner.submit("test_rows", params={"rows": 50, "flaky": [1], "flaky_times": 2}, tuning=FAST)
    job = runner.wait(job_id, timeout=30)
    assert job["state"] == "succeeded"
    assert job["counts"]["indexed"] == 50
    first = next(c for c in runner.store.chunks(job_id) if c["chunk_no"] == 1)
    assert first["attempts"] == 3 and first["state"] == "done"


def test_a_chunk_that_keeps_failing_transiently_fails_the_job_after_max_attempts(
    runner: JobRunner, env: RecordsEnv
) -> None:
    tuning = JobTuning(chunk_size=25, lease_s=1.0, retry_base_s=0.01, retry_cap_s=0.05, max_attempts=3)
    job_id = runner.submit("test_rows", params={"rows": 50, "flaky": [2], "flaky_times": 99}, tuning=tuning)
    job = runner.wait(job_id, timeout=30)
    assert job["state"] == "failed"
    assert "chunk 2" in job["error"] and "BackendUnavailable" in job["error"]
    assert job["counts"]["indexed"] == 25  # chunk 1 is done and stays done
    assert job["dead_letters"][0]["items"] == "rows 25-49"
    _wait_for(lambda: bool(env.ended))
    assert env.ended == [(job_id, "failed")]


def test_cancelling_stops_the_remaining_chunks(runner: JobRunner, env: RecordsEnv) -> None:
    job_id = runner.submit("test_rows", params={"rows": 400, "row_sleep_s": 0.005}, tuning=FAST)
    _wait_for(lambda: (env.records.get_job(job_id) or {}).get("progress", 0) > 0)
    assert runner.cancel(job_id)
    job = runner.wait(job_id, timeout=30)
    time.sleep(0.5)  # chunks that were running finish and record what they did
    job = env.records.get_job(job_id) or {}
    assert job["state"] == "cancelled"
    states = {c["state"] for c in runner.store.chunks(job_id)}
    assert "cancelled" in states and not states & {"pending", "retrying"}
    done = sum(c["counts"]["indexed"] for c in runner.store.chunks(job_id) if c["state"] != "pending")
    assert job["counts"]["indexed"] == done == env.records.count_products() < 400
    assert not runner.cancel(job_id)  # a finished job stays as it ended


def test_bad_input_in_the_plan_fails_the_job_without_retries(runner: JobRunner, env: RecordsEnv) -> None:
    job_id = runner.submit("test_rows", params={"rows": "many"}, tuning=FAST)
    job = runner.wait(job_id, timeout=30)
    assert job["state"] == "failed"
    assert runner.store.chunks(job_id)[0]["attempts"] == 1
    reason = "rows must be a number, not 'many'"
    assert job["rejects"] == [{"line": None, "file": None, "field": "rows", "reason": reason}]


def test_the_reconciler_closes_a_job_whose_last_worker_died_before_totalling(
    runner: JobRunner, env: RecordsEnv
) -> None:
    job_id = runner.submit("test_rows", params={"rows": 30}, tuning=FAST)
    runner.wait(job_id, timeout=30)
    store = runner.store
    store.engine.dispose()
    # Re-open the job as if totalling never happened; the reconciler must close it again.
    env.records.update_job(job_id, state="running", finished_at=None)
    reconcile_once(store, runner.dispatcher)
    job = env.records.get_job(job_id) or {}
    assert job["state"] == "succeeded" and job["counts"]["indexed"] == 30


def _ctx(job_id: str, chunk_no: int, payload: dict) -> object:  # type: ignore[type-arg]
    from indexer.jobs.model import ChunkContext

    return ChunkContext(job_id=job_id, chunk_no=chunk_no, attempt=1, params={"rows": 100}, payload=payload,
                        tuning=FAST)


def _wait_for(check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")
