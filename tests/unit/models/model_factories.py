"""Test data for the models tests: product-like pictures drawn with Pillow.

One object of a named colour, on white or on a busy scene of other colours. With the
tiny random CLIP these carry the only signal there is (colour and layout), which is
what a classifier trained from reviewers can learn and random zero-shot cannot.
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (210, 30, 35),
    "blue": (30, 80, 200),
    "green": (40, 160, 60),
    "yellow": (245, 215, 30),
    "black": (22, 22, 22),
    "purple": (120, 50, 170),
    "orange": (245, 130, 20),
    "brown": (120, 70, 30),
}


def draw_product(rng: random.Random, colour: str, *, busy: bool, size: int = 128) -> Image.Image:
    """An ellipse or box of `colour` near the centre, on white or among other colours."""
    image = Image.new("RGB", (size, size), (250, 250, 250))
    pen = ImageDraw.Draw(image)
    if busy:
        others = [name for name in PALETTE if name != colour]
        for _ in range(12):
            x, y = rng.randrange(size), rng.randrange(size)
            w, h = rng.randrange(size // 12, size // 2), rng.randrange(size // 12, size // 2)
            pen.rectangle((x, y, x + w, y + h), fill=PALETTE[rng.choice(others)])
    cx = size // 2 + rng.randrange(-size // 8, size // 8)
    cy = size // 2 + rng.randrange(-size // 8, size // 8)
    r = rng.randrange(size // 6, size // 3)
    if rng.random() < 0.5:
        pen.ellipse((cx - r, cy - r, cx + r, cy + r), fill=PALETTE[colour])
    else:
        pen.rectangle((cx - r, cy - int(r * 0.7), cx + r, cy + int(r * 0.7)), fill=PALETTE[colour])
    return image


def catalog(seed: int, count: int, *, target: str = "red", share: float = 0.3) -> list[tuple[str, Image.Image]]:
    """`count` (colour, image) pairs; about `share` of them are `target`, the rest mixed."""
    rng = random.Random(seed)
    names = [n for n in PALETTE if n != target]
    out = []
    for i in range(count):
        colour = target if rng.random() < share else names[i % len(names)]
        out.append((colour, draw_product(rng, colour, busy=rng.random() < 0.5)))
    return out
