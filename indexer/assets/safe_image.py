"""Decode untrusted images with limits: the pixel count is checked from the header before
any pixel is decoded, only the sniffed format's decoder may open the bytes, EXIF
orientation is applied and colour profiles are converted to sRGB.

Pillow's global `Image.MAX_IMAGE_PIXELS` is left alone (changing it per call would race
between threads); it stays as a backstop above our own, lower, per-call limit.
"""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageCms, ImageOps, IptcImagePlugin

from discovery.domain import JSONObject
from discovery.errors import describe

DEFAULT_MAX_PIXELS = 50_000_000
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
    MemoryError,
    Image.DecompressionBombError,
)
_SRGB = ImageCms.createProfile("sRGB")
# Orientations 5-8 swap width and height.
_SWAPS = {5, 6, 7, 8}


class UnsafeImage(ValueError):
    """The image is refused; the message is the reason shown to the uploader."""


class TooManyPixels(UnsafeImage):
    """The image has more pixels than the caller allows (counted from the header)."""


@dataclass(slots=True)
class Decoded:
    """An upright sRGB image (RGB, or RGBA when it has real transparency), possibly
    decoded at reduced size, with the full-size upright dimensions and the raw metadata
    blocks for `metadata.extract`."""

    image: Image.Image
    width: int
    height: int
    exif: Image.Exif
    info: JSONObject
    iptc: dict[tuple[int, int], bytes | list[bytes]]
    notes: list[str] = field(default_factory=list)


def open_checked(data: bytes, pil_format: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open the header with only `pil_format`'s decoder and refuse an image whose pixel
    count exceeds `max_pixels`, before a single pixel is decoded."""
    try:
        im = Image.open(io.BytesIO(data), formats=[pil_format])
    except Image.DecompressionBombError as exc:
        raise UnsafeImage(f"decompression bomb refused: {describe(exc)}") from exc
    except _DECODE_ERRORS as exc:
        raise UnsafeImage(f"corrupt or unreadable {pil_format} image: {describe(exc)}") from exc
    width, height = im.size
    if width <= 0 or height <= 0:
        raise UnsafeImage(f"{pil_format} image has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise TooManyPixels(
            f"image is {width}x{height} = {width * height / 1e6:.1f} MP, over the limit of "
            f"{max_pixels / 1e6:.1f} MP (decompression bomb refused)"
        )
    return im


def _draft(im: Image.Image, longest: int | None) -> None:
    """Let the JPEG decoder scale by 1/2, 1/4 or 1/8 while keeping the longest side at
    least `longest` (DCT scaling: far cheaper than decoding full size and resizing)."""
    if longest is None or im.format != "JPEG":
        return
    width, height = im.size
    scale = longest / max(width, height)
    if scale >= 1:
        return
    im.draft(im.mode, (math.ceil(width * scale), math.ceil(height * scale)))


def _to_srgb(im: Image.Image, notes: list[str]) -> Image.Image:
    icc = im.info.get("icc_profile")
    if not icc:
        return im
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(profile).casefold().replace(" ", ""):
            return im  # already sRGB: nothing to convert
        out_mode = "RGBA" if im.mode in ("RGBA", "LA", "PA") else "RGB"
        in_mode = im.mode if im.mode in ("RGB", "RGBA", "CMYK", "L") else None
        if in_mode is None:
            im = im.convert(out_mode)
            in_mode = out_mode
        if in_mode == "L" and out_mode == "RGB":
            im, in_mode = im.convert("RGB"), "RGB"
        converted = ImageCms.profileToProfile(im, profile, _SRGB, outputMode=out_mode)
        if converted is not None:
            return converted
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        notes.append(f"colour profile ignored: {describe(exc)}")
    return im


def _wide_to_l(im: Image.Image) -> Image.Image:
    """16-bit and float greyscale, scaled to 8 bits (a plain convert would clip to white)."""
    arr = np.asarray(im, dtype=np.float64)
    top = float(arr.max()) or 1.0
    return Image.fromarray((arr * (255.0 / top)).clip(0, 255).astype(np.uint8), "L")


def _normalise_mode(im: Image.Image) -> Image.Image:
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        im = _wide_to_l(im)
    has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    if not has_alpha:
        return im if im.mode == "RGB" else im.convert("RGB")
    rgba = im if im.mode == "RGBA" else im.convert("RGBA")
    low, _ = rgba.getchannel("A").getextrema()
    return rgba.convert("RGB") if low == 255 else rgba


def decode(
    data: bytes,
    pil_format: str,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    longest: int | None = None,
    max_decoded_pixels: int | None = None,
) -> Decoded:
    """Decode the first frame of an untrusted image.

    `longest`: the caller needs at most this longest side, so a JPEG may be decoded at
    reduced size (the returned image may be larger; never smaller unless the image is).
    `max_decoded_pixels`: refuse (TooManyPixels) an image that would still decode to more
    pixels than this after that reduction: the bound on what decoding costs.
    Raises UnsafeImage with the reason for a bomb, a truncated or a corrupt file."""
    im = open_checked(data, pil_format, max_pixels=max_pixels)
    full_w, full_h = im.size
    notes: list[str] = []
    try:
        _draft(im, longest)
    except _DECODE_ERRORS as exc:
        raise UnsafeImage(f"corrupt or truncated {pil_format} image: {describe(exc)}") from exc
    if max_decoded_pixels is not None and im.size[0] * im.size[1] > max_decoded_pixels:
        width, height = im.size
        raise TooManyPixels(
            f"image would decode to {width}x{height} = {width * height / 1e6:.1f} MP, over the limit of "
            f"{max_decoded_pixels / 1e6:.1f} MP here (a JPEG of that size is decoded reduced; send a smaller image)"
        )
    try:
        im.load()
    except _DECODE_ERRORS as exc:
        raise UnsafeImage(f"corrupt or truncated {pil_format} image: {describe(exc)}") from exc
    try:
        exif = im.getexif()
    except _DECODE_ERRORS as exc:  # bad metadata loses the metadata, not the picture
        exif = Image.Exif()
        notes.append(f"EXIF ignored: {describe(exc)}")
    info = {k: v for k, v in im.info.items() if isinstance(k, str)}
    iptc = _iptc(im)
    orientation = exif.get(0x0112, 1) if exif else 1
    try:
        ImageOps.exif_transpose(im, in_place=True)
    except _DECODE_ERRORS as exc:
        notes.append(f"EXIF orientation ignored: {describe(exc)}")
        orientation = 1
    if orientation in _SWAPS:
        full_w, full_h = full_h, full_w
    image = _normalise_mode(_to_srgb(im, notes))
    return Decoded(image, full_w, full_h, exif, info, iptc, notes)


def _iptc(im: Image.Image) -> dict[tuple[int, int], bytes | list[bytes]]:
    if im.format not in ("JPEG", "TIFF"):
        return {}
    try:
        return IptcImagePlugin.getiptcinfo(im) or {}  # type: ignore[arg-type]
    except _DECODE_ERRORS:
        return {}
