"""Category suggestions measured as a reviewer meets them: hide the categories of 30 % of a
catalog's products, suggest them from the rest, and count how often the truth is offered.

    python bench/bench_category_suggestions.py [--sample 400] [--shopify GITDIR] [--flipkart GITDIR] [--seed 1]

`--shopify` takes a git dir of shopifypartners/product-csvs (the search tool's fetch brings one;
nothing of it is committed): each product's category is its `Type`, or its first tag when it has
none. `--flipkart` takes a git dir of swapnil-pisal/Major_Assessment_1, whose
`flipkart_com-ecommerce_sample.csv` holds ~1,000 products of Flipkart's public sample (PromptCloud,
CC BY-SA 4.0) with their category trees ("Clothing >> Women's Clothing >> Western Wear >> ..."):
each product's category is the first `--flipkart-depth` levels (3), as a PIM's tree would file
it. The sample catalog comes from the project's generator. For each catalog it prints, before
(the taxonomy ranked by text alone, at most 2 offered above 0.2, compared by leaf name) and
after (the catalog's own tree, `models.catalog_categories`): top-1, top-3, coverage (share of
products offered anything), the mean confidence of right and wrong top-1s, and the most
frequent confusions.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.catalog_categories import CatalogCategories  # noqa: E402
from models.categories import CategorySuggester  # noqa: E402
from models.factory import load_text  # noqa: E402
from models.taxonomy import load_taxonomy  # noqa: E402


@dataclass(frozen=True)
class Item:
    name: str
    description: str
    categories: tuple[str, ...]


def sample_items(count: int, seed: int) -> list[Item]:
    from indexer.sample.products import iter_groups

    items = []
    for group in iter_groups(seed, count):
        row = group.rows[0]
        items.append(Item(str(row["name"]), str(row.get("description", "")), tuple(row["categories"])))  # type: ignore[arg-type]
    return items


def shopify_items(git_dir: Path) -> list[Item]:
    items = []
    for name in ("apparel.csv", "home-and-garden.csv", "jewelery.csv"):
        text = subprocess.run(
            ["git", "--git-dir", str(git_dir), "show", f"HEAD:{name}"], capture_output=True, text=True, check=True
        ).stdout
        for row in csv.DictReader(io.StringIO(text)):
            if not row.get("Title"):
                continue
            category = row.get("Type") or (row.get("Tags") or "").split(",")[0].strip()
            if category:
                body = row.get("Body (HTML)", "")
                items.append(Item(row["Title"], body, (f"{name.removesuffix('.csv')}/{category}",)))
    return items


def flipkart_items(git_dir: Path, depth: int) -> list[Item]:
    import json

    text = subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", "HEAD:flipkart_com-ecommerce_sample.csv"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    items, seen = [], set()
    for row in csv.DictReader(io.StringIO(text)):
        name = (row.get("product_name") or "").strip()
        if name.casefold() in seen:
            continue  # the sample lists one product many times (one row per size or seller): once here
        seen.add(name.casefold())
        try:
            tree = json.loads(row.get("product_category_tree") or "")[0].split(" >> ")
        except (ValueError, IndexError):
            continue  # rows of the excerpt whose tree was cut off
        if len(tree) > depth and name:  # deeper levels name the product itself
            items.append(Item(name, row.get("description", ""), ("/".join(tree[:depth]),)))
    return items


def _leaf(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1].lower().rstrip("s")


def measure(label: str, items: list[Item], seed: int) -> None:
    rng = np.random.default_rng(seed)
    hidden = rng.random(len(items)) < 0.3
    text = load_text(device="cpu")
    texts = [f"{i.name}. {i.description}"[:400] for i in items]
    vectors = text.encode(texts)
    known = [i for i, h in enumerate(hidden) if not h]
    asked = [i for i, h in enumerate(hidden) if h]
    taxonomy = load_taxonomy()
    synonyms: dict[str, list[str]] = {}
    for category in taxonomy.categories.values():
        leaf = category.path.rsplit("/", 1)[-1].lower()
        synonyms.setdefault(leaf.rstrip("s"), []).extend(getattr(category, "synonyms", ()) or ())
    print(f"\n== {label}: {len(items)} products, {len(asked)} with hidden categories, "
          f"{len({p for i in items for p in i.categories})} category paths")  # fmt: skip

    pairs = [(items[i].name, items[i].description) for i in asked]
    before = CategorySuggester(text, taxonomy).suggest_many(pairs, top_k=2)
    b1 = b2 = 0
    for i, found in zip(asked, before, strict=True):
        truth = {_leaf(p) for p in items[i].categories}
        offered = [_leaf(s.path) for s in found if s.confidence >= 0.2]
        b1 += bool(offered[:1]) and offered[0] in truth
        b2 += any(o in truth for o in offered)
    print(f"before (taxonomy, text only): top-1 {b1 / len(asked):.1%}  top-2 {b2 / len(asked):.1%}")

    suggester = CatalogCategories(
        vectors[known], [items[i].categories for i in known], texts=[items[i].name for i in known], synonyms=synonyms
    )
    after = suggester.suggest(vectors[asked], [items[i].name for i in asked], top_k=3)
    top1 = top3 = covered = leaf1 = 0
    right_conf: list[float] = []
    wrong_conf: list[float] = []
    confusions: Counter[tuple[str, str]] = Counter()
    for i, found in zip(asked, after, strict=True):
        truth = set(items[i].categories)
        covered += bool(found)
        if found and found[0].path in truth:
            top1 += 1
            right_conf.append(found[0].confidence)
        elif found:
            wrong_conf.append(found[0].confidence)
            confusions[(sorted(truth)[0], found[0].path)] += 1
        top3 += any(s.path in truth for s in found)
        leaf1 += bool(found) and _leaf(found[0].path) in {_leaf(p) for p in truth}
    n = len(asked)
    print(f"after (catalog tree): top-1 {top1 / n:.1%} (leaf name {leaf1 / n:.1%})  top-3 {top3 / n:.1%}  "
          f"coverage {covered / n:.1%}  "
          f"confidence right {np.mean(right_conf or [0]):.2f} wrong {np.mean(wrong_conf or [0]):.2f}")  # fmt: skip
    for (truth, said), count in confusions.most_common(6):
        print(f"   {count:3d} x {truth} -> {said}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=400, help="sample catalog product groups (0: none)")
    parser.add_argument("--shopify", type=Path, help="git dir of shopifypartners/product-csvs")
    parser.add_argument("--flipkart", type=Path, help="git dir of swapnil-pisal/Major_Assessment_1")
    parser.add_argument("--flipkart-depth", type=int, default=3, help="category tree levels kept")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    if args.sample:
        measure(f"sample catalog ({args.sample} groups)", sample_items(args.sample, 7), args.seed)
    if args.shopify:
        measure("shopify product-csvs", shopify_items(args.shopify), args.seed)
    if args.flipkart:
        items = flipkart_items(args.flipkart, args.flipkart_depth)
        measure(f"flipkart sample (depth {args.flipkart_depth})", items, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
