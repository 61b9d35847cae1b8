"""Extract real product photos with a known colour from fetched git snapshots into bench/data/.

The colour-naming bench (bench_colour_naming.py) compares the names our palette gives a
photo with the colour a catalog gave the product. The data is not ours, so it is never
committed: bench/data/ is ignored, and this script rebuilds it.

Source: the "Fashion Product Images (small)" catalog (Myntra product shots, 44k items,
each with a hand-entered `baseColour`), as two public repositories carry it:
- images: github.com/tanmay0401/multimodal-recommendation-engine, data/images/<id>.jpg
  (the catalog's 60x80 thumbnails, committed as plain JPEGs);
- colours: github.com/animmala3942/FashionProductRecommendationSystem, styles.csv
  (id, gender, masterCategory, subCategory, articleType, baseColour, ...).
Both are bare git directories as the project's `fetch` tool leaves them:

    python bench/fetch_colour_photos.py \\
        /work/.mirror/tanmay0401+multimodal-recommendation-engine/repo \\
        /work/.mirror/animmala3942+FashionProductRecommendationSystem/repo

Writes bench/data/colour_photos/<id>.jpg and labels.csv (file, colour, category,
article). Only colours that are a single catalog colour word are kept (`Navy Blue`
is navy, `Off White` is white; `Multi`, metallics and blends such as `Teal` or
`Mushroom Brown` are left out), at most --per-colour photos each, lowest ids first,
so the sample is the same on every run.
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent / "data" / "colour_photos"
IMAGES_UNDER = "data/images"

# The catalog's baseColour -> the name a shopper and our palette use. Only values that
# are one colour (no blends, no metallics, no "Multi").
LABELS: dict[str, str] = {
    "Black": "black",
    "White": "white",
    "Off White": "white",
    "Grey": "grey",
    "Red": "red",
    "Pink": "pink",
    "Orange": "orange",
    "Yellow": "yellow",
    "Beige": "beige",
    "Brown": "brown",
    "Green": "green",
    "Olive": "olive",
    "Blue": "blue",
    "Navy Blue": "navy",
    "Purple": "purple",
    "Maroon": "maroon",
}


def git(git_dir: Path, *args: str) -> bytes:
    done = subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{git_dir}: git {' '.join(args)}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def image_ids(images_git: Path) -> set[str]:
    names = git(images_git, "ls-tree", "--name-only", f"HEAD:{IMAGES_UNDER}").decode().split()
    return {n.removesuffix(".jpg") for n in names if n.endswith(".jpg")}


def first_rank(available: int, offset: int, per_colour: int, *, tail_if_short: bool) -> int:
    """Where a colour's photos start (by id rank): at `offset`, or, when asked and the
    colour has fewer than offset + per_colour photos, at its last per_colour ones (a
    held-out range far up the ids still gets the rare colours, from ranks no earlier
    range reached as long as those stop below)."""
    if tail_if_short and available < offset + per_colour:
        return max(0, available - per_colour)
    return offset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images_git", type=Path, help="bare git dir holding data/images/<id>.jpg")
    parser.add_argument("styles_git", type=Path, help="bare git dir holding styles.csv")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--per-colour", type=int, default=40)
    parser.add_argument("--offset", type=int, default=0, help="skip this many photos per colour (a held-out set)")
    parser.add_argument(
        "--tail-if-short",
        action="store_true",
        help="a colour with fewer than offset + per-colour photos gives its last per-colour ones (printed)",
    )
    args = parser.parse_args()

    have = image_ids(args.images_git)
    styles = git(args.styles_git, "show", "HEAD:styles.csv").decode("utf-8", errors="replace")
    chosen: dict[str, list[dict[str, str]]] = {}
    for row in csv.DictReader(io.StringIO(styles)):
        colour = LABELS.get((row.get("baseColour") or "").strip())
        if colour is None or row["id"] not in have:
            continue
        chosen.setdefault(colour, []).append(row)
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    with (args.out / "labels.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "colour", "category", "article"])
        for colour, rows in sorted(chosen.items()):
            start = first_rank(len(rows), args.offset, args.per_colour, tail_if_short=args.tail_if_short)
            if start != args.offset:
                print(f"{colour}: only {len(rows)} photos; took ranks {start}..{len(rows)} instead of {args.offset}..")
            for row in sorted(rows, key=lambda r: int(r["id"]))[start : start + args.per_colour]:
                name = f"{row['id']}.jpg"
                (args.out / name).write_bytes(git(args.images_git, "show", f"HEAD:{IMAGES_UNDER}/{name}"))
                writer.writerow([name, colour, row["masterCategory"], row["articleType"]])
                written += 1
    print(f"{written} photos in {len(chosen)} colours -> {args.out}")


if __name__ == "__main__":
    main()
