"""Perceptual hash (64-bit DCT pHash, as 16 hex digits), Hamming distance and
near-duplicate lookup. Pure numpy.

pHash: greyscale 32x32, 2-D DCT, keep the 8x8 lowest frequencies, one bit per
coefficient: above the median of those 64 (the DC term excluded from the median, as it
only says how bright the image is). Resizing, recompression and small colour changes
move few bits; a different picture moves about half of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

import numpy as np
from numpy.typing import NDArray

HASH_SIZE = 8
SAMPLE = 32
DEFAULT_THRESHOLD = 10  # bits of 64: typical for "the same picture, re-encoded or resized"
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


@cache
def _dct_matrix(n: int) -> NDArray[np.float64]:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0, :] = np.sqrt(1.0 / n)
    return m


def phash_from_gray(gray: NDArray[np.floating] | NDArray[np.uint8]) -> str:
    """pHash of a 32x32 greyscale array (the caller resizes; see `facts`)."""
    if gray.shape != (SAMPLE, SAMPLE):
        raise ValueError(f"pHash needs a {SAMPLE}x{SAMPLE} greyscale array, got {gray.shape}")
    d = _dct_matrix(SAMPLE)
    coeffs = (d @ gray.astype(np.float64) @ d.T)[:HASH_SIZE, :HASH_SIZE].reshape(-1)
    median = np.median(coeffs[1:])
    bits = coeffs > median
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return f"{value:016x}"


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two hex hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _as_uint64(hashes: Iterable[str]) -> NDArray[np.uint64]:
    return np.array([int(h, 16) for h in hashes], dtype=np.uint64)


def distances(target: str, hashes: Iterable[str]) -> NDArray[np.intp]:
    """Hamming distance from `target` to every hash (vectorised)."""
    others = _as_uint64(hashes)
    if others.size == 0:
        return np.zeros(0, dtype=np.intp)
    xor = others ^ np.uint64(int(target, 16))
    return _POPCOUNT[xor.view(np.uint8).reshape(-1, 8)].sum(axis=1).astype(np.intp)


def neighbours(
    target: str, hashes: Mapping[str, str], *, threshold: int = DEFAULT_THRESHOLD, exclude: str | None = None
) -> list[tuple[str, int]]:
    """Ids whose hash lies within `threshold` bits of `target`, nearest first (ties by
    id). `exclude` drops one id (the asset itself)."""
    ids = [i for i in hashes if i != exclude]
    dist = distances(target, (hashes[i] for i in ids))
    found = [(ids[j], int(dist[j])) for j in np.flatnonzero(dist <= threshold)]
    return sorted(found, key=lambda item: (item[1], item[0]))


def group_near_duplicates(hashes: Mapping[str, str], *, threshold: int = DEFAULT_THRESHOLD) -> list[list[str]]:
    """Groups (of two or more ids) linked by chains of near-duplicate pairs, each group
    and the list sorted. Quadratic in the number of hashes: meant for one collection or
    a batch, not the whole library (use `neighbours` per asset there)."""
    ids = sorted(hashes)
    parent = list(range(len(ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    values = _as_uint64(hashes[i] for i in ids)
    for i in range(len(ids)):
        xor = values[i + 1 :] ^ values[i]
        near = _POPCOUNT[xor.view(np.uint8).reshape(-1, 8)].sum(axis=1) <= threshold
        for j in np.flatnonzero(near):
            parent[root(i + 1 + int(j))] = root(i)
    groups: dict[int, list[str]] = {}
    for i, asset_id in enumerate(ids):
        groups.setdefault(root(i), []).append(asset_id)
    return sorted(g for g in groups.values() if len(g) > 1)
