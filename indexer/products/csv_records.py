"""Where a CSV record ends, found without the csv module. Pure.

The csv module gives up on a quoted field larger than its field limit and resumes at the
next physical line, which is still inside that field: every line of the rest of the field
would then be read as a row of its own. `QuotedSkip` steps over the rest of such a record
instead, following the same quoting rules as the parser (RFC 4180 with `""` escapes; a
quote opens a field only at its start, elsewhere it is a literal character).
"""

from __future__ import annotations

from collections.abc import Iterator

QUOTE = '"'


def record_continues(line: str, delimiter: str, *, quoted: bool) -> bool:
    """Whether a record is still inside a quoted field at the end of `line`, given whether
    it was at its start."""
    pos = 0
    while True:
        if quoted:
            pos = _closing_quote(line, pos)
            if pos < 0:
                return True
            quoted = False
        cut = line.find(delimiter, pos)
        if cut < 0:
            return False
        pos = cut + 1
        if line.startswith(QUOTE, pos):
            quoted, pos = True, pos + 1


def _closing_quote(line: str, pos: int) -> int:
    """Just past the quote that closes the field, or -1 when the field goes on."""
    while True:
        found = line.find(QUOTE, pos)
        if found < 0:
            return -1
        if line.startswith(QUOTE * 2, found):
            pos = found + 2
            continue
        return found + 1


class QuotedSkip:
    """The decoded lines a csv reader reads, able to skip the rest of a record the reader
    gave up on. `skipped` counts the lines taken past the reader (for true line numbers)."""

    def __init__(self, first: str, rest: Iterator[str], delimiter: str) -> None:
        self._first: str | None = first
        self._rest = rest
        self.delimiter = delimiter
        self.last = ""
        self.skipped = 0

    def __iter__(self) -> QuotedSkip:
        return self

    def __next__(self) -> str:
        if self._first is not None:
            self.last, self._first = self._first, None
        else:
            self.last = next(self._rest)
        return self.last

    def skip_quoted_record(self) -> bool:
        """From the start of the last line (inside a quoted field, where the reader gave
        up), skip to the end of the record. False when the file ends first."""
        line, quoted = self.last, True
        while record_continues(line, self.delimiter, quoted=quoted):
            nxt = next(self._rest, None)
            if nxt is None:
                return False
            line, self.skipped = nxt, self.skipped + 1
        return True
