"""Product text vectors on import: one per family document, re-embedded only when the text
the model reads changed (the real MiniLM, through onnxruntime)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from discovery.config import Settings
from discovery.domain import Product
from discovery.services import jobs
from discovery.services.context import Context
from discovery.services.embedding import product_text
from discovery.store.index.base import IndexDoc, SearchQuery

HEADER = ["sku", "parent_sku", "name", "description", "categories", "price", "currency", "color", "weight"]
ROWS = [
    ["H", "", "Hoodie", "Soft organic cotton hoodie", "Men > Tops", "40", "EUR", "", ""],
    ["H-R", "H", "", "", "", "", "", "red", "1.2 kg"],
    ["H-B", "H", "", "", "", "", "", "blue", "1.3 kg"],
    ["M", "", "Mug", "Stoneware mug for coffee", "Home > Kitchen", "9", "EUR", "white", ""],
    ["T", "", "Tee", "Linen tee for hot days", "Men > Tops", "15", "EUR", "green", ""],
]


def csv_bytes(rows: Sequence[Sequence[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


@pytest.fixture
def ctx(settings: Settings) -> Iterator[Context]:
    ctx = Context.open(settings)
    yield ctx
    jobs.close_jobs(ctx)
    ctx.close()


def counted(ctx: Context) -> list[str]:
    """Every text the model is asked to embed for documents, in order."""
    model = ctx.text()
    assert model is not None
    seen: list[str] = []
    encode = model.encode_documents

    def counting(texts: Sequence[str]) -> np.ndarray:
        seen.extend(texts)
        return encode(texts)

    model.encode_documents = counting  # type: ignore[method-assign]
    return seen


def run_import(ctx: Context, data: bytes) -> dict[str, object]:
    job = jobs.wait_for_job(ctx, jobs.start_product_import(ctx, source=data, filename="p.csv"), timeout=300)
    assert job["state"] == "succeeded", job
    return job


def test_reimport_embeds_only_the_families_whose_text_changed(ctx: Context) -> None:
    seen = counted(ctx)
    run_import(ctx, csv_bytes(ROWS))
    assert len(seen) == 3  # one text per family document: H (with its variants), M, T
    stored = ctx.records.get_vectors("text_vector", ["product:H", "product:M", "product:T"])
    assert set(stored) == {"product:H", "product:M", "product:T"}

    seen.clear()
    run_import(ctx, csv_bytes(ROWS))
    assert seen == []  # unchanged rows: the stored vectors are reused, the model is not called

    seen.clear()
    changed = [list(r) for r in ROWS]
    changed[3][3] = "Stoneware mug for tea"  # M's description: its text changes
    changed[4][5] = "16"  # T's price: its record changes, the text it embeds does not
    run_import(ctx, csv_bytes(changed))
    assert len(seen) == 1 and "Stoneware mug for tea" in seen[0]
    again = ctx.records.get_vectors("text_vector", ["product:H", "product:M", "product:T"])
    assert again["product:M"][2] != stored["product:M"][2]  # a new content hash with the new vector
    for doc in ("product:H", "product:T"):
        assert again[doc][2] == stored[doc][2] and np.array_equal(again[doc][1], stored[doc][1])


def written(ctx: Context) -> list[IndexDoc]:
    """Every document written to the index (upserts), in order."""
    docs: list[IndexDoc] = []
    upsert = ctx.backend.upsert

    def spying(batch, **kwargs):  # type: ignore[no-untyped-def]
        batch = list(batch)
        docs.extend(batch)
        return upsert(batch, **kwargs)

    ctx.backend.upsert = spying  # type: ignore[method-assign]
    return docs


def test_new_family_documents_are_written_once_with_their_vectors(ctx: Context) -> None:
    docs = written(ctx)
    run_import(ctx, csv_bytes(ROWS))
    assert sorted(d.id for d in docs) == ["product:H", "product:M", "product:T"]
    assert all(d.text_vector is not None and d.vector_model for d in docs)


def test_unchanged_reimport_rewrites_nothing_in_the_index_and_a_changed_row_is_updated(ctx: Context) -> None:
    run_import(ctx, csv_bytes(ROWS))
    stored = ctx.records.get_products(["H", "H-R", "H-B", "M", "T"])
    docs, seen = written(ctx), counted(ctx)

    job = run_import(ctx, csv_bytes(ROWS))
    assert docs == [] and seen == []  # no document rewritten, no text embedded
    assert job["counts"]["indexed"] == 0  # type: ignore[index]
    again = ctx.records.get_products(["H", "H-R", "H-B", "M", "T"])
    assert {s: p.updated_at for s, p in again.items()} == {s: p.updated_at for s, p in stored.items()}

    changed = [list(r) for r in ROWS]
    changed[3][2] = "Porcelain beaker"  # M's name
    changed[1][7] = "black"  # H-R's colour: its family document (H) changes
    job = run_import(ctx, csv_bytes(changed))
    assert sorted(d.id for d in docs) == ["product:H", "product:M"]
    assert all(d.text_vector is not None for d in docs)
    assert len(seen) == 2  # the two changed families, each once
    ctx.backend.refresh()
    found = ctx.backend.search(SearchQuery(text="beaker", types=("product",)))
    assert [h.key for h in found.hits] == ["M"]
    black = ctx.backend.search(SearchQuery(filters={"color": ("black",)}, types=("product",)))
    assert [h.key for h in black.hits] == ["H"]


def test_unchanged_reimport_embeds_families_left_without_a_vector(ctx: Context) -> None:
    """A family stored while the text model was off (or another one) gets its vector from the
    next re-import, although its rows did not change."""
    run_import(ctx, csv_bytes(ROWS))
    seen = counted(ctx)
    model = ctx.text()
    assert model is not None
    ctx.records.put_vectors("text_vector", "an-older-model@1", [("product:M", np.ones(4, dtype=np.float32), "x")])
    run_import(ctx, csv_bytes(ROWS))
    assert len(seen) == 1 and "Stoneware mug" in seen[0]
    assert ctx.records.get_vectors("text_vector", ["product:M"])["product:M"][0] == model.model_id


def test_measures_and_dates_are_left_to_keyword_search_and_words_kept() -> None:
    hoodie = Product(sku="H", name="Hoodie", attributes={"color": "red", "weight": "1.2 kg", "launched": "2024-11-04"})
    variant = Product(sku="H-B", parent_sku="H", attributes={"color": "blue", "size": 42, "material": "100% cotton"})
    text = product_text(hoodie, [variant])
    assert text == "Hoodie . red blue 100% cotton"


def test_unchanged_reimport_as_a_job_writes_no_record_and_embeds_nothing(ctx: Context) -> None:
    run_import(ctx, csv_bytes(ROWS))
    docs, seen, stored = written(ctx), counted(ctx), []
    upsert = ctx.records.upsert_products

    def spying(products, **kwargs):  # type: ignore[no-untyped-def]
        stored.extend(p.sku for p in products)
        return upsert(products, **kwargs)

    ctx.records.upsert_products = spying  # type: ignore[method-assign]
    job = run_import(ctx, csv_bytes(ROWS))
    assert stored == [] and docs == [] and seen == []
    assert job["counts"]["products"] == 5  # type: ignore[index]


def chunks_of(ctx: Context, job_id: str) -> int:
    from sqlalchemy import func, select

    from discovery.store import tables

    with ctx.records.engine.connect() as conn:
        query = select(func.count()).select_from(tables.job_chunks).where(tables.job_chunks.c.job_id == job_id)
        return int(conn.execute(query).scalar_one())


def test_reimport_with_few_changed_rows_runs_them_in_one_chunk(ctx: Context) -> None:
    from indexer.jobs.model import JobTuning

    rows = [[f"S{i:03d}", "", f"Sock {i}", "Wool sock", "Men > Socks", "5", "EUR", "grey", ""] for i in range(120)]
    tuning = JobTuning(chunk_size=20)
    first = jobs.start_product_import(ctx, source=csv_bytes(rows), filename="p.csv", tuning=tuning)
    assert jobs.wait_for_job(ctx, first, timeout=300)["state"] == "succeeded"
    assert chunks_of(ctx, first) == 1 + 6  # the plan, then 120 rows in chunks of 20
    seen = counted(ctx)
    rows[5][2], rows[77][2] = "Cashmere sock", "Bamboo sock"
    again = jobs.start_product_import(ctx, source=csv_bytes(rows), filename="p.csv", tuning=tuning)
    job = jobs.wait_for_job(ctx, again, timeout=300)
    assert job["state"] == "succeeded" and job["counts"]["indexed"] == 2  # type: ignore[index]
    assert chunks_of(ctx, again) == 1 + 1  # the two changed rows read in different chunks, written in one
    assert sorted(t.split(" . ")[0] for t in seen) == ["Bamboo sock", "Cashmere sock"]
    ctx.backend.refresh()
    assert [h.key for h in ctx.backend.search(SearchQuery(text="cashmere", types=("product",))).hits] == ["S005"]
