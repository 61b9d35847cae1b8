"""One request to OpenSearch, with the engine's error policy: a 429 (the node is busy) is
retried with capped exponential backoff; a node that does not answer, or stays busy or
unavailable, is `BackendUnavailable` (worth a retry later); anything else is raised as is."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import ConnectionTimeout, TransportError

from discovery.errors import BackendUnavailable

T = TypeVar("T")
RETRIES = 5
BACKOFF_S = 0.2
MAX_BACKOFF_S = 5.0
UNAVAILABLE = frozenset({429, 502, 503, 504})


def call(fn: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep) -> T:
    for attempt in range(RETRIES + 1):
        try:
            return fn()
        except (OSConnectionError, ConnectionTimeout) as exc:
            raise BackendUnavailable(f"OpenSearch does not answer: {exc}") from exc
        except TransportError as exc:
            if exc.status_code == 429 and attempt < RETRIES:
                sleep(min(MAX_BACKOFF_S, BACKOFF_S * 2**attempt))
                continue
            if exc.status_code in UNAVAILABLE:
                raise BackendUnavailable(f"OpenSearch is unavailable: {exc}") from exc
            raise
    raise AssertionError("unreachable")


def is_unavailable(exc: TransportError) -> bool:
    return isinstance(exc, OSConnectionError) or exc.status_code in UNAVAILABLE
