"""Text vectors for products: computed after an import, stored in the records (the source of
truth), then written to the index with the product's document.

A vector records the model that made it and a hash of the text it embedded, so unchanged
products are skipped and a model change is a visible re-embed, never a silent mix.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from discovery.domain import Product
from discovery.foreground import step_aside
from discovery.services.context import Context
from discovery.store.derive import product_docs
from discovery.store.index.base import BulkReport
from discovery.store.index.documents import product_doc_id

if TYPE_CHECKING:
    from models.text import TextModel

# A number, a date or a measure: digits and separators, at most a short unit after them.
_NOT_WORDS = re.compile(r"^[-+]?\d[\d\s.,:/+-]*(?:\s*[^\W\d]{0,3}\.?)?$")
# ~35-50 ms of both cores (bfloat16; ~75 on float32): the longest an import holds the CPU
# between steps. 16 rather than 8: a bfloat16 batch of 8 ran 30 % fewer texts per CPU-second.
ENCODE_SLICE = 16


def product_text(product: Product, variants: Iterable[Product] = ()) -> str:
    """What the text model reads for a product family: name, brand, categories, description,
    and the worded attribute values of the family (so "red" finds a hoodie with a red
    variant). Measures, dates and codes ("1385 g", "2024-11-04") are left to keyword
    search: they mean nothing to the text model, and were half the tokens of a family's
    text, which is what an import's embedding time is proportional to."""
    parts = [product.name, product.brand or "", " ".join(c.replace("/", " ") for c in product.categories)]
    parts.append(product.description_text[:1000])
    values = [
        text
        for p in (product, *variants)
        for v in p.attributes.values()
        if isinstance(v, str) and not _NOT_WORDS.match(text := v.strip())
    ]
    parts.append(" ".join(dict.fromkeys(values)))
    return " . ".join(p for p in parts if p)


def _encode_stepping_aside(model: TextModel, texts: list[str]) -> np.ndarray:
    """Encode in slices, stepping aside between them for requests in this process: one
    encode of 256 texts keeps both cores busy for most of a second. The texts are sorted
    by length first, so each slice is one padded batch of similar lengths."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    parts = []
    for start in range(0, len(order), ENCODE_SLICE):
        step_aside()
        parts.append(model.encode_documents([texts[i] for i in order[start : start + ENCODE_SLICE]]))
    if not parts:
        return model.encode_documents([])
    out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
    out[order] = np.concatenate(parts)
    return out


def embed_products(
    ctx: Context,
    skus: Iterable[str],
    *,
    changed: Iterable[str] | None = None,
    batch: int = 256,
    progress: Callable[[int], None] | None = None,
) -> BulkReport:
    """Embed the families of these SKUs with the text model and reindex those that got a new
    vector. Returns the index write report (empty when the text model is switched off).
    With `changed` (the SKUs among them whose records this write changed), the others'
    families are only checked for a vector of this model: their text cannot have changed,
    so an unchanged row of a re-import reads neither its product nor its text."""
    report = BulkReport()
    for roots in _embedded(ctx, skus, changed=changed, batch=batch, progress=progress):
        docs, _ = product_docs(ctx.records, roots)
        report.outcomes.extend(ctx.backend.upsert(docs).outcomes)
    return report


def store_text_vectors(ctx: Context, skus: Iterable[str]) -> list[str]:
    """Embed the families of these SKUs whose text changed and store the vectors in the
    records only; returns their roots. An import calls this before it indexes the
    families, so each document is written once, with its vector."""
    return [root for roots in _embedded(ctx, skus) for root in roots]


def _embedded(
    ctx: Context,
    skus: Iterable[str],
    *,
    changed: Iterable[str] | None = None,
    batch: int = 256,
    progress: Callable[[int], None] | None = None,
) -> Iterator[list[str]]:
    """Per batch of families, the roots whose new vectors were just stored."""
    model = ctx.text()
    if model is None:
        return
    model_id = f"{model.name}@{model.version}"
    roots = list(dict.fromkeys(skus))
    if changed is not None:
        roots = _needing_vectors(ctx, roots, set(changed), model_id)
    for start in range(0, len(roots), batch):
        part = roots[start : start + batch]
        found_roots = ctx.records.family_roots_of(part)
        chunk = list(dict.fromkeys(found_roots[s] for s in part if s in found_roots))
        families = ctx.records.variants_of(chunk)
        found = ctx.records.get_products(chunk)
        existing = ctx.records.get_vectors("text_vector", [product_doc_id(s) for s in chunk])
        todo: list[tuple[str, str, str]] = []
        for sku, product in found.items():
            text = product_text(product, families.get(sku, []))
            digest = hashlib.sha256(f"{model_id}\n{text}".encode()).hexdigest()
            old = existing.get(product_doc_id(sku))
            if old is None or old[2] != digest or old[0] != model_id:
                todo.append((sku, text, digest))
        if todo:
            vectors = _encode_stepping_aside(model, [t for _, t, _ in todo])
            ctx.records.put_vectors(
                "text_vector", model_id, [(product_doc_id(s), v, d) for (s, _, d), v in zip(todo, vectors, strict=True)]
            )
            yield [s for s, _, _ in todo]
        if progress:
            progress(min(start + batch, len(roots)))


def lacking_text_vectors(ctx: Context, skus: Iterable[str]) -> set[str]:
    """Those of these stored SKUs whose family has no vector of the current text model (it
    was off, or another one, when they were embedded): a re-import does not skip them as
    unchanged. Two queries per 500 SKUs, nothing decoded, no model loaded."""
    model = ctx.text()
    if model is None:
        return set()
    model_id = model.model_id
    roots = ctx.records.family_roots_of(skus)
    have = ctx.records.vector_models("text_vector", [product_doc_id(r) for r in set(roots.values())])
    return {sku for sku, root in roots.items() if model_id not in have.get(product_doc_id(root), set())}


def _needing_vectors(ctx: Context, skus: list[str], changed: set[str], model_id: str) -> list[str]:
    """The changed SKUs, then the families of the unchanged ones that lack a vector of this
    model (the text model was off, or another one, when they were last embedded)."""
    clean = [s for s in skus if s not in changed]
    roots = list(dict.fromkeys(ctx.records.family_roots_of(clean).values()))
    have = ctx.records.vector_models("text_vector", [product_doc_id(r) for r in roots])
    lacking = [r for r in roots if model_id not in have.get(product_doc_id(r), set())]
    return list(dict.fromkeys([*(s for s in skus if s in changed), *lacking]))
