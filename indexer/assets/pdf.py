"""PDF facts (page count, text, document info) with pypdf, and a first-page render with
pypdfium2 for previews and renditions.

These run unbounded in the calling process, so only `indexer.assets.pdf_sandbox`'s
child process calls them; everything else goes through the sandbox.

pdfium is not safe to call from two threads at once, so renders take a process-wide
lock; they are short (one page at preview size).
"""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass, field

from PIL import Image

from discovery.domain import JSONObject
from discovery.errors import describe
from indexer.assets.metadata import clean_text

MAX_TEXT_PAGES = 50
MAX_TEXT_CHARS = 200_000
_PDFIUM_LOCK = threading.Lock()


class UnreadablePdf(ValueError):
    """The PDF cannot be read; the message is the reason shown to the uploader."""


@dataclass(slots=True)
class PdfFacts:
    pages: int
    text: str
    metadata: JSONObject = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _info_fields(info: object) -> JSONObject:
    out: JSONObject = {}
    for attr, key in (("title", "pdf_title"), ("author", "creator"), ("subject", "description")):
        value = getattr(info, attr, None)
        if value and (text := clean_text(value)):
            out[key] = text
    raw_keywords = getattr(info, "get", lambda _k: None)("/Keywords")
    if raw_keywords:
        words = [w.strip() for w in re.split(r"[,;]", clean_text(raw_keywords)) if w.strip()]
        if words:
            out["keywords"] = list(dict.fromkeys(words))
    return out


def pdf_facts(data: bytes) -> PdfFacts:
    """Page count, text of the first pages and document info. Raises UnreadablePdf."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    notes: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return PdfFacts(len(reader.pages), "", {}, ["encrypted: text not extracted"])
        pages = len(reader.pages)
        metadata = _info_fields(reader.metadata) if reader.metadata else {}
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise UnreadablePdf(f"corrupt or unreadable PDF: {describe(exc)}") from exc
    if pages == 0:
        raise UnreadablePdf("PDF has no pages")
    texts: list[str] = []
    size = 0
    for index in range(min(pages, MAX_TEXT_PAGES)):
        try:
            text = reader.pages[index].extract_text() or ""
        except Exception as exc:  # noqa: BLE001 - one bad page loses its text, not the file
            notes.append(f"page {index + 1}: text not extracted ({type(exc).__name__})")
            continue
        texts.append(text)
        size += len(text)
        if size >= MAX_TEXT_CHARS:
            break
    text = re.sub(r"\s+", " ", "\n".join(texts)).strip()[:MAX_TEXT_CHARS]
    metadata["pdf_pages"] = pages
    return PdfFacts(pages, text, metadata, notes)


def render_first_page(data: bytes, *, longest: int, max_pixels: int = 50_000_000) -> Image.Image:
    """The first page as an RGB image whose longest side is `longest` px (white paper)."""
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise UnreadablePdf(f"PDF cannot be rendered: {describe(exc)}") from exc
        try:
            page = doc[0]
            width, height = page.get_size()
            scale = longest / max(width, height, 1.0)
            if width * height * scale * scale > max_pixels:
                raise UnreadablePdf("PDF page too large to render")
            image = page.render(scale=scale, fill_color=(255, 255, 255, 255)).to_pil()
            page.close()
        finally:
            doc.close()
    return image.convert("RGB")
