"""Run a chunk's items one by one so that one bad item costs only itself.

Bad input (`RejectedInput`) is reported once and never retried. A transient failure (the
search engine or the database away) is raised, so the whole chunk is retried later with
backoff. Anything else an item raises (a decoder that crashes on one image) is tried again
up to `max_item_attempts` times, then the item goes to the job's dead letters with its
reason, and the rest of the chunk proceeds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from discovery.domain import JSONObject
from discovery.errors import RejectedInput
from indexer.jobs.model import ChunkContext, ChunkResult
from indexer.jobs.retry import is_transient

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def reject_entry(exc: RejectedInput, *, line: int | None = None, file: str | None = None) -> JSONObject:
    """The job report's shape for a rejected item: {line, file, field, reason}."""
    return {
        "line": exc.line if exc.line is not None else line,
        "file": exc.file if exc.file is not None else file,
        "field": exc.field,
        "reason": exc.detail,
    }


def each_item(
    items: Iterable[T],
    work: Callable[[T], R],
    *,
    chunk: ChunkContext,
    result: ChunkResult,
    describe: Callable[[T], JSONObject],
) -> list[tuple[T, R]]:
    """Apply `work` to every item; returns the items that succeeded with their answers.
    `describe` names an item in a reject or dead letter (e.g. {"line": 12, "file": "a.csv"}
    or {"asset": id, "file": name}). Stops early, marking `result.stopped`, on cancel."""
    done: list[tuple[T, R]] = []
    for item in items:
        if chunk.cancelled():
            result.stopped = True
            break
        outcome = _attempt(item, work, chunk=chunk, result=result, describe=describe)
        if outcome is not None:
            done.append((item, outcome[0]))
    return done


def _attempt(
    item: T,
    work: Callable[[T], R],
    *,
    chunk: ChunkContext,
    result: ChunkResult,
    describe: Callable[[T], JSONObject],
) -> tuple[R] | None:
    tries = chunk.tuning.max_item_attempts
    last: Exception | None = None
    for _ in range(tries):
        try:
            return (work(item),)
        except RejectedInput as exc:
            where = describe(item)
            line, file = where.get("line"), where.get("file")
            line = line if isinstance(line, int) else None
            result.rejects.append(reject_entry(exc, line=line, file=file if isinstance(file, str) else None))
            result.add("rejected")
            return None
        except Exception as exc:
            if is_transient(exc):
                raise
            last = exc
            log.warning("job %s chunk %s: item %s failed: %r", chunk.job_id, chunk.chunk_no, describe(item), exc)
    result.dead_letters.append(dead_letter(describe(item), last, attempts=tries, chunk_no=chunk.chunk_no))
    return None


def dead_letter(where: JSONObject, exc: BaseException | None, *, attempts: int, chunk_no: int) -> JSONObject:
    """The job report's shape for an item given up on."""
    reason = f"{type(exc).__name__}: {exc}" if exc is not None else "unknown failure"
    return {**where, "chunk": chunk_no, "attempts": attempts, "reason": reason[:500]}
