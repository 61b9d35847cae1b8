"""Image facts that become facets: orientation, resolution class, background, dominant
colours and the perceptual hash, computed from one small copy of the decoded image."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from indexer.assets import background as bg
from indexer.assets.colors import dominant_colors
from indexer.assets.phash import SAMPLE, phash_from_gray

ANALYSIS_SIDE = 96  # colours and background need shapes, not detail
SQUARE_TOLERANCE = 0.03
SMALL_BELOW = 800
LARGE_FROM = 2000


@dataclass(slots=True)
class ImageFacts:
    orientation: str
    resolution: str
    background: str
    colors: list[dict[str, str | float]]
    phash: str


def orientation(width: int, height: int) -> str:
    """`square` within 3%, else `landscape` or `portrait`."""
    if abs(width - height) <= SQUARE_TOLERANCE * max(width, height):
        return "square"
    return "landscape" if width > height else "portrait"


def resolution_class(width: int, height: int) -> str:
    """By the longest side: `small` (< 800 px), `medium`, `large` (>= 2000 px)."""
    longest = max(width, height)
    if longest < SMALL_BELOW:
        return "small"
    return "large" if longest >= LARGE_FROM else "medium"


def _small(image: Image.Image, side: int) -> Image.Image:
    small = image.copy()
    small.thumbnail((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return small


def _on_white(image: Image.Image) -> Image.Image:
    """Transparent pixels hold arbitrary colour; the hash must see what a viewer sees."""
    if image.mode != "RGBA":
        return image
    canvas = Image.new("RGB", image.size, (255, 255, 255))
    canvas.paste(image, mask=image.getchannel("A"))
    return canvas


def image_facts(image: Image.Image, width: int, height: int) -> ImageFacts:
    """Facts of a decoded (RGB or RGBA) image; `width`/`height` are its full upright size
    (the image itself may have been decoded smaller)."""
    small = _small(image, ANALYSIS_SIDE)
    pixels = np.asarray(small)
    background = bg.classify_background(pixels)
    weights = bg.subject_weights(pixels, background)
    colors = dominant_colors(pixels[..., :3], weights)
    gray = _on_white(small).convert("L").resize((SAMPLE, SAMPLE), Image.Resampling.BILINEAR)
    return ImageFacts(
        orientation=orientation(width, height),
        resolution=resolution_class(width, height),
        background=background,
        colors=colors,
        phash=phash_from_gray(np.asarray(gray)),
    )
