"""Bulk writes that tell the truth (after opensearch-py's helpers/actions.py).

Actions are streamed in chunks bounded by count and bytes. An HTTP 200 from `_bulk`
only means the request was read: each item carries its own status, so every item's
outcome is reported. Only 429s (the node is busy) are retried, with capped exponential
backoff; a whole request refused with 429 more often than that raises
`BackendUnavailable`. A document that cannot even be rendered is reported failed
without being sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from discovery.errors import BackendUnavailable
from discovery.store.index.base import BulkReport, ItemOutcome

# Sends an NDJSON body to _bulk (refresh: "wait_for" or None) and returns the parsed answer.
Sender = Callable[[bytes, str | None], Mapping[str, Any]]


class BusyError(Exception):
    """The whole bulk request was refused with 429."""


@dataclass(frozen=True, slots=True)
class BulkLimits:
    max_docs: int = 500
    max_bytes: int = 5_000_000
    retries: int = 5
    backoff_s: float = 0.2
    max_backoff_s: float = 5.0


@dataclass(frozen=True, slots=True)
class Action:
    """One item: its position in the caller's input, its id, and its NDJSON lines."""

    position: int
    doc_id: str
    lines: bytes


def chunks(actions: Iterable[Action], limits: BulkLimits) -> Iterator[list[Action]]:
    chunk: list[Action] = []
    size = 0
    for action in actions:
        if chunk and (len(chunk) >= limits.max_docs or size + len(action.lines) > limits.max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(action)
        size += len(action.lines)
    if chunk:
        yield chunk


def _with_lookahead(items: Iterator[list[Action]]) -> Iterator[tuple[list[Action], bool]]:
    """Each chunk, and whether it is the last (the one that asks for the refresh)."""
    current = next(items, None)
    while current is not None:
        following = next(items, None)
        yield current, following is None
        current = following


def write(
    actions: Iterable[Action | ItemOutcome],
    send: Sender,
    *,
    refresh: bool,
    limits: BulkLimits = BulkLimits(),
    sleep: Callable[[float], None] = time.sleep,
    missing_ok: bool = False,
) -> tuple[BulkReport, bool]:
    """Send every action; returns the report (in input order) and whether any chunk was
    sent with the refresh (False: the caller must refresh if asked to). `ItemOutcome`s in
    the input are failures found before sending, reported in place. `missing_ok`: a
    delete of a document that does not exist counts as done."""
    outcomes: dict[int, ItemOutcome] = {}
    position = 0

    def sendable() -> Iterator[Action]:
        nonlocal position
        for item in actions:
            if isinstance(item, ItemOutcome):
                outcomes[position] = item
            else:
                yield Action(position, item.doc_id, item.lines)
            position += 1

    refreshed = False
    for chunk, last in _with_lookahead(chunks(sendable(), limits)):
        wants_refresh = "wait_for" if refresh and last else None
        for action, outcome in _send_chunk(chunk, send, wants_refresh, limits, sleep, missing_ok):
            outcomes[action.position] = outcome
        refreshed = refreshed or wants_refresh is not None
    return BulkReport([outcomes[i] for i in sorted(outcomes)]), refreshed


def _send_chunk(
    chunk: list[Action],
    send: Sender,
    refresh: str | None,
    limits: BulkLimits,
    sleep: Callable[[float], None],
    missing_ok: bool,
) -> list[tuple[Action, ItemOutcome]]:
    done: list[tuple[Action, ItemOutcome]] = []
    pending = chunk
    for attempt in range(limits.retries + 1):
        answer = _send_busy_aware(pending, send, refresh, limits, sleep)
        busy: list[Action] = []
        for action, item in zip(pending, _items(answer, len(pending)), strict=True):
            status = int(item.get("status", 500))
            if status == 429 and attempt < limits.retries:
                busy.append(action)
            elif 200 <= status < 300 or (missing_ok and status == 404 and item.get("result") == "not_found"):
                done.append((action, ItemOutcome(action.doc_id, True)))
            else:
                done.append((action, ItemOutcome(action.doc_id, False, _reason(item, status))))
        if not busy:
            break
        pending = busy
        sleep(_delay(attempt, limits))
    return done


def _send_busy_aware(
    chunk: list[Action], send: Sender, refresh: str | None, limits: BulkLimits, sleep: Callable[[float], None]
) -> Mapping[str, Any]:
    body = b"".join(a.lines for a in chunk)
    for attempt in range(limits.retries + 1):
        try:
            return send(body, refresh)
        except BusyError:
            if attempt == limits.retries:
                break
            sleep(_delay(attempt, limits))
    raise BackendUnavailable(f"OpenSearch refused a bulk request with 429 {limits.retries + 1} times")


def _delay(attempt: int, limits: BulkLimits) -> float:
    return float(min(limits.max_backoff_s, limits.backoff_s * 2**attempt))


def _items(answer: Mapping[str, Any], expected: int) -> list[Mapping[str, Any]]:
    items = [next(iter(entry.values())) for entry in answer.get("items", [])]
    if len(items) != expected:
        raise BackendUnavailable(f"_bulk answered {len(items)} items for {expected} sent")
    return items


def _reason(item: Mapping[str, Any], status: int) -> str:
    error = item.get("error")
    if isinstance(error, Mapping):
        reason = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        if isinstance(cause, Mapping) and cause.get("reason"):
            reason += f" ({cause.get('reason')})"
        return reason
    return f"status {status}: {error or item.get('result', 'failed')}"
