"""Dominant colours named from a fixed palette, with shares. Pure: arrays in, values out.

Each pixel is named by simple rules on hue, saturation and value (the way people name
colours: dark orange is brown, pale warm is beige, light red is pink), precomputed into
a 32x32x32 lookup table, so naming an image is one table lookup per pixel.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

from discovery.colors import PALETTE  # one vocabulary with product colours

_I = {name: i for i, name in enumerate(PALETTE)}


def _hsv(rgb: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Hue in degrees, saturation and value in [0, 1] of float RGB in [0, 1]."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    v = rgb.max(axis=-1)
    c = v - rgb.min(axis=-1)
    s = np.where(v > 0, c / np.maximum(v, 1e-9), 0.0)
    safe = np.maximum(c, 1e-9)
    h = np.select(
        [c == 0, v == r, v == g],
        [0.0, ((g - b) / safe) % 6, (b - r) / safe + 2],
        (r - g) / safe + 4,
    )
    return h * 60.0, s, v


def name_pixels_exact(rgb: NDArray[np.uint8]) -> NDArray[np.intp]:
    """Palette index of every pixel by the naming rules (slow path; builds the table)."""
    h, s, v = _hsv(rgb.astype(np.float64) / 255.0)
    out = np.full(h.shape, _I["grey"], dtype=np.intp)
    chromatic = s >= 0.18
    # Hue bands, first match wins.
    bands = [
        (h < 10, "red"),
        (h < 42, "orange"),
        (h < 70, "yellow"),
        (h < 165, "green"),
        (h < 255, "blue"),
        (h < 310, "purple"),
        (h < 345, "pink"),
        (h >= 345, "red"),
    ]
    hue_name = np.select([m for m, _ in bands], [_I[n] for _, n in bands], _I["grey"])
    out = np.where(chromatic, hue_name, out)
    reddish = (h < 10) | (h >= 345)
    out = np.where(chromatic & reddish & (s < 0.5) & (v > 0.75), _I["pink"], out)
    out = np.where(chromatic & (h >= 10) & (h < 42) & (v < 0.65), _I["brown"], out)
    out = np.where(chromatic & (h >= 42) & (h < 70) & (v < 0.45), _I["brown"], out)
    beige = (h >= 20) & (h <= 70) & (s >= 0.06) & (s < 0.4) & (v > 0.7)
    out = np.where(beige, _I["beige"], out)
    achromatic = ~chromatic & ~beige
    out = np.where(achromatic & (v >= 0.85), _I["white"], out)
    out = np.where(achromatic & (v < 0.25), _I["black"], out)
    return np.where(v < 0.18, _I["black"], out)


@cache
def _table() -> NDArray[np.uint8]:
    """Palette index for every 5-bit-per-channel colour, at the centre of its cell."""
    levels = np.arange(32, dtype=np.uint16) * 8 + 4
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1)
    return name_pixels_exact(grid.astype(np.uint8)).astype(np.uint8).reshape(-1)


def name_pixels(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Palette index of every pixel (shape of `rgb` without its last axis)."""
    q = (rgb[..., :3] >> 3).astype(np.intp)
    return _table()[(q[..., 0] << 10) | (q[..., 1] << 5) | q[..., 2]]


def color_shares(rgb: NDArray[np.uint8], weights: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """Share of each palette colour among the pixels, weighted (zero weight = ignored)."""
    names = name_pixels(rgb).reshape(-1)
    w = None if weights is None else weights.reshape(-1)
    counts = np.bincount(names, weights=w, minlength=len(PALETTE)).astype(np.float64)
    total = counts.sum()
    return counts / total if total > 0 else counts


def dominant_colors(
    rgb: NDArray[np.uint8],
    weights: NDArray[np.float64] | None = None,
    *,
    top: int = 4,
    min_share: float = 0.05,
) -> list[dict[str, str | float]]:
    """The named colours covering at least `min_share` of the (weighted) pixels, most
    dominant first: ``[{"name": "red", "share": 0.81}, ...]``."""
    shares = color_shares(rgb, weights)
    order = np.argsort(-shares, kind="stable")
    return [{"name": PALETTE[i], "share": round(float(shares[i]), 3)} for i in order[:top] if shares[i] >= min_share]
