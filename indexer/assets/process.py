"""One sniffed file -> what is known about it: probe (safe decode), metadata, facts, and
the eager renditions. No records, no index: `pipeline` does the writing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from PIL import Image

from discovery.domain import Asset, JSONObject
from discovery.store.blobs import BlobStore
from indexer.assets import metadata as meta
from indexer.assets.facts import ImageFacts, image_facts
from indexer.assets.intake import Candidate
from indexer.assets.pdf import UnreadablePdf
from indexer.assets.pdf_sandbox import pdf_facts, render_first_page
from indexer.assets.renditions import Preset, record, render
from indexer.assets.safe_image import DEFAULT_MAX_PIXELS, UnsafeImage, decode
from indexer.assets.sniff import PDF, PIL_FORMATS

MIN_DECODE = 256  # CLIP sees 224 px; facts need far less


class Refused(ValueError):
    """The file is refused; the message is the reason for the report."""


@dataclass(slots=True)
class Probed:
    """What one file's bytes say, before it becomes (a version of) an asset."""

    sha256: str
    media_type: str
    size: int
    width: int | None
    height: int | None
    metadata: JSONObject
    text: str = ""
    facts: ImageFacts | None = None
    image: Image.Image | None = None  # upright sRGB, at least `decode_side` px long
    source_longest: int = 0  # full-size longest side of `image`'s source
    notes: list[str] = field(default_factory=list)


def decode_side(presets: dict[str, Preset]) -> int:
    """How large the intake decode must be for the eager renditions and the embedder."""
    return max([MIN_DECODE, *(p.longest for p in presets.values() if p.eager)])


def _image(c: Candidate, sha: str, side: int, max_pixels: int) -> Probed:
    try:
        d = decode(c.data, PIL_FORMATS[c.media_type], max_pixels=max_pixels, longest=side)
    except UnsafeImage as exc:
        raise Refused(str(exc)) from exc
    metadata = meta.extract(d.exif, d.info, d.iptc)
    facts = image_facts(d.image, d.width, d.height)
    return Probed(
        sha, c.media_type, len(c.data), d.width, d.height, metadata,
        facts=facts, image=d.image, source_longest=max(d.width, d.height), notes=d.notes,
    )  # fmt: skip


def _pdf(c: Candidate, sha: str, side: int, max_pixels: int) -> Probed:
    try:
        facts = pdf_facts(c.data)
    except UnreadablePdf as exc:
        raise Refused(str(exc)) from exc
    probed = Probed(sha, PDF, len(c.data), None, None, facts.metadata, text=facts.text, notes=facts.notes)
    try:
        page = render_first_page(c.data, longest=side, max_pixels=max_pixels)
    except UnreadablePdf as exc:
        probed.notes.append(f"no preview: {exc}")
        return probed
    probed.image, probed.source_longest = page, max(page.size)
    probed.facts = image_facts(page, *page.size)
    return probed


def probe(c: Candidate, *, presets: dict[str, Preset], max_pixels: int = DEFAULT_MAX_PIXELS) -> Probed:
    """Everything learned from one file. Raises Refused with the reason."""
    sha = hashlib.sha256(c.data).hexdigest()
    side = decode_side(presets)
    if c.media_type == PDF:
        return _pdf(c, sha, side, max_pixels)
    if c.media_type in PIL_FORMATS:
        return _image(c, sha, side, max_pixels)
    raise Refused(f"unsupported file type: {c.media_type}")


def apply(asset: Asset, p: Probed, *, filename: str) -> None:
    """Make `p` the asset's current file: content, facts and metadata (links, rights,
    collections, tags and history are the caller's)."""
    asset.sha256, asset.media_type, asset.bytes, asset.filename = p.sha256, p.media_type, p.size, filename
    asset.width, asset.height, asset.text = p.width, p.height, p.text
    asset.metadata = dict(p.metadata)
    title, alt = meta.title_and_alt(p.metadata)
    asset.title, asset.alt = title, alt
    if p.facts is not None:
        # A PDF's facts come from its first page, so its orientation is the page's.
        asset.orientation, asset.background = p.facts.orientation, p.facts.background
        asset.phash, asset.colors = p.facts.phash, [dict(c) for c in p.facts.colors]
    else:
        asset.orientation = asset.background = asset.phash = None
        asset.colors = []
    asset.renditions = {}


def make_eager(asset: Asset, p: Probed, blobs: BlobStore, presets: dict[str, Preset]) -> None:
    """The eager renditions, from the image decoded at intake."""
    if p.image is None:
        return
    for preset in presets.values():
        if preset.eager:
            key, _ = blobs.put_bytes(render(p.image, preset, source_longest=p.source_longest))
            record(asset, preset, key)
