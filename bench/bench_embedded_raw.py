"""Raw speed of the embedded engine: index N synthetic products, then time the storefront
query (a common word, top 20, four disjunctive facets) and a few variants.

    .venv/bin/python bench/bench_embedded_raw.py --docs 100000 --queries 300

Prints p50/p99 per query shape. Not part of the test run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from discovery.config import SearchSettings
from discovery.store.index.base import IndexDoc, SearchQuery
from discovery.store.index.embedded import EmbeddedBackend

NOUNS = ["hoodie", "shirt", "jacket", "shoe", "sock", "cap", "tee", "sweater", "pants", "bag", "scarf", "glove"]
ADJECTIVES = ["trail", "running", "merino", "rain", "road", "canvas", "warm", "light", "classic", "pro", "soft"]
COLORS = ["red", "blue", "green", "black", "white", "yellow", "grey", "navy", "beige", "pink", "orange", "brown"]
SIZES = ["xs", "s", "m", "l", "xl", "xxl", "38", "42"]


def _vocabulary(rnd: random.Random, size: int = 5000) -> list[str]:
    letters = "abcdefghijklmnoprstuvwy"
    return ["".join(rnd.choice(letters) for _ in range(rnd.randint(3, 10))) for _ in range(size)]


def synthetic(n: int, seed: int = 7) -> Iterator[IndexDoc]:
    """Names from a small product vocabulary (so `trail` is in ~1 in 5 documents);
    descriptions mostly from a long-tailed vocabulary of 5000 words, as real text is."""
    rnd = random.Random(seed)
    vocab = _vocabulary(rnd)
    weights = [1 / (rank + 1) for rank in range(len(vocab))]
    brands = [f"Brand{i:03d}" for i in range(200)]
    cats = [f"{a}/{b}/{c}" for a in ("Men", "Women", "Kids") for b in ("Tops", "Shoes", "Outerwear") for c in "ABCDEF"]
    for i in range(n):
        name = f"{rnd.choice(ADJECTIVES).title()} {rnd.choice(ADJECTIVES).title()} {rnd.choice(NOUNS).title()}"
        cat = rnd.choice(cats)
        parts = cat.split("/")
        yield IndexDoc(
            id=f"product:P{i:07d}", type="product", key=f"P{i:07d}",
            text={"name": name, "brand": rnd.choice(brands), "categories": " ".join(parts),
                  "description": " ".join(rnd.choices(vocab, weights, k=22) + rnd.sample(NOUNS + ADJECTIVES, 3))},
            keywords={"brand": [rnd.choice(brands)], "category": ["/".join(parts[:k]) for k in (1, 2, 3)],
                      "color": rnd.sample(COLORS, rnd.randint(1, 3)), "size": rnd.sample(SIZES, rnd.randint(1, 4))},
            numbers={"price": round(rnd.uniform(5, 300), 2)},
            dates={"updated_at": f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T00:00:00+00:00"},
            sort_name=name.casefold(), stored={"title": name},
        )


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = EmbeddedBackend(Path(tmp) / "idx", SearchSettings())
        start = time.perf_counter()
        engine.rebuild(synthetic(args.docs))
        print(f"indexed {engine.count()} docs in {time.perf_counter() - start:.1f}s")
        facets = ("brand", "category", "color", "size")
        shapes: dict[str, SearchQuery] = {
            "keyword + 4 facets": SearchQuery(text="hoodie", facets=facets),
            "common keyword + 4 facets": SearchQuery(text="trail", facets=facets),
            "two words + 4 facets": SearchQuery(text="trail hoodie", facets=facets),
            "typo + 4 facets": SearchQuery(text="hodie", facets=facets),
            "keyword, no facets, no highlight": SearchQuery(text="hoodie", highlight=False),
            "filtered + 4 facets": SearchQuery(text="hoodie", facets=facets, filters={"color": ("red",)}),
            "browse by price + 4 facets": SearchQuery(sort="price", facets=facets),
            "page 50 by name": SearchQuery(sort="name", offset=1000, size=20),
        }
        for label, query in shapes.items():
            p50, p99 = timed(lambda q=query: engine.search(q), args.queries)  # type: ignore[misc]
            print(f"{label:36s} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   total {engine.search(query).total}")
        engine.close()


if __name__ == "__main__":
    main()
