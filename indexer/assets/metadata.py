"""Searchable metadata from an image's EXIF, IPTC and XMP blocks.

Keys are flat and stable (`camera_make`, `taken_at`, `title`, `keywords`, ...). GPS goes
under keys that start with `gps`: kept in the record for internal use and never put in
a public view or the search text (`documents.asset_to_doc` skips them; `public_metadata`
drops them). Where sources disagree, XMP wins over IPTC over EXIF (XMP is the Unicode,
most recently edited one); keywords are the union.
"""

from __future__ import annotations

import contextlib
import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from typing import TypeVar

from PIL import Image

from discovery.domain import JSONObject, JSONValue
from indexer.text import drop_controls

T = TypeVar("T")
MAX_TEXT = 2000
MAX_XMP_BYTES = 1 << 20
_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "Iptc4xmpCore": "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
}
# (namespace, local name) -> our key
_XMP_FIELDS = {
    ("dc", "title"): "title",
    ("dc", "description"): "description",
    ("dc", "subject"): "keywords",
    ("dc", "creator"): "creator",
    ("dc", "rights"): "rights",
    ("photoshop", "Headline"): "headline",
    ("photoshop", "Credit"): "credit",
    ("xmpRights", "UsageTerms"): "usage_terms",
    ("Iptc4xmpCore", "AltTextAccessibility"): "alt_text",
}
_IPTC_FIELDS = {
    (2, 5): "title",
    (2, 105): "headline",
    (2, 120): "description",
    (2, 25): "keywords",
    (2, 80): "creator",
    (2, 110): "credit",
    (2, 116): "rights",
}
_EXIF_BASE = {
    0x010F: "camera_make",
    0x0110: "camera_model",
    0x0131: "software",
    0x0132: "modified_at",
    0x013B: "creator",
    0x8298: "rights",
    0x010E: "description",
}
_EXIF_IFD = {0x9003: "taken_at", 0x9004: "digitized_at", 0xA434: "lens"}
_DATE_KEYS = {"modified_at", "taken_at", "digitized_at"}


def clean_text(value: object) -> str:
    """A metadata value as safe, bounded text (bytes decoded, control characters gone)."""
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = value.decode("latin-1")
    else:
        text = str(value)
    return drop_controls(text).strip()[:MAX_TEXT]


def _exif_date(text: str) -> str:
    """`2024:05:01 12:00:00` -> `2024-05-01T12:00:00`; anything else kept as written."""
    m = re.fullmatch(r"(\d{4}):(\d{2}):(\d{2})[ T](\d{2}:\d{2}:\d{2}).*", text)
    return f"{m[1]}-{m[2]}-{m[3]}T{m[4]}" if m else text


def _gps_degrees(value: object, ref: object) -> float | None:
    try:
        d, m, s = (float(x) for x in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    deg = d + m / 60 + s / 3600
    return round(-deg if clean_text(ref) in ("S", "W") else deg, 7)


def exif_fields(exif: Image.Exif) -> JSONObject:
    out: JSONObject = {}
    if not exif:
        return out
    for tag, key in _EXIF_BASE.items():
        if tag in exif and (text := clean_text(exif[tag])):
            out[key] = text
    ifd = exif.get_ifd(0x8769)
    for tag, key in _EXIF_IFD.items():
        if tag in ifd and (text := clean_text(ifd[tag])):
            out[key] = text
    for key in _DATE_KEYS & out.keys():
        out[key] = _exif_date(str(out[key]))
    gps = exif.get_ifd(0x8825)
    lat, lon = _gps_degrees(gps.get(2), gps.get(1)), _gps_degrees(gps.get(4), gps.get(3))
    if lat is not None and lon is not None:
        out["gps_latitude"], out["gps_longitude"] = lat, lon
    if 6 in gps:
        with contextlib.suppress(TypeError, ValueError, ZeroDivisionError):
            out["gps_altitude"] = round(float(gps[6]) * (-1 if gps.get(5) == 1 else 1), 2)
    return out


def _one_or_list(key: str, values: list[str]) -> JSONValue:
    """Keywords stay a list; every other field is one text."""
    if key != "keywords":
        return "; ".join(values)
    items: list[JSONValue] = list(values)
    return items


def iptc_fields(iptc: Mapping[tuple[int, int], bytes | list[bytes]]) -> JSONObject:
    out: JSONObject = {}
    for dataset, key in _IPTC_FIELDS.items():
        raw = iptc.get(dataset)
        if raw is None:
            continue
        values = [clean_text(v) for v in (raw if isinstance(raw, list) else [raw])]
        values = [v for v in values if v]
        if values:
            out[key] = _one_or_list(key, values)
    return out


def _xmp_values(element: ET.Element) -> list[str]:
    items = element.findall(".//rdf:li", _NS)
    texts = [clean_text(li.text or "") for li in items] if items else [clean_text(element.text or "")]
    return [t for t in texts if t]


def xmp_fields(xmp: bytes | str | None) -> JSONObject:
    """Fields of an XMP packet. A packet with a DTD or entities is ignored unread: that is
    how XML entity-expansion and external-entity attacks arrive."""
    if not xmp:
        return {}
    raw = xmp.encode("utf-8") if isinstance(xmp, str) else bytes(xmp)
    if len(raw) > MAX_XMP_BYTES or b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        return {}
    start = raw.find(b"<x:xmpmeta")
    start = start if start >= 0 else raw.find(b"<rdf:RDF")
    end_tag = b"</x:xmpmeta>" if raw[start : start + 10] == b"<x:xmpmeta" else b"</rdf:RDF>"
    end = raw.find(end_tag, start)
    if start < 0 or end < 0:
        return {}
    try:
        root = ET.fromstring(raw[start : end + len(end_tag)])
    except ET.ParseError:
        return {}
    out: JSONObject = {}
    for desc in root.iter(f"{{{_NS['rdf']}}}Description"):
        for (prefix, local), key in _XMP_FIELDS.items():
            name = f"{{{_NS[prefix]}}}{local}"
            values = [clean_text(desc.attrib[name])] if name in desc.attrib else []
            for child in desc.findall(f"{prefix}:{local}", _NS):
                values.extend(_xmp_values(child))
            values = [v for v in values if v]
            if values and key not in out:
                out[key] = _one_or_list(key, list(dict.fromkeys(values)))
    return out


def merge(*sources: JSONObject) -> JSONObject:
    """Later sources win for single values; keywords are the union in first-seen order."""
    out: JSONObject = {}
    keywords: list[str] = []
    for source in sources:
        for key, value in source.items():
            if key == "keywords" and isinstance(value, list):
                keywords.extend(str(v) for v in value)
            else:
                out[key] = value
    if keywords:
        out["keywords"] = list(dict.fromkeys(keywords))
    return out


def extract(
    exif: Image.Exif, info: Mapping[str, JSONValue | object], iptc: Mapping[tuple[int, int], bytes | list[bytes]]
) -> JSONObject:
    """Metadata of a decoded image (see `safe_image.Decoded`)."""
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp")
    xmp_data = xmp if isinstance(xmp, bytes | str) else None
    return merge(_tolerant(exif_fields, exif), _tolerant(iptc_fields, iptc), _tolerant(xmp_fields, xmp_data))


def _tolerant(read: Callable[[T], JSONObject], block: T) -> JSONObject:
    """One malformed block (hostile or just broken) loses its own fields, nothing else."""
    try:
        return read(block)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OSError, struct.error, RecursionError):
        return {}


def title_and_alt(metadata: Mapping[str, JSONValue]) -> tuple[str, str]:
    """The asset's title and alt text as the metadata gives them (empty when absent)."""
    title = metadata.get("title") or metadata.get("headline") or metadata.get("pdf_title") or ""
    alt = metadata.get("alt_text") or metadata.get("description") or ""
    return str(title), str(alt)


def public_metadata(metadata: Mapping[str, JSONValue]) -> JSONObject:
    """Metadata safe to show outside: GPS (keys starting with `gps`) removed."""
    return {k: v for k, v in metadata.items() if not k.casefold().startswith("gps")}
