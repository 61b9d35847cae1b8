"""The data set behind bench_search.py: N products from the sample generator and N
synthetic assets, written straight into a search engine (no pictures; `write_records` adds
the same catalog as records, for a server started on the data dir).

Product text vectors are 384-d like all-MiniLM-L6-v2's, but not random: each is the sum
of the real MiniLM embeddings of the product's name words plus Gaussian noise, so the
cosine between a real query embedding and a related product lands above the service's
relevance floor (0.25) and unrelated ones below it, as real vectors do. With plain random
vectors nothing passes the floor and hybrid would silently measure keyword search.

Asset image vectors are random unit vectors in the tiny CLIP's dimension (64), tagged
with the tiny model's `name@version`, so the service's own CLIP text tower can query
them. `--clip-dim 512` (a ViT-B-32's size) is more realistic for the kNN cost, but no
512-d model is loadable here, so then only the vector-in layers are measured.
"""

from __future__ import annotations

import hashlib
import html
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from discovery.domain import Asset, Product, Tag
from discovery.store.index.base import IndexDoc, SearchBackend
from discovery.store.index.documents import asset_doc_id, asset_to_doc, product_to_doc
from discovery.store.records import Records

TINY_CLIP_DIM = 64
TEXT_DIM = 384  # all-MiniLM-L6-v2
TAGS = ("studio", "lifestyle", "flat-lay", "detail", "model", "outdoor")
BACKGROUNDS = ("white", "white", "other", "other", "transparent")
SIZES = ((800, 800), (1200, 1600), (2000, 2000), (2400, 1600), (600, 900), (3000, 2000))
_TAG_RE = re.compile(r"<[^>]+>")


@dataclass
class Meta:
    """What the queries are drawn from, saved beside the data so a rebuilt run and a
    reused one ask the same questions."""

    products: int
    assets: int
    clip_dim: int
    text_model: str
    clip_model: str
    name_words: list[str]
    common_terms: list[str]  # in more than half the products
    brands: list[str]
    colors: list[str]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> Meta:
        return cls(**json.loads(path.read_text()))


def survey(products_jsonl: Path) -> tuple[list[str], list[str], list[str], list[str], int]:
    """Name words, terms in more than half the descriptions, brands, colours, row count."""
    names: Counter[str] = Counter()
    terms: Counter[str] = Counter()
    brands: set[str] = set()
    colors: set[str] = set()
    rows = 0
    with products_jsonl.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            rows += 1
            names.update(w.lower() for w in row["name"].split())
            terms.update(set(re.findall(r"[a-z]{4,}", plain(row.get("description", "")).lower())))
            brands.add(row["brand"])
            if row.get("color"):
                colors.add(row["color"])
    common = [t for t, n in terms.most_common(20) if n > rows / 2]
    return sorted(names), common, sorted(brands), sorted(colors), rows


def plain(text: str) -> str:
    return html.unescape(_TAG_RE.sub(" ", text))


def word_vectors(words: list[str], encode: Callable[[list[str]], np.ndarray]) -> dict[str, np.ndarray]:
    vectors = encode(words)
    return {w: np.asarray(v, dtype=np.float32) for w, v in zip(words, vectors, strict=True)}


def product_from_row(row: dict[str, object], rnd: random.Random) -> Product:
    attributes = {k: row[k] for k in ("color", "size", "material") if row.get(k)}
    locales = {"fr_FR": {"name": str(row["name-fr_FR"])}} if row.get("name-fr_FR") else {}
    return Product(
        sku=str(row["sku"]),
        name=str(row["name"]),
        description=str(row.get("description", "")),
        description_text=plain(str(row.get("description", ""))),
        brand=str(row["brand"]),
        categories=list(row.get("categories") or []),  # type: ignore[call-overload]
        attributes=attributes,  # type: ignore[arg-type]
        price=float(row["price"]),  # type: ignore[arg-type]
        currency=str(row.get("currency") or "EUR"),
        channels=list(row.get("channels") or []),  # type: ignore[call-overload]
        status=str(row.get("status") or "approved"),
        locales=locales,
        completeness={"web": {"ready": rnd.random() < 0.7}},
        updated_at=f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T00:00:00+00:00",
    )


def product_docs(jsonl: Path, words: dict[str, np.ndarray], model: str, seed: int = 11) -> Iterator[IndexDoc]:
    rnd = random.Random(seed)
    noise = np.random.default_rng(seed)
    with jsonl.open(encoding="utf-8") as lines:
        for line in lines:
            product = product_from_row(json.loads(line), rnd)
            parts = product.name.lower().split()
            # The last word is the noun ("hoodie"): it weighs most, as in the real embedding.
            vec = noise.normal(0.0, 0.03, size=TEXT_DIM).astype(np.float32)
            for i, w in enumerate(parts):
                vec += words[w] * (1.0 if i == len(parts) - 1 else 0.5)
            vec /= np.linalg.norm(vec)
            yield product_to_doc(product, text_vector=vec.tolist(), vector_model=model)


def asset_docs(jsonl: Path, count: int, colors: list[str], dim: int, model: str, seed: int = 13) -> Iterator[IndexDoc]:
    """`count` assets, each linked to a product (cycling through the catalog)."""
    rnd = random.Random(seed)
    vectors = np.random.default_rng(seed)
    made = 0
    while made < count:
        with jsonl.open(encoding="utf-8") as lines:
            for line in lines:
                if made >= count:
                    return
                row = json.loads(line)
                yield asset_to_doc(_asset(made, row, rnd, colors), image_vector=_unit(vectors, dim), vector_model=model)
                made += 1


def _unit(rng: np.random.Generator, dim: int) -> list[float]:
    vec = rng.standard_normal(dim).astype(np.float32)
    return (vec / np.linalg.norm(vec)).tolist()


def _asset(i: int, row: dict[str, object], rnd: random.Random, colors: list[str]) -> Asset:
    width, height = rnd.choice(SIZES)
    own = str(row.get("color") or rnd.choice(colors))
    extra = rnd.sample(colors, rnd.randint(0, 2))
    names = list(dict.fromkeys([own, *extra]))
    sku = str(row["sku"])
    return Asset(
        id=f"A{i:07d}",
        sha256=hashlib.sha256(f"bench-{i}".encode()).hexdigest(),
        filename=f"{sku}_{i}.jpg",
        media_type="image/jpeg",
        bytes=rnd.randint(80_000, 4_000_000),
        width=width,
        height=height,
        orientation="square" if width == height else ("landscape" if width > height else "portrait"),
        title=f"{row['name']} photo",
        alt=f"{row['name']} in {own}",
        colors=[{"name": c, "share": round(1 / (k + 2), 2)} for k, c in enumerate(names)],
        background=rnd.choice(BACKGROUNDS),
        product_skus=[{"sku": sku, "how": "filename"}],
        tags=[Tag(t, source="human", status="accepted") for t in rnd.sample(TAGS, rnd.randint(1, 2))],
        updated_at=f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T00:00:00+00:00",
    )


def write_chunks(
    backend: SearchBackend, docs: Iterator[IndexDoc], *, chunk: int = 2000, refresh_every: int = 50_000
) -> int:
    """Upsert in chunks, committing now and then so no one batch holds everything; every
    failed item is an error here (a bench over a partial index measures nothing)."""
    written = 0
    batch: list[IndexDoc] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) == chunk:
            written += _send(backend, batch)
            batch = []
            if written % refresh_every == 0:
                backend.refresh()
    if batch:
        written += _send(backend, batch)
    backend.refresh()
    return written


def _send(backend: SearchBackend, batch: list[IndexDoc]) -> int:
    report = backend.upsert(batch)
    if report.failed:
        first = report.failed[0]
        raise RuntimeError(f"{len(report.failed)} documents failed, first {first.id}: {first.error}")
    return report.indexed


def write_records(records: Records, jsonl: Path, meta: Meta, *, chunk: int = 2000) -> None:
    """The same products and assets (with their image vectors) `product_docs`/`asset_docs`
    index (same seeds), as records: a server started on the data dir then holds a catalog
    whose index check finds nothing to remove, and its imports add to it as a real
    catalog's would."""
    if records.count_products() == 0:
        _write_catalog(records, jsonl, meta.assets, meta.colors, chunk)
    if not any(field == "image_vector" for field, _model, _n in records.vector_counts()):
        vectors = np.random.default_rng(13)
        for start in range(0, meta.assets, chunk):
            items = [
                (asset_doc_id(f"A{i:07d}"), np.asarray(_unit(vectors, meta.clip_dim), dtype=np.float32), "bench")
                for i in range(start, min(meta.assets, start + chunk))
            ]
            records.put_vectors("image_vector", meta.clip_model, items)


def _write_catalog(records: Records, jsonl: Path, count: int, colors: list[str], chunk: int) -> None:
    rnd = random.Random(11)
    batch: list[Product] = []
    with jsonl.open(encoding="utf-8") as lines:
        for line in lines:
            batch.append(product_from_row(json.loads(line), rnd))
            if len(batch) == chunk:
                records.upsert_products(batch)
                batch = []
    if batch:
        records.upsert_products(batch)
    arnd, made, assets = random.Random(13), 0, []
    while made < count:
        with jsonl.open(encoding="utf-8") as lines:
            for line in lines:
                if made >= count:
                    break
                assets.append(_asset(made, json.loads(line), arnd, colors))
                made += 1
                if len(assets) == chunk:
                    records.upsert_assets(assets)
                    assets = []
    if assets:
        records.upsert_assets(assets)
