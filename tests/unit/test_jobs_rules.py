"""The pure rules of the job machinery: what is retried, how long to wait, which chunks the
reconciler re-sends, and how a job's tuning travels in its params."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import redis
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import TransportError
from sqlalchemy.exc import IntegrityError, OperationalError

from discovery.errors import BackendUnavailable, RejectedInput
from discovery.store.job_records import OpenChunk
from indexer.jobs.model import JobTuning
from indexer.jobs.reconcile import chunks_to_resend
from indexer.jobs.retry import backoff, is_transient

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TUNING = JobTuning(lease_s=60, requeue_after_s=900)


@pytest.mark.parametrize(
    "exc",
    [
        BackendUnavailable("index down"),
        ConnectionRefusedError(),
        TimeoutError(),
        redis.exceptions.ConnectionError("reset"),
        OpenSearchConnectionError("N/A", "refused", None),
        TransportError(429, "es_rejected_execution_exception", {}),
        TransportError(503, "unavailable", {}),
        OperationalError("SELECT 1", {}, Exception("server closed the connection")),
    ],
)
def test_service_failures_are_transient(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        RejectedInput("bad row", line=3),
        ValueError("cannot decode"),
        KeyError("sku"),
        TransportError(400, "mapper_parsing_exception", {}),
        IntegrityError("INSERT", {}, Exception("duplicate key")),
    ],
)
def test_bad_input_and_bugs_are_not_transient(exc: BaseException) -> None:
    assert not is_transient(exc)


def test_an_error_raised_from_a_transient_one_is_transient() -> None:
    try:
        try:
            raise ConnectionResetError("peer")
        except ConnectionResetError as inner:
            raise RuntimeError("write failed") from inner
    except RuntimeError as outer:
        assert is_transient(outer)


def test_backoff_doubles_up_to_its_cap_with_jitter_that_never_returns_at_once() -> None:
    rng = random.Random(1)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (20, 60.0)]:
        delays = [backoff(attempt, base=1.0, cap=60.0, rng=rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 4  # spread out, not in lockstep


def _chunk(no: int, state: str = "pending", *, lease: float | None = None, queue: str | None = "redis:a",
           enqueued: float = 0.0, created: float = -3600.0) -> OpenChunk:
    return OpenChunk(
        job_id="j", chunk_no=no, state=state,
        lease_expires_at=NOW + timedelta(seconds=lease) if lease is not None else None,
        queue_id=queue, enqueued_at=NOW + timedelta(seconds=enqueued) if queue else None,
        created_at=NOW + timedelta(seconds=created),
    )


def _resent(chunks: list[OpenChunk], live: set[str] = frozenset({"redis:a"})) -> dict[int, str]:  # type: ignore[assignment]
    return {r.chunk_no: r.why for r in chunks_to_resend(chunks, tuning=TUNING, now=NOW, is_live=live.__contains__)}


def test_a_chunk_held_by_a_live_worker_or_queued_in_a_live_queue_is_left_alone() -> None:
    assert _resent([_chunk(1, "running", lease=30), _chunk(2, "retrying", lease=5), _chunk(3, enqueued=-10)]) == {}


def test_a_chunk_whose_lease_ran_out_is_reset_and_resent() -> None:
    found = chunks_to_resend([_chunk(1, "running", lease=-1)], tuning=TUNING, now=NOW, is_live=lambda q: True)
    assert [(r.chunk_no, r.reset, r.why) for r in found] == [(1, True, "lease expired")]


def test_a_chunk_queued_in_a_lost_queue_is_resent() -> None:
    assert _resent([_chunk(1, queue="redis:old"), _chunk(2)]) == {1: "queue lost"}


def test_a_chunk_never_sent_is_resent_after_a_grace_period() -> None:
    assert _resent([_chunk(1, queue=None, created=-10)]) == {}  # its plan may still be sending
    assert _resent([_chunk(1, queue=None, created=-61)]) == {1: "never sent"}


def test_a_chunk_waiting_longer_than_requeue_after_is_resent() -> None:
    assert _resent([_chunk(1, enqueued=-899)]) == {}
    assert _resent([_chunk(1, enqueued=-901)]) == {1: "waited too long"}


def test_tuning_travels_in_the_job_params_and_ignores_what_it_does_not_know() -> None:
    tuning = JobTuning(chunk_size=32, lease_s=5.5, max_attempts=4)
    params = {"tuning": {**tuning.to_json(), "unknown": 1, "max_item_attempts": "many"}}
    assert JobTuning.from_params(params) == tuning
    assert JobTuning.from_params({}) == JobTuning()
    assert isinstance(JobTuning.from_params({"tuning": {"chunk_size": 10.0}}).chunk_size, int)
