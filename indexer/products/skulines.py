"""Where each SKU of a file last appears, kept on disk so memory stays flat.

Before an import writes anything, one quick pass over the file records, for every SKU,
the line of its last row. The import then writes only that row: an earlier row with the
same SKU is reported as a duplicate and never written, so "last wins" holds across
batches, and re-importing a file with duplicates changes nothing. `full` mode asks the
same table which stored products the file no longer holds.

A million SKUs would cost about 100 MB as a Python dict; a temporary SQLite file costs a
few MB of page cache whatever the file size, and answers a batch's question in one query.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterable

_CHUNK = 500  # bound parameters per statement, well under SQLite's limit


class SkuLines:
    def __init__(self, directory: str | None = None) -> None:
        handle, self._path = tempfile.mkstemp(prefix="discovery-skus-", suffix=".sqlite3", dir=directory)
        os.close(handle)
        self._db = sqlite3.connect(self._path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE last (sku TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID")

    def record(self, lines: Iterable[tuple[str, int]]) -> None:
        """Note SKUs with a line each; a later line replaces an earlier one."""
        self._db.executemany("INSERT OR REPLACE INTO last (sku, line) VALUES (?, ?)", list(lines))

    def last_lines(self, skus: Iterable[str]) -> dict[str, int]:
        """The last line of each of `skus` that the file holds."""
        wanted = list(dict.fromkeys(skus))
        found: dict[str, int] = {}
        for i in range(0, len(wanted), _CHUNK):
            chunk = wanted[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT sku, line FROM last WHERE sku IN ({marks})"  # noqa: S608 - placeholders only
            found.update(self._db.execute(query, chunk).fetchall())
        return found

    def last_line(self, sku: str) -> int | None:
        row = self._db.execute("SELECT line FROM last WHERE sku = ?", (sku,)).fetchone()
        return int(row[0]) if row else None

    def close(self) -> None:
        self._db.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)
