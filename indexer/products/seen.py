"""The SKUs one import has handed on so far, kept on disk so memory stays flat.

An import must know every SKU of its file (to report a duplicate across batches, and in
`full` mode to withdraw what the file no longer holds). A million SKUs would cost about
100 MB as a Python set, ten million a gigabyte; a temporary SQLite file costs a few MB of
page cache whatever the file size, and answers a batch's question in one query.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterable

_CHUNK = 500  # bound parameters per statement, well under SQLite's limit


class SeenSkus:
    def __init__(self, directory: str | None = None) -> None:
        handle, self._path = tempfile.mkstemp(prefix="discovery-skus-", suffix=".sqlite3", dir=directory)
        os.close(handle)
        self._db = sqlite3.connect(self._path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE seen (sku TEXT PRIMARY KEY) WITHOUT ROWID")
        self.count = 0

    def add(self, skus: Iterable[str]) -> None:
        rows = [(s,) for s in skus]
        before = self._db.total_changes
        self._db.executemany("INSERT OR IGNORE INTO seen (sku) VALUES (?)", rows)
        self.count += self._db.total_changes - before

    def among(self, skus: Iterable[str]) -> set[str]:
        """Those of `skus` seen before."""
        wanted = list(dict.fromkeys(skus))
        found: set[str] = set()
        for i in range(0, len(wanted), _CHUNK):
            chunk = wanted[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self._db.execute(f"SELECT sku FROM seen WHERE sku IN ({marks})", chunk))  # noqa: S608
        return found

    def __contains__(self, sku: object) -> bool:
        return self._db.execute("SELECT 1 FROM seen WHERE sku = ?", (sku,)).fetchone() is not None

    def close(self) -> None:
        self._db.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)
