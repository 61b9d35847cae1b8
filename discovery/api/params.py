"""Request parameters named by a prefix (`filter.<field>`, `range.<field>`), read the same
way from a query string and from a form, and the range grammar (`lo..hi`)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime

from discovery.errors import InvalidParameter, InvalidQuery
from discovery.store.index.base import Range
from discovery.store.index.documents import DATE_FIELDS, NUMBER_FIELDS


def prefixed(items: Iterable[tuple[str, object]], prefix: str) -> dict[str, tuple[str, ...]]:
    """The string values of every `<prefix><name>` item by name, in order (repeats add)."""
    found: dict[str, list[str]] = {}
    for key, value in items:
        if key.startswith(prefix) and isinstance(value, str):
            found.setdefault(key.removeprefix(prefix), []).append(value)
    return {name: tuple(values) for name, values in found.items()}


def parse_range(field_name: str, text: str) -> Range:
    """`range.<field>=lo..hi`, either end optional: finite numbers for numeric fields, ISO
    dates for dates, and `lo` not above `hi` (a reversed range matches nothing, which a
    caller would read as "no such products"). A bad value is `InvalidParameter` (422)
    naming `range.<field>`; an unknown field is `InvalidQuery`, as an unknown filter."""
    param = f"range.{field_name}"
    if field_name not in NUMBER_FIELDS and field_name not in DATE_FIELDS:
        raise InvalidQuery(f"unknown range field {field_name!r}", field=field_name)
    if ".." not in text:
        raise InvalidParameter(f"{param} must look like lo..hi, got {text!r}", field=param)
    lo_text, hi_text = (part.strip() for part in text.split("..", 1))
    if field_name in NUMBER_FIELDS:
        lo, hi = _number(param, lo_text, text), _number(param, hi_text, text)
        if lo is not None and hi is not None and lo > hi:
            raise InvalidParameter(f"{param}: the low end {lo:g} is above the high end {hi:g}", field=param)
        return Range(lo, hi)
    lo_when, hi_when = _when(param, lo_text), _when(param, hi_text)
    if lo_when is not None and hi_when is not None and lo_when > hi_when:
        raise InvalidParameter(f"{param}: the low end {lo_text} is after the high end {hi_text}", field=param)
    return Range(lo_text or None, hi_text or None)


def _number(param: str, part: str, text: str) -> float | None:
    if not part:
        return None
    try:
        value = float(part)
    except ValueError:
        raise InvalidParameter(f"{param} needs numbers, got {text!r}", field=param) from None
    # `nan`, `inf` and `1e999` parse as floats but bound nothing an engine can compare.
    if not math.isfinite(value):
        raise InvalidParameter(f"{param} needs finite numbers, got {text!r}", field=param)
    return value


def _when(param: str, part: str) -> datetime | None:
    if not part:
        return None
    try:
        when = datetime.fromisoformat(part)
    except ValueError:
        raise InvalidParameter(f"{param} needs ISO dates, got {part!r}", field=param) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)  # a date alone is UTC, as the index reads it
