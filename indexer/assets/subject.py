"""Which pixels are the product: the background modelled from the border and flooded in
from it, with shadows and skin set aside. Pure numpy (scipy.ndimage for morphology).

The background of a product photo touches the border: the colours covering the border
(a white or grey studio sweep with its gradient, or every colour of a busy scene) are
its model, and the pixels near one of those colours *and* connected to the border are
background. A shadow is the background colour darker, so lightness counts for less when
a pixel is darker than the model. What is left is the subject; skin (a model wearing the
garment) is set aside for colour naming, but not for a cut-out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from indexer.assets.colors import name_pixels
from indexer.assets.lab import FloatArray, chroma_hue, srgb_to_lab

BORDER_FRACTION = 0.03
MAX_SAMPLES = 400  # border pixels sampled as candidate background colours
MIN_SIDE_SHARE = 0.05  # of one side's border pixels, on two sides: a background colour
NEAR = 6.0  # a pixel within this distance of a background colour may be background
SHADOW_L = 3.0  # this much darker than the background costs nothing (a soft shadow)
# Colour naming on a white backdrop (`pale_regions`): background is what the border
# reaches through pixels within PALE_NEAR of a background colour; a region left out that
# covers PALE_MIN_SHARE of the image with at most PALE_MAX_ON_BORDER of the border is the
# product. On the confirmed tuning photos (168/191 and 164/187 with 2.0 and 8 %), a
# share of 6 % gives the same, 4 % or 12 % and PALE_NEAR 2.5 lose one photo, PALE_NEAR
# 1.5 and 1.0 lose 3 and 7 (a white backdrop's JPEG noise is that large).
PALE_NEAR = 2.0
PALE_MIN_SHARE = 0.08
PALE_MAX_ON_BORDER = 0.02
WHITE_BACKDROP_L = 97.0
WHITE_BACKDROP_SHARE = 0.6
# Colour naming (`thin_structures`): pixels of a colour that a 3x3 opening removes count
# this much. Measured on the four confirmed ranges (ranks 0..20, 290..310, 330..350, 600+):
# 168/164/137/114 -> 170/171/147/120; a weight of 0 or 0.2 gives 600 and 604 in all
# instead of 608, the 4-connected opening 603, per-colour all-or-nothing 580-599 (more in
# bench/bench_colour_naming.py).
THIN_WEIGHT = 0.1


@dataclass(frozen=True, slots=True)
class Subject:
    mask: NDArray[np.bool_]  # True where the product is
    distance: FloatArray  # each pixel's distance to the nearest background colour
    confidence: float  # 0..1: how cleanly the product separates from the background


def ring(height: int, width: int, fraction: float = BORDER_FRACTION) -> NDArray[np.bool_]:
    """The outer ring of an image, `fraction` of its shorter side wide (at least 1 px)."""
    k = max(1, round(min(height, width) * fraction))
    mask = np.zeros((height, width), dtype=bool)
    mask[:k, :] = mask[-k:, :] = True
    mask[:, :k] = mask[:, -k:] = True
    return mask


def _lab_distance(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))


def background_colours(lab: FloatArray, border_width: int) -> FloatArray:
    """The background's colours (k x 3 CIELAB), taken from the border: a border colour
    is the background's when at least MIN_SIDE_SHARE of each of two sides or more lies
    within NEAR of it. Two sides, because a product cropped by the frame (a model's shirt
    at the bottom edge) touches one side, while a background surrounds the product.
    Colours closer than NEAR / 2 to one already kept are merged into it."""
    height, width = lab.shape[:2]
    per_side = [lab[rows, cols].reshape(-1, 3) for rows, cols in _sides(height, width, border_width)]
    samples = np.concatenate(per_side)
    rng = np.random.default_rng(0)  # a fixed sample: the same image always gives the same model
    candidates = samples[rng.choice(len(samples), size=min(MAX_SAMPLES, len(samples)), replace=False)]
    sides_covered = np.zeros(len(candidates), dtype=np.int64)
    for side in per_side:
        probe = side[rng.choice(len(side), size=min(MAX_SAMPLES, len(side)), replace=False)]
        share = (_lab_distance(candidates, probe) < NEAR).mean(axis=1)
        sides_covered += share >= MIN_SIDE_SHARE
    kept: list[FloatArray] = []
    for colour in candidates[sides_covered >= 2]:
        if not kept or np.min(_lab_distance(colour[None, :], np.array(kept))) >= NEAR / 2:
            kept.append(colour)
    return np.array(kept).reshape(-1, 3)


def _sides(height: int, width: int, k: int) -> list[tuple[slice, slice]]:
    return [
        (slice(0, k), slice(None)),
        (slice(height - k, height), slice(None)),
        (slice(None), slice(0, k)),
        (slice(None), slice(width - k, width)),
    ]


def background_distance(lab: FloatArray, colours: FloatArray) -> FloatArray:
    """Each pixel's distance (CIELAB) to the nearest background colour; being up to
    SHADOW_L darker is free (a shadow on the background is still background)."""
    best = np.full(lab.shape[:-1], np.inf)
    for colour in colours:  # a handful: one pass each keeps memory at one image
        d_l = lab[..., 0] - colour[0]
        d_l = np.where(d_l < 0, np.minimum(0.0, d_l + SHADOW_L), d_l)
        d = np.sqrt(d_l**2 + (lab[..., 1] - colour[1]) ** 2 + (lab[..., 2] - colour[2]) ** 2)
        np.minimum(best, d, out=best)
    return best


def skin(lab: FloatArray) -> NDArray[np.bool_]:
    """Pixels in the range of human skin tones (warm, moderately saturated, L* above 45);
    beige (hue near 90 degrees), orange (chroma above 45) and dark brown leather (L*
    below 45) stay outside it."""
    chroma, hue = chroma_hue(lab)
    return (lab[..., 0] > 45) & (lab[..., 0] < 88) & (chroma > 12) & (chroma < 45) & (hue > 38) & (hue < 75)


def _confidence(mask: NDArray[np.bool_], distance: FloatArray, border: NDArray[np.bool_], near: float) -> float:
    """How much to trust a cut-out: a clear margin between background and product
    pixels, one main part, a sensible size and little of it on the border."""
    share = float(mask.mean())
    if share < 0.01 or share > 0.95:
        return 0.0
    labels, count = ndimage.label(mask)
    sizes = np.bincount(labels.reshape(-1))[1:] if count else np.array([0])
    main_part = float(sizes.max() / max(1, sizes.sum()))
    ambiguous = float(((distance > near * 0.6) & (distance < near * 1.8)).mean() / max(share, 1e-9))
    on_border = float(mask[border].mean())
    score = main_part * (1 - min(1.0, ambiguous)) * (1 - min(1.0, 3 * on_border))
    return round(max(0.0, min(1.0, score)), 3)


def find_subject(rgb: NDArray[np.uint8], *, near: float = NEAR) -> Subject:
    """The product's pixels in an HxWx3 sRGB image, with a confidence."""
    height, width = rgb.shape[:2]
    lab = srgb_to_lab(rgb)
    border_width = max(1, round(min(height, width) * BORDER_FRACTION))
    border = ring(height, width)
    distance = background_distance(lab, background_colours(lab, border_width))
    candidate = distance < near
    labels, _ = ndimage.label(candidate)
    touching = np.unique(labels[border & candidate])
    background = np.isin(labels, touching[touching > 0])
    mask = ~background
    # Specks of background colour inside the product and crumbs of product colour in the
    # background are noise at this scale: open away crumbs, close small gaps.
    mask = ndimage.binary_opening(mask, iterations=1)
    mask = ndimage.binary_closing(mask, iterations=1) | (mask & border)
    return Subject(mask=mask, distance=distance, confidence=_confidence(mask, distance, border, near))


def white_backdrop(lab: FloatArray, border: NDArray[np.bool_]) -> bool:
    """Whether most of the border is a clipped, neutral studio white (L* >= 97, chroma < 3):
    a backdrop with no gradient of its own, so a large region a little off it is not
    background but the product."""
    edge = lab[border]
    chroma, _ = chroma_hue(edge)
    return bool(((edge[:, 0] >= WHITE_BACKDROP_L) & (chroma < 3)).mean() >= WHITE_BACKDROP_SHARE)


def pale_regions(subject: Subject, border: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Large regions that the flood took for background although the border reaches them
    only through pixels a little off every background colour (farther than PALE_NEAR):
    a white or cream garment on a white backdrop, which differs from it by 2-5 CIELAB
    units, too little for NEAR (a JPEG's noise on white is as large). Only regions of at
    least PALE_MIN_SHARE of the image and off the border: JPEG halos around a product
    are thin and a shadow is small, a garment is neither."""
    exact = subject.distance < PALE_NEAR
    labels, _ = ndimage.label(exact)
    touching = np.unique(labels[border & exact])
    reached = np.isin(labels, touching[touching > 0])
    pale = ndimage.binary_opening(~subject.mask & ~reached, iterations=1)
    labels, count = ndimage.label(pale)
    if not count:
        return pale
    sizes = np.bincount(labels.reshape(-1), minlength=count + 1)
    on_border = np.bincount(labels[border], minlength=count + 1)
    keep = (sizes >= PALE_MIN_SHARE * pale.size) & (on_border <= PALE_MAX_ON_BORDER * border.sum())
    keep[0] = False
    return keep[labels]


def thin_structures(rgb: NDArray[np.uint8], subject: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Subject pixels whose palette colour is only a thin line or a speck there: what a
    3x3 opening of that colour's pixels removes. At thumbnail size these are laces, soles'
    rims, stitching, outlines, a print's strokes, and the blended edges between two
    regions (skin and shirt give a brown rim, hair and backdrop a grey one); the product's
    colour is the one of its broad areas."""
    height, width = subject.shape
    names = np.where(subject, name_pixels(rgb).astype(np.int16), -1)
    padded = np.pad(names, 1, constant_values=-1)
    windows = [padded[dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3)]
    # A 3x3 window of one colour (the opening's erosion), then every pixel such a window
    # covers (its dilation): one pass over nine shifts for all colours at once.
    whole = subject & np.logical_and.reduce([w == names for w in windows])
    padded = np.pad(whole, 1)
    kept = np.logical_or.reduce([padded[dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3)])
    return subject & ~kept


def colour_weights(rgb: NDArray[np.uint8]) -> NDArray[np.float64]:
    """Per-pixel weight for naming a photo's colours: the subject (with the pale regions
    a white backdrop's flood takes, see `pale_regions`), without skin (unless nearly all
    of it is skin-toned: then the product is), its thin structures counting little (see
    `thin_structures`), leaning to the centre where a product shot puts the garment.
    Everything counts when nothing is found."""
    height, width = rgb.shape[:2]
    lab = srgb_to_lab(rgb)
    found = find_subject(rgb)
    subject = found.mask
    border = ring(height, width)
    # Measured on the confirmed tuning photos: four white garments on models on white
    # (flooded away, so the first colour fell to skin, hair or jeans) are named white
    # again and no other photo's first colour changes (ranks 0..20: 165 -> 168 of 191,
    # ranks 290..310: 158 -> 159 of 187). Not for cut-outs: their mask stays the flood's.
    if white_backdrop(lab, border):
        subject = subject | pale_regions(found, border)
    if subject.mean() < 0.01:
        subject = np.ones((height, width), dtype=bool)
    skin_mask = skin(lab) & subject
    if skin_mask.sum() < 0.6 * subject.sum():
        subject = subject & ~skin_mask
    y = (np.arange(height) + 0.5) / height - 0.5
    x = (np.arange(width) + 0.5) / width - 0.5
    centre = np.exp(-(y[:, None] ** 2 + x[None, :] ** 2) / (2 * 0.35**2))
    return np.where(thin_structures(rgb, subject), THIN_WEIGHT, 1.0) * subject * centre
