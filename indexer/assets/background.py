"""Background of a product image (`white`, `transparent` or `other`) from its border
pixels, and which pixels belong to the subject. Pure: arrays in, values out.

The subject mask is what lets a red shoe on white read as red: on a white background,
the near-white pixels connected to the border are background (a flood fill, so a white
shirt outlined on white keeps its inside); on a transparent one, the clear pixels. On a
busy scene, nothing can be cut out reliably, so pixels are weighted towards the centre
where product shots put the subject.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from indexer.assets.subject import colour_weights

BORDER_FRACTION = 0.03
BACKGROUND_SHARE = 0.8  # of border pixels that must agree
WHITE_MIN = 232
WHITE_MAX_SPREAD = 20
CLEAR_ALPHA = 32


def border(height: int, width: int) -> NDArray[np.bool_]:
    """The outer ring of an image, about 3% of its shorter side wide (at least 1 px)."""
    k = max(1, round(min(height, width) * BORDER_FRACTION))
    mask = np.zeros((height, width), dtype=bool)
    mask[:k, :] = mask[-k:, :] = True
    mask[:, :k] = mask[:, -k:] = True
    return mask


def near_white(pixels: NDArray[np.uint8]) -> NDArray[np.bool_]:
    rgb = pixels[..., :3].astype(np.int16)
    return (rgb.min(axis=-1) >= WHITE_MIN) & (np.ptp(rgb, axis=-1) <= WHITE_MAX_SPREAD)


def clear(pixels: NDArray[np.uint8]) -> NDArray[np.bool_]:
    if pixels.shape[-1] < 4:
        return np.zeros(pixels.shape[:2], dtype=bool)
    return pixels[..., 3] < CLEAR_ALPHA


def classify_background(pixels: NDArray[np.uint8]) -> str:
    """`transparent`, `white` or `other` for an HxWx3 (RGB) or HxWx4 (RGBA) array."""
    ring = border(*pixels.shape[:2])
    transparent = clear(pixels)
    if transparent[ring].mean() >= BACKGROUND_SHARE:
        return "transparent"
    if (near_white(pixels) | transparent)[ring].mean() >= BACKGROUND_SHARE:
        return "white"
    return "other"


def _flood(seed: NDArray[np.bool_], allowed: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Pixels of `allowed` 4-connected to `seed` (binary propagation by shifts)."""
    filled = seed & allowed
    while True:
        grown = filled.copy()
        grown[1:, :] |= filled[:-1, :]
        grown[:-1, :] |= filled[1:, :]
        grown[:, 1:] |= filled[:, :-1]
        grown[:, :-1] |= filled[:, 1:]
        grown &= allowed
        if np.array_equal(grown, filled):
            return filled
        filled = grown


def centre_weights(height: int, width: int, sigma: float = 0.3) -> NDArray[np.float64]:
    """A Gaussian bump over the image, 1 at the centre, `sigma` of each side wide."""
    y = (np.arange(height) + 0.5) / height - 0.5
    x = (np.arange(width) + 0.5) / width - 0.5
    return np.exp(-(y[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma**2))


def subject_weights(pixels: NDArray[np.uint8], background: str) -> NDArray[np.float64]:
    """Per-pixel weight of belonging to the subject (0 = background) for naming its
    colours. On transparency, the opaque pixels; otherwise the background is modelled
    from the border and flooded in from it, skin and shadows set aside
    (`indexer.assets.subject`). When that leaves almost nothing (a white product on
    white), every pixel counts again."""
    height, width = pixels.shape[:2]
    transparent = background == "transparent"
    weights = (~clear(pixels)).astype(np.float64) if transparent else colour_weights(pixels[..., :3])
    if weights.mean() < 0.005:
        return np.ones((height, width), dtype=np.float64)
    return weights
