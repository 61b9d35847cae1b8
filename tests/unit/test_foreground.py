"""In-process jobs step aside while this process answers requests."""

from __future__ import annotations

import threading
import time

from discovery.foreground import Foreground, background, step_aside


def test_an_unmarked_thread_never_waits() -> None:
    gate = Foreground()
    gate.started()
    assert step_aside(1.0) == 0.0  # a request thread writing must not wait for itself


def test_a_background_thread_goes_on_at_once_when_nothing_is_in_flight() -> None:
    gate = Foreground()
    with background(gate):
        assert step_aside(1.0) == 0.0


def test_a_background_thread_waits_at_most_its_pause_under_constant_requests() -> None:
    gate = Foreground()
    gate.started()
    with background(gate):
        waited = step_aside(0.05)
    assert 0.04 <= waited < 1.0
    assert gate.waits == 1 and gate.waited_s >= 0.04


def test_the_last_request_to_finish_wakes_the_waiting_job() -> None:
    gate = Foreground()
    gate.started()
    waited: list[float] = []

    def job() -> None:
        with background(gate):
            waited.append(step_aside(10.0))

    worker = threading.Thread(target=job)
    worker.start()
    time.sleep(0.05)
    gate.finished()
    worker.join(timeout=5)
    assert waited and 0.04 <= waited[0] < 5.0


def test_the_mark_ends_with_its_block() -> None:
    gate = Foreground()
    gate.started()
    with background(gate):
        pass
    assert step_aside(1.0) == 0.0
