"""CSV and TSV: encoding detection, delimiter sniffing, quoted multi-line fields.

Bytes are decoded one physical line at a time, so a line that is not valid in the file's
encoding is rejected by number while every other line is read. Records (which may span
lines inside quotes) come from the stdlib csv parser over the decoded lines.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from discovery.domain import JSONValue
from indexer.products.csv_records import QuotedSkip
from indexer.products.readers import ReadLimits, Row, check_cells, duplicate_header, header_names
from indexer.products.report import Reject

if TYPE_CHECKING:
    from _csv import Reader as _CsvReader

    from discovery.domain import JSONValue
from indexer.products.readers import RowSource

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DELIMITERS = (",", ";", "\t", "|")
_ASCII_PROBE = '\n\r,;\t|"'


def detect_encoding(sample: bytes) -> tuple[str, int]:
    """(encoding, BOM length). UTF-8 unless the sample says otherwise: a file whose
    non-ASCII lines are mostly valid UTF-8 stays UTF-8 (its few bad lines are rejected);
    one with no valid UTF-8 sequences is a legacy encoding, guessed by charset-normalizer
    and cp1252 when that has no answer."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name, len(bom)
    cut = sample.rfind(b"\n")
    body = sample[: cut + 1] if cut >= 0 and len(sample) > cut + 1 else sample
    try:
        body.decode("utf-8")
        return "utf-8", 0
    except UnicodeDecodeError:
        pass
    good = bad = 0
    for line in body.split(b"\n"):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    if good and good >= bad:
        return "utf-8", 0
    return _legacy_encoding(body), 0


def _legacy_encoding(body: bytes) -> str:
    from charset_normalizer import from_bytes

    matches = from_bytes(body)
    # Short samples fit several single-byte code pages equally; the Western one is by far
    # the most common in spreadsheet exports, so it wins whenever it fits at all.
    names = [m.encoding for m in matches]
    best = matches.best()
    name = "cp1252" if "cp1252" in names or best is None else best.encoding
    try:
        if _ASCII_PROBE.encode(name) != _ASCII_PROBE.encode("ascii"):
            return "cp1252"
    except (LookupError, UnicodeEncodeError):
        return "cp1252"
    return name


def sniff_delimiter(first_line: str) -> str:
    """The candidate delimiter that splits the header most often (quotes respected)."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _decoded_lines(stream: BinaryIO, encoding: str, max_line: int, bad: dict[int, str]) -> Iterator[str]:
    """Decoded physical lines; an undecodable or over-long line is noted in `bad` by its
    number and handed on in a harmless form so line numbers stay true."""
    readline = stream.readline
    number = 0
    while True:
        raw = readline(max_line + 1)
        if not raw:
            return
        number += 1
        if len(raw) > max_line and not raw.endswith(b"\n"):
            while (more := readline(max_line + 1)) and not more.endswith(b"\n"):
                pass
            bad[number] = f"line is longer than {max_line:,} bytes"
            yield "\n"
            continue
        try:
            yield raw.decode(encoding)
        except UnicodeDecodeError as exc:
            bad[number] = (
                f"bytes cannot be decoded as {encoding} "
                f"(byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the line)"
            )
            yield raw.decode(encoding, "replace")


def _text_lines(stream: BinaryIO, encoding: str) -> Iterator[str]:
    # UTF-16/32 cannot be split on b"\n"; decode as a whole (a bad byte ends the file).
    yield from io.TextIOWrapper(stream, encoding=encoding, newline="")


def read_delimited(
    stream: BinaryIO, head: bytes, source: RowSource, *, delimiter: str | None = None
) -> Iterator[Row | Reject]:
    """Rows of a CSV/TSV file (see the module docstring)."""
    limits = source.limits
    encoding, bom = detect_encoding(head)
    source.encoding = encoding
    if bom:
        stream.read(bom)
    # The csv module's own guard is process-wide; only ever raise it. Our limit is
    # checked per field below, where the offending column can be named.
    if csv.field_size_limit() < limits.max_line_bytes:
        csv.field_size_limit(limits.max_line_bytes)
    bad: dict[int, str] = {}
    if encoding.startswith(("utf-16", "utf-32")):
        lines: Iterator[str] = _text_lines(stream, encoding)
    else:
        lines = _decoded_lines(stream, encoding, limits.max_line_bytes, bad)
    first = next(lines, None)
    if first is None:
        return
    if delimiter is None:
        delimiter = sniff_delimiter(first)
    source_lines = QuotedSkip(
        first,
        lines,
        delimiter,
        bad=bad,
        max_record_lines=limits.max_record_lines,
        max_field_chars=limits.max_line_bytes,
    )
    reader = csv.reader(source_lines, delimiter=delimiter, quotechar='"', strict=False)
    yield from _records(reader, source_lines, bad, limits, encoding)


def _records(
    reader: _CsvReader, lines: QuotedSkip, bad: dict[int, str], limits: ReadLimits, encoding: str
) -> Iterator[Row | Reject]:
    header: list[str] | None = None
    previous = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = previous + 1
            if "field larger than field limit" not in str(exc):
                previous = reader.line_num + lines.skipped
                yield Reject(line=line, reason=f"not valid CSV: {exc}")
                continue
            # The parser gave up inside a huge quoted field: resume after the record, not
            # inside it, where each remaining line of the field would read as a row.
            closed = lines.skip_quoted_record()
            previous = reader.line_num + lines.skipped
            reason = f"a quoted field is larger than {limits.max_line_bytes:,} bytes"
            yield Reject(line=line, reason=reason if closed else f"{reason} and never closes", fatal=not closed)
            if not closed:
                return
            continue
        except UnicodeDecodeError as exc:
            yield Reject(line=previous + 1, reason=f"bytes cannot be decoded as {encoding}: {exc.reason}", fatal=True)
            return
        start, previous = previous + 1, reader.line_num + lines.skipped
        if bad:
            reasons = [bad.pop(n) for n in range(start, previous + 1) if n in bad]
            if reasons:
                # What decoded around the bad bytes still tells the SKU (kept for `full` mode).
                readable = dict[str, JSONValue](zip(header, cells, strict=False)) if header else None
                yield Reject(line=start, reason=reasons[0], fatal=header is None, row=readable)
                if header is None:
                    return
                continue
        if not cells or (not cells[0].strip() and not any(c.strip() for c in cells)):
            continue
        if header is None:
            header = header_names(cells)
            problem = duplicate_header(header)
            if problem:
                yield Reject(line=start, reason=problem, fatal=True)
                return
            continue
        yield check_cells(start, header, cells, limits)
