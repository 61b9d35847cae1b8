"""Judged queries and relevance metrics: the core of bench_relevance.py and of the test
that keeps a floor under it (tests/integration/test_relevance_floor.py).

Two judged sets, each judged from the catalog's own classification, never by reading
what the engine returns:

- `sample`: the generated sample catalog (indexer.sample). The generator knows each
  product's type (its category path), its colours: a query for a type, a department, a
  colour and a type, a description of a type in other words, or a type with one typo is
  relevant to exactly the products the generator filed that way.
- `shopify`: Shopify's public sample store (bench/fetch_catalog.py extracts it). A query
  for a product type (`Necklace`), a tag (`Gold`), a source file's department
  (`jewelry`) is relevant to the products the catalog itself files so.

Metrics are binary-relevance, over the first 10 hits: nDCG@10, precision@10 (relevant
hits in the top 10 over min(10, relevant products), so a category of 4 can reach 1.0),
recall@10, MRR (reciprocal rank of the first relevant hit), the zero-result rate, and the
set precision: the relevant share of the whole match set (what `total` and the facets
count), which shows padding that the first ten hits hide.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from indexer.sample.products import iter_groups
from indexer.sample.vocab import NEUTRAL_ROOTS

K = 10
MODES = ("keyword", "semantic", "hybrid")


@dataclass(frozen=True, slots=True)
class Judged:
    """A query and the products relevant to it. `kind` groups queries for the report:
    `category` (one word naming a category), `department`, `colour`, `described` (other
    words than the catalog's), `typo` (one typo of a catalog word)."""

    query: str
    relevant: frozenset[str]
    kind: str


@dataclass(frozen=True, slots=True)
class Scores:
    ndcg: float
    precision: float
    recall: float
    rr: float
    zero: bool
    set_precision: float  # relevant share of the whole match set (what total and facets count)


def score(ranked: Sequence[str], relevant: frozenset[str], k: int = K) -> Scores:
    """Binary-relevance metrics of one ranked list of ids (the whole match set, best first)."""
    top = list(ranked[:k])
    gains = [1.0 if doc in relevant else 0.0 for doc in top]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    found = sum(gains)
    first = next((i for i, doc in enumerate(ranked) if doc in relevant), None)
    return Scores(
        ndcg=dcg / ideal if ideal else 0.0,
        precision=found / min(k, len(relevant)) if relevant else 0.0,
        recall=found / len(relevant) if relevant else 0.0,
        rr=1.0 / (first + 1) if first is not None else 0.0,
        zero=not ranked,
        set_precision=sum(1 for doc in ranked if doc in relevant) / len(ranked) if ranked else 1.0,
    )


def mean(scores: Iterable[Scores]) -> dict[str, float]:
    items = list(scores)
    n = max(1, len(items))
    return {
        "ndcg@10": sum(s.ndcg for s in items) / n,
        "p@10": sum(s.precision for s in items) / n,
        "r@10": sum(s.recall for s in items) / n,
        "mrr": sum(s.rr for s in items) / n,
        "zero": sum(1 for s in items if s.zero) / n,
        "set_p": sum(s.set_precision for s in items) / n,
        "n": float(len(items)),
    }


Searcher = Callable[[str, str], list[str]]  # (query, mode) -> ranked product keys


def evaluate(
    judged: Sequence[Judged], searcher: Searcher, modes: Sequence[str] = MODES
) -> dict[str, dict[str, list[Scores]]]:
    """Scores per mode, per query kind (and `all`)."""
    out: dict[str, dict[str, list[Scores]]] = {}
    for mode in modes:
        per_kind: dict[str, list[Scores]] = {"all": []}
        for j in judged:
            s = score(searcher(j.query, mode), j.relevant)
            per_kind["all"].append(s)
            per_kind.setdefault(j.kind, []).append(s)
        out[mode] = per_kind
    return out


# -- the sample catalog -------------------------------------------------------------------

# Words the catalog never uses for a type, judged relevant to that type's products.
DESCRIBED = {
    "sweatshirt": ("Hoodie",),
    "winter coat": ("Jacket",),
    "footwear": ("Sneakers", "Boots"),
    "headwear": ("Cap", "Beanie"),
    "coffee cup": ("Mug",),
    "water flask": ("Bottle",),
    "denim pants": ("Jeans",),
    "rucksack": ("Backpack",),
    "pullover": ("Sweater", "Hoodie"),
}
# One typo (a letter dropped, doubled or changed) of a type word, and the type.
TYPOS = {
    "hodie": "Hoodie",
    "jaket": "Jacket",
    "sweter": "Sweater",
    "sneakrs": "Sneakers",
    "backpak": "Backpack",
    "beenie": "Beanie",
    "scarff": "Scarf",
    "botle": "Bottle",
    "trausers": "Trousers",
}
DEPARTMENTS = {
    "shoes": "Shoes/",
    "bags": "Bags/",
    "hats": "Hats/",
    "outerwear": "Outerwear/",
    "knitwear": "Tops/Knitwear",
}
COLOURED = (("red", "Hoodie"), ("black", "Jacket"), ("blue", "Sneakers"), ("green", "Beanie"), ("white", "T-Shirt"))


def sample_judged(seed: int, products: int) -> list[Judged]:
    """Judged queries over `generate_catalog(products=products, seed=seed)`, from the
    generator's own truth (the same seed draws the same groups)."""
    groups = list(iter_groups(seed, products))
    by_type: dict[str, set[str]] = {}
    for g in groups:
        by_type.setdefault(g.product_type.word, set()).add(g.sku)
    judged = [Judged(word.lower(), frozenset(skus), "category") for word, skus in by_type.items()]
    for query, prefix in DEPARTMENTS.items():
        rel = {g.sku for g in groups if g.product_type.path.startswith(prefix)}
        judged.append(Judged(query, frozenset(rel), "department"))
    accessories = {g.sku for g in groups if g.product_type.path.split("/")[0] in NEUTRAL_ROOTS}
    judged.append(Judged("accessories", frozenset(g.sku for g in groups if g.sku in accessories), "department"))
    for colour, word in COLOURED:
        rel = {g.sku for g in groups if g.product_type.word == word and colour in g.colours}
        judged.append(Judged(f"{colour} {word.lower()}", frozenset(rel), "colour"))
    for query, words in DESCRIBED.items():
        judged.append(Judged(query, frozenset(s for w in words for s in by_type.get(w, ())), "described"))
    for query, word in TYPOS.items():
        judged.append(Judged(query, frozenset(by_type.get(word, ())), "typo"))
    return [j for j in judged if j.relevant]


# -- Shopify's sample store ----------------------------------------------------------------

SHOPIFY_TYPES = ("Necklace", "Bracelet", "Earrings")
SHOPIFY_TAGS = ("Gold", "Silver", "Leather", "Wood", "Plants", "Garden", "Turquoise", "Pendant", "Pillows", "Bedroom")
SHOPIFY_FILES = {"jewelry": "jewelery.csv", "apparel": "apparel.csv", "home and garden": "home-and-garden.csv"}
SHOPIFY_DESCRIBED = {
    "couch": lambda t: bool({"Sofa", "Couch"} & set(t["tags"])),
    "jewellery": lambda t: t["file"] == "jewelery.csv",
    "clothing": lambda t: t["file"] == "apparel.csv",
    "furniture": lambda t: (
        t["type"] == "Indoor" and bool({"Sofa", "Couch", "Chair", "Bed", "Bedroom"} & set(t["tags"]))
    ),
    "outdoor garden": lambda t: t["type"] == "Outdoor",
}
SHOPIFY_TYPOS = {
    "necklase": "Necklace",
    "braclet": "Bracelet",
    "earings": "Earrings",
    "pilows": "Pillows",
    "turquise": "Turquoise",
}


def shopify_judged(truth_json: Path) -> list[Judged]:
    """Judged queries over the Shopify sample store, from its own Type, Tags and files."""
    truth: dict[str, dict[str, object]] = json.loads(truth_json.read_text())

    def where(pred: Callable[[dict[str, object]], bool]) -> frozenset[str]:
        return frozenset(h for h, t in truth.items() if pred(t))

    judged = [Judged(t.lower(), where(lambda r, t=t: r["type"] == t), "category") for t in SHOPIFY_TYPES]  # type: ignore[misc]
    judged += [Judged(t.lower(), where(lambda r, t=t: t in r["tags"]), "category") for t in SHOPIFY_TAGS]  # type: ignore[misc,operator]
    judged += [Judged(q, where(lambda r, f=f: r["file"] == f), "department") for q, f in SHOPIFY_FILES.items()]  # type: ignore[misc]
    judged += [Judged(q, where(p), "described") for q, p in SHOPIFY_DESCRIBED.items()]  # type: ignore[arg-type]
    for query, label in SHOPIFY_TYPOS.items():
        judged.append(Judged(query, where(lambda r, x=label: r["type"] == x or x in r["tags"]), "typo"))  # type: ignore[misc,operator]
    return [j for j in judged if j.relevant]
