"""What an import tells its user: counts, every rejected row and why, index failures."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from discovery.domain import JSONObject, JSONValue


@dataclass(slots=True)
class Reject:
    """One refused input row: where it was and what was wrong with it."""

    line: int | None
    reason: str
    field: str | None = None
    file: str | None = None
    sku: str | None = None  # when the row named one (kept so `full` mode never withdraws it)
    fatal: bool = False  # the rest of the file could not be read
    row: dict[str, JSONValue] | None = None  # what could be read of the row, to learn its SKU

    def to_json(self) -> JSONObject:
        return {"line": self.line, "file": self.file, "field": self.field, "reason": self.reason}


@dataclass(slots=True)
class ImportReport:
    """The running and final account of one product import.

    `received` counts data rows read; each ends up rejected, superseded by a later row
    with the same SKU (`duplicates`), merged into another product (`merged`: Shopify
    image rows, store-view translations), or is a product of the file (`products`).
    `indexed` counts the file's products whose index write succeeded in this run (an
    unchanged product is not rewritten; see `unchanged`); `index_failed` those whose
    write failed, listed in `dead_letters`.
    """

    file: str
    job_id: str | None = None
    mode: str = "partial"
    received: int = 0
    rejected: int = 0
    duplicates: int = 0
    merged: int = 0
    products: int = 0
    parents_created: int = 0
    changed: int = 0
    unchanged: int = 0
    indexed: int = 0
    index_failed: int = 0
    withdrawn: int = 0
    progress: float = 0.0
    finished: bool = False
    rejects: list[Reject] = field(default_factory=list)
    duplicate_rows: list[JSONObject] = field(default_factory=list)
    dead_letters: list[JSONObject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def reject(self, item: Reject) -> None:
        item.file = item.file or self.file
        self.rejects.append(item)
        self.rejected += 1

    @property
    def counts(self) -> dict[str, int]:
        return {
            "received": self.received,
            "indexed": self.indexed,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "merged": self.merged,
            "products": self.products,
            "parents_created": self.parents_created,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "index_failed": self.index_failed,
            "withdrawn": self.withdrawn,
        }

    def to_json(self) -> JSONObject:
        """The job-shaped view (`counts`, `rejects`, `dead_letters`) plus the detail."""
        return {
            "file": self.file,
            "job_id": self.job_id,
            "mode": self.mode,
            "progress": self.progress,
            "finished": self.finished,
            "counts": dict[str, JSONValue](self.counts),
            "rejects": [r.to_json() for r in self.rejects],
            "duplicates": list(self.duplicate_rows),
            "dead_letters": list(self.dead_letters),
            "notes": list[JSONValue](self.notes),
        }

    def to_csv(self) -> str:
        """Every reject as CSV (`line,file,field,reason`), for download."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["line", "file", "field", "reason"])
        for r in self.rejects:
            writer.writerow(["" if r.line is None else r.line, r.file or "", r.field or "", r.reason])
        return out.getvalue()
