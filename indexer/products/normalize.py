"""Pure value normalisers: text, HTML, prices, booleans, dates, category paths, image names.

Each raises `ValueError` with a reason a data steward can act on; callers turn it into a
reject naming the row and the column. They run once per cell on imports of millions of
rows, so the common case (short ASCII text) takes the fast path.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import date, datetime
from urllib.parse import unquote, urlsplit

from indexer.products.units import UnitError, parse_number
from indexer.text import decode_entities, drop_controls

STATUSES = ("draft", "in_review", "approved", "withdrawn")

_BLOCKS = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENTS = re.compile(r"<!--.*?-->", re.DOTALL)
_TAGS = re.compile(r"<[^>]*>")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_SYMBOLS = {
    "€": "EUR",
    "$": "USD",
    "US$": "USD",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "zł": "PLN",
}
_PRICE = re.compile(
    r"^\s*(?P<pre>[^\d\s.,+-]*)\s*(?P<num>[-+]?[\d][\d\s.,'\u00a0]*|[-+]?[.,]\d+)\s*(?P<post>[^\d\s]*)\s*$"
)
_TRUE = frozenset({"true", "t", "yes", "y", "1", "on", "oui", "ja", "si", "sí"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off", "non", "nein"})


def nfc(text: str) -> str:
    """Unicode NFC, so `é` written two ways matches itself in search and facets."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def clean_text(text: str) -> str:
    """NFC with runs of whitespace (newlines, tabs, NBSP) collapsed to one space, HTML
    character references decoded (`&trade;` -> `™`) and control characters dropped:
    catalog text never means them, they garble feeds and exports, and PostgreSQL refuses
    a NUL byte in a text column."""
    return _collapse(decode_entities(drop_controls(text)))


def _collapse(text: str) -> str:
    if text.isascii() and "  " not in text and "\n" not in text and "\t" not in text and "\r" not in text:
        return text.strip()
    return " ".join(nfc(text).split())


def strip_html(text: str) -> str:
    """Plain text of an HTML fragment, for search: tags and scripts removed, entities decoded."""
    if "<" not in text and "&" not in text:
        return clean_text(text)  # nothing to strip or decode
    text = _BLOCKS.sub(" ", text)
    text = _COMMENTS.sub(" ", text)
    text = _TAGS.sub(" ", text)
    return _collapse(html.unescape(drop_controls(text)))  # decoded once: `&amp;lt;` is `&lt;`


def parse_bool(text: str) -> bool:
    key = text.strip().casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"not a boolean: {text!r} (use true/false, yes/no or 1/0)")


def parse_date(text: str, fmt: str | None = None) -> str:
    """An ISO-8601 date (`2024-05-01`) or date-time, or `fmt` (strptime) when given."""
    raw = text.strip()
    try:
        if fmt:
            parsed = datetime.strptime(raw, fmt)
            return parsed.date().isoformat() if "%H" not in fmt else parsed.isoformat()
        if len(raw) == 10:
            return date.fromisoformat(raw).isoformat()
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).isoformat()
    except ValueError:
        expected = fmt or "YYYY-MM-DD"
        raise ValueError(f"not a date: {text!r} (expected {expected})") from None


def parse_currency(text: str) -> str:
    code = text.strip()
    code = _SYMBOLS.get(code, code).upper()
    if not _CURRENCY_CODE.fullmatch(code):
        raise ValueError(f"not a currency code: {text!r} (expected ISO 4217, e.g. EUR)")
    return code


def parse_price(text: str) -> tuple[float, str | None]:
    """(amount, currency or None) from `12.50`, `12,50 €`, `EUR 12.50`, `$12.50`."""
    try:
        return parse_number(text), None
    except UnitError:
        pass
    match = _PRICE.match(text)
    if not match:
        raise ValueError(f"not a price: {text!r}")
    marks = [m for m in (match.group("pre"), match.group("post")) if m]
    currency = None
    if len(marks) > 1:
        raise ValueError(f"not a price: {text!r}")
    if marks:
        try:
            currency = parse_currency(marks[0])
        except ValueError:
            raise ValueError(f"not a price: {text!r}") from None
    try:
        amount = parse_number(match.group("num"))
    except UnitError as exc:
        raise ValueError(str(exc)) from None
    return amount, currency


def parse_status(text: str) -> str:
    key = text.strip().casefold().replace(" ", "_").replace("-", "_")
    if key not in STATUSES:
        raise ValueError(f"unknown status {text!r} (allowed: {', '.join(STATUSES)})")
    return key


def category_path(text: str, delimiter: str | None = None, *, drop_root: bool = False) -> str:
    """`Men > Tops > Hoodies` or `Men/Tops/Hoodies` as `Men/Tops/Hoodies`."""
    if delimiter is None:
        delimiter = ">" if ">" in text else "/"
    parts = [clean_text(p) for p in text.split(delimiter)]
    # "/" is the stored separator, so a slash inside a segment would split it later.
    parts = [p.replace("/", "-") for p in parts if p]
    if drop_root:
        parts = parts[1:]
    return "/".join(parts)


def image_name(ref: str) -> str:
    """The file name a URL or path points at: `https://cdn/x/shoe.jpg?v=3` -> `shoe.jpg`."""
    ref = ref.strip()
    if "://" in ref or ref.startswith("//"):
        ref = unquote(urlsplit(ref).path)
    return ref.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def split_values(text: str, separator: str) -> list[str]:
    """Non-empty, cleaned parts; an empty separator means one value."""
    if not separator:
        value = clean_text(text)
        return [value] if value else []
    return [v for v in (clean_text(p) for p in text.split(separator)) if v]


# Attribute names spelled two ways by real exports (Shopify's sample jewellery CSV names
# one product's option `Color` and another's `Colour`): one attribute, one facet.
_ATTRIBUTE_SPELLINGS = {"colour": "color", "colours": "color", "colors": "color", "sizes": "size"}


def attribute_name(column: str) -> str:
    """The attribute a column becomes: `Main Color` -> `main_color`."""
    name = clean_text(column).casefold()
    name = re.sub(r"[\s\-./]+", "_", name).strip("_") or "column"
    return _ATTRIBUTE_SPELLINGS.get(name, name)
