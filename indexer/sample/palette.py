"""The twelve named colours the sample catalog draws with, and which of them look alike.

The RGB values sit far apart so that a drawn pixel, after slight shading, noise and
JPEG compression, is still nearest to the colour it was drawn with: the ground truth
that colour-naming tests compare against is the name, not the pixel.
"""

from __future__ import annotations

from collections.abc import Sequence

RGB = tuple[int, int, int]

PALETTE: dict[str, RGB] = {
    "black": (22, 22, 22),
    "white": (248, 248, 248),
    "grey": (128, 128, 128),
    "red": (210, 30, 35),
    "orange": (245, 130, 20),
    "yellow": (245, 215, 30),
    "green": (40, 160, 60),
    "blue": (30, 80, 200),
    "purple": (120, 50, 170),
    "pink": (240, 120, 180),
    "brown": (120, 70, 30),
    "beige": (225, 205, 165),
}
COLOUR_NAMES: tuple[str, ...] = tuple(PALETTE)

# Colours a colour-namer could reasonably confuse with the key. A busy scene never uses
# the object's colour or one of these, so the object stays the one region of its colour.
LOOKALIKES: dict[str, frozenset[str]] = {
    "black": frozenset({"grey", "brown"}),
    "white": frozenset({"grey", "beige"}),
    "grey": frozenset({"black", "white"}),
    "red": frozenset({"orange", "pink", "brown"}),
    "orange": frozenset({"red", "yellow", "brown", "beige"}),
    "yellow": frozenset({"orange", "beige", "green"}),
    "green": frozenset({"yellow"}),
    "blue": frozenset({"purple"}),
    "purple": frozenset({"blue", "pink"}),
    "pink": frozenset({"red", "purple"}),
    "brown": frozenset({"red", "orange", "beige", "black"}),
    "beige": frozenset({"white", "yellow", "brown", "orange"}),
}


def scene_colours(object_colour: str) -> tuple[str, ...]:
    """Colours a busy background may use around an object of `object_colour`.

    White is left out too: a scene must not read as a white background.
    """
    banned = LOOKALIKES[object_colour] | {object_colour, "white"}
    return tuple(name for name in COLOUR_NAMES if name not in banned)


def nearest_colour(rgb: Sequence[int]) -> str:
    """The palette name nearest to `rgb` (squared RGB distance): how tests read a pixel."""
    r, g, b = (int(v) for v in rgb[:3])
    return min(
        PALETTE,
        key=lambda n: (PALETTE[n][0] - r) ** 2 + (PALETTE[n][1] - g) ** 2 + (PALETTE[n][2] - b) ** 2,
    )


def shade(rgb: RGB, factor: float) -> RGB:
    """`rgb` darkened (factor < 1) or lightened (factor > 1), clipped to 0..255."""
    return (
        min(255, max(0, round(rgb[0] * factor))),
        min(255, max(0, round(rgb[1] * factor))),
        min(255, max(0, round(rgb[2] * factor))),
    )
