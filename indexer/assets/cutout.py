"""Cut a product out of its background and put it on pure white: the marketplace rendition.

Classical and weight-free: the background is modelled from the colours covering the
image border and flooded in from it (`indexer.assets.subject`), at a working size of
WORK_SIDE px; the product is what is left, cleaned up (specks dropped, pinholes filled,
only the main part and parts nearly as large kept), and the mask is scaled back to full
size with a soft edge. The confidence says how cleanly that went (a clear margin between
product and background colours, one main part, a sensible size, little of it on the
border): a rendition below the preset's `min_confidence` is still made, but a reviewer
decides whether it may stand for the channel.

Placing: the product's bounding box is scaled so its longer side spans `fill` of the
frame's side, centred on a square white canvas at least `min_side` px wide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter
from scipy import ndimage

from indexer.assets.lab import FloatArray, srgb_to_lab
from indexer.assets.subject import find_subject, ring

WORK_SIDE = 320  # masks are found at this size: enough for edges, cheap on 2 cores
MIN_PART = 0.15  # a separate part is kept when at least this share of the largest
MAX_PINHOLE = 0.004  # holes smaller than this share of the image are filled
NEAR = 8.0  # CIELAB units: a cut-out tolerates more than colour naming (busy scenes are lit unevenly)
REFINE_SAMPLES = 600  # pixels sampled from each region for its colour model
PRODUCT_ODDS = 2.0  # a colour this much more common in the product than around it is product
OPEN_STEPS = 2  # thin lines of scene colour left touching the product are opened away
WHITE = (255, 255, 255)


@dataclass(frozen=True, slots=True)
class Cutout:
    mask: NDArray[np.bool_]  # at the size of the image given, True where the product is
    confidence: float


def _clean(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The main part and the parts nearly as large, small holes filled."""
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    sizes = np.bincount(labels.reshape(-1))[1:]
    keep = np.flatnonzero(sizes >= MIN_PART * sizes.max()) + 1
    cleaned = np.isin(labels, keep)
    holes = ndimage.binary_fill_holes(cleaned) & ~cleaned
    hole_labels, _ = ndimage.label(holes)
    hole_sizes = np.bincount(hole_labels.reshape(-1))
    small = hole_sizes < MAX_PINHOLE * mask.size
    small[0] = False
    return cleaned | small[hole_labels]


def _density(colours: FloatArray, samples: FloatArray) -> FloatArray:
    """Share of `samples` within NEAR of each colour (a smoothed colour histogram)."""
    out = np.zeros(len(colours))
    for start in range(0, len(colours), 4096):  # bounded memory: 4096 x samples at a time
        chunk = colours[start : start + 4096]
        d = ((chunk[:, None, :] - samples[None, :, :]) ** 2).sum(-1)
        out[start : start + 4096] = (d < NEAR**2).mean(axis=1)
    return out


def _refine(pixels: NDArray[np.uint8], first: NDArray[np.bool_]) -> tuple[NDArray[np.bool_], float]:
    """One GrabCut-like round: colour models of the first product and background regions
    (sampled pixels), each pixel given to the product when its colour is at least
    PRODUCT_ODDS times as common in the product as in the background. A scene shape that
    touched the product has the background's colours, so it goes back to the background.
    Returns the mask and the share of product pixels whose odds were unclear."""
    rng = np.random.default_rng(0)
    # Colours quantised to 5 bits a channel: an image holds a few thousand of them, so
    # the odds are worked out per colour, not per pixel.
    codes = _codes(pixels)
    unique, inverse = np.unique(codes.reshape(-1), return_inverse=True)
    lab = srgb_to_lab(_decode(unique))
    fg, bg = lab[inverse[first.reshape(-1)]], lab[inverse[~first.reshape(-1)]]
    if len(fg) < 16 or len(bg) < 16:
        return first, 1.0
    fg_samples = fg[rng.choice(len(fg), size=min(REFINE_SAMPLES, len(fg)), replace=False)]
    bg_samples = bg[rng.choice(len(bg), size=min(REFINE_SAMPLES, len(bg)), replace=False)]
    p_fg, p_bg = _density(lab, fg_samples), _density(lab, bg_samples)
    mask = (p_fg > PRODUCT_ODDS * p_bg)[inverse].reshape(first.shape)
    unclear = mask & (p_fg < 4 * PRODUCT_ODDS * p_bg)[inverse].reshape(first.shape)
    return mask, float(unclear.sum() / max(1, mask.sum()))


def cut_out(image: Image.Image) -> Cutout:
    """The product mask of an upright RGB(A) image, with its confidence. A picture that is
    already cut out (a transparent border) is taken at its word: its opaque pixels."""
    if image.mode == "RGBA":
        alpha = np.asarray(image.getchannel("A"))
        if (alpha[ring(*alpha.shape)] < 32).mean() >= 0.8 and (alpha >= 128).any():
            return Cutout(mask=alpha >= 128, confidence=1.0)
    rgb = image.convert("RGB")
    work = rgb.copy()
    work.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BILINEAR)
    pixels = np.asarray(work)
    subject = find_subject(pixels, near=NEAR)
    first = _clean(subject.mask)
    refined, unclear = _refine(pixels, first)
    small = _clean(ndimage.binary_opening(refined, iterations=OPEN_STEPS))
    confidence = round(subject.confidence * (1 - min(1.0, 2 * unclear)) * _agreement(first, small), 3)
    soft = Image.fromarray(small.astype(np.uint8) * 255, "L").resize(rgb.size, Image.Resampling.BILINEAR)
    return Cutout(mask=np.asarray(soft) >= 128, confidence=confidence)


def _codes(pixels: NDArray[np.uint8]) -> NDArray[np.int64]:
    q = (pixels[..., :3] >> 3).astype(np.int64)
    return (q[..., 0] << 10) | (q[..., 1] << 5) | q[..., 2]


def _decode(codes: NDArray[np.int64]) -> NDArray[np.uint8]:
    """The centre of each 5-bit colour cell."""
    return np.stack([(codes >> 10) & 31, (codes >> 5) & 31, codes & 31], axis=-1).astype(np.uint8) * 8 + 4


def _agreement(first: NDArray[np.bool_], final: NDArray[np.bool_]) -> float:
    """How much of the product the refinement kept: a large change means the first
    background model was wrong somewhere, so the result is less certain."""
    return iou(first, final) if first.any() else 0.0


def on_white(
    image: Image.Image, mask: NDArray[np.bool_], *, fill: float = 0.85, min_side: int = 0, max_side: int = 8192
) -> Image.Image:
    """The product (`mask`) on a square pure-white canvas, its longer side spanning
    `fill` of the frame. Every pixel outside the product is exactly (255, 255, 255)."""
    if not mask.any():
        raise ValueError("the cut-out is empty: there is no product to place")
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    product = image.convert("RGB").crop(box)
    alpha = Image.fromarray(mask[box[1] : box[3], box[0] : box[2]].astype(np.uint8) * 255, "L")
    longest = max(product.size)
    side = max(min_side, round(longest / fill))
    side = min(side, max_side)
    scale = side * fill / longest
    size = (max(1, round(product.size[0] * scale)), max(1, round(product.size[1] * scale)))
    product = product.resize(size, Image.Resampling.LANCZOS)
    # A hard edge after scaling: a soft one would blend the old background into the rim.
    alpha = alpha.resize(size, Image.Resampling.BILINEAR).point(lambda v: 255 if v >= 128 else 0)
    alpha = alpha.filter(ImageFilter.MinFilter(3)) if min(size) > 8 else alpha
    canvas = Image.new("RGB", (side, side), WHITE)
    canvas.paste(product, ((side - size[0]) // 2, (side - size[1]) // 2), alpha)
    return canvas


def iou(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    """Intersection over union of two masks of one shape (1.0 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0
