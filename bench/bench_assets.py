"""Images per second of the CPU asset pipeline without CLIP, on generated 1000x1000 JPEGs.

What one image costs at intake: safe decode (JPEG draft: decoded at 1/2 scale, the
largest the eager outputs need), EXIF/IPTC/XMP metadata, facts (background, named
colours, pHash) and the eager renditions (the thumbnail). Blob writes go to memory, so
the figure is CPU, not disk. `--all-renditions` also makes preview, web and marketplace
from the original (what the first request for each costs). Target: >= 60 images/s per core.

    .venv/bin/python bench/bench_assets.py [--count 200] [--size 1000] [--workers N]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import BinaryIO

from discovery.domain import Asset
from indexer.assets import metadata as meta
from indexer.assets import process
from indexer.assets.facts import image_facts
from indexer.assets.intake import Candidate
from indexer.assets.renditions import Preset, load_presets, render
from indexer.assets.safe_image import decode
from indexer.sample.images import ImageSpec, draw_product_image, encode
from indexer.sample.palette import COLOUR_NAMES
from indexer.sample.shapes import SILHOUETTES


class MemoryBlobs:
    """Just enough of a blob store for the pipeline's writes, kept in memory."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        key = hashlib.sha256(data).hexdigest()
        self.data[key] = data
        return key, len(data)

    def put(self, stream: BinaryIO) -> tuple[str, int]:
        return self.put_bytes(stream.read())


def make_jpegs(count: int, size: int, seed: int = 0) -> list[bytes]:
    shapes = sorted(SILHOUETTES)
    out = []
    for i in range(count):
        spec = ImageSpec(
            COLOUR_NAMES[i % len(COLOUR_NAMES)], shapes[i % len(shapes)], "scene" if i % 2 else "white", size, seed + i
        )
        out.append(encode(draw_product_image(spec), "jpg", quality=88))
    return out


def one_image(data: bytes, presets: dict[str, Preset], blobs: MemoryBlobs, all_renditions: bool) -> None:
    """The intake path of `pipeline.ingest_assets` for one file, minus records and index."""
    c = Candidate("bench.jpg", data, "image/jpeg", "bench.jpg")
    probed = process.probe(c, presets=presets)
    asset = Asset(id="bench", sha256=probed.sha256, filename=c.name, media_type=c.media_type)
    process.apply(asset, probed, filename=c.name)
    process.make_eager(asset, probed, blobs, presets)  # type: ignore[arg-type]
    if all_renditions:
        for preset in presets.values():
            if not preset.eager:
                d = decode(data, "JPEG", longest=max(preset.longest, preset.min_longest))
                blobs.put_bytes(render(d.image, preset, source_longest=max(d.width, d.height)))


def stages(images: list[bytes], presets: dict[str, Preset]) -> dict[str, float]:
    """Median CPU milliseconds per stage, one image at a time."""
    side = process.decode_side(presets)
    thumb = presets["thumbnail"]
    times: dict[str, list[float]] = {"decode": [], "metadata": [], "facts": [], "thumbnail": []}
    for data in images:
        t0 = time.process_time()
        d = decode(data, "JPEG", longest=side)
        t1 = time.process_time()
        meta.extract(d.exif, d.info, d.iptc)
        t2 = time.process_time()
        image_facts(d.image, d.width, d.height)
        t3 = time.process_time()
        render(d.image, thumb, source_longest=max(d.width, d.height))
        t4 = time.process_time()
        for name, a, b in (("decode", t0, t1), ("metadata", t1, t2), ("facts", t2, t3), ("thumbnail", t3, t4)):
            times[name].append((b - a) * 1000)
    return {k: statistics.median(v) for k, v in times.items()}


def _worker(args: tuple[int, int, int, bool]) -> tuple[int, float]:
    count, size, seed, all_renditions = args
    images = make_jpegs(count, size, seed)
    presets = load_presets()
    blobs = MemoryBlobs()
    started = time.process_time()
    for data in images:
        one_image(data, presets, blobs, all_renditions)
    return count, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="images per core")
    parser.add_argument("--size", type=int, default=1000, help="side of the square test JPEGs")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for the all-cores run")
    parser.add_argument("--all-renditions", action="store_true", help="also make preview, web and marketplace")
    args = parser.parse_args()

    images = make_jpegs(args.count, args.size)
    presets = load_presets()
    kb = statistics.mean(len(i) for i in images) / 1024
    print(f"{args.count} JPEGs {args.size}x{args.size}, mean {kb:.0f} KiB; eager: "
          + ", ".join(p.name for p in presets.values() if p.eager))  # fmt: skip
    for name, ms in stages(images[: min(50, len(images))], presets).items():
        print(f"  {name:<10} {ms:6.2f} ms median CPU")
    blobs = MemoryBlobs()
    for data in images[:5]:  # warm up: tables, codecs
        one_image(data, presets, blobs, args.all_renditions)
    started, cpu = time.perf_counter(), time.process_time()
    for data in images:
        one_image(data, presets, blobs, args.all_renditions)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    # On a shared machine wall time includes waiting for a core; CPU time is what one core spends.
    rates = f"{args.count / cpu:6.1f} images/s by CPU time, {args.count / wall:6.1f} by wall time"
    print(f"one core:  {rates}  (target >= 60)")
    if args.workers > 1:
        jobs = [(args.count, args.size, 1000 * (w + 1), args.all_renditions) for w in range(args.workers)]
        with ProcessPoolExecutor(args.workers) as pool:
            done = list(pool.map(_worker, jobs))
        per_core = [n / s for n, s in done]
        print(
            f"{args.workers} processes at once: {statistics.mean(per_core):6.1f} images/s per core by CPU time "
            f"({sum(per_core):.1f} summed)"
        )


if __name__ == "__main__":
    main()
