"""Which vector rows pass a kNN filter, kept per snapshot for filters used again.

Listing every document a filter passes goes through tantivy's hits one by one in
Python (~40 ms for 60,000 documents at a million), where the ranking itself then takes
a few. A storefront or a DAM asks with the same few filters over and over (a colour,
a background, a brand), so, as Lucene's query cache keeps a filter's matching documents
per segment, a filter's rows are kept once it is used a second time. A snapshot's
rows die with it at the next refresh: they are never older than the vectors they name.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

import numpy as np
import numpy.typing as npt

ROWS_BUDGET_BYTES = 64 * 1024 * 1024  # a filter passing 60,000 of a million rows takes 480 KB
_TRACKED = 1024  # filters remembered as used once, before the oldest are forgotten

Rows = npt.NDArray[np.int64]


class FilterRows:
    """Sorted row numbers by filter key (what the filters say, and which vector set),
    least recently used dropped first beyond `budget` bytes."""

    def __init__(self, budget: int = ROWS_BUDGET_BYTES) -> None:
        self._budget = budget
        self._rows: OrderedDict[Hashable, Rows] = OrderedDict()
        self._seen: OrderedDict[Hashable, None] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Rows | None:
        with self._lock:
            rows = self._rows.get(key)
            if rows is not None:
                self._rows.move_to_end(key)
            return rows

    def seen_before(self, key: Hashable) -> bool:
        """Whether `key` was asked for before in this snapshot (and note that it was now)."""
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return True
            self._seen[key] = None
            if len(self._seen) > _TRACKED:
                self._seen.popitem(last=False)
            return False

    def put(self, key: Hashable, rows: Rows) -> None:
        if rows.nbytes > self._budget:
            return
        with self._lock:
            old = self._rows.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._rows[key] = rows
            self._bytes += rows.nbytes
            while self._bytes > self._budget:
                _, dropped = self._rows.popitem(last=False)
                self._bytes -= dropped.nbytes

    def __len__(self) -> int:
        return len(self._rows)
