"""The catalog's image files: which pictures each product gets, drawn, written and recorded.

Names: `<sku lower>-<colour>_<view>.<jpg|png>` (view `main`, then `alt1`, `alt2`...),
one set per colour a product comes in; a near-duplicate is `<original stem>_dup.jpg`.
Each picture's random choices (background, format, pose) are seeded from the catalog
seed and the file's stem alone, so a file does not change when other products do.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path

from indexer.sample.images import Background, ImageSpec, draw_product_image, encode, near_duplicate
from indexer.sample.products import ProductGroup

WHITE_BACKGROUND_SHARE = 0.6
PNG_SHARE = 0.15
IMAGE_SUFFIXES = (".jpg", ".png")


@dataclass(frozen=True, slots=True)
class ImageTruth:
    """What was drawn in one file: the ground truth colour, background and duplicate tests use."""

    sku: str  # the product (simple or variant parent) the picture belongs to
    color: str  # palette name of the object
    background: Background  # "white" or "scene"
    near_duplicate_of: str | None  # the original's filename, for a near-duplicate
    shape: str  # the silhouette drawn
    format: str  # "jpg" or "png"
    width: int
    height: int


@dataclass(slots=True)
class GroupImages:
    by_colour: dict[str, list[str]] = field(default_factory=dict)  # colour -> original filenames
    duplicates: list[str] = field(default_factory=list)


def stable_seed(seed: int, name: str) -> int:
    """A 63-bit seed from the catalog seed and a name, the same on every run and machine."""
    digest = hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


class Gallery:
    """Draws a catalog's pictures into `images_dir` and keeps their truth, group by group."""

    def __init__(
        self,
        images_dir: Path,
        *,
        seed: int,
        image_size: int,
        per_product: int,
        max_images: int | None,
        near_duplicates: float,
    ) -> None:
        self.images_dir = images_dir
        self.seed, self.image_size, self.per_product = seed, image_size, per_product
        self.max_images, self.near_duplicates = max_images, near_duplicates
        self.truth: dict[str, ImageTruth] = {}
        self.originals = 0
        self.duplicates = 0
        self._full = False
        images_dir.mkdir(parents=True, exist_ok=True)
        # A second run into the same folder must not leave the first run's pictures behind.
        for stale in images_dir.iterdir():
            if stale.is_file() and stale.suffix in IMAGE_SUFFIXES:
                stale.unlink()

    def add(self, group: ProductGroup) -> GroupImages:
        """Draw `group`'s pictures; none once `max_images` originals would be exceeded."""
        wanted = len(group.colours) * self.per_product
        if self._full or (self.max_images is not None and self.originals + wanted > self.max_images):
            self._full = True  # later groups get none either: images stay a prefix of the catalog
            return GroupImages()
        made = GroupImages()
        for colour in group.colours:
            for view in range(self.per_product):
                stem = f"{group.sku.lower()}-{colour}_{'main' if view == 0 else f'alt{view}'}"
                made.by_colour.setdefault(colour, []).append(self._draw(group, colour, stem, made))
        return made

    def _draw(self, group: ProductGroup, colour: str, stem: str, made: GroupImages) -> str:
        rng = random.Random(stable_seed(self.seed, stem))
        background: Background = "white" if rng.random() < WHITE_BACKGROUND_SHARE else "scene"
        fmt = "png" if rng.random() < PNG_SHARE else "jpg"
        shape = group.product_type.shape
        spec = ImageSpec(colour, shape, background, self.image_size, rng.getrandbits(63))
        image = draw_product_image(spec)
        filename = f"{stem}.{fmt}"
        (self.images_dir / filename).write_bytes(encode(image, fmt))
        self.truth[filename] = ImageTruth(group.sku, colour, background, None, shape, fmt, *image.size)
        self.originals += 1
        if self._duplicate_due():
            copy, quality = near_duplicate(image, rng.getrandbits(63))
            dup_name = f"{stem}_dup.jpg"
            (self.images_dir / dup_name).write_bytes(encode(copy, "jpg", quality))
            self.truth[dup_name] = ImageTruth(group.sku, colour, background, filename, shape, "jpg", *copy.size)
            self.duplicates += 1
            made.duplicates.append(dup_name)
        return filename

    def _duplicate_due(self) -> bool:
        """Spread duplicates evenly: original k gets one when k * share crosses a half-integer."""
        k, share = self.originals - 1, self.near_duplicates
        return int((k + 1) * share + 0.5) > int(k * share + 0.5)
