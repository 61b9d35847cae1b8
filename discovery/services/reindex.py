"""Rebuild the search index from the records: a new index version, then an atomic swap."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from discovery.domain import JSONObject
from discovery.services.context import Context
from discovery.store.derive import all_docs
from discovery.store.index.base import IndexDoc


def reindex(ctx: Context, *, progress: Callable[[int], None] | None = None) -> JSONObject:
    """Build the next index version from every record and make it current. Searches keep
    answering from the old version until the swap; returns the counts and failures."""

    def docs() -> Iterator[IndexDoc]:
        for n, doc in enumerate(all_docs(ctx.records), start=1):
            if progress is not None and n % 100 == 0:
                progress(n)
            yield doc

    report = ctx.backend.rebuild(docs())
    failed = report.failed
    return {
        "indexed": report.indexed,
        "failed": len(failed),
        "failures": [{"id": o.id, "error": o.error} for o in failed[:100]],
        "documents": ctx.backend.count(),
    }
