"""The job chunk records on SQLite and on PostgreSQL: one claim wins, an outcome replaces an
earlier one instead of adding to it, totals are summed from the chunks, cancel stops what
has not started, a lease that runs out lets another worker take the chunk."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from discovery.store.job_records import ChunkOutcome, JobStore
from discovery.store.records import Records


@pytest.fixture
def store(records: Records) -> JobStore:
    """The job tables of an empty records database, on SQLite and on PostgreSQL."""
    return JobStore(records.engine)


def _job(store: JobStore, chunks: int = 3) -> str:
    job_id = store.create_job("test", params={}, created_by="t", plan={"label": "plan"})
    store.add_chunks(job_id, [{"n": i} for i in range(chunks)])
    return job_id


def _done(n: int) -> ChunkOutcome:
    return ChunkOutcome("done", {"received": n, "indexed": n, "rejected": 0, "duplicates": 0}, [], [])


def test_of_many_workers_claiming_one_chunk_exactly_one_wins(store: JobStore) -> None:
    job_id = _job(store)
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda i: store.claim(job_id, 1, owner=f"w{i}", lease_s=30), range(8)))
    winners = [c for c in claims if c is not None]
    assert len(winners) == 1 and winners[0].attempts == 1 and winners[0].payload == {"n": 0}


def test_a_chunk_recorded_twice_is_counted_once_and_the_job_ends_with_the_sums(store: JobStore) -> None:
    job_id = _job(store, chunks=2)
    for no, n in ((0, 0), (1, 10), (2, 5)):
        claim = store.claim(job_id, no, owner="w", lease_s=30)
        assert claim is not None
        assert store.finish_chunk(job_id, no, _done(n), owner="w")
        store.refresh_job(job_id)
    assert not store.finish_chunk(job_id, 2, _done(5), owner="w")  # no longer held: refused
    assert store.refresh_job(job_id) == "succeeded"
    totals = store.chunk_states(job_id)
    assert totals == {"total": 2, "done": 2}


def test_a_lease_that_runs_out_lets_another_worker_take_the_chunk_and_the_late_one_is_refused(
    store: JobStore,
) -> None:
    job_id = _job(store)
    assert store.claim(job_id, 1, owner="slow", lease_s=0.2) is not None
    assert store.claim(job_id, 1, owner="other", lease_s=30) is None  # still held
    time.sleep(0.3)
    taken = store.claim(job_id, 1, owner="other", lease_s=30)
    assert taken is not None and taken.attempts == 2
    assert store.extend_lease(job_id, 1, owner="slow", lease_s=30) is None  # the slow one learns it lost
    assert not store.finish_chunk(job_id, 1, _done(1), owner="slow")
    assert store.finish_chunk(job_id, 1, _done(1), owner="other")


def test_cancel_stops_waiting_chunks_and_leaves_running_ones_to_finish(store: JobStore) -> None:
    job_id = _job(store)
    assert store.claim(job_id, 1, owner="w", lease_s=30) is not None
    assert store.cancel(job_id)
    assert store.claim(job_id, 2, owner="w", lease_s=30) is None
    assert store.finish_chunk(job_id, 1, _done(4), owner="w")
    assert store.refresh_job(job_id) == "cancelled"
    assert store.chunk_states(job_id) == {"total": 3, "done": 1, "cancelled": 2}
    assert not store.cancel(job_id)
