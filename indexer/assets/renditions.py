"""Renditions: named outputs (thumbnail, preview, channel formats) made from presets.

When they are made: presets marked `eager` (the thumbnail, by default) during intake,
from the image already decoded there; every other preset lazily, on its first request
through `get_or_make_rendition`. Either way a rendition is made once per file version
and preset: it is stamped with the source sha256 and a hash of the preset, so a new
version or an edited preset remakes it, and nothing else does.

`Asset.renditions` holds, per preset name, the blob key of the rendition
(``renditions["thumbnail"]``) and its stamp (``renditions["thumbnail.stamp"]``).
Renditions carry no EXIF, XMP or GPS: they are re-encoded from pixels only.

A preset with `cutout: true` (the marketplace's "pure white background") is generated,
not just resized: the product is cut out of its background (`indexer.assets.cutout`) and
placed on pure white, filling `fill` of a square frame at least `min_longest` px wide.
The cut-out's verdict is kept beside the key (``renditions["marketplace.cutout"]``:
``fit:0.93`` when its confidence reaches `min_confidence`, ``review:0.41`` below it,
``accepted:0.41`` once a reviewer accepted it); only a `fit` or `accepted` cut-out
makes the asset fit a channel that asks for a white background.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import yaml
from PIL import Image, ImageColor

import discovery
from discovery.domain import Asset
from discovery.errors import NotFound, RejectedInput
from discovery.store.blobs import BlobStore
from indexer.assets.cutout import cut_out, on_white
from indexer.assets.pdf import UnreadablePdf
from indexer.assets.pdf_sandbox import render_first_page
from indexer.assets.safe_image import DEFAULT_MAX_PIXELS, UnsafeImage, decode
from indexer.assets.sniff import PDF, PIL_FORMATS

DEFAULT_PRESETS = Path(discovery.__file__).with_name("defaults") / "renditions.yaml"
STAMP = ".stamp"
CUTOUT = ".cutout"
RENDER_VERSION = "1"  # bump when the rendering code changes what it outputs
CUTOUT_VERSION = "1"  # the same for the cut-out (only cut-out presets' digests carry it)
_NAME = re.compile(r"[a-z0-9_-]{1,40}")
_FORMATS = {"jpeg": "JPEG", "webp": "WEBP", "png": "PNG"}


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    format: str = "webp"
    longest: int = 1024
    min_longest: int = 0
    background: str | None = None
    quality: int = 85
    effort: int = 4  # WebP encoder effort 0 (fast) .. 6 (small); ignored for JPEG and PNG
    eager: bool = False
    cutout: bool = False  # cut the product out and place it on `background` (white)
    fill: float = 0.85  # with cutout: share of the frame's side the product spans
    min_confidence: float = 0.6  # with cutout: below this a reviewer decides

    @property
    def media_type(self) -> str:
        return f"image/{self.format}"

    @property
    def digest(self) -> str:
        """Hash of everything that decides the output (not the name, not `eager`)."""
        skip = {"name", "eager"} | (set() if self.cutout else {"cutout", "fill", "min_confidence"})
        spec = {k: v for k, v in asdict(self).items() if k not in skip}
        if self.cutout:
            spec["cutout_version"] = CUTOUT_VERSION
        raw = json.dumps({"v": RENDER_VERSION, **spec}, sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _preset(name: str, spec: object) -> Preset:
    if not _NAME.fullmatch(name) or not isinstance(spec, dict):
        raise ValueError(f"rendition preset {name!r}: a lowercase name and a mapping are needed")
    unknown = set(spec) - (set(Preset.__dataclass_fields__) - {"name"})
    if unknown:
        raise ValueError(f"rendition preset {name!r}: unknown keys {sorted(unknown)}")
    preset = Preset(name=name, **spec)
    if preset.format not in _FORMATS:
        raise ValueError(f"rendition preset {name!r}: format must be one of {sorted(_FORMATS)}")
    if not 16 <= preset.longest <= 8192 or preset.min_longest > preset.longest:
        raise ValueError(f"rendition preset {name!r}: longest must be 16..8192 and >= min_longest")
    if not 1 <= preset.quality <= 100 or not 0 <= preset.effort <= 6:
        raise ValueError(f"rendition preset {name!r}: quality must be 1..100 and effort 0..6")
    if preset.background is not None:
        ImageColor.getrgb(preset.background)  # raises ValueError on a bad colour
    if not 0.1 <= preset.fill <= 1 or not 0 <= preset.min_confidence <= 1:
        raise ValueError(f"rendition preset {name!r}: fill must be 0.1..1 and min_confidence 0..1")
    return preset


def load_presets(path: Path | None = None) -> dict[str, Preset]:
    """Presets from a YAML file (the packaged defaults when `path` is None)."""
    data = yaml.safe_load((path or DEFAULT_PRESETS).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError("rendition presets: the file must map names to presets")
    return {str(name): _preset(str(name), spec) for name, spec in data.items()}


def target_longest(source_longest: int, preset: Preset) -> int:
    """The output's longest side: the source's, clamped to the preset's range."""
    return max(min(source_longest, preset.longest), min(preset.min_longest, preset.longest))


def render_cutout(image: Image.Image, preset: Preset, *, source_longest: int | None = None) -> tuple[bytes, float]:
    """The product cut out and placed on the preset's background (white by default), and
    the cut-out's confidence. The square frame's side is the source's longest side
    clamped to the preset's range, as for any rendition. Nothing found to cut out: the
    whole picture, confidence 0."""
    cut = cut_out(image)
    colour = ImageColor.getrgb(preset.background or "white")[:3]
    side = target_longest(source_longest or max(image.size), preset)
    try:
        placed = on_white(image, cut.mask, fill=preset.fill, min_side=side, max_side=side)
    except ValueError:
        return render(image, preset, source_longest=source_longest), 0.0
    if colour != (255, 255, 255):
        placed = _recolour_white(placed, colour)
    return _encode(placed, preset), cut.confidence


def _recolour_white(image: Image.Image, colour: tuple[int, ...]) -> Image.Image:
    pixels = np.asarray(image).copy()
    pixels[(pixels == 255).all(axis=-1)] = colour
    return Image.fromarray(pixels, "RGB")


def render(image: Image.Image, preset: Preset, *, source_longest: int | None = None) -> bytes:
    """Encode one rendition of an upright sRGB image. `source_longest` is the full-size
    longest side when `image` was decoded smaller."""
    longest = target_longest(source_longest or max(image.size), preset)
    width, height = image.size
    scale = longest / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    flatten_on = preset.background or ("white" if preset.format == "jpeg" else None)
    if flatten_on and image.mode == "RGBA":
        canvas = Image.new("RGB", image.size, ImageColor.getrgb(flatten_on))
        canvas.paste(image, mask=image.getchannel("A"))
        image = canvas
    elif preset.format == "jpeg" and image.mode != "RGB":
        image = image.convert("RGB")
    return _encode(image, preset)


def _encode(image: Image.Image, preset: Preset) -> bytes:
    out = io.BytesIO()
    params: dict[str, object] = {"quality": preset.quality}
    if preset.format == "webp":
        params["method"] = preset.effort
    image.save(out, format=_FORMATS[preset.format], **params)
    return out.getvalue()


def stamp(asset: Asset, preset: Preset) -> str:
    return f"{asset.sha256}:{preset.digest}"


def current_key(asset: Asset, preset: Preset) -> str | None:
    """The stored rendition when it was made from this version with this preset."""
    if asset.renditions.get(preset.name + STAMP) != stamp(asset, preset):
        return None
    return asset.renditions.get(preset.name)


def record(asset: Asset, preset: Preset, key: str) -> None:
    asset.renditions[preset.name] = key
    asset.renditions[preset.name + STAMP] = stamp(asset, preset)


def rendition_names(asset: Asset) -> list[str]:
    """Names of the renditions recorded on an asset (stamps left out)."""
    return sorted(k for k in asset.renditions if not k.endswith((STAMP, CUTOUT)))


def cutout_state(asset: Asset, name: str) -> tuple[str, float] | None:
    """(`fit` | `review` | `accepted`, confidence) of the asset's cut-out for preset
    `name`, or None when none was made for its current version."""
    raw = asset.renditions.get(name + CUTOUT)
    if not raw or ":" not in raw:
        return None
    state, _, confidence = raw.partition(":")
    return state, float(confidence)


def record_cutout(asset: Asset, name: str, state: str, confidence: float) -> None:
    asset.renditions[name + CUTOUT] = f"{state}:{confidence:.3f}"


def keep_renditions(asset: Asset, sha256: str, made: dict[str, str]) -> bool:
    """Note renditions `made` from version `sha256` on the asset as stored now (a change for
    `RecordEdits`): nothing when a new version replaced that one meanwhile."""
    if asset.sha256 != sha256 or all(asset.renditions.get(k) == v for k, v in made.items()):
        return False
    asset.renditions.update(made)
    return True


def source_image(data: bytes, media_type: str, longest: int, *, max_pixels: int) -> tuple[Image.Image, int]:
    """(image to render from, its full-size longest side) for an image or a PDF."""
    if media_type == PDF:
        page = render_first_page(data, longest=longest, max_pixels=max_pixels)
        return page, max(page.size)
    if media_type not in PIL_FORMATS:
        raise NotFound(f"no renditions for {media_type}")
    decoded = decode(data, PIL_FORMATS[media_type], max_pixels=max_pixels, longest=longest)
    return decoded.image, max(decoded.width, decoded.height)


def get_or_make_rendition(
    asset: Asset,
    name: str,
    blobs: BlobStore,
    presets: dict[str, Preset],
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> str:
    """The blob key of rendition `name` of the asset's current version, made now if it is
    missing or stale. When made, `asset.renditions` is updated: the caller saves the asset
    (compare the stamp before and after, or just upsert). Raises NotFound for an unknown
    preset or a file kind without renditions, RejectedInput (422) for a file that cannot
    be decoded or rendered within the limits (a PDF renders in a bounded child process)."""
    preset = presets.get(name)
    if preset is None:
        raise NotFound(f"no rendition preset named {name!r}", field="name")
    key = current_key(asset, preset)
    if key is not None and blobs.exists(key):
        return key
    with blobs.open(asset.sha256) as fh:
        data = fh.read()
    target = max(preset.longest, preset.min_longest)
    try:
        image, source_longest = source_image(data, asset.media_type, target, max_pixels=max_pixels)
    except (UnreadablePdf, UnsafeImage) as exc:
        raise RejectedInput(f"rendition {name!r} cannot be made: {exc}", file=asset.filename) from exc
    if preset.cutout:
        data, confidence = render_cutout(image, preset, source_longest=source_longest)
        earlier = cutout_state(asset, name)
        accepted = (
            earlier is not None
            and earlier[0] == "accepted"
            and asset.renditions.get(name + STAMP) == stamp(asset, preset)
        )
        state = "accepted" if accepted else ("fit" if confidence >= preset.min_confidence else "review")
        record_cutout(asset, name, state, confidence)
    else:
        data = render(image, preset, source_longest=source_longest)
    key, _ = blobs.put_bytes(data)
    record(asset, preset, key)
    return key
