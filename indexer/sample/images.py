"""Product-like pictures drawn with Pillow: one object of a named colour on white or on a busy scene.

What the pictures promise (the ground truth in truth.json relies on it):
- the object covers the centre pixel and is the largest region of its colour;
- a busy scene never uses the object's colour or a look-alike (see palette.LOOKALIKES),
  never white, and spreads its colours so none of them outweighs the object;
- a white background is pure white up to slight noise on the object only, and a white
  object gets a grey outline, so "white object on white" is still an object;
- a near-duplicate is the same picture resized and/or re-compressed, nothing else.
Every random choice comes from the `seed` of the spec, so a file is byte-identical
from run to run.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw

from indexer.sample.palette import PALETTE, RGB, scene_colours, shade
from indexer.sample.shapes import SILHOUETTES, Pose, Silhouette

Background = Literal["white", "scene"]
WHITE: RGB = (255, 255, 255)


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """Everything that decides one drawn picture."""

    colour: str  # a palette name
    shape: str  # a key of shapes.SILHOUETTES
    background: Background
    size: int
    seed: int


def draw_product_image(spec: ImageSpec) -> Image.Image:
    """The picture `spec` describes, as an RGB image of spec.size x spec.size."""
    return draw_product_image_with_mask(spec)[0]


def draw_product_image_with_mask(spec: ImageSpec) -> tuple[Image.Image, Image.Image]:
    """The picture and its truth mask ("L", 255 where the product is: its silhouette and
    the outline around it), which a cut-out is measured against."""
    rng = random.Random(spec.seed)
    noise = np.random.default_rng(spec.seed)
    if spec.background == "scene":
        canvas = _scene(rng, spec.size, scene_colours(spec.colour))
    else:
        canvas = Image.new("RGB", (spec.size, spec.size), WHITE)
    silhouette = SILHOUETTES[spec.shape]()
    pose, mask = _place(silhouette, rng, spec.size)
    _paint_object(canvas, mask, PALETTE[spec.colour], rng, noise)
    line = _line_colour(PALETTE[spec.colour])
    draw = ImageDraw.Draw(canvas)
    for detail in silhouette.details:
        draw.line(pose.place(detail, spec.size), fill=line, width=_seam_width(spec.size), joint="curve")
    return canvas, _dilate(mask, _outline_width(spec.size))


def _place(silhouette: Silhouette, rng: random.Random, size: int) -> tuple[Pose, Image.Image]:
    """A random pose whose object covers the centre clear of any seam, and its mask.

    A few draws nearly always find one; the neutral pose covers the centre by design.
    """
    for _ in range(8):
        pose = Pose.draw(rng).fitted(silhouette)
        mask = _mask(silhouette, pose, size)
        if _centre_clear(mask, silhouette, pose):
            return pose, mask
    pose = Pose.neutral()
    return pose, _mask(silhouette, pose, size)


def _mask(silhouette: Silhouette, pose: Pose, size: int) -> Image.Image:
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    for polygon, add in silhouette.parts:
        draw.polygon(pose.place(polygon, size), fill=255 if add else 0)
    return mask


def _centre_clear(mask: Image.Image, silhouette: Silhouette, pose: Pose) -> bool:
    """Whether the centre and a small square around it are object, not seam or background."""
    size = mask.size[0]
    probe = mask.copy()
    draw = ImageDraw.Draw(probe)
    for detail in silhouette.details:
        draw.line(pose.place(detail, size), fill=0, width=_seam_width(size) + 4)
    half = max(2, size // 64)
    centre = np.asarray(probe)[size // 2 - half : size // 2 + half + 1, size // 2 - half : size // 2 + half + 1]
    return bool((centre == 255).all())


def _outline_width(size: int) -> int:
    return max(1, size // 170)


def _seam_width(size: int) -> int:
    return max(2, size // 128)


def _paint_object(
    canvas: Image.Image, mask: Image.Image, colour: RGB, rng: random.Random, noise: np.random.Generator
) -> None:
    """Fill the mask with `colour`, lit by a soft ramp, with a little grain and an outline."""
    size = canvas.size[0]
    canvas.paste(_line_colour(colour), mask=_dilate(mask, _outline_width(size)))
    # Light from one side: the whole object stays within a few percent of its colour.
    ramp = np.linspace(rng.uniform(1.0, 1.04), rng.uniform(0.92, 0.96), size)
    lit_line = np.rint(np.asarray(colour, dtype=np.float64)[None, :] * ramp[:, None]).astype(np.int16)
    grain = noise.integers(-3, 4, size=(size, size), dtype=np.int16)[..., None]
    lit = lit_line[:, None, :] + grain if rng.random() < 0.5 else lit_line[None, :, :] + grain
    canvas.paste(Image.fromarray(np.clip(lit, 0, 255).astype(np.uint8), "RGB"), mask=mask)


def _dilate(mask: Image.Image, radius: int) -> Image.Image:
    """`mask` grown by `radius` pixels (a square structuring element, done with array shifts)."""
    grown = np.asarray(mask) > 127
    for axis in (0, 1):
        source = grown.copy()
        for k in range(1, radius + 1):
            if axis == 0:
                grown[k:, :] |= source[:-k, :]
                grown[:-k, :] |= source[k:, :]
            else:
                grown[:, k:] |= source[:, :-k]
                grown[:, :-k] |= source[:, k:]
    return Image.fromarray(grown.astype(np.uint8) * 255, "L")


def _line_colour(colour: RGB) -> RGB:
    """Outline and seam colour: darker than the object, or lighter when it is near black."""
    return shade(colour, 3.5) if sum(colour) < 180 else shade(colour, 0.6)


def _scene(rng: random.Random, size: int, colours: tuple[str, ...]) -> Image.Image:
    """A busy background: a patchwork, scattered shapes and a light gradient over all."""
    image = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(image)
    cols, rows = rng.randint(5, 7), rng.randint(5, 7)
    # Colours dealt round-robin from a shuffled deck: no colour gets more than its share.
    deck = list(colours)
    rng.shuffle(deck)
    for cell in range(cols * rows):
        x, y = cell % cols, cell // cols
        box = (x * size // cols, y * size // rows, (x + 1) * size // cols, (y + 1) * size // rows)
        draw.rectangle(box, fill=PALETTE[deck[cell % len(deck)]])
    for _ in range(rng.randint(20, 32)):
        _scatter_shape(draw, rng, size, PALETTE[rng.choice(colours)])
    pixels = np.asarray(image, dtype=np.int32)
    ramp = np.rint(np.linspace(rng.uniform(0.88, 0.98), rng.uniform(1.0, 1.08), size) * 256).astype(np.int32)
    light = ramp[:, None, None] if rng.random() < 0.5 else ramp[None, :, None]
    return Image.fromarray(np.minimum((pixels * light) >> 8, 255).astype(np.uint8), "RGB")


def _scatter_shape(draw: ImageDraw.ImageDraw, rng: random.Random, size: int, fill: RGB) -> None:
    x, y = rng.uniform(0, size), rng.uniform(0, size)
    w, h = rng.uniform(0.05, 0.25) * size, rng.uniform(0.05, 0.25) * size
    kind = rng.randrange(4)
    if kind == 0:
        draw.ellipse((x, y, x + w, y + h), fill=fill)
    elif kind == 1:
        draw.rectangle((x, y, x + w, y + h), fill=fill)
    elif kind == 2:
        draw.polygon([(x, y + h), (x + w / 2, y), (x + w, y + h)], fill=fill)
    else:
        draw.line((x, y, x + w, y + h), fill=fill, width=max(2, int(size * rng.uniform(0.01, 0.03))))


def near_duplicate(image: Image.Image, seed: int) -> tuple[Image.Image, int]:
    """The same picture resized, re-compressed, or both: (image, JPEG quality to save it at)."""
    rng = random.Random(seed)
    way = rng.randrange(3)
    if way == 1:  # re-compressed only
        return image.copy(), rng.randint(25, 45)
    scale = rng.uniform(0.5, 0.8)
    side = max(16, round(image.size[0] * scale))
    resized = image.resize((side, side), Image.Resampling.LANCZOS)
    return resized, (rng.randint(80, 90) if way == 0 else rng.randint(40, 60))


def encode(image: Image.Image, fmt: str, quality: int = 90) -> bytes:
    """The file bytes for `image` as "jpg" or "png" (deterministic for a given Pillow)."""
    buffer = io.BytesIO()
    if fmt == "png":
        image.save(buffer, format="PNG", compress_level=6)
    else:
        image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
