"""Helpers for product import tests: rows from text, and a recording index.

`RecordingBackend` is a test double of the `SearchBackend` port (not of any engine): it
keeps the documents it is given, and can be told to fail some ids, which the real
engines cannot be made to do on demand. Tests that claim an engine use the real ones.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from discovery.store.index.base import BulkReport, Hit, IndexDoc, ItemOutcome, ScoredId, SearchQuery, SearchResult
from discovery.store.records import Records
from indexer.products.readers import ReadLimits, RowSource
from indexer.products.report import Reject


def read(data: bytes, filename: str = "products.csv", **limits: int) -> list[tuple[int, dict[str, object]] | Reject]:
    source = RowSource(io.BytesIO(data), filename, limits=ReadLimits(**limits))
    return list(source)  # type: ignore[arg-type]


def rows_of(items: list[tuple[int, dict[str, object]] | Reject]) -> list[tuple[int, dict[str, object]]]:
    return [i for i in items if not isinstance(i, Reject)]


def rejects_of(items: list[tuple[int, dict[str, object]] | Reject]) -> list[Reject]:
    return [i for i in items if isinstance(i, Reject)]


def open_records(tmp_path: Path) -> Records:
    return Records.open(f"sqlite:///{tmp_path / 'records.sqlite3'}")


class RecordingBackend:
    name = "recording"

    def __init__(self, fail: Iterable[str] = ()) -> None:
        self.docs: dict[str, IndexDoc] = {}
        self.writes: list[str] = []
        self.fail = set(fail)

    def upsert(self, docs: Iterable[IndexDoc], *, refresh: bool = False) -> BulkReport:
        report = BulkReport()
        for doc in docs:
            self.writes.append(doc.id)
            if doc.id in self.fail:
                report.outcomes.append(ItemOutcome(doc.id, False, "mapper_parsing_exception: refused"))
            else:
                self.docs[doc.id] = doc
                report.outcomes.append(ItemOutcome(doc.id, True))
        return report

    def delete(self, ids: Sequence[str], *, refresh: bool = False) -> BulkReport:
        for doc_id in ids:
            self.docs.pop(doc_id, None)
        return BulkReport([ItemOutcome(i, True) for i in ids])

    def refresh(self) -> None:
        pass

    def make_visible(self) -> None:
        pass

    def ensure_ready(self) -> None:
        pass

    def ping(self) -> str | None:
        return None

    def warm_up(self) -> None:
        pass

    def warming(self) -> list[str]:
        return []

    def search(self, query: SearchQuery) -> SearchResult:
        """Only the read the product pipeline makes: which family documents list a SKU."""
        if query.text or set(query.filters) != {"sku"}:
            raise NotImplementedError("the recording index answers SKU lookups only")
        wanted = set(query.filters["sku"])
        hits = [
            Hit(d.id, d.type, d.key, 0.0, d.stored)
            for d in self.docs.values()
            if wanted & set(d.keywords.get("sku", ()))
        ]
        return SearchResult(total=len(hits), total_is_lower_bound=False, hits=hits[: query.size], facets={})

    def knn(self, vector: Sequence[float], **options: object) -> list[ScoredId]:
        raise NotImplementedError("the recording index only records writes")

    def get(self, ids: Sequence[str]) -> dict[str, IndexDoc]:
        return {i: self.docs[i] for i in ids if i in self.docs}

    def count(self) -> int:
        return len(self.docs)

    def rebuild(self, docs: Iterable[IndexDoc]) -> BulkReport:
        self.docs = {}
        return self.upsert(docs)

    def close(self) -> None:
        pass
