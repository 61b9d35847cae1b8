"""An ordered job's next chunk is due from when the chunk before it finished, not from
when the plan made it: the reconciler leaves it alone in between (it re-sent it as "never
sent", a harmless duplicate with a misleading warning) and sends it once its turn has
waited too long."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from discovery.store import tables as t
from discovery.store.job_records import JobStore, now_utc
from discovery.store.records import Records
from indexer.jobs.reconcile import reconcile_once


class Recorder:
    def __init__(self) -> None:
        self.sent: list[int] = []

    def current_queue(self) -> str:
        return "test-queue"

    def send(self, job_id: str, chunk_no: int, *, delay: float = 0.0) -> None:
        self.sent.append(chunk_no)

    def is_live(self, queue_id: str) -> bool:
        return True


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    records = Records.open(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    yield JobStore(records.engine)
    records.close()


def _finish(store: JobStore, job_id: str, chunk_no: int, *, ago: timedelta) -> None:
    c = t.job_chunks.c
    with store.engine.begin() as conn:
        conn.execute(
            update(t.job_chunks)
            .where(c.job_id == job_id, c.chunk_no == chunk_no)
            .values(state="done", finished_at=now_utc() - ago, queue_id="test-queue")
        )


def test_the_next_chunk_of_an_ordered_job_is_due_from_its_turn_not_from_the_plan(store: JobStore) -> None:
    job_id = store.create_job("import_products", params={"ordered": True}, created_by=None, plan={})
    store.add_chunks(job_id, [{"n": 1}, {"n": 2}, {"n": 3}])
    with store.engine.begin() as conn:  # the plan made its chunks ten minutes ago
        conn.execute(update(t.job_chunks).where(t.job_chunks.c.job_id == job_id).values(
            created_at=now_utc() - timedelta(minutes=10)))  # fmt: skip
    _finish(store, job_id, 0, ago=timedelta(minutes=10))
    _finish(store, job_id, 1, ago=timedelta(seconds=0))  # chunk 1 just ended; chunk 2 about to be sent

    dispatcher = Recorder()
    reconcile_once(store, dispatcher)
    assert dispatcher.sent == []

    _finish(store, job_id, 1, ago=timedelta(minutes=5))  # its turn came long ago and nobody sent it
    reconcile_once(store, dispatcher)
    assert dispatcher.sent == [2]
