"""The request policy: only 429s are retried (with capped backoff), an engine that does not
answer or stays busy is BackendUnavailable, any other error is the caller's to see."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import RequestError, TransportError

from discovery.errors import BackendUnavailable
from discovery.store.index.opensearch_calls import RETRIES, call


def failing(errors: list[Exception]) -> Callable[[], str]:
    def fn() -> str:
        if errors:
            raise errors.pop(0)
        return "answer"

    return fn


def test_a_busy_answer_is_retried_with_growing_delays() -> None:
    delays: list[float] = []
    fn = failing([TransportError(429, "busy"), TransportError(429, "busy")])
    assert call(fn, sleep=delays.append) == "answer"
    assert delays == [0.2, 0.4]


def test_still_busy_after_the_retries_is_unavailable() -> None:
    fn = failing([TransportError(429, "busy") for _ in range(RETRIES + 1)])
    with pytest.raises(BackendUnavailable):
        call(fn, sleep=lambda s: None)


def test_no_answer_is_unavailable_at_once() -> None:
    delays: list[float] = []
    with pytest.raises(BackendUnavailable):
        call(failing([OSConnectionError("N/A", "refused", None)]), sleep=delays.append)
    assert delays == []


def test_a_bad_request_is_not_retried() -> None:
    with pytest.raises(RequestError):
        call(failing([RequestError(400, "parsing_exception")]), sleep=lambda s: None)
