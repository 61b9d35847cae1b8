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

Labels a person confirmed (the catalog's `baseColour` is hand-entered and often names
something else than the pictured product's main colour: a print, the other garment, a
shade the photo does not show). Protocol, so the figure cannot flatter us:
1. Fetch a range no tuning used; draw it as numbered contact sheets that show neither the
   catalog label nor our name, in a fixed shuffled order
   (`bench/colour_sheets.py sheets DIR`), and name each photo's main colour by eye, one of
   the 15 palette words or `unclear`, into a CSV (number,file,seen_colour).
2. Only then join with the labels (`bench/colour_sheets.py join DIR SEEN.csv`): photos whose
   blind name equals the label are the confirmed set (DIR/confirmed.txt); the join prints
   confirmed / contradicted / unclear per colour.
3. Measure on them: `python bench/bench_colour_naming.py DIR --confirmed DIR/confirmed.txt`.
4. Tune only on confirmed tuning ranges; measure a held-out range once, before and after,
   and keep a change only if both improve.

The blind names used so far are in bench/colour_confirmed/ (file ids and colour words only):

    I=/work/.mirror/tanmay0401+multimodal-recommendation-engine/repo
    S=/work/.mirror/animmala3942+FashionProductRecommendationSystem/repo
    python bench/fetch_colour_photos.py $I $S --offset 600 --per-colour 20 --tail-if-short \\
        --out bench/data/colour_confirm_heldout
    python bench/colour_sheets.py join bench/data/colour_confirm_heldout \\
        bench/colour_confirmed/heldout_offset600.csv
    python bench/bench_colour_naming.py bench/data/colour_confirm_heldout \\
        --confirmed bench/data/colour_confirm_heldout/confirmed.txt

(likewise heldout_offset330.csv with --offset 330, tuning_offset0.csv with --offset 0,
tuning_offset290.csv with --offset 290 and fresh_offset200.csv with --offset 200
--tail-if-short; maroon, olive and orange have fewer than 620 photos, so the offset-600
range takes their last 20: ranks 557, 389 and 503 on. At offset 200 every colour has its
ranks 200..220, which no other range reaches.)

Figures (December 2026, naming before the pale regions below, 20 photos per colour, 300 per
range):
- held-out, ranks 600+: 176 of 300 labels confirmed, 58 contradicted, 66 unclear; top-1 on
  the confirmed 64.8 % (114/176), in first two 72.7 %; on all 300 labels 46.3 %.
- held-out, ranks 330..350: 176 confirmed, 27 contradicted, 97 unclear; top-1 73.9 %
  (130/176), in first two 83.5 %; on all 300 labels 54.7 %.
- tuning, ranks 0..20: 191 confirmed, 54 contradicted, 55 unclear; top-1 86.4 % (165/191).
- tuning, ranks 290..310: 187 confirmed, 40 contradicted, 73 unclear; top-1 84.5 % (158/187).
- noisy held-out of earlier work (--offset 40 --per-colour 40, every label): 57.7 %.
Three reference colours read from the confirmed tuning misses (a black under warm light at
L* 12 hue 40 as black, a very dark navy at L* 12 as navy, a lime green at hue 117 as green)
raised the confirmed tuning sets to 87.4 % and 86.6 % and the ranks-330 held-out to 75.6 %,
but lowered the ranks-600 held-out to 64.2 % and the noisy one to 57.5 %: not shipped.
(The ranks-600 misses were listed once before any tuning, so the ranks-330 range was added
as a second held-out that nobody looked at until the single before/after measurement.)
White-backdrop pale regions (`indexer.assets.subject.pale_regions`: a large region off the
border that a clipped white backdrop reaches only through pixels over 2 CIELAB units off it is
the garment, not backdrop) and a warm black reference (L* 12, chroma 5, hue 40), tuned on the
misses of the two tuning ranges only, then each held-out measured once by its top-1 figure
(December 2026, 60x80 thumbnails, load average 1.6-2.1 on 2 shared cores):
- tuning, ranks 0..20:     86.4 % (165/191) -> 88.0 % (168/191); pale regions alone 168,
  the warm black alone 165.
- tuning, ranks 290..310:  84.5 % (158/187) -> 87.7 % (164/187); pale regions alone 159,
  the warm black alone 162.
- held-out, ranks 600+:    64.8 % (114/176) -> 64.8 % (114/176), unchanged.
- held-out, ranks 330..350: 73.9 % (130/176) -> 77.8 % (137/176).
- generated (--generated 240): 100.0 % -> 100.0 % (240/240).
Tried on the tuning ranges and not kept (no held-out measured): growing skin from its core
into warm neighbours (wider L*, chroma, hue) or a skin chroma limit of 50-55 instead of 45
(orange, beige and brown garments were eaten: ranks 290..310 down 4 to 9); closing the subject
mask and filling its holes on white (+4 and -4 photos); red references at hue 31 instead of
36 or an orange one at hue 42-43 (one or two photos either way); a muted yellow (L* 80,
chroma 36, hue 95) for shaded yellow shirts (+2, 0, an orange lost); shaded clusters of one
hue sharing the name of the family's larger mass (+0 and +2, mixed flips at hue boundaries).
The lower figure on the ranks-600 range is the honest one: its photos are more often shoes,
watches, sarees and shirts on models, where pale garments on white are flooded away with the
background and the first colour falls to hair, skin shadow or a print.

Second round (December 2026). The ranks-330 and ranks-600 ranges had been looked at several
times, so all four became tuning ranges, and a fresh range (ranks 200..220,
fresh_offset200.csv: 153 of 300 labels confirmed, 56 contradicted, 91 unclear) was named
blind and measured once before any tuning and once after it. Kept, in this order, each
measured on the four tuning ranges (ranks 0, 290, 330, 600):
- thin structures count a tenth (`indexer.assets.subject.thin_structures`: a subject pixel
  whose palette colour a 3x3 opening removes there: laces, soles' rims, print strokes, the
  blended rims between skin and shirt or hair and backdrop): 168/164/137/114 ->
  170/171/147/120 (608 in all). A weight of 0 or 0.2 instead of 0.1 (600, 604), the
  4-connected opening (603), two openings (591), or dropping a colour's pixels only when
  most of its mask vanishes (580-599) did worse, and so did the same idea on k-means
  cluster labels (588-603); down-weighting pixels of high CIELAB gradient was as good at
  best (593-606). With the references below, 0.05 and 0.15 give 621 and 623 against 626;
- denim blues (50, 14, 268) and (42, 15, 272) and a navy at hue 265 (22, 10, 265), LCh:
  -> 171/171/152/123;
- a crimson red (42, 52, 22): -> 172/170/156/124 (one maroon shirt lost, six reds won);
- an orange at hue 40 (56, 70, 40): -> 173/171/157/125.
Figures (confirmed labels, top-1; in first two after; timed at load average 1.6-1.9, 2 cores):
- tuning, ranks 0..20:      88.0 % (168/191) -> 90.6 % (173/191); first two 95.3 %.
- tuning, ranks 290..310:   87.7 % (164/187) -> 91.4 % (171/187); first two 96.3 %.
- tuning, ranks 330..350:   77.8 % (137/176) -> 89.2 % (157/176); first two 94.3 %.
- tuning, ranks 600+:       64.8 % (114/176) -> 71.0 % (125/176); first two 81.2 %.
- fresh, ranks 200..220:    76.5 % (117/153) -> 81.0 % (124/153); first two 86.9 % -> 88.2 %
  (measured once before and once after; below the 85 % target).
- generated (--generated 240): 100.0 % -> 100.0 %.
- time per image (`image_facts`, 60x80 thumbnails, best of three passes over 1200): about
  12 ms before and after (12.1-12.6 ms against 11.6-13.0 ms); the per-pixel names come from
  a table filled in as colours are first seen, so a process's first image costs 19 ms
  instead of the 1.2 s that building the whole table took.
Tried on the four tuning ranges and not kept: a narrower or wider centre weighting
(sigma 0.25-1.0, a centre moved down, a narrower vertical sigma: -5 to +6 in all, mixed,
and -5 to +1 once thin structures counted little); setting aside everything above a face
found by skin in the top third (-5 to +1); filling the subject's holes on white, with or
without a closing (-2 to 0); keeping a pale region only when it differs from the backdrop
by more than 2-4 units (-2 to -11); 4 or 6 k-means clusters (-11, -12); pale mint green
(84, 14, 160) and pale sky blue (92, 11, 220) references (+7 in all, but ranks 0 lost a
white shoe, ranks 290 an aqua T-shirt against two sky-blue ones won, and six of the gains
are one mint shirt series of the ranks-600 range); a light grey (84, 2, 80-250) for heather
grey T-shirts named white (-4 to -6); a dark olive (28-30, 5, 100-102) for olive jackets
named black (-2, -3); moving the red references to hue 32-33, with or without an orange at
hue 38-39 (0 to +7, ranks 0 down one).
What is left: red-orange kurtas and deodorant cans (hue 35-45) named red, heather grey and
mint or sky-blue garments named white (their chroma is 1-4 or 7-15 against a white at 0-3),
dark olive jackets named black, white sports shoes whose upper is flooded with the backdrop,
and sunglasses whose frames are thin structures themselves.
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


def read_confirmed(path: Path) -> set[str]:
    """File names, one a line (as bench/colour_sheets.py join writes confirmed.txt)."""
    if not path.is_file():
        raise SystemExit(f"{path}: no such file (write it with bench/colour_sheets.py join)")
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def labelled_photos(folder: Path, only: set[str] | None = None) -> Iterator[tuple[str, str, Image.Image]]:
    """(file, colour, image) for each row of `folder`/labels.csv (only the files in
    `only` when given)."""
    labels = folder / "labels.csv"
    if not labels.is_file():
        raise SystemExit(f"{folder}: no labels.csv (file,colour); run bench/fetch_colour_photos.py first")
    with labels.open(encoding="utf-8") as fh:
        for number, row in enumerate(csv.DictReader(fh), start=2):
            if not row.get("file") or not row.get("colour"):
                raise SystemExit(f"{labels}: row {number} needs file and colour")
            if only is not None and row["file"] not in only:
                continue
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
    parser.add_argument(
        "--confirmed", type=Path, help="only the photos named in this file (labels a person confirmed blind)"
    )
    args = parser.parse_args()
    if args.folder is None and not args.generated:
        parser.error("give a folder or --generated N")
    only = read_confirmed(args.confirmed) if args.confirmed else None
    photos = generated_photos(args.generated) if args.generated else labelled_photos(args.folder, only)

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
