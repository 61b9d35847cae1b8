"""Where a CSV record ends, found without the csv module. Pure.

The csv module gives up on a quoted field larger than its field limit and resumes at the
next physical line, which is still inside that field: every line of the rest of the field
would then be read as a row of its own. `QuotedSkip` steps over the rest of such a record
instead, following the same quoting rules as the parser (RFC 4180 with `""` escapes; a
quote opens a field only at its start, elsewhere it is a literal character).
"""

from __future__ import annotations

from collections import deque
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
    gave up on. `skipped` counts the lines taken past the reader (for true line numbers).

    A quoted field is taken for an unclosed quote, not a long field, when the file ends
    before it closes, or when it is still open `max_record_lines` lines after the line that
    opened it and most of those lines are shaped like rows (as many delimiters as the
    header). That line is then noted in `bad` (so the caller rejects its row by number) and
    handed on with its quotes removed, and the lines after it are read as rows of their
    own. Otherwise one stray quote would swallow every row up to the next quote, or the end
    of the file. A long field of prose still reads as one field (up to the field limit; the
    look-ahead holds no more than `max_field_chars`).
    """

    def __init__(
        self,
        first: str,
        rest: Iterator[str],
        delimiter: str,
        *,
        bad: dict[int, str],
        max_record_lines: int,
        max_field_chars: int,
    ) -> None:
        self._ahead: deque[str] = deque([first])
        self._rest = rest
        self.delimiter = delimiter
        self.bad = bad
        self.max_record_lines = max_record_lines
        self.max_field_chars = max_field_chars
        self.last = ""
        self.number = 0  # physical line number of `last`
        self.skipped = 0
        self._open = False  # inside a quoted field at the start of the next line
        self._header_delimiters = first.count(delimiter)

    def __iter__(self) -> QuotedSkip:
        return self

    def _take(self) -> str | None:
        if self._ahead:
            return self._ahead.popleft()
        return next(self._rest, None)

    def __next__(self) -> str:
        line = self._take()
        if line is None:
            raise StopIteration
        self.number += 1
        if self._open:
            self._open = record_continues(line, self.delimiter, quoted=True)
        elif record_continues(line, self.delimiter, quoted=False):
            if self._closes_in_time():
                self._open = True
            else:
                self.bad.setdefault(self.number, self._unclosed())
                line = line.replace(QUOTE, "")
        self.last = line
        return line

    def _unclosed(self) -> str:
        return (
            f"a quoted field opens on this line and does not close within {self.max_record_lines} lines "
            "(an unclosed quote?): this row is rejected, the lines after it are read as rows"
        )

    def _closes_in_time(self) -> bool:
        """Whether the field left open by the line just taken is a field, not a stray
        quote: it closes within the limit, or what follows does not look like rows (the
        lines looked at are kept to be read next)."""
        held = 0
        for index in range(self.max_record_lines):
            if index == len(self._ahead):
                nxt = next(self._rest, None)
                if nxt is None:
                    return False
                self._ahead.append(nxt)
            held += len(self._ahead[index])
            if held > self.max_field_chars:
                return True  # too large to hold: the csv parser refuses it by its field limit
            if not record_continues(self._ahead[index], self.delimiter, quoted=True):
                return True
        shaped = sum(line.count(self.delimiter) >= self._header_delimiters for line in self._ahead)
        return shaped * 2 < len(self._ahead)

    def skip_quoted_record(self) -> bool:
        """From the start of the last line (inside a quoted field, where the reader gave
        up), skip to the end of the record. False when the file ends first."""
        line, quoted = self.last, True
        self._open = False
        while record_continues(line, self.delimiter, quoted=quoted):
            nxt = self._take()
            if nxt is None:
                return False
            line, self.skipped, self.number = nxt, self.skipped + 1, self.number + 1
        return True
