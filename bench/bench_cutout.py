"""How often does the cut-out agree with the drawn product? (marketplace renditions)

Draws the demo catalog's busy-scene pictures (indexer.sample.images, every shape and
colour, JPEG-coded as the demo writes them), cuts each out (indexer.assets.cutout) and
compares the mask with the drawn truth. Prints the share of cut-outs with IoU >= 0.9,
the IoU spread, how the confidence separates good cut-outs from bad ones, and the time
per picture.

    python bench/bench_cutout.py --count 120 --size 512
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.assets.cutout import cut_out, iou  # noqa: E402
from indexer.sample.images import ImageSpec, draw_product_image_with_mask, encode  # noqa: E402
from indexer.sample.palette import COLOUR_NAMES  # noqa: E402
from indexer.sample.shapes import SILHOUETTES  # noqa: E402

GOOD = 0.9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=120)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--min-confidence", type=float, default=0.6, help="the preset's review threshold")
    args = parser.parse_args()
    shapes = sorted(SILHOUETTES)
    scores: list[tuple[float, float]] = []
    spent = 0.0
    for i in range(args.count):
        shape = shapes[(i // 12 + i) % len(shapes)]  # every colour meets every shape
        spec = ImageSpec(COLOUR_NAMES[i % len(COLOUR_NAMES)], shape, "scene", args.size, 9000 + i)
        drawn, truth = draw_product_image_with_mask(spec)
        image = Image.open(io.BytesIO(encode(drawn, "jpg", quality=90))).convert("RGB")
        started = time.perf_counter()
        cut = cut_out(image)
        spent += time.perf_counter() - started
        scores.append((iou(cut.mask, np.asarray(truth) >= 128), cut.confidence))
    ious = [s for s, _ in scores]
    good = sum(s >= GOOD for s in ious)
    print(f"busy-scene pictures: {len(scores)} ({args.size} px)")
    print(f"IoU >= {GOOD}: {good / len(scores):.1%} ({good}/{len(scores)})")
    low = np.percentile(ious, 10)
    print(f"IoU median {statistics.median(ious):.3f}, 10th percentile {low:.3f}, min {min(ious):.3f}")
    confident = [(s, c) for s, c in scores if c >= args.min_confidence]
    doubtful = [(s, c) for s, c in scores if c < args.min_confidence]
    ok_confident = sum(s >= GOOD for s, _ in confident)
    bad_confident = len(confident) - ok_confident
    print(
        f"confidence >= {args.min_confidence}: {len(confident)} (of them IoU >= {GOOD}: {ok_confident}, "
        f"below: {bad_confident}); to review: {len(doubtful)} (of them IoU >= {GOOD}: "
        f"{sum(s >= GOOD for s, _ in doubtful)})"
    )
    print(f"time per cut-out: {spent / len(scores) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
