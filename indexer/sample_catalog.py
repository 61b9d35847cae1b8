"""The sample catalog generator's public face and command line.

    python -m indexer.sample_catalog OUT_DIR --products N --seed S [--no-images] [--csv]

writes OUT_DIR/products.jsonl (canonical field names), OUT_DIR/images/, manifest.csv
(sku,file) and truth.json ({filename: {sku, color, background, near_duplicate_of, ...}}).
The pieces live in `indexer.sample`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from indexer.sample import PALETTE, CatalogInfo, ImageTruth, generate_catalog, nearest_colour

__all__ = ["PALETTE", "CatalogInfo", "ImageTruth", "generate_catalog", "main", "nearest_colour"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m indexer.sample_catalog", description="Write a deterministic sample catalog."
    )
    parser.add_argument("out_dir", type=Path, help="folder to write into (created if missing)")
    parser.add_argument("--products", type=int, default=200, help="product groups (default 200)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--no-images", action="store_true", help="write no pictures")
    parser.add_argument("--csv", action="store_true", help="also write products.csv")
    parser.add_argument("--image-size", type=int, default=512, help="picture side in pixels")
    parser.add_argument("--images-per-product", type=int, default=1, help="pictures per product colour")
    parser.add_argument("--max-images", type=int, default=None, help="at most this many original pictures")
    parser.add_argument("--near-duplicates", type=float, default=0.05, help="share of pictures copied")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    info = generate_catalog(
        args.out_dir,
        products=args.products,
        seed=args.seed,
        images=not args.no_images,
        image_size=args.image_size,
        near_duplicates=args.near_duplicates,
        formats=("jsonl", "csv") if args.csv else ("jsonl",),
        images_per_product=args.images_per_product,
        max_images=args.max_images,
    )
    print(
        f"{info.products} products ({info.variants} variants, {info.rows} rows), {info.images} images "
        f"({info.near_duplicates} near-duplicates) in {info.out_dir} in {time.perf_counter() - started:.1f} s; "
        f"try q={', '.join(info.sample_words[:3])}",
        file=sys.stdout,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
