"""Extract a real public product catalog from a fetched git snapshot into bench/data/.

The relevance harness (bench_relevance.py) judges queries against it. The data is
not ours, so it is never committed: bench/data/ is ignored, and this script rebuilds it.

Supported snapshot: Shopify's sample product CSVs (github.com/shopifypartners/product-csvs:
apparel.csv, home-and-garden.csv, jewelery.csv; real Shopify exports of a demo store).
The snapshot is a bare git directory (as the project's `fetch` tool leaves it under
/work/.mirror/<owner>+<name>/repo) read with `git show`, so no work tree is needed.

    python bench/fetch_catalog.py /work/.mirror/shopifypartners+product-csvs/repo

Writes bench/data/shopify/products.csv (the three files as one Shopify export, header
from the first; empty variant SKUs filled, see `_fill_sku`) and truth.json
({handle: {"file", "type", "tags", "title"}}), the catalog's own classification that the judged queries are drawn from.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

SHOPIFY_FILES = ("apparel.csv", "home-and-garden.csv", "jewelery.csv")
DEFAULT_OUT = Path(__file__).resolve().parent / "data" / "shopify"


def git_show(git_dir: Path, path: str, rev: str = "HEAD") -> str:
    """A file of the snapshot as text (a missing file names the snapshot and the path)."""
    done = subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", f"{rev}:{path}"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{git_dir}: cannot read {path}: {done.stderr.strip()}")
    return done.stdout


def _fill_sku(row: dict[str, str], seen: dict[str, int]) -> None:
    """Shopify leaves `Variant SKU` empty when a store does not use SKUs (this store never
    does) and our import needs one per variant: give each variant row `<handle>-<n>`.
    Image-only rows (no option value, no price) stay as they are."""
    handle = row.get("Handle", "").strip()
    if row.get("Variant SKU", "").strip() or not handle or not row.get("Variant Price", "").strip():
        return
    seen[handle] = seen.get(handle, 0) + 1
    row["Variant SKU"] = f"{handle}-{seen[handle]}"


def extract_shopify(git_dir: Path, out: Path) -> tuple[int, int]:
    """Write products.csv and truth.json under `out`; returns (rows, products)."""
    header: list[str] | None = None
    rows: list[dict[str, str]] = []
    truth: dict[str, dict[str, object]] = {}
    for name in SHOPIFY_FILES:
        reader = csv.DictReader(io.StringIO(git_show(git_dir, name)))
        if header is None:
            header = list(reader.fieldnames or [])
        seen: dict[str, int] = {}
        for row in reader:
            _fill_sku(row, seen)
            rows.append(row)
            handle, title = row.get("Handle", "").strip(), row.get("Title", "").strip()
            if handle and title and handle not in truth:  # a product's first row carries its fields
                tags = [t.strip() for t in row.get("Tags", "").split(",") if t.strip()]
                truth[handle] = {"file": name, "type": row.get("Type", "").strip(), "tags": tags, "title": title}
    assert header is not None
    out.mkdir(parents=True, exist_ok=True)
    with (out / "products.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    (out / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")
    return len(rows), len(truth)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("git_dir", type=Path, help="bare git dir of shopifypartners/product-csvs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    rows, products = extract_shopify(args.git_dir, args.out)
    print(f"{args.out}: {rows} rows, {products} products")
    return 0


if __name__ == "__main__":
    sys.exit(main())
