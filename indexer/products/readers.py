"""Streaming readers for product exports: CSV/TSV, JSON Lines, JSON arrays, XLSX.

Every reader yields `(line, row)` pairs or a `Reject` naming the line, in file order, and
holds at most one row (plus a bounded read buffer) in memory, so memory stays flat
whatever the number of rows. A row that cannot be read is rejected; the rows around it
are still read. A `Reject` with `fatal=True` means the rest of the file could not be read.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import BinaryIO, TypeAlias

from discovery.domain import JSONValue
from discovery.errors import describe
from indexer.products.report import Reject

Row: TypeAlias = tuple[int, dict[str, JSONValue]]

FORMATS = ("csv", "tsv", "jsonl", "json", "xlsx")


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """Guards against absurd input. A row breaking one is rejected with the reason."""

    max_field_chars: int = 1_048_576  # one cell or JSON string
    max_line_bytes: int = 8 * 1_048_576  # one physical line, or one JSON array element
    max_depth: int = 32  # nesting of a JSON row
    max_record_lines: int = 100  # lines a quoted CSV field may span before it is taken for an unclosed quote
    sample_bytes: int = 65_536  # read up front to detect encoding and delimiter


class CountingStream(io.RawIOBase):
    """A raw stream that replays `head` then reads `inner`, counting the bytes handed out
    (for progress) without needing `inner` to be seekable."""

    def __init__(self, inner: BinaryIO, head: bytes = b"") -> None:
        self._inner = inner
        self._head = memoryview(head)
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
        else:
            data = self._inner.read(len(view))
            n = len(data)
            view[:n] = data
        self.consumed += n
        return n


def detect_format(filename: str, head: bytes) -> str:
    """The reader for a file, by extension first, then by its first bytes."""
    suffix = Path(filename).suffix.casefold().lstrip(".")
    if suffix in ("csv", "txt"):
        return "csv"
    if suffix in ("tsv", "tab"):
        return "tsv"
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix in ("json", "xlsx"):
        return suffix
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        return "jsonl"
    return "csv"


class RowSource:
    """The rows of one export, read lazily; `fraction()` says how far reading has got."""

    def __init__(
        self,
        stream: BinaryIO,
        filename: str,
        *,
        limits: ReadLimits | None = None,
        delimiter: str | None = None,
        sheet: str | None = None,
        total_bytes: int | None = None,
    ) -> None:
        self.filename = filename
        self.limits = limits or ReadLimits()
        head = stream.read(self.limits.sample_bytes)
        self.format = detect_format(filename, head)
        self._counter = CountingStream(stream, head)
        self._total = total_bytes
        self._delimiter = "\t" if self.format == "tsv" and delimiter is None else delimiter
        self._sheet = sheet
        self._head = head
        self.encoding: str | None = None

    @classmethod
    def over(
        cls,
        stream: BinaryIO,
        *,
        filename: str,
        limits: ReadLimits | None = None,
        delimiter: str | None = None,
        sheet: str | None = None,
    ) -> RowSource:
        """Rows of an open stream, from where it stands (progress counts from there)."""
        return cls(stream, filename, limits=limits, delimiter=delimiter, sheet=sheet, total_bytes=_remaining(stream))

    def fraction(self) -> float | None:
        if not self._total:
            return None
        return min(1.0, self._counter.consumed / self._total)

    def __iter__(self) -> Iterator[Row | Reject]:
        from indexer.products.delimited import read_delimited
        from indexer.products.jsonrows import read_json_array, read_json_lines

        buffered = io.BufferedReader(self._counter, buffer_size=1 << 16)
        if self.format in ("csv", "tsv"):
            return read_delimited(buffered, self._head, self, delimiter=self._delimiter)
        if self.format == "jsonl":
            return read_json_lines(buffered, self.limits)
        if self.format == "json":
            return read_json_array(buffered, self.limits)
        return read_xlsx(buffered, self.limits, sheet=self._sheet)


def open_rows(
    source: Path | BinaryIO,
    filename: str | None = None,
    *,
    limits: ReadLimits | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> tuple[RowSource, BinaryIO]:
    """A `RowSource` over a path or an open binary stream, and the stream (caller closes)."""
    if isinstance(source, Path):
        stream: BinaryIO = source.open("rb")
        total = source.stat().st_size
        name = filename or source.name
    else:
        stream = source
        name = filename or str(getattr(source, "name", "upload"))
        total_or_none = _remaining(source)
    rows = RowSource(
        stream,
        str(name),
        limits=limits,
        delimiter=delimiter,
        sheet=sheet,
        total_bytes=total if isinstance(source, Path) else total_or_none,
    )
    return rows, stream


def _remaining(stream: BinaryIO) -> int | None:
    try:
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
    except (OSError, AttributeError, ValueError):
        return None
    return end - here


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def read_xlsx(stream: BinaryIO, limits: ReadLimits, *, sheet: str | None = None) -> Iterator[Row | Reject]:
    """Rows of one worksheet (the first, or `sheet`), openpyxl in read-only mode, read by
    the cells the sheet holds: the sheet's `<dimension>` header is ignored, since many
    generators leave it stale (`A1`) and read-only mode would stop where it says."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(
            io.BytesIO(stream.read()) if not stream.seekable() else stream, read_only=True, data_only=True
        )
    except Exception as exc:  # noqa: BLE001 - any parse failure is this file's reject
        yield Reject(line=None, reason=f"not a readable XLSX workbook: {describe(exc)}", fatal=True)
        return
    try:
        if sheet and sheet not in book.sheetnames:
            yield Reject(line=None, reason=f"no sheet named {sheet!r} (has {', '.join(book.sheetnames)})", fatal=True)
            return
        ws = book[sheet] if sheet else book.worksheets[0]
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()
        header: list[str] | None = None
        for line, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [cell_text(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = header_names(cells)
                problem = duplicate_header(header)
                if problem:
                    yield Reject(line=line, reason=problem, fatal=True)
                    return
                continue
            cells += [""] * (len(header) - len(cells))  # rows hold only the cells they have
            yield check_cells(line, header, cells, limits)
    finally:
        book.close()


def header_names(cells: list[str]) -> list[str]:
    from indexer.products.normalize import clean_text

    names = [clean_text(c.lstrip("\ufeff")) for c in cells]
    return [n or f"column_{i + 1}" for i, n in enumerate(names)]


def duplicate_header(header: list[str]) -> str | None:
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if name in seen:
            return f"column {name!r} appears twice in the header (columns {seen[name]} and {i})"
        seen[name] = i
    return None


def check_cells(line: int, header: list[str], cells: list[str], limits: ReadLimits) -> Row | Reject:
    """A row dict, or a reject for a row with too many cells or an over-long one."""
    if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
        return Reject(
            line=line,
            reason=f"row has {len(cells)} fields, the header has {len(header)}",
            row=dict(zip(header, cells, strict=False)),
        )
    if cells and max(map(len, cells)) > limits.max_field_chars:
        for name, cell in zip(header, cells, strict=False):
            if len(cell) > limits.max_field_chars:
                return Reject(
                    line=line,
                    field=name,
                    reason=f"field is {len(cell):,} characters, over the limit of {limits.max_field_chars:,}",
                    row={k: v for k, v in zip(header, cells, strict=False) if len(v) <= limits.max_field_chars},
                )
    return line, dict(zip(header, cells, strict=False))
