"""What a file is, decided from its first bytes only: never from its name or a Content-Type.

A file that is none of the allowed kinds is refused with a reason. AVIF and HEIF are
allowed only when the installed Pillow can decode them (checked once per process).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from PIL import Image, features

PDF = "application/pdf"
ZIP = "application/zip"  # a container: expanded by intake, never stored as an asset

# media type -> the one Pillow decoder allowed to open it
PIL_FORMATS: dict[str, str] = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/tiff": "TIFF",
    "image/avif": "AVIF",
    "image/heif": "HEIF",
}

_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


class UnsupportedType(ValueError):
    """The bytes are not a kind of file we accept; the message says what they look like."""


@dataclass(frozen=True, slots=True)
class Sniffed:
    media_type: str

    @property
    def is_image(self) -> bool:
        return self.media_type in PIL_FORMATS

    @property
    def pil_format(self) -> str:
        return PIL_FORMATS[self.media_type]


@cache
def _decodable(pil_format: str) -> bool:
    if pil_format == "AVIF":
        return bool(features.check("avif"))
    Image.init()
    return pil_format in Image.OPEN


def allowed_media_types() -> list[str]:
    """Every media type this installation accepts."""
    images = [m for m, f in PIL_FORMATS.items() if _decodable(f)]
    return [*images, PDF]


def _iso_brands(head: bytes) -> set[bytes]:
    """Major and compatible brands of an ISO-BMFF `ftyp` box (AVIF, HEIF)."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return set()
    size = int.from_bytes(head[0:4], "big")
    box = head[8 : min(size, len(head))] if size >= 16 else head[8:16]
    brands = {box[0:4]}
    brands.update(box[i : i + 4] for i in range(8, len(box) - 3, 4))
    return brands


def _guess(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head.startswith(b"%PDF-"):
        return PDF
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return ZIP
    brands = _iso_brands(head)
    if brands & _AVIF_BRANDS:
        return "image/avif"
    if brands & _HEIF_BRANDS:
        return "image/heif"
    return None


def _describe(head: bytes) -> str:
    text = head[:64].lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<script", b"<svg", b"<?xml")):
        return "markup (HTML/SVG/XML)"
    if not head:
        return "an empty file"
    return "an unrecognised format"


def sniff(head: bytes) -> Sniffed:
    """The kind of a file from its first bytes (64 are enough).

    Raises UnsupportedType for anything not allowed, including AVIF/HEIF when this
    Pillow cannot decode them. ZIP is returned for intake to expand."""
    media_type = _guess(head)
    if media_type is None:
        raise UnsupportedType(f"unsupported file type: the bytes are {_describe(head)}")
    if media_type in PIL_FORMATS and not _decodable(PIL_FORMATS[media_type]):
        raise UnsupportedType(f"unsupported file type: {media_type} cannot be decoded here")
    return Sniffed(media_type)


def serve_headers(media_type: str) -> dict[str, str]:
    """Headers for serving a stored file: the sniffed type and nothing a browser could
    run. A GIF that is also valid JavaScript (a polyglot) is served as image/gif with
    `nosniff`, so a browser never executes it; the sandbox CSP covers a direct visit."""
    return {
        "Content-Type": media_type,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
        "Cross-Origin-Resource-Policy": "same-site",
    }
