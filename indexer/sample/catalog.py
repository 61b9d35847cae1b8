"""generate_catalog: write a deterministic sample catalog (products, images, manifest, truth).

Rows are streamed to disk group by group, so 100,000 products without images take
constant memory; only the truth of the images drawn (bounded by `max_images`) and a
small word count are kept.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.sample.gallery import Gallery, GroupImages, ImageTruth
from indexer.sample.products import VARIANT_SHARE, ProductGroup, iter_groups
from indexer.sample.writers import FORMATS, CatalogFiles

SAMPLE_WORD_COUNT = 10


@dataclass(frozen=True, slots=True)
class CatalogInfo:
    """Where a generated catalog lies and what is in it."""

    out_dir: Path
    products_jsonl: Path | None  # None when "jsonl" was not among the formats
    products_csv: Path | None  # None when "csv" was not among the formats
    images_dir: Path | None  # None when images=False
    manifest_csv: Path  # sku,file: one line per (product row or group, picture) link
    truth_json: Path  # {filename: ImageTruth as a JSON object}
    seed: int
    products: int  # product groups: simple products plus variant parents
    variants: int  # variant rows (each with parent_sku)
    rows: int  # lines of products.jsonl: products + variants
    images: int  # picture files written, near-duplicates included
    near_duplicates: int
    sample_words: list[str]  # frequent lower-case words from product names, for ?q=<word>
    truth: dict[str, ImageTruth] = field(repr=False)


def generate_catalog(
    out_dir: Path,
    *,
    products: int = 200,
    seed: int = 7,
    images: bool = True,
    image_size: int = 512,
    near_duplicates: float = 0.05,
    formats: Iterable[str] = ("jsonl",),
    images_per_product: int = 1,
    max_images: int | None = None,
    variant_share: float = VARIANT_SHARE,
) -> CatalogInfo:
    """Write a sample catalog of `products` product groups into `out_dir`; same seed, same bytes.

    Writes products.jsonl (and/or products.csv) with canonical field names, and, with
    images, `images/` with `images_per_product` pictures per product colour (at most
    `max_images` originals, given to the first products), a `near_duplicates` share of
    them copied resized or re-compressed. manifest.csv and truth.json are always
    written (empty without images). Existing pictures in `out_dir/images` are replaced.
    `variant_share` of the products are a parent row plus 2-4 variant rows (0 gives
    exactly `products` rows, as a benchmark may want). Raises ValueError on bad input.
    """
    wanted = tuple(formats)
    _check(products, image_size, near_duplicates, wanted, images_per_product, max_images, variant_share)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gallery = (
        Gallery(out_dir / "images", seed=seed, image_size=image_size, per_product=images_per_product,
                max_images=max_images, near_duplicates=near_duplicates)
        if images else None
    )  # fmt: skip
    words: Counter[str] = Counter()
    rows = 0
    with CatalogFiles(out_dir, wanted) as files:
        for group in iter_groups(seed, products, variant_share):
            words.update(word.lower() for word in group.name_words)
            links = _link_images(group, gallery.add(group)) if gallery else []
            files.write(group.rows, links)
            rows += len(group.rows)
    truth = gallery.truth if gallery else {}
    truth_json = out_dir / "truth.json"
    truth_json.write_text(
        json.dumps({name: asdict(t) for name, t in sorted(truth.items())}, indent=1) + "\n", encoding="utf-8"
    )
    return CatalogInfo(
        out_dir=out_dir,
        products_jsonl=files.paths.get("jsonl"),
        products_csv=files.paths.get("csv"),
        images_dir=gallery.images_dir if gallery else None,
        manifest_csv=files.manifest_path,
        truth_json=truth_json,
        seed=seed,
        products=products,
        variants=rows - products,  # a simple product is one row, a parent one plus its variants
        rows=rows,
        images=len(truth),
        near_duplicates=gallery.duplicates if gallery else 0,
        sample_words=[w for w, _ in sorted(words.items(), key=lambda wc: (-wc[1], wc[0]))][:SAMPLE_WORD_COUNT],
        truth=truth,
    )


def _check(
    products: int, image_size: int, near_duplicates: float, formats: tuple[str, ...],
    images_per_product: int, max_images: int | None, variant_share: float,
) -> None:  # fmt: skip
    if products < 0:
        raise ValueError(f"products must be >= 0, got {products}")
    if image_size < 64:
        raise ValueError(f"image_size must be >= 64 pixels, got {image_size}")
    if not 0.0 <= near_duplicates <= 1.0:
        raise ValueError(f"near_duplicates is a share between 0 and 1, got {near_duplicates}")
    if not 0.0 <= variant_share <= 1.0:
        raise ValueError(f"variant_share is a share between 0 and 1, got {variant_share}")
    if not formats or any(fmt not in FORMATS for fmt in formats):
        raise ValueError(f"formats must be a non-empty subset of {FORMATS}, got {formats}")
    if images_per_product < 1:
        raise ValueError(f"images_per_product must be >= 1, got {images_per_product}")
    if max_images is not None and max_images < 0:
        raise ValueError(f"max_images must be >= 0, got {max_images}")


def _link_images(group: ProductGroup, made: GroupImages) -> list[tuple[str, str]]:
    """Put each row's pictures in its `image` field; return the manifest's (sku, file) links.

    A simple row or a variant shows its colour's pictures; a parent shows all of them.
    Near-duplicates are linked to the group's SKU in the manifest only, as a stray
    re-upload would be: no product row names them.
    """
    links: list[tuple[str, str]] = []
    every = [name for names in made.by_colour.values() for name in names]
    for row, colour in zip(group.rows, group.row_colours, strict=True):
        files = made.by_colour.get(colour, []) if colour is not None else every
        if files:
            row["image"] = list(files)
            links.extend((str(row["sku"]), name) for name in files)
    links.extend((group.sku, name) for name in made.duplicates)
    return links
