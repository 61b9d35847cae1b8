"""An asset is found by what its linked products say, on both engines: a linked product's
name, category words, colour, material and accepted tags are indexed on the asset (the
`products` text field and the `inherited_*` facets) with no review, and follow the
product and the link when either changes.

These run the services (product import job, asset writes, workflow, review) over a real
records database and each engine; the assets carry no image vector, so hybrid mode's
match set is exactly its text matches (the tiny test CLIP has no floor)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ENGINES

from discovery.config import Settings, TextSettings
from discovery.domain import Asset
from discovery.services import jobs
from discovery.services.asset_writes import reindex_assets
from discovery.services.assets import asset_view
from discovery.services.context import Context
from discovery.services.review import DecisionIn, decide
from discovery.services.search import SearchRequest, search
from discovery.services.workflow import set_status

SNEAKER = {
    "sku": "RUN-1",
    "name": "Trail Runner",
    "categories": ["Shoes/Sneakers"],
    "color": "red",
    "material": "leather",
    "status": "approved",
}
SCARF = {"sku": "SCA-1", "name": "Alpine Wrap", "categories": ["Accessories/Scarves"], "color": "gray"}


@pytest.fixture(params=ENGINES)
def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Context]:
    text = TextSettings(enabled=False)  # product vectors play no part here
    if request.param == "opensearch":
        url = request.getfixturevalue("opensearch_url")
        prefix = request.getfixturevalue("unique_prefix")
        settings = Settings(
            data_dir=tmp_path / "var", backend="opensearch", opensearch_url=url, index_prefix=prefix, text=text
        )
    else:
        settings = Settings(data_dir=tmp_path / "var", backend="embedded", text=text)
    context = Context.open(settings)
    try:
        yield context
    finally:
        jobs.close_jobs(context)
        drop = getattr(context.backend, "drop", None)  # OpenSearch indices outlive the test
        if drop is not None:
            drop()
        context.close()


def import_products(ctx: Context, tmp_path: Path, *rows: dict[str, Any], mode: str = "partial") -> None:
    path = tmp_path / f"products-{uuid.uuid4().hex[:6]}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    started = jobs.start_product_import(ctx, source=path, filename=path.name, mode=mode)
    job = jobs.wait_for_job(ctx, started, timeout=120)
    assert job["state"] == "succeeded", job
    ctx.backend.refresh()


def store_asset(ctx: Context, asset_id: str, filename: str, *skus: str) -> None:
    asset = ctx.records.get_asset(asset_id) or Asset(
        id=asset_id, sha256=asset_id.ljust(64, "0"), filename=filename, media_type="image/png", bytes=10
    )
    asset.product_skus = [{"sku": s, "how": "manifest"} for s in skus]
    ctx.records.upsert_assets([asset])
    reindex_assets(ctx, [asset])


def found(ctx: Context, q: str, mode: str = "keyword", **kw: Any) -> list[str]:
    body = search(ctx, SearchRequest(q=q, type="asset", mode=mode, size=50, **kw))  # type: ignore[arg-type]
    return sorted(str(h["id"]) for h in body["hits"])


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_an_asset_is_found_by_its_linked_products_category_word_with_no_review(
    ctx: Context, tmp_path: Path, mode: str
) -> None:
    import_products(ctx, tmp_path, SNEAKER, SCARF)
    store_asset(ctx, "a-shoe", "IMG_0001.png", "RUN-1")
    store_asset(ctx, "a-scarf", "IMG_0002.png", "SCA-1")
    store_asset(ctx, "a-loose", "IMG_0003.png")
    assert found(ctx, "sneakers", mode) == ["a-shoe"]
    assert found(ctx, "sneaker", mode) == ["a-shoe"]  # stemmed like every text field
    assert found(ctx, "red sneaker", mode) == ["a-shoe"]
    assert found(ctx, "trail runner", mode) == ["a-shoe"]  # the product's name
    assert found(ctx, "leather", mode) == ["a-shoe"]
    assert found(ctx, "scarves", mode) == ["a-scarf"]


def test_an_asset_linked_before_its_product_arrived_inherits_on_import(ctx: Context, tmp_path: Path) -> None:
    store_asset(ctx, "a-shoe", "IMG_0001.png", "RUN-1")
    assert found(ctx, "sneakers") == []
    import_products(ctx, tmp_path, SNEAKER)
    assert found(ctx, "sneakers") == ["a-shoe"]


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_unlinking_removes_the_inherited_words(ctx: Context, tmp_path: Path, mode: str) -> None:
    import_products(ctx, tmp_path, SNEAKER)
    store_asset(ctx, "a-shoe", "IMG_0001.png", "RUN-1")
    assert found(ctx, "sneakers", mode) == ["a-shoe"]
    store_asset(ctx, "a-shoe", "IMG_0001.png")
    assert found(ctx, "sneakers", mode) == []
    assert found(ctx, "", mode, filters={"inherited_category": ("Shoes",)}) == []


def test_a_product_changing_category_moves_its_assets_with_it(ctx: Context, tmp_path: Path) -> None:
    import_products(ctx, tmp_path, SNEAKER)
    store_asset(ctx, "a-shoe", "IMG_0001.png", "RUN-1")
    import_products(ctx, tmp_path, {**SNEAKER, "categories": ["Shoes/Clogs"], "color": "blue"})
    assert found(ctx, "sneakers") == []
    assert found(ctx, "clogs") == ["a-shoe"]
    assert found(ctx, "", filters={"inherited_color": ("blue",)}) == ["a-shoe"]
    assert found(ctx, "", filters={"inherited_color": ("red",)}) == []


def test_a_product_leaving_the_shop_takes_its_words_from_its_assets(ctx: Context, tmp_path: Path) -> None:
    import_products(ctx, tmp_path, SNEAKER)
    store_asset(ctx, "a-shoe", "IMG_0001.png", "RUN-1")
    set_status(ctx, "RUN-1", "draft", actor="test")
    assert found(ctx, "sneakers") == []  # a draft product lends nothing a shopper could search by
    assert asset_view(ctx, "a-shoe", public=False)["inherited"] == []
    set_status(ctx, "RUN-1", "in_review", actor="test")
    set_status(ctx, "RUN-1", "approved", actor="test")
    assert found(ctx, "sneakers") == ["a-shoe"]
    [inherited] = asset_view(ctx, "a-shoe", public=False)["inherited"]  # type: ignore[misc]
    assert inherited == {
        "sku": "RUN-1",
        "name": "Trail Runner",
        "categories": ["Shoes/Sneakers"],
        "colors": ["Red"],
        "materials": ["Leather"],
        "tags": [],
    }


def test_a_product_withdrawn_by_a_full_import_takes_its_words_from_its_assets(ctx: Context, tmp_path: Path) -> None:
    import_products(ctx, tmp_path, SNEAKER, SCARF)
    store_asset(ctx, "a-shoe", "IMG_0001.png", "RUN-1")
    import_products(ctx, tmp_path, SCARF, mode="full")
    assert found(ctx, "sneakers") == []


def test_an_accepted_product_tag_reaches_its_assets(ctx: Context, tmp_path: Path) -> None:
    import_products(ctx, tmp_path, SNEAKER)
    store_asset(ctx, "a-shoe", "IMG_0001.png", "RUN-1")
    assert found(ctx, "waterproof") == []
    [result] = decide(ctx, [DecisionIn("product", "RUN-1", "waterproof", "accept")], actor="test")
    assert result["ok"], result
    # The decision's documents follow it within a second (embedded: the writer thread's commit).
    deadline = time.monotonic() + 2
    while found(ctx, "waterproof") != ["a-shoe"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert found(ctx, "waterproof") == ["a-shoe"]


def test_asset_search_offers_inherited_category_and_colour_as_facets(ctx: Context, tmp_path: Path) -> None:
    import_products(ctx, tmp_path, SNEAKER, SCARF)
    store_asset(ctx, "a-shoe", "IMG_0001.png", "RUN-1")
    store_asset(ctx, "a-shoe-2", "IMG_0004.png", "RUN-1")
    store_asset(ctx, "a-scarf", "IMG_0002.png", "SCA-1")
    body = search(
        ctx,
        SearchRequest(
            type="asset",
            mode="keyword",
            filters={"inherited_color": ("Red",)},
            facets=("inherited_category", "inherited_color", "inherited_material"),
        ),
    )
    assert sorted(h["id"] for h in body["hits"]) == ["a-shoe", "a-shoe-2"]
    facets = {name: {v["value"]: v["count"] for v in values} for name, values in body["facets"].items()}
    assert facets["inherited_category"] == {"Shoes": 2, "Shoes/Sneakers": 2}
    assert facets["inherited_color"] == {"Red": 2, "Grey": 1}  # disjunctive; `gray` held as `Grey`
    assert facets["inherited_material"] == {"Leather": 2}
