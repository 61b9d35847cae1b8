"""Blind contact sheets for confirming catalog colour labels by eye, and the join after.

The colour bench (bench_colour_naming.py) compares our names with a catalog's
hand-entered colour, and many of those labels disagree with the picture. To measure on
labels a person has confirmed without flattering ourselves, the person names each photo
BEFORE seeing the catalog's label or our name:

1. `sheets FOLDER` shuffles the photos of FOLDER/labels.csv (a fixed seed, so colours are
   not grouped as the fetch script writes them), draws them enlarged and numbered on
   contact sheets FOLDER/sheets/sheet-NN.png, with neither the label nor a prediction, and
   writes FOLDER/sheets/key.csv (number, file) for the person to fill in a `seen_colour`
   column (a palette word, or `unclear`) -> FOLDER/seen.csv.
2. `join FOLDER SEEN.csv` reads labels.csv only then and prints, per catalog colour, how
   many labels were confirmed, contradicted, or unclear, and writes FOLDER/confirmed.txt
   (one file name a line: the photos whose blind name equals the label), which
   `bench_colour_naming.py FOLDER --confirmed FOLDER/confirmed.txt` measures.

    python bench/colour_sheets.py sheets bench/data/colour_confirm_heldout
    python bench/colour_sheets.py join bench/data/colour_confirm_heldout seen.csv
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from discovery.colors import PALETTE  # noqa: E402  the words a shopper may give

SCALE = 3
COLUMNS = 8
ROWS = 4
GAP = 6
CAPTION = 14
SHUFFLE_SEED = 22
SHEET_BACKGROUND = (128, 128, 128)  # mid grey: neither white nor black garments blend in


def read_rows(path: Path, needs: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of a CSV file, each checked for the columns it needs (named by row number)."""
    if not path.is_file():
        raise SystemExit(f"{path}: no such file")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for number, row in enumerate(rows, start=2):
        missing = [field for field in needs if not (row.get(field) or "").strip()]
        if missing:
            raise SystemExit(f"{path}: row {number} needs {', '.join(missing)}")
    return rows


def blind_order(files: list[str], seed: int = SHUFFLE_SEED) -> list[str]:
    """The files in a fixed shuffled order: no run of one catalog colour to guess from."""
    order = sorted(files)
    random.Random(seed).shuffle(order)
    return order


def draw_sheets(folder: Path) -> list[Path]:
    """Contact sheets of the photos in FOLDER/labels.csv, numbered from 1 in blind order,
    and FOLDER/sheets/key.csv (number, file). Returns the sheet paths."""
    files = blind_order([row["file"] for row in read_rows(folder / "labels.csv", ("file",))])
    out = folder / "sheets"
    out.mkdir(exist_ok=True)
    with (out / "key.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["number", "file", "seen_colour"])
        writer.writerows([number, name, ""] for number, name in enumerate(files, start=1))
    per_sheet = COLUMNS * ROWS
    sheets: list[Path] = []
    for first in range(0, len(files), per_sheet):
        batch = files[first : first + per_sheet]
        tiles = []
        for name in batch:
            with Image.open(folder / name) as image:
                rgb = image.convert("RGB")
            tiles.append(rgb.resize((rgb.width * SCALE, rgb.height * SCALE), Image.Resampling.BICUBIC))
        cell_w = max(t.width for t in tiles) + GAP
        cell_h = max(t.height for t in tiles) + GAP + CAPTION
        sheet = Image.new("RGB", (COLUMNS * cell_w + GAP, ROWS * cell_h + GAP), SHEET_BACKGROUND)
        draw = ImageDraw.Draw(sheet)
        for i, tile in enumerate(tiles):
            x = GAP + (i % COLUMNS) * cell_w
            y = GAP + (i // COLUMNS) * cell_h
            draw.text((x + 2, y), str(first + i + 1), fill=(255, 255, 0))
            sheet.paste(tile, (x, y + CAPTION))
        path = out / f"sheet-{first // per_sheet + 1:02d}.png"
        sheet.save(path)
        sheets.append(path)
    return sheets


def confirmation(labels: dict[str, str], seen: dict[str, str]) -> dict[str, Counter[str]]:
    """Per catalog colour: how many labels the blind names confirmed, contradicted, or
    left unclear (a photo the person did not name counts as unclear)."""
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    for name, label in labels.items():
        word = seen.get(name, "unclear")
        tally[label]["confirmed" if word == label else "unclear" if word == "unclear" else "contradicted"] += 1
    return tally


def read_seen(path: Path) -> dict[str, str]:
    """file -> the blind colour word, each checked against the palette (or `unclear`)."""
    seen: dict[str, str] = {}
    for number, row in enumerate(read_rows(path, ("file", "seen_colour")), start=2):
        word = row["seen_colour"].strip().lower()
        if word not in PALETTE and word != "unclear":
            raise SystemExit(f"{path}: row {number}: seen_colour {word!r} is not a palette word or 'unclear'")
        seen[row["file"].strip()] = word
    return seen


def join(folder: Path, seen_path: Path) -> None:
    labels = {
        row["file"]: row["colour"].strip().lower() for row in read_rows(folder / "labels.csv", ("file", "colour"))
    }
    seen = read_seen(seen_path)
    tally = confirmation(labels, seen)
    contradicted: dict[str, Counter[str]] = defaultdict(Counter)
    for name, label in labels.items():
        word = seen.get(name, "unclear")
        if word not in (label, "unclear"):
            contradicted[label][word] += 1
    total: Counter[str] = Counter()
    print("label     confirmed contradicted unclear   (contradicted: what the photo shows)")
    for label in sorted(tally):
        row = tally[label]
        total.update(row)
        seen_instead = ", ".join(f"{w} {k}" for w, k in contradicted[label].most_common())
        print(f"  {label:8s} {row['confirmed']:5d} {row['contradicted']:9d} {row['unclear']:9d}     {seen_instead}")
    print(f"  {'all':8s} {total['confirmed']:5d} {total['contradicted']:9d} {total['unclear']:9d}")
    confirmed = sorted(name for name, label in labels.items() if seen.get(name) == label)
    (folder / "confirmed.txt").write_text("".join(f"{name}\n" for name in confirmed), encoding="utf-8")
    print(f"{len(confirmed)} confirmed -> {folder / 'confirmed.txt'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sheets = sub.add_parser("sheets", help="draw blind contact sheets and key.csv")
    sheets.add_argument("folder", type=Path)
    joined = sub.add_parser("join", help="join the blind names with the catalog labels")
    joined.add_argument("folder", type=Path)
    joined.add_argument("seen", type=Path, help="CSV with file,seen_colour")
    args = parser.parse_args()
    if args.command == "sheets":
        for path in draw_sheets(args.folder):
            print(path)
    else:
        join(args.folder, args.seen)


if __name__ == "__main__":
    main()
