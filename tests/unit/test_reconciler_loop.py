"""The reconciler's loop outlives a records database that goes away: a pass that fails, or
the work after it (the index-check schedule reads the records too), is logged and the next
pass runs. A loop that died here left a chunk whose worker was killed while PostgreSQL was
down stranded for good (found by the scale suite's PostgreSQL-restart scenario)."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.exc import OperationalError

import indexer.jobs.reconcile as reconcile
from indexer.jobs.reconcile import ReconcilerLoop


def test_the_loop_keeps_passing_while_the_records_database_is_down(monkeypatch: Any) -> None:
    passes: list[int] = []
    enough = threading.Event()
    down = OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    def reconcile_once(*_args: Any) -> None:
        passes.append(1)
        if len(passes) >= 4:
            enough.set()
        if len(passes) <= 2:
            raise down

    def after_pass() -> None:
        if len(passes) <= 2:
            raise down  # as IndexCheckSchedule does, asking for the latest check job

    monkeypatch.setattr(reconcile, "reconcile_once", reconcile_once)
    loop = ReconcilerLoop(store=None, dispatcher=None, every=0.01, after_pass=after_pass)  # type: ignore[arg-type]
    loop.start()
    try:
        assert enough.wait(timeout=10), f"the loop stopped after {len(passes)} passes"
    finally:
        loop.stop()
