"""Dominant colours named from the catalog palette, with shares. Pure: arrays in, values out.

A pixel gets the name of its nearest reference colour by CIEDE2000 in CIELAB
(`indexer.assets.lab`): each palette name has a few references spanning how the colour
shows up in product photos (a light and a dark blue, lavender as purple, hot pink as
pink), so a pale yellow stays yellow instead of beige, a violet stays purple instead of
blue and a bright red stays red instead of pink. Per-pixel names (`name_pixels`) come
from a 32x32x32 table over RGB, filled in as colours are first seen, so naming an image
is one table lookup per pixel.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from discovery.colors import PALETTE  # one vocabulary with product colours
from indexer.assets.lab import FloatArray, ciede2000, srgb_to_lab

CLUSTERS = 5  # colour clusters per image; each is named by its mean
KMEANS_ROUNDS = 8

# Reference colours per name as CIE LCh (lightness 0..100, chroma, hue angle in degrees),
# read from how catalog photos show each colour: a black garment photographs up to
# L* 30, catalog brown, olive and navy are dark and only slightly saturated (chroma
# 10-15) and told apart by hue, beige is a pale yellowish low-chroma colour, yellow is
# light and strongly saturated, lavender is a purple and hot pink a pink. A black garment
# under warm studio light reads L* 12-16 with a faint warm cast (chroma 5-9, hue 30-46),
# which the dark brown at L* 22 took: the warm black (12, 5, 40) names it black (confirmed
# tuning photos: five black T-shirts on models named black again, no other first colour
# changed but a white shirt's that was wrong either way). Denim is blue to a catalog:
# faded jeans read L* 40-55 at chroma 10-18, hue 265-275, between the grey and navy
# references, hence two denim blues (50, 14, 268) and (42, 15, 272); a navy T-shirt in
# shade reads L* 20-25, chroma 10, hue 265, nearer black than the navies at hue 285, hence
# (22, 10, 265). Measured on the four confirmed ranges with thin structures counting
# little: 170/171/147/120 -> 171/171/152/123 (17 first colours changed: 11 jeans and navy
# T-shirts right again, a black T-shirt now brown and a navy flip-flop now grey). A red
# T-shirt or shoe in shade reads L* 40-46, chroma 50-57, hue 13-23, nearer the maroons
# (chroma 25-42) than the reds at hue 32-36: the crimson (42, 52, 22) names it red
# (171/171/152/123 -> 172/170/156/124: six reds right again, one maroon shirt now red).
# Catalog oranges photograph down to hue 35-45 (a red-orange), catalog reds up to hue 35:
# the orange (56, 70, 40) moves the boundary from about 42 towards 38 (172/170/156/124 ->
# 173/171/157/125: three oranges and a red right again, nothing lost).
REFERENCES: dict[str, tuple[tuple[float, float, float], ...]] = {
    "black": ((8, 0, 0), (18, 2, 250), (25, 1, 0), (12, 5, 40)),
    "white": ((100, 0, 0), (95, 3, 100), (90, 3, 250), (86, 2, 250)),
    "grey": ((40, 2, 250), (53, 3, 250), (66, 3, 250), (77, 2, 250)),
    "red": ((54, 75, 35), (45, 62, 32), (58, 72, 36), (42, 52, 22)),
    "maroon": ((30, 35, 18), (36, 42, 14), (25, 25, 15)),
    "pink": ((68, 46, 355), (78, 28, 10), (55, 62, 355), (84, 18, 15)),
    "orange": ((64, 68, 57), (72, 60, 66), (58, 72, 48), (56, 70, 40)),
    "yellow": ((90, 60, 98), (84, 75, 90), (94, 40, 100)),
    "beige": ((80, 16, 82), (87, 12, 85), (70, 16, 76)),
    "brown": ((31, 10, 58), (40, 18, 58), (50, 26, 62), (22, 8, 55)),
    "olive": ((38, 12, 106), (46, 20, 105), (52, 28, 110), (26, 8, 105)),
    "green": ((66, 38, 150), (50, 42, 140), (82, 45, 125), (56, 32, 170)),
    "blue": (
        (50, 36, 270),
        (44, 55, 290),
        (66, 30, 255),
        (76, 20, 250),
        (38, 45, 285),
        (28, 54, 292),
        (50, 14, 268),
        (42, 15, 272),
    ),
    "navy": ((22, 18, 285), (29, 15, 282), (34, 26, 282), (20, 9, 285), (22, 10, 265)),
    "purple": ((38, 32, 314), (30, 26, 310), (55, 32, 310), (68, 25, 305)),
}

_I = {name: i for i, name in enumerate(PALETTE)}
_REF_NAMES = np.array([_I[name] for name, refs in REFERENCES.items() for _ in refs], dtype=np.intp)
_REF_LCH = np.array([lch for refs in REFERENCES.values() for lch in refs], dtype=np.float64)
_HUE = np.radians(_REF_LCH[:, 2])
_REF_LAB = np.stack([_REF_LCH[:, 0], _REF_LCH[:, 1] * np.cos(_HUE), _REF_LCH[:, 1] * np.sin(_HUE)], axis=-1)


def name_pixels_exact(rgb: NDArray[np.uint8]) -> NDArray[np.intp]:
    """Palette index of every pixel: the name of the nearest reference by CIEDE2000
    (slow path; fills the table)."""
    lab = srgb_to_lab(rgb)
    flat = lab.reshape(-1, 1, 3)
    distances = ciede2000(flat, _REF_LAB[None, :, :])
    return _REF_NAMES[np.argmin(distances, axis=1)].reshape(lab.shape[:-1])


_UNNAMED = 255
# Palette index per 5-bit-per-channel colour cell (the name of the cell's centre), filled
# in as cells are first seen: a process names the few thousand cells its photos hold
# instead of all 32768 on its first image (a 1.2 s start).
_CELL_NAMES = np.full(32 * 32 * 32, _UNNAMED, dtype=np.uint8)


def name_pixels(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Palette index of every pixel (shape of `rgb` without its last axis): the name of
    its 5-bit-per-channel cell's centre, one table lookup per pixel once the cell is named."""
    q = (rgb[..., :3] >> 3).astype(np.intp)
    cells = (q[..., 0] << 10) | (q[..., 1] << 5) | q[..., 2]
    new = np.unique(cells[_CELL_NAMES[cells] == _UNNAMED])
    if new.size:
        centres = np.stack([new >> 10, (new >> 5) & 31, new & 31], axis=-1) * 8 + 4
        _CELL_NAMES[new] = name_pixels_exact(centres.astype(np.uint8))
    return _CELL_NAMES[cells]


def name_lab(lab: FloatArray) -> NDArray[np.intp]:
    """Palette index of CIELAB colours (...x3): the nearest reference by CIEDE2000."""
    distances = ciede2000(lab.reshape(-1, 1, 3), _REF_LAB[None, :, :])
    return _REF_NAMES[np.argmin(distances, axis=1)].reshape(lab.shape[:-1])


def _clusters(lab: FloatArray, weights: FloatArray, k: int) -> tuple[FloatArray, FloatArray]:
    """Weighted k-means in CIELAB: (centres, weight of each). Deterministic: the centres
    start at lightness quantiles, so the same pixels always give the same palette."""
    order = np.argsort(lab[:, 0], kind="stable")
    start = order[np.linspace(0, len(order) - 1, k).round().astype(np.intp)]
    centres = lab[start].copy()
    for _ in range(KMEANS_ROUNDS):
        nearest = np.argmin(((lab[:, None, :] - centres[None, :, :]) ** 2).sum(-1), axis=1)
        mass = np.bincount(nearest, weights=weights, minlength=k).astype(np.float64)
        for axis in range(3):
            sums = np.bincount(nearest, weights=weights * lab[:, axis], minlength=k)
            centres[:, axis] = np.where(mass > 0, sums / np.maximum(mass, 1e-12), centres[:, axis])
    return centres, mass


def color_shares(rgb: NDArray[np.uint8], weights: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """Share of each palette colour in the (weighted) pixels. The pixels are grouped into
    a few colour clusters first and each cluster is named by its mean: a shaded garment
    is one colour with light and dark parts, not a vote between brown, grey and black."""
    flat = rgb[..., :3].reshape(-1, 3)
    w = np.ones(len(flat)) if weights is None else weights.reshape(-1).astype(np.float64)
    keep = w > 0
    if not keep.any():
        return np.zeros(len(PALETTE))
    lab, w = srgb_to_lab(flat[keep]), w[keep]
    centres, mass = _clusters(lab, w, min(CLUSTERS, len(lab)))
    counts = np.bincount(name_lab(centres), weights=mass, minlength=len(PALETTE))
    return counts / counts.sum()


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
