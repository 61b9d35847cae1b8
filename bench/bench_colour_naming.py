"""Does the colour we name from a product photo agree with the catalog's colour attribute?

Names each photo the way intake does (`indexer.assets.facts.image_facts`: the subject
found, its palette colours named in CIELAB by CIEDE2000) and compares the first colour
with the label. Prints top-1 agreement, agreement within the first two colours, and the
confusion per labelled colour.

Real photos (a folder holding labels.csv with `file,colour` rows, as
bench/fetch_colour_photos.py writes it):

    python bench/bench_colour_naming.py bench/data/colour_photos

The demo catalog's drawn pictures, whose colour is known by construction:

    python bench/bench_colour_naming.py --generated 240
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.assets.facts import image_facts  # noqa: E402


def labelled_photos(folder: Path) -> Iterator[tuple[str, str, Image.Image]]:
    """(file, colour, image) for each row of `folder`/labels.csv."""
    labels = folder / "labels.csv"
    if not labels.is_file():
        raise SystemExit(f"{folder}: no labels.csv (file,colour); run bench/fetch_colour_photos.py first")
    with labels.open(encoding="utf-8") as fh:
        for number, row in enumerate(csv.DictReader(fh), start=2):
            if not row.get("file") or not row.get("colour"):
                raise SystemExit(f"{labels}: row {number} needs file and colour")
            with Image.open(folder / row["file"]) as image:
                yield row["file"], row["colour"].strip().lower(), image.convert("RGB")


def generated_photos(count: int) -> Iterator[tuple[str, str, Image.Image]]:
    """The demo generator's pictures, half on white and half on a busy scene, JPEG-coded."""
    from indexer.sample.images import ImageSpec, draw_product_image, encode
    from indexer.sample.palette import COLOUR_NAMES
    from indexer.sample.shapes import SILHOUETTES

    shapes = sorted(SILHOUETTES)
    for i in range(count):
        background: Literal["white", "scene"] = "scene" if i % 2 else "white"
        spec = ImageSpec(COLOUR_NAMES[i % len(COLOUR_NAMES)], shapes[i % len(shapes)], background, 256, 7000 + i)
        data = encode(draw_product_image(spec), "jpg", quality=85)
        yield f"generated-{i}", spec.colour, Image.open(io.BytesIO(data)).convert("RGB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, nargs="?", help="folder with labels.csv and the photos")
    parser.add_argument("--generated", type=int, default=0, help="use this many demo pictures instead")
    parser.add_argument("--show-misses", type=int, default=0, help="list this many misses")
    args = parser.parse_args()
    if args.folder is None and not args.generated:
        parser.error("give a folder or --generated N")
    photos = generated_photos(args.generated) if args.generated else labelled_photos(args.folder)

    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    top1 = top2 = total = 0
    misses: list[str] = []
    for name, truth, image in photos:
        colours = [str(c["name"]) for c in image_facts(image, *image.size).colors]
        first = colours[0] if colours else "-"
        confusion[truth][first] += 1
        total += 1
        top1 += first == truth
        top2 += truth in colours[:2]
        if first != truth and len(misses) < args.show_misses:
            misses.append(f"  {name}: {truth} named {colours}")
    print(f"photos: {total}")
    print(f"top-1 agreement: {top1 / max(1, total):.1%} ({top1}/{total})")
    print(f"in first two:    {top2 / max(1, total):.1%} ({top2}/{total})")
    print("per colour (label: right/total, most common wrong names):")
    for truth in sorted(confusion):
        row = confusion[truth]
        wrong = ", ".join(f"{n} {k}" for n, k in row.most_common() if n != truth)
        print(f"  {truth:8s} {row[truth]:3d}/{sum(row.values()):<3d} {wrong}")
    if misses:
        print("misses:", *misses, sep="\n")


if __name__ == "__main__":
    main()
