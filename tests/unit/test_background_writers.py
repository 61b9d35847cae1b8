"""The usage buffer and the outbox: bounded, flushed at close, retried when asked."""

from __future__ import annotations

import threading
import time

import pytest

from discovery.services import usage_buffer
from discovery.services.outbox import Outbox
from discovery.services.usage_buffer import UsageBuffer


def test_usage_buffer_flushes_what_is_left_when_it_closes() -> None:
    written: list[int] = []
    buffer = UsageBuffer()

    def flush() -> None:
        searches, events = buffer.take()
        written.append(len(searches) + len(events))

    buffer.start(flush, interval=3600)
    buffer.add_search({"q": "a"})
    buffer.add_event({"kind": "view"})
    buffer.close()
    assert written == [2]
    assert buffer.pending() == 0


def test_usage_buffer_closes_before_it_ever_started_and_a_later_start_runs_nothing() -> None:
    buffer = UsageBuffer()
    buffer.close()
    buffer.close()
    flushed: list[str] = []
    buffer.start(lambda: flushed.append("tick"), interval=0.01)
    time.sleep(0.1)
    buffer.close()
    assert flushed == [] and buffer._thread is None


def test_usage_buffer_close_while_another_thread_is_starting_it_waits_for_the_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inside, go_on = threading.Event(), threading.Event()
    real_thread = threading.Thread

    class SlowToStart(real_thread):
        def start(self) -> None:  # the window between creating the flush thread and starting it
            if self.name == "usage-flush":
                inside.set()
                go_on.wait(5)
            super().start()

    monkeypatch.setattr(usage_buffer.threading, "Thread", SlowToStart)  # the module's `threading`
    buffer = UsageBuffer()
    flushes: list[int] = []
    starter = real_thread(target=lambda: buffer.start(lambda: flushes.append(1), interval=3600))
    starter.start()
    assert inside.wait(5)
    errors: list[BaseException] = []

    def close() -> None:
        try:
            buffer.close(timeout=5)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    closer = real_thread(target=close)
    closer.start()
    time.sleep(0.1)  # close is now waiting for the start to finish
    go_on.set()
    starter.join(5)
    closer.join(10)
    assert not closer.is_alive() and errors == []
    assert flushes == [1]  # the final flush ran once the thread had stopped
    assert buffer._thread is None


def test_usage_buffer_counts_rows_past_its_cap_as_dropped() -> None:
    buffer = UsageBuffer(cap=2)
    for n in range(5):
        buffer.add_event({"n": n})
    assert (buffer.pending(), buffer.dropped) == (2, 3)


def test_rows_of_a_failed_write_go_back_ahead_of_newer_ones() -> None:
    buffer = UsageBuffer(cap=3)
    buffer.add_event({"n": 1})
    _, events = buffer.take()
    buffer.add_event({"n": 2})
    buffer.put_back([], events)
    assert buffer.take()[1] == [{"n": 1}, {"n": 2}]


def test_usage_buffer_flushes_on_its_own_thread() -> None:
    flushed = threading.Event()
    buffer = UsageBuffer()
    buffer.start(flushed.set, interval=0.01)
    assert flushed.wait(2.0)
    buffer.close()


def test_outbox_runs_an_item_again_when_its_handler_asks() -> None:
    seen: list[str] = []

    def handle(item: str) -> float | None:
        seen.append(item)
        return 0.01 if seen.count(item) < 3 else None

    box: Outbox[str] = Outbox("test")
    box.start(handle, workers=1)
    box.put("x")
    assert box.wait_idle(2.0)
    assert seen == ["x", "x", "x"]
    box.close()


def test_outbox_abandons_what_is_still_queued_at_close() -> None:
    abandoned: list[str] = []
    box: Outbox[str] = Outbox("test")
    box.start(lambda _item: None, workers=1, abandon=abandoned.append)
    box.put("later", delay=60)
    started = time.monotonic()
    box.close(timeout=2)
    assert abandoned == ["later"] and time.monotonic() - started < 2
    box.put("after close")
    assert abandoned == ["later", "after close"]
