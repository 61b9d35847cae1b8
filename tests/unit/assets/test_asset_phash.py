from __future__ import annotations

import io

import numpy as np
from asset_factories import draw_product
from PIL import Image

from indexer.assets.facts import image_facts
from indexer.assets.phash import (
    DEFAULT_THRESHOLD,
    distances,
    group_near_duplicates,
    hamming,
    neighbours,
    phash_from_gray,
)


def _hash(image: Image.Image) -> str:
    return image_facts(image.convert("RGB"), *image.size).phash


def _recompress(image: Image.Image, quality: int, scale: float = 1.0) -> Image.Image:
    if scale != 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(buffer).convert("RGB")


def test_phash_is_64_bits_in_hex() -> None:
    value = phash_from_gray(np.random.default_rng(0).random((32, 32)))
    assert len(value) == 16 and int(value, 16) >= 0


def test_resized_and_recompressed_copies_stay_near() -> None:
    for seed in range(10):
        original = draw_product(seed, size=320)[0]
        copy = _recompress(original, quality=35, scale=0.6)
        assert hamming(_hash(original), _hash(copy)) <= DEFAULT_THRESHOLD


def test_different_pictures_are_far_apart() -> None:
    hashes = [_hash(draw_product(seed, size=256)[0]) for seed in range(20)]
    far = [hamming(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1 :]]
    assert sum(d > DEFAULT_THRESHOLD for d in far) / len(far) >= 0.95


def test_hamming_counts_differing_bits() -> None:
    assert hamming("0" * 16, "0" * 16) == 0
    assert hamming("0" * 16, "f" * 16) == 64
    assert hamming("00000000000000ff", "000000000000000f") == 4
    assert list(distances("0" * 16, ["f" * 16, "0" * 15 + "1"])) == [64, 1]


def test_neighbours_of_one_hash_nearest_first_without_itself() -> None:
    hashes = {"a": "0" * 16, "b": "0" * 15 + "3", "c": "0" * 15 + "1", "d": "f" * 16}
    assert neighbours("0" * 16, hashes, threshold=4, exclude="a") == [("c", 1), ("b", 2)]


def test_near_duplicates_group_by_chains() -> None:
    hashes = {"a": "0" * 16, "b": "0" * 15 + "7", "c": "0" * 14 + "7f", "d": "f" * 16, "e": "f" * 15 + "e"}
    assert group_near_duplicates(hashes, threshold=4) == [["a", "b", "c"], ["d", "e"]]
