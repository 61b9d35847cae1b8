"""JSON Lines and JSON arrays, both streamed.

A JSON array is parsed element by element with `JSONDecoder.raw_decode` over a sliding
buffer, so a file of a million products never sits in memory at once. Each element must
be an object; `attributes` and `locales` objects are flattened into `attributes.<name>`
and `<field>-<locale>` columns, the same names a CSV would use.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Iterator
from typing import BinaryIO

from discovery.domain import JSONValue
from indexer.products.delimited import _decoded_lines
from indexer.products.readers import ReadLimits, Row
from indexer.products.report import Reject

_WS = re.compile(r"[ \t\r\n]*")
_CHUNK = 1 << 16
MAX_INT_DIGITS = 20  # a 64-bit id fits; no price, stock or EAN needs more


class _BadNumber:
    """A JSON number no field may hold, kept in place of its value so the row's check
    can name the field (the parser hooks below do not know where they are)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _parse_int(text: str) -> int | _BadNumber:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        return _BadNumber(f"a number of {digits:,} digits, over the limit of {MAX_INT_DIGITS}")
    return int(text)


def _parse_float(text: str) -> float | _BadNumber:
    value = float(text)
    if not math.isfinite(value):
        return _BadNumber(f"{text[:40]} is too large to be a number here")
    return value


def _parse_constant(name: str) -> _BadNumber:
    return _BadNumber(f"{name} is not a finite number")


# Python's JSON decoder with numbers bounded: NaN and Infinity (which json accepts) and
# integers too long to be a value (which json turns into a ValueError that ended the whole
# file) become a reject of their row naming the field. Stateless, so shared.
_DECODER = json.JSONDecoder(parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)


def json_row(line: int, obj: object, limits: ReadLimits) -> Row | Reject:
    """A decoded JSON value as a row, or why it cannot be one."""
    if not isinstance(obj, dict):
        return Reject(line=line, reason=f"expected a JSON object, got {type(obj).__name__}")
    problem = _check(obj, limits)
    if problem:
        field, reason = problem
        return Reject(line=line, field=field, reason=reason)
    row: dict[str, JSONValue] = {}
    for key, value in obj.items():
        if key == "attributes" and isinstance(value, dict):
            row.update({f"attributes.{k}": v for k, v in value.items()})
        elif key == "locales" and isinstance(value, dict):
            for locale, fields in value.items():
                if isinstance(fields, dict):
                    row.update({f"{f}-{locale}": v for f, v in fields.items()})
        else:
            row[str(key)] = value
    return line, row


def _check(obj: dict[str, object], limits: ReadLimits) -> tuple[str | None, str] | None:
    """(field, reason) for a row nested too deep, holding an over-long string or a number
    that is not one (NaN, Infinity, thousands of digits)."""
    stack: list[tuple[object, int, str | None]] = [(obj, 1, None)]
    while stack:
        value, depth, top = stack.pop()
        if isinstance(value, _BadNumber):
            return top, value.reason
        if isinstance(value, str):
            if len(value) > limits.max_field_chars:
                return top, f"field is {len(value):,} characters, over the limit of {limits.max_field_chars:,}"
        elif isinstance(value, dict | list):
            if depth > limits.max_depth:
                return top, f"nested deeper than {limits.max_depth} levels"
            items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
            for key, item in items:
                stack.append((item, depth + 1, top if top is not None else (str(key) if key is not None else None)))
    return None


def _parse(text: str, line: int, limits: ReadLimits) -> Row | Reject:
    try:
        obj = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        return Reject(line=line, reason=f"not valid JSON: {exc.msg} at column {exc.colno}")
    except RecursionError:
        return Reject(line=line, reason=f"nested deeper than {limits.max_depth} levels")
    return json_row(line, obj, limits)


def read_json_lines(stream: BinaryIO, limits: ReadLimits) -> Iterator[Row | Reject]:
    """One JSON object per line; a bad line is rejected, the others read."""
    bad: dict[int, str] = {}
    for number, text in enumerate(_decoded_lines(stream, "utf-8", limits.max_line_bytes, bad), start=1):
        if bad:
            reason = bad.pop(number, None)
            if reason:
                yield Reject(line=number, reason=reason)
                continue
        text = text.lstrip("\ufeff") if number == 1 else text
        if text.strip():
            yield _parse(text, number, limits)


class _Buffer:
    """Decoded text of a stream with a moving read position and line counting."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.text = ""
        self.pos = 0
        self.eof = False
        self.line = 1  # line number at `counted`
        self.counted = 0

    def fill(self) -> None:
        """Drop what was consumed, read one more chunk."""
        self.line_at(self.pos)
        self.text = self.text[self.pos :]
        self.counted -= self.pos
        self.pos = 0
        chunk = self.stream.read(_CHUNK)
        if chunk:
            self.text += self.decoder.decode(chunk)
        else:
            self.text += self.decoder.decode(b"", final=True)
            self.eof = True

    def line_at(self, index: int) -> int:
        self.line += self.text.count("\n", self.counted, index)
        self.counted = index
        return self.line

    def next_char(self) -> str | None:
        """The next non-blank character (not consumed), or None at the end."""
        while True:
            self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text):
                return self.text[self.pos]
            if self.eof:
                return None
            self.fill()


def read_json_array(stream: BinaryIO, limits: ReadLimits) -> Iterator[Row | Reject]:
    """The objects of a top-level JSON array, one at a time."""
    buf = _Buffer(stream)
    state = "open"
    try:
        while True:
            ch = buf.next_char()
            line = buf.line_at(buf.pos)
            if ch is None:
                if state != "done":
                    yield Reject(line=line, reason="the file ends before the JSON array is closed", fatal=True)
                return
            if state == "done":
                yield Reject(line=line, reason="unexpected content after the JSON array", fatal=True)
                return
            if state == "open":
                if ch != "[":
                    yield Reject(line=line, reason="expected a JSON array of objects", fatal=True)
                    return
                buf.pos += 1
                state = "first"
            elif state == "after":
                if ch not in ",]":
                    yield Reject(line=line, reason=f"expected ',' or ']' between elements, found {ch!r}", fatal=True)
                    return
                buf.pos += 1
                state = "value" if ch == "," else "done"
            elif ch == "]" and state == "first":
                buf.pos += 1
                state = "done"
            else:
                item = _element(buf, _DECODER, limits, line)
                yield item
                if isinstance(item, Reject) and item.fatal:
                    return
                state = "after"
    except UnicodeDecodeError as exc:
        yield Reject(line=buf.line, reason=f"bytes cannot be decoded as utf-8: {exc.reason}", fatal=True)


def _element(buf: _Buffer, decoder: json.JSONDecoder, limits: ReadLimits, line: int) -> Row | Reject:
    while True:
        try:
            obj, end = decoder.raw_decode(buf.text, buf.pos)
        except json.JSONDecodeError as exc:
            # Probably cut off by the buffer's end: read on, up to the element size limit.
            if not buf.eof and len(buf.text) - buf.pos <= limits.max_line_bytes:
                buf.fill()
                continue
            if not buf.eof:
                reason = f"an element is larger than {limits.max_line_bytes:,} characters"
            else:
                reason = f"not valid JSON: {exc.msg}"
            return Reject(line=line, reason=reason, fatal=True)
        except RecursionError:
            # Too deep to parse, not necessarily broken: step over it and read on.
            reason = f"nested deeper than {limits.max_depth} levels"
            if _skip_value(buf, limits):
                return Reject(line=line, reason=reason)
            return Reject(line=line, reason=f"{reason}, and its end cannot be found", fatal=True)
        buf.pos = end
        return json_row(line, obj, limits)


_STRUCTURE = re.compile(r'[\[\]{}"]')
_IN_STRING = re.compile(r'["\\]')


def _skip_value(buf: _Buffer, limits: ReadLimits) -> bool:
    """Move past the array or object starting at `buf.pos` by matching its brackets
    (strings and escapes respected). False when it outgrows the element size limit or the
    file ends inside it."""
    depth, in_string, pos = 0, False, buf.pos
    while True:
        found = (_IN_STRING if in_string else _STRUCTURE).search(buf.text, pos)
        if found is None or (in_string and found.group() == "\\" and found.end() >= len(buf.text)):
            if buf.eof or len(buf.text) - buf.pos > limits.max_line_bytes:
                return False
            offset = pos - buf.pos
            buf.fill()  # keeps the text from buf.pos on, which becomes 0
            pos = buf.pos + offset
            continue
        char, pos = found.group(), found.end()
        if in_string:
            if char == "\\":
                pos += 1
            else:
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                buf.pos = pos
                return True
