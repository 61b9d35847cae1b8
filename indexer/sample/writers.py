"""The catalog's text files, written a product group at a time: products.jsonl/.csv and manifest.csv."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import IO, Protocol

from indexer.sample.products import COLUMNS, Row

FORMATS = ("jsonl", "csv")


class _CsvWriter(Protocol):
    def writerow(self, row: Iterable[str], /) -> object: ...

    def writerows(self, rows: Iterable[Iterable[str]], /) -> object: ...


class CatalogFiles:
    """Open sinks for product rows (one per format) and for the manifest's (sku, file) links."""

    def __init__(self, out_dir: Path, formats: tuple[str, ...]) -> None:
        self.paths = {fmt: out_dir / f"products.{fmt}" for fmt in FORMATS if fmt in formats}
        self.manifest_path = out_dir / "manifest.csv"
        self._stack = ExitStack()
        self._manifest: _CsvWriter | None = None
        self._jsonl: IO[str] | None = None
        self._csv: _CsvWriter | None = None

    def __enter__(self) -> CatalogFiles:
        if "jsonl" in self.paths:
            self._jsonl = self._stack.enter_context(_open(self.paths["jsonl"]))
        if "csv" in self.paths:
            self._csv = csv.writer(self._stack.enter_context(_open(self.paths["csv"])), lineterminator="\n")
            self._csv.writerow(COLUMNS)
        self._manifest = csv.writer(self._stack.enter_context(_open(self.manifest_path)), lineterminator="\n")
        self._manifest.writerow(("sku", "file"))
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stack.close()

    def write(self, rows: list[Row], links: list[tuple[str, str]]) -> None:
        for row in rows:
            if self._jsonl is not None:
                self._jsonl.write(json.dumps(row, ensure_ascii=False) + "\n")
            if self._csv is not None:
                self._csv.writerow(csv_cells(row))
        if self._manifest is not None:
            self._manifest.writerows(links)


def csv_cells(row: Row) -> list[str]:
    """One CSV line: lists `|`-joined, missing fields empty, numbers as JSON writes them."""
    cells = []
    for column in COLUMNS:
        value = row.get(column)
        if value is None:
            cells.append("")
        elif isinstance(value, list):
            cells.append("|".join(str(v) for v in value))
        else:
            cells.append(str(value))
    return cells


def _open(path: Path) -> IO[str]:
    return path.open("w", encoding="utf-8", newline="")
